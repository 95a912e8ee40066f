//! `type: new_term` — alert once per value (term) of a field not seen for `terms_window_size`.
//!
//! ```yaml
//! - name: new-error-kinds
//!   type: new_term
//!   filter_pattern: '{ $.level = "error" }'
//!   fields: ["@fingerprint", "$.errorCode", ["$.host", "$.status"]]   # a list: a composite term
//!   terms_window_size: 30d      # default 30d: a term unseen this long is new again
//!   learning_period: 1d         # default 1d: terms seen this long after the first event are learned silently
//!   alert_on_missing_field: false
//! ```
//!
//! Each entry of `fields` is tracked on its own; an entry that is a list is one composite term
//! (all its values together). One trigger per new term, its `key_override` the term
//! (`E3`, `a, 500`) so that realert and incidents are per term; the observation reads
//! "new errorCode E3".
//!
//! **Learning period.** ElastAlert queries `terms_window_size` of history at start-up; there is no
//! history to query here, so for `learning_period` after this rule (and query key) first sees a
//! matching event, terms are learned without alerting. The default, one day, covers a daily
//! cycle of jobs; `learning_period: 0` alerts from the first event on.
//!
//! **State** (one item per rule and query key): the terms as 64-bit hashes (the first 8 bytes of
//! SHA-256 of the field's index and values) with the hour they were last seen, packed 12 bytes
//! per term (base64 in the item: 16 characters). At most [`MAX_TERMS`] terms (≈ 80 KB); when
//! more arrive, the least recently seen are forgotten first (counted in `evicted`): a forgotten
//! term alerts again when it comes back. Two different terms share a hash with probability about
//! n²/2⁶⁵ (10⁻¹² for 5,000 terms). A term's last-seen hour is refreshed when it is seen in a
//! later hour, so expiry is exact to the hour.
//!
//! **Missing fields.** An event lacking a field (any part of a composite) is ignored for that
//! field, unless `alert_on_missing_field: true`: then the events missing it in one batch make one
//! trigger, key `<missing>`, "errorCode missing in 3 events".

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::common::{fmt_count, plural, positions, sample_ids};
use super::select::{Selector, Selectors};
use super::{MatchView, RuleType, Trigger};
use crate::alert::Observation;
use crate::engine::MISSING_VALUE;

/// Default `terms_window_size`: 30 days (as ElastAlert).
pub const DEFAULT_TERMS_WINDOW_MS: i64 = 30 * 86_400_000;
/// Default `learning_period`: one day.
pub const DEFAULT_LEARNING_PERIOD_MS: i64 = 86_400_000;
/// Terms kept per rule and query key.
pub const MAX_TERMS: usize = 5_000;

const HOUR_MS: i64 = 3_600_000;

/// The rule's `new_term` keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `fields`: each entry one term (several selectors: a composite term).
    pub fields: Vec<Selectors>,
    /// `terms_window_size`.
    pub terms_window_ms: i64,
    /// `alert_on_missing_field`.
    pub alert_on_missing_field: bool,
    /// `learning_period`.
    pub learning_period_ms: i64,
}

impl Config {
    /// `fields` with the defaults for everything else.
    pub fn new(fields: Vec<Vec<Selector>>) -> Config {
        Config {
            fields: fields.into_iter().map(Selectors).collect(),
            terms_window_ms: DEFAULT_TERMS_WINDOW_MS,
            alert_on_missing_field: false,
            learning_period_ms: DEFAULT_LEARNING_PERIOD_MS,
        }
    }
}

/// One known term: (hash, hour last seen), sorted by hash.
type Known = (u64, u32);

/// What a new_term rule remembers per query key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Event time of the first match: learning runs from here.
    #[serde(default)]
    pub started_ms: Option<i64>,
    /// Known terms, packed (see the module docs).
    #[serde(default, with = "packed")]
    pub terms: Vec<Known>,
    /// Terms forgotten to stay within [`MAX_TERMS`].
    #[serde(default)]
    pub evicted: u64,
}

mod packed {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(terms: &[super::Known], s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(terms.len() * 12);
        for (h, hour) in terms {
            bytes.extend_from_slice(&h.to_be_bytes());
            bytes.extend_from_slice(&hour.to_be_bytes());
        }
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<super::Known>, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = STANDARD.decode(text).map_err(D::Error::custom)?;
        if bytes.len() % 12 != 0 {
            return Err(D::Error::custom(
                "packed terms: length is not a multiple of 12",
            ));
        }
        let mut terms: Vec<super::Known> = bytes
            .chunks_exact(12)
            .map(|c| {
                let h = u64::from_be_bytes(c[..8].try_into().expect("8 bytes"));
                let hour = u32::from_be_bytes(c[8..].try_into().expect("4 bytes"));
                (h, hour)
            })
            .collect();
        terms.sort_unstable();
        terms.dedup_by_key(|t| t.0);
        Ok(terms)
    }
}

fn term_hash(field: usize, values: &[String]) -> u64 {
    let mut h = Sha256::new();
    h.update((field as u32).to_be_bytes());
    for v in values {
        h.update([0x1f]);
        h.update(v.as_bytes());
    }
    u64::from_be_bytes(h.finalize()[..8].try_into().expect("8 bytes"))
}

fn hour_of(ts: i64) -> u32 {
    ts.div_euclid(HOUR_MS).clamp(0, u32::MAX as i64) as u32
}

/// A term first seen in this batch, or a field missing in it.
struct Found<'a> {
    field: usize,
    /// None: the field is missing.
    values: Option<Vec<String>>,
    matches: Vec<&'a MatchView<'a>>,
}

pub struct NewTerm;

impl RuleType for NewTerm {
    type Config = Config;
    type State = State;

    fn on_matches(cfg: &Config, st: &mut State, m: &[MatchView], _now_ms: i64) -> Vec<Trigger> {
        let mut found: Vec<Found> = Vec::new();
        let mut newest = i64::MIN;
        for ev in m {
            newest = newest.max(ev.timestamp);
            let started = *st.started_ms.get_or_insert(ev.timestamp);
            let learning = ev.timestamp < started.saturating_add(cfg.learning_period_ms);
            for (fi, sel) in cfg.fields.iter().enumerate() {
                let Some(values) = sel.get_all(ev) else {
                    if cfg.alert_on_missing_field && !learning {
                        match found
                            .iter_mut()
                            .find(|f| f.field == fi && f.values.is_none())
                        {
                            Some(f) => f.matches.push(ev),
                            None => found.push(Found {
                                field: fi,
                                values: None,
                                matches: vec![ev],
                            }),
                        }
                    }
                    continue;
                };
                // Already new in this batch: the same trigger.
                if let Some(f) = found
                    .iter_mut()
                    .find(|f| f.field == fi && f.values.as_ref() == Some(&values))
                {
                    f.matches.push(ev);
                    continue;
                }
                let is_new = see(cfg, st, term_hash(fi, &values), ev.timestamp);
                if is_new && !learning {
                    found.push(Found {
                        field: fi,
                        values: Some(values),
                        matches: vec![ev],
                    });
                }
            }
        }
        if newest > i64::MIN {
            forget_old(cfg, st, newest);
        }
        found
            .into_iter()
            .map(|f| {
                let events = positions(m, f.matches.iter().copied());
                Trigger {
                    events,
                    ..trigger(cfg, f)
                }
            })
            .collect()
    }

    fn on_tick(_cfg: &Config, _st: &mut State, _now_ms: i64) -> Vec<Trigger> {
        Vec::new()
    }

    fn next_due(_cfg: &Config, _st: &State) -> Option<i64> {
        None
    }
}

/// Record a sighting; true when the term is new (unknown, or unseen for the window).
fn see(cfg: &Config, st: &mut State, h: u64, ts: i64) -> bool {
    let hour = hour_of(ts);
    match st.terms.binary_search_by_key(&h, |t| t.0) {
        Ok(i) => {
            let last = st.terms[i].1;
            let last_ms = last as i64 * HOUR_MS;
            // A late event (older than the last sighting) is never new.
            let expired = ts - (last_ms + HOUR_MS - 1) > cfg.terms_window_ms;
            st.terms[i].1 = last.max(hour);
            expired
        }
        Err(i) => {
            st.terms.insert(i, (h, hour));
            true
        }
    }
}

/// Drop terms unseen for the window; then the least recently seen beyond [`MAX_TERMS`].
fn forget_old(cfg: &Config, st: &mut State, newest: i64) {
    let oldest_hour = hour_of(newest.saturating_sub(cfg.terms_window_ms)).saturating_sub(1);
    st.terms.retain(|t| t.1 >= oldest_hour);
    if st.terms.len() > MAX_TERMS {
        let excess = st.terms.len() - MAX_TERMS;
        let mut hours: Vec<u32> = st.terms.iter().map(|t| t.1).collect();
        hours.sort_unstable();
        let cut = hours[excess - 1];
        // Remove the `excess` oldest: all below `cut`, then some at `cut` (lowest hash first).
        let mut below = hours.iter().filter(|&&h| h < cut).count();
        let mut at_cut = excess - below;
        st.terms.retain(|t| {
            if t.1 < cut {
                below -= 1;
                false
            } else if t.1 == cut && at_cut > 0 {
                at_cut -= 1;
                false
            } else {
                true
            }
        });
        st.evicted += excess as u64;
    }
}

fn trigger(cfg: &Config, f: Found) -> Trigger {
    let sel = &cfg.fields[f.field];
    let label = sel
        .0
        .iter()
        .map(Selector::label)
        .collect::<Vec<_>>()
        .join(", ");
    let first = f.matches.first().map_or(0, |m| m.timestamp);
    let last = f.matches.iter().map(|m| m.timestamp).max().unwrap_or(first);
    let n = f.matches.len() as u64;
    let mut details = serde_json::Map::new();
    details.insert(
        "field".into(),
        sel.0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
            .into(),
    );
    details.insert("events".into(), n.into());
    let (text, key) = match &f.values {
        Some(values) => {
            let term = values.join(", ");
            details.insert("term".into(), values.clone().into());
            let text = match sel.0.as_slice() {
                [Selector::Fingerprint] => format!("new kind of message: {term}"),
                [one] => format!("new {} {term}", one.label()),
                _ => format!("new {}", sel.describe_values(values)),
            };
            let text = if n > 1 {
                format!("{text} ({} in this batch)", fmt_count(n))
            } else {
                text
            };
            (text, term)
        }
        None => (
            format!("{label} missing in {}", plural(n, "event", "events")),
            MISSING_VALUE.to_string(),
        ),
    };
    Trigger {
        count: n,
        first_ms: first,
        last_ms: last,
        sample_ids: sample_ids(f.matches.iter().copied()),
        observation: Observation {
            text,
            sparkline: None,
            details,
        },
        key_override: Some(key),
        events: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::test_support::{MIN, T0, ev, views};
    use super::*;
    use proptest::prelude::*;

    const DAY: i64 = 86_400_000;

    fn cfg(fields: &[&[&str]]) -> Config {
        let mut c = Config::new(
            fields
                .iter()
                .map(|f| f.iter().map(|s| Selector::parse(s).unwrap()).collect())
                .collect(),
        );
        c.learning_period_ms = 0;
        c
    }

    fn run(c: &Config, st: &mut State, evs: &[(i64, &str)]) -> Vec<Trigger> {
        let owned: Vec<_> = evs
            .iter()
            .enumerate()
            .map(|(i, (ts, m))| ev(format!("{ts}-{i}"), *ts, m))
            .collect();
        NewTerm::on_matches(c, st, &views(&owned), 0)
    }

    fn code(c: &str) -> String {
        format!(r#"{{"errorCode":"{c}","host":"a"}}"#)
    }

    #[test]
    fn alerts_once_per_new_term_with_the_term_as_key() {
        let c = cfg(&[&["$.errorCode"]]);
        let mut st = State::default();
        let t = run(
            &c,
            &mut st,
            &[
                (T0, &code("E1")),
                (T0 + 1, &code("E1")),
                (T0 + 2, &code("E2")),
            ],
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].observation.text, "new errorCode E1 (2 in this batch)");
        assert_eq!(t[0].count, 2);
        assert_eq!(t[0].key_override.as_deref(), Some("E1"));
        assert_eq!(t[1].observation.text, "new errorCode E2");
        assert_eq!((t[1].first_ms, t[1].last_ms), (T0 + 2, T0 + 2));
        assert_eq!(t[1].sample_ids, vec![format!("{}-2", T0 + 2)]);
        // Seen: no more alerts; a third code alerts.
        assert!(
            run(
                &c,
                &mut st,
                &[(T0 + MIN, &code("E1")), (T0 + MIN, &code("E2"))]
            )
            .is_empty()
        );
        let t = run(&c, &mut st, &[(T0 + 2 * MIN, &code("E3"))]);
        assert_eq!(t[0].observation.text, "new errorCode E3");
        assert_eq!(st.terms.len(), 3);
    }

    #[test]
    fn composite_terms_and_separate_fields() {
        let c = cfg(&[&["$.host", "$.errorCode"], &["$.errorCode"]]);
        let mut st = State::default();
        let t = run(&c, &mut st, &[(T0, &code("E1"))]);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].observation.text, "new host a, errorCode E1");
        assert_eq!(t[0].key_override.as_deref(), Some("a, E1"));
        assert_eq!(t[1].observation.text, "new errorCode E1");
        // Same code on another host: new composite, known code.
        let t = run(&c, &mut st, &[(T0 + 1, r#"{"errorCode":"E1","host":"b"}"#)]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].observation.text, "new host b, errorCode E1");
    }

    #[test]
    fn fingerprint_terms_group_messages_by_kind() {
        let c = cfg(&[&["@fingerprint"]]);
        let mut st = State::default();
        let t = run(
            &c,
            &mut st,
            &[
                (T0, "timeout after 5s calling 10.0.0.1"),
                (T0 + 1, "timeout after 30s calling 10.0.0.2"),
            ],
        );
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0].observation.text,
            "new kind of message: timeout after <dur> calling <ip> (2 in this batch)"
        );
        assert!(
            run(
                &c,
                &mut st,
                &[(T0 + 2, "timeout after 1m calling 10.9.9.9")]
            )
            .is_empty()
        );
        assert_eq!(
            run(&c, &mut st, &[(T0 + 3, "disk full on /dev/sda1")]).len(),
            1
        );
    }

    #[test]
    fn learning_period_learns_silently_from_the_first_event() {
        let mut c = cfg(&[&["$.errorCode"]]);
        c.learning_period_ms = DAY;
        let mut st = State::default();
        assert!(run(&c, &mut st, &[(T0, &code("E1"))]).is_empty());
        assert_eq!(st.started_ms, Some(T0));
        assert!(
            run(&c, &mut st, &[(T0 + DAY - 1, &code("E2"))]).is_empty(),
            "still learning"
        );
        assert!(
            run(
                &c,
                &mut st,
                &[(T0 + DAY, &code("E1")), (T0 + DAY, &code("E2"))]
            )
            .is_empty()
        );
        let t = run(&c, &mut st, &[(T0 + DAY, &code("E3"))]);
        assert_eq!(
            t.len(),
            1,
            "learning ends exactly at started + learning_period"
        );
    }

    #[test]
    fn default_learning_period_is_a_day() {
        let c = Config::new(vec![vec![Selector::parse("$.errorCode").unwrap()]]);
        assert_eq!(c.learning_period_ms, DAY);
        assert_eq!(c.terms_window_ms, 30 * DAY);
        assert!(!c.alert_on_missing_field);
    }

    #[test]
    fn a_term_unseen_for_the_window_is_new_again() {
        let mut c = cfg(&[&["$.errorCode"]]);
        c.terms_window_ms = 2 * DAY;
        let mut st = State::default();
        assert_eq!(run(&c, &mut st, &[(T0, &code("E1"))]).len(), 1);
        // Seen again inside the window (refreshes), then quiet for more than the window.
        assert!(run(&c, &mut st, &[(T0 + DAY, &code("E1"))]).is_empty());
        assert!(
            run(&c, &mut st, &[(T0 + 3 * DAY - HOUR_MS, &code("E1"))]).is_empty(),
            "within 2 d of the refresh"
        );
        assert_eq!(run(&c, &mut st, &[(T0 + 6 * DAY, &code("E1"))]).len(), 1);
    }

    #[test]
    fn expired_terms_leave_the_state() {
        let mut c = cfg(&[&["$.errorCode"]]);
        c.terms_window_ms = DAY;
        let mut st = State::default();
        run(&c, &mut st, &[(T0, &code("E1")), (T0, &code("E2"))]);
        run(&c, &mut st, &[(T0 + 3 * DAY, &code("E3"))]);
        assert_eq!(st.terms.len(), 1);
    }

    #[test]
    fn late_events_are_never_new_for_a_known_term() {
        let mut c = cfg(&[&["$.errorCode"]]);
        c.terms_window_ms = DAY;
        let mut st = State::default();
        run(&c, &mut st, &[(T0 + 10 * DAY, &code("E1"))]);
        assert!(run(&c, &mut st, &[(T0, &code("E1"))]).is_empty());
    }

    #[test]
    fn missing_fields() {
        let mut c = cfg(&[&["$.errorCode"], &["$.host", "$.zone"]]);
        let mut st = State::default();
        assert_eq!(run(&c, &mut st, &[(T0, r#"{"host":"a"}"#)]).len(), 0);
        c.alert_on_missing_field = true;
        let t = run(
            &c,
            &mut st,
            &[(T0 + 1, r#"{"host":"a"}"#), (T0 + 2, r#"{"host":"b"}"#)],
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].observation.text, "errorCode missing in 2 events");
        assert_eq!(t[0].key_override.as_deref(), Some(MISSING_VALUE));
        assert_eq!(t[0].count, 2);
        assert_eq!(t[1].observation.text, "host, zone missing in 2 events");
    }

    #[test]
    fn bounded_by_evicting_the_least_recently_seen() {
        let c = cfg(&[&["$.errorCode"]]);
        let mut st = State::default();
        let msgs: Vec<String> = (0..MAX_TERMS + 10)
            .map(|i| code(&format!("E{i}")))
            .collect();
        // The first ten an hour earlier than the rest.
        let evs: Vec<(i64, &str)> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| (if i < 10 { T0 } else { T0 + HOUR_MS }, m.as_str()))
            .collect();
        assert_eq!(run(&c, &mut st, &evs).len(), MAX_TERMS + 10);
        assert_eq!(st.terms.len(), MAX_TERMS);
        assert_eq!(st.evicted, 10);
        // E10 is still known, E0 was forgotten (oldest).
        assert!(run(&c, &mut st, &[(T0 + 2 * HOUR_MS, &code("E10"))]).is_empty());
        assert_eq!(
            run(&c, &mut st, &[(T0 + 2 * HOUR_MS, &code("E0"))]).len(),
            1
        );
        let size = serde_json::to_string(&st).unwrap().len();
        assert!(size < 100_000, "state of {MAX_TERMS} terms is {size} bytes");
    }

    #[test]
    fn state_round_trips_and_rejects_a_broken_pack() {
        let c = cfg(&[&["$.errorCode"]]);
        let mut st = State::default();
        run(&c, &mut st, &[(T0, &code("E1")), (T0, &code("E2"))]);
        let json = serde_json::to_value(&st).unwrap();
        let back: State = serde_json::from_value(json).unwrap();
        assert_eq!(back, st);
        assert!(serde_json::from_str::<State>(r#"{"terms":"AAAA"}"#).is_err());
        assert!(serde_json::from_str::<State>(r#"{"terms":"!!"}"#).is_err());
        assert_eq!(
            serde_json::from_str::<State>("{}").unwrap(),
            State::default()
        );
    }

    #[test]
    fn never_ticks() {
        let c = cfg(&[&["$.errorCode"]]);
        let mut st = State::default();
        assert!(NewTerm::on_tick(&c, &mut st, T0).is_empty());
        assert_eq!(NewTerm::next_due(&c, &st), None);
    }

    proptest! {
        /// Accounting: over any split of a stream into batches, each distinct term alerts exactly
        /// once, and the triggers' counts add up to the events whose term was new in their batch.
        #[test]
        fn each_term_alerts_once_however_the_batches_split(
            codes in prop::collection::vec(0u8..20, 1..80),
            cuts in prop::collection::vec(any::<bool>(), 80),
        ) {
            let c = cfg(&[&["$.errorCode"]]);
            let mut st = State::default();
            let msgs: Vec<String> = codes.iter().map(|k| code(&format!("E{k}"))).collect();
            let mut keys = Vec::new();
            let mut batch: Vec<(i64, &str)> = Vec::new();
            for (i, m) in msgs.iter().enumerate() {
                batch.push((T0 + i as i64, m));
                if cuts[i] || i == msgs.len() - 1 {
                    for t in run(&c, &mut st, &batch) {
                        keys.push(t.key_override.unwrap());
                    }
                    batch.clear();
                }
            }
            let mut distinct: Vec<String> = codes.iter().map(|k| format!("E{k}")).collect();
            distinct.sort();
            distinct.dedup();
            keys.sort();
            prop_assert_eq!(keys, distinct);
        }
    }
}
