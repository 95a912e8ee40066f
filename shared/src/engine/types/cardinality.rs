//! `type: cardinality` — alert on the number of distinct values of a field within `timeframe`.
//!
//! ```yaml
//! - name: credential-stuffing
//!   type: cardinality
//!   filter_pattern: '{ $.event = "login_failed" }'
//!   cardinality_field: $.user
//!   max_cardinality: 3        # more than this many distinct users … (and/or min_cardinality)
//!   timeframe: 10m            # … within this window (event time)
//!   query_key: $.source_ip
//! ```
//!
//! As in ElastAlert: with `max_cardinality`, each event that raises the count above the maximum
//! alerts (at most one trigger per batch); with `min_cardinality`, fewer distinct values than the
//! minimum alert once `timeframe` has passed since the first event, and the timeframe restarts
//! after each such alert — decided by the tick too, since values leave the window with no event
//! arriving. Events without the field are ignored. Observation: "6 distinct users in 10 min
//! (max 3)", "≈ 2,430 distinct users in 10 min (max 2,000)" when estimated.
//!
//! **State**: exact — each distinct value's hash and last-seen time — up to [`EXACT_LIMIT`]
//! values (≈ 70 KB in the worst case); above it, one HyperLogLog per tenth of the timeframe
//! ([`super::sketch`], ≈ 3.3 % standard error, ≈ 22 KB for the 11 sketches), whose window is the
//! last ten tenths plus the current one (up to `timeframe × 1.1`). The state returns to exact
//! when the window empties. A `max_cardinality` below the limit is always decided exactly.

use serde::{Deserialize, Serialize};

use super::common::{fmt_count, fmt_duration, positions, sample_ids};
use super::select::{Selector, Selectors};
use super::sketch::{HLL_ERROR, Hll, value_hash};
use super::{MatchView, RuleType, Trigger};
use crate::alert::Observation;

/// Distinct values tracked exactly.
pub const EXACT_LIMIT: usize = 2_000;
/// Sub-windows per timeframe once estimated.
const SUBWINDOWS: i64 = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `cardinality_field`.
    pub field: Selector,
    /// `max_cardinality`.
    pub max: Option<u64>,
    /// `min_cardinality`.
    pub min: Option<u64>,
    /// `timeframe`, ms.
    pub timeframe_ms: i64,
    /// The rule's `query_key` (for the sentence: "from host a").
    pub query_key: Selectors,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// (value hash, last seen), sorted by hash; used while `sketches` is empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exact: Vec<(u64, i64)>,
    /// (sub-window index, sketch), oldest first; non-empty once above [`EXACT_LIMIT`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sketches: Vec<(i64, Hll)>,
    #[serde(default)]
    pub first_seen: Option<i64>,
    #[serde(default)]
    pub newest: Option<i64>,
    /// min_cardinality: when the timeframe last (re)started — the first event or the last alert.
    #[serde(default)]
    pub min_since: Option<i64>,
    #[serde(default)]
    pub key: Option<String>,
}

fn sub_width(cfg: &Config) -> i64 {
    (cfg.timeframe_ms / SUBWINDOWS).max(1000)
}

impl State {
    fn estimated(&self) -> bool {
        !self.sketches.is_empty()
    }

    /// Distinct values in the window ending at `end`: (count, exact?).
    fn cardinality(&self, cfg: &Config, end: i64) -> (u64, bool) {
        if self.estimated() {
            let w = sub_width(cfg);
            let last = end.div_euclid(w);
            let mut all = Hll::default();
            for (i, h) in &self.sketches {
                if (last - SUBWINDOWS..=last).contains(i) {
                    all.merge(h);
                }
            }
            (all.estimate(), false)
        } else {
            let from = end - cfg.timeframe_ms;
            let n = self
                .exact
                .iter()
                .filter(|(_, t)| *t > from && *t <= end)
                .count();
            (n as u64, true)
        }
    }

    /// Record a value; true when it is new to the window.
    fn see(&mut self, cfg: &Config, hash: u64, ts: i64) -> bool {
        if self.estimated() {
            let w = sub_width(cfg);
            let i = ts.div_euclid(w);
            // The window emptied: exact again.
            self.sketches.retain(|(k, _)| *k >= i - SUBWINDOWS);
        }
        if self.estimated() {
            let w = sub_width(cfg);
            let i = ts.div_euclid(w);
            match self.sketches.binary_search_by_key(&i, |(k, _)| *k) {
                Ok(p) => self.sketches[p].1.insert(hash),
                Err(p) => {
                    let mut h = Hll::default();
                    h.insert(hash);
                    self.sketches.insert(p, (i, h));
                }
            }
            return true;
        }
        let new = match self.exact.binary_search_by_key(&hash, |(h, _)| *h) {
            Ok(p) => {
                let last = self.exact[p].1;
                self.exact[p].1 = last.max(ts);
                ts - last >= cfg.timeframe_ms
            }
            Err(p) => {
                self.exact.insert(p, (hash, ts));
                true
            }
        };
        if self.exact.len() > EXACT_LIMIT {
            let w = sub_width(cfg);
            for (h, t) in std::mem::take(&mut self.exact) {
                let i = t.div_euclid(w);
                match self.sketches.binary_search_by_key(&i, |(k, _)| *k) {
                    Ok(p) => self.sketches[p].1.insert(h),
                    Err(p) => {
                        let mut s = Hll::default();
                        s.insert(h);
                        self.sketches.insert(p, (i, s));
                    }
                }
            }
        }
        new
    }

    fn prune(&mut self, cfg: &Config, newest: i64) {
        if self.estimated() {
            let w = sub_width(cfg);
            let keep_from = newest.div_euclid(w) - SUBWINDOWS;
            self.sketches.retain(|(i, _)| *i >= keep_from);
        } else {
            let from = newest - cfg.timeframe_ms;
            self.exact.retain(|(_, t)| *t > from);
        }
    }
}

fn plural_label(sel: &Selector) -> String {
    match sel {
        Selector::Fingerprint => "kinds of message".to_string(),
        _ => {
            let l = sel.label();
            if l.ends_with('s') { l } else { format!("{l}s") }
        }
    }
}

fn observe(cfg: &Config, st: &State, card: (u64, bool), bound: (&str, u64)) -> Observation {
    let (n, exact) = card;
    let approx = if exact { "" } else { "≈ " };
    let from = st
        .key
        .as_ref()
        .map(|k| format!(" from {k}"))
        .unwrap_or_default();
    let text = format!(
        "{approx}{} distinct {}{from} in {} ({} {})",
        fmt_count(n),
        plural_label(&cfg.field),
        fmt_duration(cfg.timeframe_ms),
        bound.0,
        fmt_count(bound.1)
    );
    let mut details = serde_json::Map::new();
    details.insert("cardinality".into(), n.into());
    details.insert("exact".into(), exact.into());
    if !exact {
        details.insert("standard_error".into(), HLL_ERROR.into());
    }
    details.insert(bound.0.into(), bound.1.into());
    details.insert("field".into(), cfg.field.to_string().into());
    details.insert("timeframe_ms".into(), cfg.timeframe_ms.into());
    Observation {
        text,
        sparkline: None,
        details,
    }
}

/// The min_cardinality decision at `end`.
fn judge_min(cfg: &Config, st: &mut State, end: i64) -> Option<Trigger> {
    let min = cfg.min?;
    let since = st.min_since?;
    if end - since < cfg.timeframe_ms {
        return None;
    }
    // Already alerted with the window empty: it stays empty until an event arrives.
    if st
        .newest
        .is_some_and(|n| since > n && since >= n + cfg.timeframe_ms)
    {
        return None;
    }
    let card = st.cardinality(cfg, end);
    if card.0 >= min {
        return None;
    }
    st.min_since = Some(end);
    Some(Trigger {
        count: 0,
        first_ms: end - cfg.timeframe_ms,
        last_ms: end,
        sample_ids: Vec::new(),
        observation: observe(cfg, st, card, ("min", min)),
        key_override: None,
        events: Vec::new(),
    })
}

pub struct Cardinality;

impl RuleType for Cardinality {
    type Config = Config;
    type State = State;

    fn on_matches(cfg: &Config, st: &mut State, m: &[MatchView], _now: i64) -> Vec<Trigger> {
        let mut out = Vec::new();
        let mut raised: Vec<&MatchView> = Vec::new();
        let mut max_fired = false;
        for ev in m {
            let Some(v) = cfg.field.get(ev) else {
                continue;
            };
            if st.key.is_none() {
                st.key = cfg.query_key.describe(ev);
            }
            let ts = ev.timestamp;
            st.first_seen = Some(st.first_seen.map_or(ts, |f| f.min(ts)));
            st.min_since.get_or_insert(ts);
            let newest = st.newest.map_or(ts, |n| n.max(ts));
            st.newest = Some(newest);
            let new = st.see(cfg, value_hash(&v), ts);
            if new {
                raised.push(ev);
            }
            // Exact: judged at each new value; estimated: once, after the batch.
            if let (Some(max), false, true, false) = (cfg.max, max_fired, new, st.estimated()) {
                let card = st.cardinality(cfg, newest);
                if card.0 > max {
                    max_fired = true;
                    out.push(Trigger {
                        count: 1,
                        first_ms: newest - cfg.timeframe_ms,
                        last_ms: newest,
                        sample_ids: Vec::new(),
                        observation: observe(cfg, st, card, ("max", max)),
                        key_override: None,
                        events: Vec::new(),
                    });
                }
            }
        }
        let Some(newest) = st.newest else {
            return out;
        };
        if let (Some(max), false, true) = (cfg.max, max_fired, st.estimated()) {
            let card = st.cardinality(cfg, newest);
            if card.0 > max && !raised.is_empty() {
                out.push(Trigger {
                    count: 1,
                    first_ms: newest - cfg.timeframe_ms,
                    last_ms: newest,
                    sample_ids: Vec::new(),
                    observation: observe(cfg, st, card, ("max", max)),
                    key_override: None,
                    events: Vec::new(),
                });
            }
        }
        // The events that raised the count are the samples; the trigger represents them.
        if let Some(t) = out.first_mut() {
            t.count = raised.len().max(1) as u64;
            t.last_ms = raised
                .iter()
                .map(|e| e.timestamp)
                .max()
                .unwrap_or(t.last_ms);
            t.sample_ids = sample_ids(raised.iter().copied());
            t.events = positions(m, raised.iter().copied());
        }
        st.prune(cfg, newest);
        out.extend(judge_min(cfg, st, newest));
        out
    }

    fn on_tick(cfg: &Config, st: &mut State, now: i64) -> Vec<Trigger> {
        if st.newest.is_none_or(|n| now < n) {
            return Vec::new();
        }
        judge_min(cfg, st, now).into_iter().collect()
    }

    fn next_due(cfg: &Config, st: &State) -> Option<i64> {
        let min = cfg.min?;
        let since = st.min_since?;
        if st
            .newest
            .is_some_and(|n| since > n && since >= n + cfg.timeframe_ms)
        {
            return None;
        }
        let restart = since + cfg.timeframe_ms;
        if st.estimated() {
            return Some(restart.max(st.newest? + sub_width(cfg)));
        }
        // With no new event, the count falls below `min` when the min-th newest value leaves.
        let mut times: Vec<i64> = st.exact.iter().map(|(_, t)| *t).collect();
        times.sort_unstable();
        let k = min as usize;
        let falls = if times.len() >= k && k > 0 {
            times[times.len() - k] + cfg.timeframe_ms
        } else {
            i64::MIN
        };
        Some(restart.max(falls))
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::test_support::{MIN, T0, ev, views};
    use super::*;
    use proptest::prelude::*;

    fn cfg(max: Option<u64>, min: Option<u64>) -> Config {
        Config {
            field: Selector::parse("$.user").unwrap(),
            max,
            min,
            timeframe_ms: 10 * MIN,
            query_key: Selectors::default(),
        }
    }

    fn run(c: &Config, st: &mut State, evs: &[(i64, &str)]) -> Vec<Trigger> {
        let msgs: Vec<_> = evs
            .iter()
            .enumerate()
            .map(|(i, (t, u))| {
                ev(
                    format!("{t}-{i}"),
                    *t,
                    format!(r#"{{"user":"{u}","ip":"1.2.3.4"}}"#),
                )
            })
            .collect();
        Cardinality::on_matches(c, st, &views(&msgs), 0)
    }

    #[test]
    fn max_alerts_on_the_value_that_exceeds_it() {
        let mut c = cfg(Some(3), None);
        c.query_key = Selectors(vec![Selector::parse("$.ip").unwrap()]);
        let mut st = State::default();
        assert!(
            run(
                &c,
                &mut st,
                &[(T0, "a"), (T0 + 1, "b"), (T0 + 2, "c"), (T0 + 3, "a")]
            )
            .is_empty()
        );
        let t = run(&c, &mut st, &[(T0 + 4, "d"), (T0 + 5, "e"), (T0 + 6, "f")]);
        assert_eq!(t.len(), 1, "one trigger per batch");
        assert_eq!(
            t[0].observation.text,
            "4 distinct users from ip 1.2.3.4 in 10 min (max 3)"
        );
        assert_eq!(t[0].count, 3, "the new values of this batch");
        assert_eq!(t[0].sample_ids.len(), 3);
        // Repeats of known values do not raise it.
        assert!(run(&c, &mut st, &[(T0 + 7, "a"), (T0 + 8, "d")]).is_empty());
        let t = run(&c, &mut st, &[(T0 + 9, "g")]);
        assert_eq!(
            t[0].observation.text,
            "7 distinct users from ip 1.2.3.4 in 10 min (max 3)"
        );
    }

    #[test]
    fn values_leave_the_window() {
        let c = cfg(Some(2), None);
        let mut st = State::default();
        run(&c, &mut st, &[(T0, "a"), (T0 + 1, "b")]);
        // Exactly timeframe later "a" and "b" have left: (end - tf, end].
        assert!(run(&c, &mut st, &[(T0 + 10 * MIN + 1, "c")]).is_empty());
        assert_eq!(st.exact.len(), 1, "expired values are pruned");
        // A value seen again after leaving is new again.
        assert!(run(&c, &mut st, &[(T0 + 10 * MIN + 2, "a")]).is_empty());
        assert_eq!(run(&c, &mut st, &[(T0 + 10 * MIN + 3, "b")]).len(), 1);
    }

    #[test]
    fn missing_fields_are_ignored() {
        let c = cfg(Some(0), None);
        let mut st = State::default();
        let evs = [ev("1", T0, r#"{"x":1}"#)];
        assert!(Cardinality::on_matches(&c, &mut st, &views(&evs), 0).is_empty());
        assert_eq!(st, State::default());
    }

    #[test]
    fn min_waits_a_timeframe_then_alerts_and_restarts() {
        let c = cfg(None, Some(3));
        let mut st = State::default();
        assert!(run(&c, &mut st, &[(T0, "a"), (T0 + MIN, "b")]).is_empty());
        assert_eq!(Cardinality::next_due(&c, &st), Some(T0 + 10 * MIN));
        assert!(Cardinality::on_tick(&c, &mut st, T0 + 10 * MIN - 1).is_empty());
        let t = Cardinality::on_tick(&c, &mut st, T0 + 10 * MIN);
        assert_eq!(t[0].observation.text, "1 distinct users in 10 min (min 3)");
        assert_eq!(t[0].count, 0);
        assert_eq!(Cardinality::next_due(&c, &st), Some(T0 + 20 * MIN));
        assert!(Cardinality::on_tick(&c, &mut st, T0 + 15 * MIN).is_empty());
        // Still below at T0+20m (the window now empty): one more alert, then silence until events.
        assert_eq!(Cardinality::on_tick(&c, &mut st, T0 + 20 * MIN).len(), 1);
        assert_eq!(Cardinality::next_due(&c, &st), None);
        assert!(Cardinality::on_tick(&c, &mut st, T0 + 40 * MIN).is_empty());
    }

    #[test]
    fn min_due_when_values_expire() {
        let c = cfg(None, Some(2));
        let mut st = State::default();
        run(
            &c,
            &mut st,
            &[(T0, "a"), (T0 + MIN, "b"), (T0 + 2 * MIN, "c")],
        );
        // Two newest: b (T0+1m) and c: falls below 2 when b leaves, at T0+11m.
        assert_eq!(Cardinality::next_due(&c, &st), Some(T0 + 11 * MIN));
        assert!(Cardinality::on_tick(&c, &mut st, T0 + 11 * MIN - 1).is_empty());
        assert_eq!(Cardinality::on_tick(&c, &mut st, T0 + 11 * MIN).len(), 1);
        assert_eq!(
            Cardinality::next_due(&cfg(Some(5), None), &st),
            None,
            "max only: no ticks"
        );
    }

    #[test]
    fn large_sets_switch_to_sketches_and_stay_bounded() {
        let c = cfg(Some(2_500), None);
        let mut st = State::default();
        let users: Vec<String> = (0..3_000).map(|i| format!("u{i}")).collect();
        let evs: Vec<(i64, &str)> = users
            .iter()
            .enumerate()
            .map(|(i, u)| (T0 + i as i64 * 100, u.as_str()))
            .collect();
        let t = run(&c, &mut st, &evs[..2_400]);
        assert!(t.is_empty());
        assert!(st.estimated());
        let t = run(&c, &mut st, &evs[2_400..]);
        assert_eq!(t.len(), 1);
        let n = t[0].observation.details["cardinality"].as_u64().unwrap() as f64;
        assert!((n - 3000.0).abs() / 3000.0 < 3.0 * HLL_ERROR, "{n}");
        assert!(
            t[0].observation.text.starts_with("≈ "),
            "{}",
            t[0].observation.text
        );
        let size = serde_json::to_string(&st).unwrap().len();
        assert!(size < 40_000, "{size} bytes");
        // Window empties: back to exact.
        run(&c, &mut st, &[(T0 + 100 * MIN, "x")]);
        assert!(!st.estimated());
        assert_eq!(st.exact.len(), 1);
    }

    #[test]
    fn exact_state_at_the_limit_fits_an_item() {
        let c = cfg(Some(EXACT_LIMIT as u64), None);
        let mut st = State::default();
        let users: Vec<String> = (0..EXACT_LIMIT).map(|i| format!("u{i}")).collect();
        let evs: Vec<(i64, &str)> = users.iter().map(|u| (T0 + 1, u.as_str())).collect();
        run(&c, &mut st, &evs);
        assert!(!st.estimated());
        let size = serde_json::to_string(&st).unwrap().len();
        assert!(size < 80_000, "{size} bytes");
    }

    proptest! {
        /// Exact mode: the reported cardinality is the true number of distinct values in the
        /// window (end - timeframe, end], whatever the batches.
        #[test]
        fn exact_cardinality_is_true(
            evs in prop::collection::vec((0i64..30 * MIN, 0u8..12), 1..60),
            cut in 1usize..10,
        ) {
            let c = cfg(Some(0), None);
            let mut st = State::default();
            let mut sorted = evs.clone();
            sorted.sort();
            let names: Vec<(i64, String)> = sorted.iter().map(|(t, u)| (T0 + t, format!("u{u}"))).collect();
            let mut seen: Vec<(i64, String)> = Vec::new();
            for chunk in names.chunks(cut) {
                let batch: Vec<(i64, &str)> = chunk.iter().map(|(t, u)| (*t, u.as_str())).collect();
                let t = run(&c, &mut st, &batch);
                seen.extend(chunk.iter().cloned());
                let end = seen.last().unwrap().0;
                let (n, exact) = st.cardinality(&c, end);
                prop_assert!(exact);
                let mut truth: Vec<&String> = seen.iter().filter(|(t, _)| *t > end - c.timeframe_ms).map(|(_, u)| u).collect();
                truth.sort();
                truth.dedup();
                prop_assert_eq!(n, truth.len() as u64);
                prop_assert!(t.len() <= 1);
            }
        }
    }
}
