//! `type: frequency` — alert when at least `num_events` matches fall within `timeframe` (event
//! time), per query key.
//!
//! The state holds the times of the matches not yet represented by an alert, pruned to one
//! `timeframe` behind the newest match seen, so it never holds `num_events` matches within one
//! timeframe (that would have triggered) and stays bounded.

use serde::{Deserialize, Serialize};

use super::{MAX_TRIGGER_SAMPLES, MatchView, RuleType, Trigger, human_span};
use crate::alert::Observation;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrequencyConfig {
    pub num_events: u64,
    pub timeframe_ms: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FrequencyState {
    /// Event times (ms) of matches not yet represented by a trigger, ascending.
    #[serde(default)]
    pub pending: Vec<i64>,
    /// The newest match time seen (pruning reference).
    #[serde(default)]
    pub newest_ms: Option<i64>,
}

/// `type: frequency`.
#[derive(Debug)]
pub struct Frequency;

/// One entry of the merged window: time and, for a new match, its index in the matches given.
type Entry = (i64, Option<usize>);

/// The first window (in time order) of ≥ `num_events` entries within `timeframe_ms` that holds a
/// new match: its start and end indices in `all` (sorted).
fn first_full_window(all: &[Entry], cfg: &FrequencyConfig) -> Option<(usize, usize)> {
    let mut start = 0;
    for end in 0..all.len() {
        // Exact difference (i128): event times at i64::MIN and MAX are 2^64 - 1 apart.
        while i128::from(all[end].0) - i128::from(all[start].0) > i128::from(cfg.timeframe_ms) {
            start += 1;
        }
        let window = &all[start..=end];
        if window.len() as u64 >= cfg.num_events.max(1) && window.iter().any(|e| e.1.is_some()) {
            return Some((start, end));
        }
    }
    None
}

impl RuleType for Frequency {
    type Config = FrequencyConfig;
    type State = FrequencyState;

    fn on_matches(
        cfg: &FrequencyConfig,
        st: &mut FrequencyState,
        m: &[MatchView],
        _now_ms: i64,
    ) -> Vec<Trigger> {
        let mut all: Vec<Entry> = st.pending.iter().map(|&t| (t, None)).collect();
        all.extend(m.iter().enumerate().map(|(i, v)| (v.timestamp, Some(i))));
        // Stored entries sort before new ones at the same time (stable sort on time only).
        all.sort_by_key(|e| e.0);
        let newest = all.iter().map(|e| e.0).chain(st.newest_ms).max();
        st.newest_ms = newest;
        let mut out = Vec::new();
        let remaining: Vec<i64> = match first_full_window(&all, cfg) {
            Some((start, end)) => {
                // The window plus every later new match (one trigger per invocation and key).
                let represented: Vec<&Entry> = all[start..=end]
                    .iter()
                    .chain(all[end + 1..].iter().filter(|e| e.1.is_some()))
                    .collect();
                let samples: Vec<String> = {
                    let mut idx: Vec<usize> = represented.iter().filter_map(|e| e.1).collect();
                    idx.sort_unstable();
                    idx.iter()
                        .take(MAX_TRIGGER_SAMPLES)
                        .map(|&i| m[i].id.to_string())
                        .collect()
                };
                let first = represented.iter().map(|e| e.0).min().unwrap_or_default();
                let last = represented.iter().map(|e| e.0).max().unwrap_or_default();
                let count = represented.len() as u64;
                out.push(Trigger {
                    count,
                    first_ms: first,
                    last_ms: last,
                    sample_ids: samples,
                    observation: observation(cfg, count, first, last),
                    key_override: None,
                    // This invocation's events (earlier ones are kept as times only).
                    events: represented.iter().filter_map(|e| e.1).collect(),
                });
                all[..start]
                    .iter()
                    .chain(all[end + 1..].iter().filter(|e| e.1.is_none()))
                    .map(|e| e.0)
                    .collect()
            }
            None => all.iter().map(|e| e.0).collect(),
        };
        let horizon = newest.map_or(i64::MIN, |n| n.saturating_sub(cfg.timeframe_ms));
        st.pending = remaining.into_iter().filter(|&t| t >= horizon).collect();
        st.pending.sort_unstable();
        out
    }

    fn on_tick(_: &FrequencyConfig, _: &mut FrequencyState, _now_ms: i64) -> Vec<Trigger> {
        Vec::new()
    }

    fn next_due(_: &FrequencyConfig, _: &FrequencyState) -> Option<i64> {
        None
    }
}

fn observation(cfg: &FrequencyConfig, count: u64, first: i64, last: i64) -> Observation {
    let mut details = serde_json::Map::new();
    details.insert("count".into(), count.into());
    details.insert("threshold".into(), cfg.num_events.into());
    details.insert("timeframe_ms".into(), cfg.timeframe_ms.into());
    Observation {
        text: format!(
            "{count} matches in {} (threshold {} within {})",
            human_span(last.saturating_sub(first)),
            cfg.num_events,
            human_span(cfg.timeframe_ms)
        ),
        sparkline: None,
        details,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: FrequencyConfig = FrequencyConfig {
        num_events: 3,
        timeframe_ms: 60_000,
    };

    fn run(st: &mut FrequencyState, times: &[i64]) -> Vec<Trigger> {
        let ids: Vec<String> = times.iter().map(|t| format!("e{t}")).collect();
        let ex = vec![];
        let views: Vec<MatchView> = times
            .iter()
            .zip(&ids)
            .map(|(t, id)| MatchView {
                id,
                timestamp: *t,
                log_group: "/g",
                log_stream: "s",
                message: "m",
                extracted: &ex,
            })
            .collect();
        Frequency::on_matches(&CFG, st, &views, 0)
    }

    #[test]
    fn threshold_within_the_timeframe() {
        let mut st = FrequencyState::default();
        assert!(run(&mut st, &[0, 1000]).is_empty());
        assert_eq!(st.pending, [0, 1000]);
        let t = run(&mut st, &[60_000]);
        assert_eq!(t.len(), 1, "the window edge is inclusive");
        assert_eq!((t[0].count, t[0].first_ms, t[0].last_ms), (3, 0, 60_000));
        assert_eq!(
            t[0].sample_ids,
            ["e60000"],
            "samples come from the new matches"
        );
        assert!(st.pending.is_empty(), "represented matches are consumed");
        assert_eq!(t[0].observation.details["threshold"], 3);
    }

    #[test]
    fn just_outside_the_timeframe_does_not_count() {
        let mut st = FrequencyState::default();
        assert!(run(&mut st, &[0, 1000]).is_empty());
        assert!(run(&mut st, &[60_001]).is_empty());
        assert_eq!(st.pending, [1000, 60_001], "the oldest slid out");
        assert_eq!(run(&mut st, &[61_000])[0].count, 3);
    }

    #[test]
    fn out_of_order_matches_fill_the_window() {
        let mut st = FrequencyState::default();
        assert!(run(&mut st, &[50_000, 10_000]).is_empty());
        let t = run(&mut st, &[30_000]);
        assert_eq!(
            (t[0].count, t[0].first_ms, t[0].last_ms),
            (3, 10_000, 50_000)
        );
        // A match older than one timeframe behind the newest is dropped at once.
        assert!(run(&mut st, &[-20_000, -19_000]).is_empty());
        assert!(st.pending.is_empty());
    }

    #[test]
    fn later_matches_of_the_same_invocation_ride_along() {
        let mut st = FrequencyState::default();
        let t = run(&mut st, &[0, 1, 2, 500_000, 500_001]);
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].count, t[0].last_ms), (5, 500_001));
        assert!(st.pending.is_empty());
    }

    #[test]
    fn stored_matches_before_the_window_stay_pending() {
        let mut st = FrequencyState {
            pending: vec![0],
            newest_ms: Some(0),
        };
        let t = run(&mut st, &[100_000, 100_001, 100_002]);
        assert_eq!(t[0].count, 3);
        assert!(
            st.pending.is_empty(),
            "0 is older than the timeframe behind the newest"
        );
        let mut st = FrequencyState {
            pending: vec![0, 50_000],
            newest_ms: Some(50_000),
        };
        // Window [50_000, 100_000] triggers; 0 is pruned, nothing stays.
        assert_eq!(run(&mut st, &[100_000, 100_000])[0].count, 3);
        assert!(st.pending.is_empty());
    }

    #[test]
    fn extremes_never_wrap() {
        let mut st = FrequencyState::default();
        assert!(run(&mut st, &[i64::MIN, i64::MAX]).is_empty());
        assert_eq!(st.pending, [i64::MAX]);
        let t = run(&mut st, &[i64::MAX, i64::MAX - 1]);
        assert_eq!(
            (t[0].count, t[0].first_ms, t[0].last_ms),
            (3, i64::MAX - 1, i64::MAX)
        );
        let cfg = FrequencyConfig {
            num_events: 2,
            timeframe_ms: i64::MAX,
        };
        let ex = vec![];
        let v = |id, t| MatchView {
            id,
            timestamp: t,
            log_group: "/g",
            log_stream: "s",
            message: "m",
            extracted: &ex,
        };
        let mut st = FrequencyState::default();
        let t = Frequency::on_matches(&cfg, &mut st, &[v("a", i64::MIN), v("b", i64::MAX)], 0);
        assert!(t.is_empty(), "MAX - MIN exceeds even the largest timeframe");
        assert_eq!(human_span(i64::MIN), "0s");
        assert_eq!(human_span(i64::MAX), "106751991167d");
    }

    #[test]
    fn spans_read_well() {
        assert_eq!(human_span(45_000), "45s");
        assert_eq!(human_span(300_000), "5m");
        assert_eq!(human_span(330_000), "5m 30s");
        assert_eq!(human_span(5_400_000), "1h 30m");
        assert_eq!(human_span(7_200_000), "2h");
        assert_eq!(human_span(172_800_000), "2d");
    }
}
