//! `type: change` — alert when `compare_key`'s value differs from the last one seen for the
//! same query key.
//!
//! ```yaml
//! - name: host-status-flip
//!   type: change
//!   compare_key: $.status        # or a list: a change in any of them
//!   query_key: $.host
//!   ignore_null: true            # events without the field(s) are not changes (default false)
//!   timeframe: 1h                # optional: forget a value older than this
//! ```
//!
//! The first value seen is not a change. With a list, an event is compared field by field and
//! any difference is a change; a missing field reads `<missing>` (with `ignore_null`, an event
//! missing every field is skipped). With `timeframe`, a value seen more than `timeframe` before
//! the next event is forgotten (no change; the new value is remembered). Events older than the
//! last one seen (late deliveries) do not rewrite history: they are ignored. All changes of a
//! batch make one trigger describing the last: "status up → down on host a" (" — 3 changes"
//! when more). **State**: the last values and their time (one entry).

use serde::{Deserialize, Serialize};

use super::common::{fmt_count, positions, sample_ids};
use super::select::Selectors;
use super::{MatchView, RuleType, Trigger};
use crate::alert::Observation;
use crate::engine::MISSING_VALUE;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `compare_key` (one or several selectors).
    pub compare_key: Selectors,
    /// `ignore_null`.
    pub ignore_null: bool,
    /// `timeframe`, ms (None: remember forever).
    pub timeframe_ms: Option<i64>,
    /// The rule's `query_key` (for the sentence: "on host a").
    pub query_key: Selectors,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The last values (one per compare_key selector) and their event time.
    #[serde(default)]
    pub last: Option<(Vec<String>, i64)>,
}

pub struct Change;

struct Seen<'a> {
    ev: &'a MatchView<'a>,
    old: Vec<String>,
    new: Vec<String>,
}

impl RuleType for Change {
    type Config = Config;
    type State = State;

    fn on_matches(cfg: &Config, st: &mut State, m: &[MatchView], _now: i64) -> Vec<Trigger> {
        let mut changes: Vec<Seen> = Vec::new();
        for ev in m {
            let raw: Vec<Option<String>> = cfg.compare_key.0.iter().map(|s| s.get(ev)).collect();
            if cfg.ignore_null && raw.iter().all(Option::is_none) {
                continue;
            }
            let values: Vec<String> = raw
                .into_iter()
                // Compared and kept as stored: a value longer than a stored key is cut with a
                // hash of the whole (so a change after the cut is still a change).
                .map(|v| {
                    let v = v.unwrap_or_else(|| MISSING_VALUE.to_string());
                    crate::engine::policy::stored_key(&v).into_owned()
                })
                .collect();
            match &st.last {
                Some((_, at)) if ev.timestamp < *at => continue,
                Some((old, at))
                    if cfg.timeframe_ms.is_none_or(|tf| ev.timestamp - at <= tf)
                        && *old != values =>
                {
                    changes.push(Seen {
                        ev,
                        old: old.clone(),
                        new: values.clone(),
                    });
                }
                _ => {}
            }
            st.last = Some((values, ev.timestamp));
        }
        let Some(last) = changes.last() else {
            return Vec::new();
        };
        let parts: Vec<String> = cfg
            .compare_key
            .0
            .iter()
            .zip(last.old.iter().zip(&last.new))
            .filter(|(_, (o, n))| o != n)
            .map(|(s, (o, n))| format!("{} {o} → {n}", s.label()))
            .collect();
        let mut text = parts.join(", ");
        if let Some(k) = cfg.query_key.describe(last.ev) {
            text.push_str(&format!(" on {k}"));
        }
        if changes.len() > 1 {
            text.push_str(&format!(" — {} changes", fmt_count(changes.len() as u64)));
        }
        let mut details = serde_json::Map::new();
        details.insert("old".into(), last.old.clone().into());
        details.insert("new".into(), last.new.clone().into());
        details.insert("changes".into(), changes.len().into());
        vec![Trigger {
            count: changes.len() as u64,
            first_ms: changes[0].ev.timestamp,
            last_ms: last.ev.timestamp,
            sample_ids: sample_ids(changes.iter().map(|c| c.ev)),
            observation: Observation {
                text,
                sparkline: None,
                details,
            },
            key_override: None,
            events: positions(m, changes.iter().map(|c| c.ev)),
        }]
    }

    fn on_tick(_: &Config, _: &mut State, _: i64) -> Vec<Trigger> {
        Vec::new()
    }

    fn next_due(_: &Config, _: &State) -> Option<i64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::test_support::{MIN, T0, ev, views};
    use super::super::select::Selector;
    use super::*;
    use proptest::prelude::*;

    fn cfg(keys: &[&str]) -> Config {
        Config {
            compare_key: Selectors(keys.iter().map(|k| Selector::parse(k).unwrap()).collect()),
            ignore_null: false,
            timeframe_ms: None,
            query_key: Selectors(vec![Selector::parse("$.host").unwrap()]),
        }
    }

    fn run(c: &Config, st: &mut State, evs: &[(i64, &str)]) -> Vec<Trigger> {
        let owned: Vec<_> = evs
            .iter()
            .enumerate()
            .map(|(i, (t, m))| ev(format!("{t}-{i}"), *t, m))
            .collect();
        Change::on_matches(c, st, &views(&owned), 0)
    }

    fn status(s: &str) -> String {
        format!(r#"{{"host":"a","status":"{s}","region":"eu"}}"#)
    }

    #[test]
    fn the_first_value_is_not_a_change_then_changes_alert() {
        let c = cfg(&["$.status"]);
        let mut st = State::default();
        assert!(run(&c, &mut st, &[(T0, &status("up")), (T0 + 1, &status("up"))]).is_empty());
        let t = run(&c, &mut st, &[(T0 + 2, &status("down"))]);
        assert_eq!(t[0].observation.text, "status up → down on host a");
        assert_eq!(t[0].observation.details["old"], serde_json::json!(["up"]));
        assert_eq!((t[0].count, t[0].first_ms), (1, T0 + 2));
        assert!(run(&c, &mut st, &[(T0 + 3, &status("down"))]).is_empty());
    }

    #[test]
    fn several_changes_in_a_batch() {
        let c = cfg(&["$.status"]);
        let mut st = State::default();
        let t = run(
            &c,
            &mut st,
            &[
                (T0, &status("up")),
                (T0 + 1, &status("down")),
                (T0 + 2, &status("up")),
                (T0 + 3, &status("degraded")),
            ],
        );
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0].observation.text,
            "status up → degraded on host a — 3 changes"
        );
        assert_eq!(t[0].count, 3);
        assert_eq!(t[0].sample_ids.len(), 3);
        assert_eq!((t[0].first_ms, t[0].last_ms), (T0 + 1, T0 + 3));
    }

    #[test]
    fn several_compare_keys_name_what_changed() {
        let c = cfg(&["$.status", "$.region"]);
        let mut st = State::default();
        run(&c, &mut st, &[(T0, &status("up"))]);
        let t = run(
            &c,
            &mut st,
            &[(T0 + 1, r#"{"host":"a","status":"up","region":"us"}"#)],
        );
        assert_eq!(t[0].observation.text, "region eu → us on host a");
    }

    #[test]
    fn missing_values_and_ignore_null() {
        let mut c = cfg(&["$.status"]);
        let mut st = State::default();
        run(&c, &mut st, &[(T0, &status("up"))]);
        let t = run(&c, &mut st, &[(T0 + 1, r#"{"host":"a"}"#)]);
        assert_eq!(t[0].observation.text, "status up → <missing> on host a");
        c.ignore_null = true;
        let mut st = State::default();
        run(&c, &mut st, &[(T0, &status("up"))]);
        assert!(run(&c, &mut st, &[(T0 + 1, r#"{"host":"a"}"#)]).is_empty());
        assert_eq!(
            st.last.as_ref().unwrap().0,
            vec!["up"],
            "skipped, not remembered"
        );
    }

    #[test]
    fn timeframe_forgets_old_values() {
        let mut c = cfg(&["$.status"]);
        c.timeframe_ms = Some(10 * MIN);
        let mut st = State::default();
        run(&c, &mut st, &[(T0, &status("up"))]);
        assert_eq!(
            run(&c, &mut st, &[(T0 + 10 * MIN, &status("down"))]).len(),
            1,
            "exactly timeframe: still a change"
        );
        assert!(
            run(&c, &mut st, &[(T0 + 20 * MIN + 1, &status("up"))]).is_empty(),
            "older than timeframe: forgotten"
        );
        assert_eq!(
            run(&c, &mut st, &[(T0 + 21 * MIN, &status("down"))]).len(),
            1
        );
    }

    #[test]
    fn late_events_do_not_rewrite_history() {
        let c = cfg(&["$.status"]);
        let mut st = State::default();
        run(&c, &mut st, &[(T0 + MIN, &status("up"))]);
        assert!(run(&c, &mut st, &[(T0, &status("down"))]).is_empty());
        assert_eq!(st.last, Some((vec!["up".to_string()], T0 + MIN)));
    }

    #[test]
    fn without_a_query_key_the_sentence_has_no_place() {
        let mut c = cfg(&["$.status"]);
        c.query_key = Selectors::default();
        let mut st = State::default();
        run(&c, &mut st, &[(T0, &status("up"))]);
        assert_eq!(
            run(&c, &mut st, &[(T0 + 1, &status("down"))])[0]
                .observation
                .text,
            "status up → down"
        );
    }

    proptest! {
        /// Accounting: however a stream is split into batches, the triggers' counts add up to
        /// the number of value changes in it.
        #[test]
        fn counts_every_change_once(values in prop::collection::vec(0u8..3, 1..60), cuts in prop::collection::vec(any::<bool>(), 60)) {
            let c = cfg(&["$.status"]);
            let mut st = State::default();
            let msgs: Vec<String> = values.iter().map(|v| status(&v.to_string())).collect();
            let mut total = 0;
            let mut batch = Vec::new();
            for (i, m) in msgs.iter().enumerate() {
                batch.push((T0 + i as i64, m.as_str()));
                if cuts[i] || i == msgs.len() - 1 {
                    total += run(&c, &mut st, &batch).iter().map(|t| t.count).sum::<u64>();
                    batch.clear();
                }
            }
            let expected = values.windows(2).filter(|w| w[0] != w[1]).count() as u64;
            prop_assert_eq!(total, expected);
        }
    }
}
