//! `type: flatline` — alert when fewer than `threshold` events arrive within `timeframe`.
//!
//! ```yaml
//! - name: orders-stopped
//!   type: flatline
//!   filter_pattern: '{ $.event = "order_placed" }'
//!   threshold: 1          # fewer than this many events …
//!   timeframe: 5m         # … in this window (event time) alerts
//!   query_key: $.service  # optional: one watch per service
//!   forget_keys: false    # with query_key: stop watching a key once it alerted
//! ```
//!
//! The decision is made by the tick (no event arrives to trigger it): [`Flatline::next_due`] is
//! the exact moment the window would hold fewer than `threshold` events, so the scheduler looks
//! again then. Observation: "no events from service b for 5 min (expected ≥ 1)" or
//! "2 events from service b in 5 min (expected ≥ 10)", with the window's per-minute sparkline.
//!
//! **What is watched, from when.** A key is watched from its first event (state exists only once a
//! matching event was seen): no alert before one full `timeframe` has passed since then. An
//! un-keyed flatline watches every event the rule matches, across all its log groups, from the
//! first one after the rule was deployed (a rule that has never matched cannot alert: deploy it
//! while traffic flows, or send a heartbeat). With `query_key`, a key that disappears keeps
//! alerting: once per flat period (an event starts a new period: the next flat moment alerts
//! again) — or, with `forget_keys: true`, alerts once and is forgotten until its next event.
//! (No repeats while flat with nothing arriving: the open incident says it; a reminder per
//! `timeframe` would page again and again for one outage.)
//!
//! **State**: the `threshold` most recent event times (exact: the window holds `threshold`
//! events iff the `threshold`-th most recent is inside it), at most [`MAX_THRESHOLD`], plus
//! per-bucket counts of the last `timeframe` for the sparkline (≤ 61 buckets).

use serde::{Deserialize, Serialize};

use super::common::{Counts, fmt_count, fmt_duration, plural};
use super::select::Selectors;
use super::{MatchView, RuleType, Trigger};
use crate::alert::Observation;

/// Largest `threshold` accepted (the newest `threshold` times are kept: 20 KB at most).
pub const MAX_THRESHOLD: u64 = 1_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The rule's `query_key` (for the sentence: "from service b").
    pub query_key: Selectors,
    /// `threshold`: fewer events than this alert (≥ 1).
    pub threshold: u64,
    /// `timeframe`, ms.
    pub timeframe_ms: i64,
    /// `forget_keys`.
    pub forget_keys: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// When watching began (the first event's time); None: forgotten or never seen.
    #[serde(default)]
    pub watching_since: Option<i64>,
    /// The newest `threshold` event times, ascending.
    #[serde(default)]
    pub recent: Vec<i64>,
    /// The key as a sentence part (`service b`), from the first event.
    #[serde(default)]
    pub key: Option<String>,
    /// When the current flat period last alerted.
    #[serde(default)]
    pub alerted_at: Option<i64>,
    #[serde(default)]
    pub counts: Counts,
}

pub struct Flatline;

impl Flatline {
    fn count_in_window(cfg: &Config, st: &State, now: i64) -> u64 {
        st.recent
            .iter()
            .filter(|&&t| t > now - cfg.timeframe_ms && t <= now)
            .count() as u64
    }
}

impl RuleType for Flatline {
    type Config = Config;
    type State = State;

    fn on_matches(cfg: &Config, st: &mut State, m: &[MatchView], _now_ms: i64) -> Vec<Trigger> {
        if st.counts.width_ms == 0 {
            st.counts = Counts::for_timeframe(cfg.timeframe_ms);
        }
        for ev in m {
            if st.key.is_none() {
                st.key = cfg.query_key.describe(ev);
            }
            let since = st.watching_since.get_or_insert(ev.timestamp);
            *since = (*since).min(ev.timestamp);
            let pos = st.recent.partition_point(|&t| t <= ev.timestamp);
            st.recent.insert(pos, ev.timestamp);
            st.counts.add(ev.timestamp, 1);
        }
        let keep = cfg.threshold.clamp(1, MAX_THRESHOLD) as usize;
        if st.recent.len() > keep {
            st.recent.drain(..st.recent.len() - keep);
        }
        if let Some(&newest) = st.recent.last() {
            st.counts.prune_before(newest - 2 * cfg.timeframe_ms);
            // Events after the alert: that flat period is over.
            if st.alerted_at.is_some_and(|a| newest >= a) {
                st.alerted_at = None;
            }
        }
        Vec::new()
    }

    fn on_tick(cfg: &Config, st: &mut State, now: i64) -> Vec<Trigger> {
        let Some(since) = st.watching_since else {
            return Vec::new();
        };
        let tf = cfg.timeframe_ms;
        if now - since < tf {
            return Vec::new();
        }
        let n = Flatline::count_in_window(cfg, st, now);
        if n >= cfg.threshold {
            st.alerted_at = None;
            return Vec::new();
        }
        // Once per flat period: again only after an event arrived.
        if st.alerted_at.is_some() {
            return Vec::new();
        }
        st.alerted_at = Some(now);
        let from = match &st.key {
            Some(k) => format!(" from {k}"),
            None => String::new(),
        };
        let text = if n == 0 {
            format!(
                "no events{from} for {} (expected ≥ {})",
                fmt_duration(tf),
                fmt_count(cfg.threshold)
            )
        } else {
            format!(
                "{}{from} in {} (expected ≥ {})",
                plural(n, "event", "events"),
                fmt_duration(tf),
                fmt_count(cfg.threshold)
            )
        };
        let mut details = serde_json::Map::new();
        details.insert("current".into(), n.into());
        details.insert("threshold".into(), cfg.threshold.into());
        details.insert("timeframe_ms".into(), tf.into());
        if let Some(&last) = st.recent.last() {
            details.insert("last_event_ms".into(), last.into());
        }
        // (now - tf, now], at bucket resolution.
        let sparkline = Some(st.counts.sparkline(now - tf + 1, now + 1));
        if cfg.forget_keys {
            st.watching_since = None;
            st.recent.clear();
            st.counts.buckets.clear();
        }
        vec![Trigger {
            count: 0,
            first_ms: now - tf,
            last_ms: now,
            sample_ids: Vec::new(),
            observation: Observation {
                text,
                sparkline,
                details,
            },
            key_override: None,
            events: Vec::new(),
        }]
    }

    fn next_due(cfg: &Config, st: &State) -> Option<i64> {
        let since = st.watching_since?;
        let tf = cfg.timeframe_ms;
        let watched_long_enough = since + tf;
        if st.alerted_at.is_some() {
            // Flat and alerted: nothing to decide until an event arrives.
            return None;
        }
        // The window (now - tf, now] holds `threshold` events until the threshold-th newest
        // leaves it, at its time + tf.
        let k = cfg.threshold.clamp(1, MAX_THRESHOLD) as usize;
        let falls_below = if st.recent.len() >= k {
            st.recent[st.recent.len() - k] + tf
        } else {
            i64::MIN
        };
        Some(falls_below.max(watched_long_enough))
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::test_support::{MIN, T0, ev, views};
    use super::*;
    use proptest::prelude::*;

    fn cfg(threshold: u64, tf_min: i64) -> Config {
        Config {
            query_key: Selectors::default(),
            threshold,
            timeframe_ms: tf_min * MIN,
            forget_keys: false,
        }
    }

    fn feed(c: &Config, st: &mut State, times: &[i64]) {
        let evs: Vec<_> = times
            .iter()
            .enumerate()
            .map(|(i, t)| ev(i, *t, r#"{"service":"b"}"#))
            .collect();
        assert!(Flatline::on_matches(c, st, &views(&evs), 0).is_empty());
    }

    #[test]
    fn alerts_when_the_window_empties_and_says_so() {
        let c = cfg(1, 5);
        let mut c = c;
        c.query_key = Selectors(vec![
            super::super::select::Selector::parse("$.service").unwrap(),
        ]);
        let mut st = State::default();
        feed(&c, &mut st, &[T0, T0 + MIN]);
        let due = Flatline::next_due(&c, &st).unwrap();
        assert_eq!(due, T0 + 6 * MIN, "last event + timeframe");
        assert!(Flatline::on_tick(&c, &mut st, due - 1).is_empty());
        let t = Flatline::on_tick(&c, &mut st, due);
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0].observation.text,
            "no events from service b for 5 min (expected ≥ 1)"
        );
        assert_eq!(t[0].count, 0);
        assert_eq!((t[0].first_ms, t[0].last_ms), (T0 + MIN, T0 + 6 * MIN));
        assert_eq!(t[0].observation.sparkline.as_deref(), Some("▁▁▁▁▁"));
        assert_eq!(t[0].observation.details["last_event_ms"], T0 + MIN);
    }

    #[test]
    fn below_threshold_but_not_empty() {
        let c = cfg(10, 5);
        let mut st = State::default();
        feed(&c, &mut st, &[T0, T0 + MIN + 5000, T0 + MIN + 6000]);
        let t = Flatline::on_tick(&c, &mut st, T0 + 5 * MIN);
        assert_eq!(t[0].observation.text, "2 events in 5 min (expected ≥ 10)");
        assert_eq!(t[0].observation.sparkline.as_deref(), Some("▁█▁▁▁"));
    }

    #[test]
    fn no_alert_before_a_full_timeframe_was_watched() {
        let c = cfg(10, 5);
        let mut st = State::default();
        feed(&c, &mut st, &[T0]);
        assert_eq!(Flatline::next_due(&c, &st), Some(T0 + 5 * MIN));
        assert!(Flatline::on_tick(&c, &mut st, T0 + 5 * MIN - 1).is_empty());
        assert_eq!(Flatline::on_tick(&c, &mut st, T0 + 5 * MIN).len(), 1);
    }

    #[test]
    fn never_seen_never_ticks() {
        let c = cfg(1, 5);
        let mut st = State::default();
        assert_eq!(Flatline::next_due(&c, &st), None);
        assert!(Flatline::on_tick(&c, &mut st, T0).is_empty());
    }

    #[test]
    fn enough_events_means_no_alert_and_due_when_the_kth_newest_leaves() {
        let c = cfg(3, 5);
        let mut st = State::default();
        feed(&c, &mut st, &[T0, T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN]);
        assert_eq!(
            st.recent,
            vec![T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN],
            "only threshold kept"
        );
        assert_eq!(Flatline::next_due(&c, &st), Some(T0 + 6 * MIN));
        assert!(Flatline::on_tick(&c, &mut st, T0 + 6 * MIN - 1).is_empty());
        assert_eq!(
            Flatline::on_tick(&c, &mut st, T0 + 6 * MIN)[0]
                .observation
                .text,
            "2 events in 5 min (expected ≥ 3)"
        );
    }

    #[test]
    fn alerts_once_per_flat_period_and_again_after_recovery() {
        let c = cfg(1, 5);
        let mut st = State::default();
        feed(&c, &mut st, &[T0]);
        assert_eq!(Flatline::on_tick(&c, &mut st, T0 + 5 * MIN).len(), 1);
        assert_eq!(
            Flatline::next_due(&c, &st),
            None,
            "nothing to decide until an event"
        );
        assert!(Flatline::on_tick(&c, &mut st, T0 + 6 * MIN).is_empty());
        assert!(Flatline::on_tick(&c, &mut st, T0 + 60 * MIN).is_empty());
        // Back: no alert, and the next flat period alerts again.
        feed(&c, &mut st, &[T0 + 61 * MIN]);
        assert_eq!(st.alerted_at, None);
        assert!(Flatline::on_tick(&c, &mut st, T0 + 62 * MIN).is_empty());
        assert_eq!(Flatline::next_due(&c, &st), Some(T0 + 66 * MIN));
        assert_eq!(Flatline::on_tick(&c, &mut st, T0 + 66 * MIN).len(), 1);
    }

    #[test]
    fn forget_keys_alerts_once_then_waits_for_the_key() {
        let mut c = cfg(1, 5);
        c.forget_keys = true;
        let mut st = State::default();
        feed(&c, &mut st, &[T0]);
        assert_eq!(Flatline::on_tick(&c, &mut st, T0 + 5 * MIN).len(), 1);
        assert_eq!(Flatline::next_due(&c, &st), None);
        assert!(Flatline::on_tick(&c, &mut st, T0 + 20 * MIN).is_empty());
        feed(&c, &mut st, &[T0 + 30 * MIN]);
        assert_eq!(
            st.watching_since,
            Some(T0 + 30 * MIN),
            "watched again from its return"
        );
        assert_eq!(Flatline::next_due(&c, &st), Some(T0 + 35 * MIN));
    }

    #[test]
    fn out_of_order_events_count_where_they_belong() {
        let c = cfg(2, 5);
        let mut st = State::default();
        feed(&c, &mut st, &[T0 + 4 * MIN]);
        feed(&c, &mut st, &[T0]);
        assert_eq!(st.watching_since, Some(T0));
        assert_eq!(st.recent, vec![T0, T0 + 4 * MIN]);
        // A late, old event does not push out newer ones.
        feed(&c, &mut st, &[T0 - MIN]);
        assert_eq!(st.recent, vec![T0, T0 + 4 * MIN]);
        assert_eq!(Flatline::next_due(&c, &st), Some(T0 + 5 * MIN));
    }

    #[test]
    fn window_edge_is_exclusive_of_exactly_timeframe_ago() {
        let c = cfg(1, 1);
        let mut st = State::default();
        feed(&c, &mut st, &[T0]);
        assert!(Flatline::on_tick(&c, &mut st, T0 + MIN - 1).is_empty());
        assert_eq!(Flatline::count_in_window(&c, &st, T0 + MIN - 1), 1);
        assert_eq!(Flatline::count_in_window(&c, &st, T0 + MIN), 0);
    }

    #[test]
    fn state_stays_small() {
        let c = cfg(MAX_THRESHOLD, 24 * 60);
        let mut st = State::default();
        let times: Vec<i64> = (0..5000).map(|i| T0 + i * 20_000).collect();
        feed(&c, &mut st, &times);
        let size = serde_json::to_string(&st).unwrap().len();
        assert!(size < 40_000, "{size} bytes");
    }

    proptest! {
        /// The tick at `next_due` is exactly when the window first falls below the threshold.
        #[test]
        fn next_due_is_the_first_flat_moment(
            offsets in prop::collection::vec(0i64..20 * MIN, 1..30),
            threshold in 1u64..5,
        ) {
            let c = cfg(threshold, 5);
            let mut st = State::default();
            feed(&c, &mut st, &offsets.iter().map(|o| T0 + o).collect::<Vec<_>>());
            let due = Flatline::next_due(&c, &st).unwrap();
            let newest = T0 + offsets.iter().max().unwrap();
            // Ticks run at or after the newest event (the clock is never behind what it saw).
            if due > newest {
                let mut before = st.clone();
                prop_assert!(Flatline::on_tick(&c, &mut before, due - 1).is_empty());
            }
            prop_assert_eq!(Flatline::on_tick(&c, &mut st, due.max(newest)).len(), 1);
        }
    }
}
