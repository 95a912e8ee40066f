//! `type: spike` — the events of the current `timeframe` against the `timeframe` before it.
//!
//! ```yaml
//! - name: error-spike
//!   type: spike
//!   filter_pattern: ERROR
//!   timeframe: 5m
//!   spike_height: 3         # current ≥ 3 × reference (up) or ≤ reference / 3 (down)
//!   spike_type: both        # up | down | both
//!   threshold_cur: 10       # optional: at least this many now …
//!   threshold_ref: 5        # … and before, for an alert
//!   alert_on_new_data: false
//!   query_key: $.service
//! ```
//!
//! As in ElastAlert: up when `cur ≥ ref × spike_height`, down when `cur ≤ ref ÷ spike_height`,
//! after `threshold_cur` / `threshold_ref`; in addition an up-spike needs `cur > ref` and a
//! down-spike `cur < ref` (0 against 0 is no spike). Until a key has been seen for two timeframes
//! (a full reference window) it does not alert, unless `alert_on_new_data: true`.
//!
//! Windows end at the newest event seen (event time), quantised to 1/60 of the timeframe
//! ([`Counts`]). Events decide up-spikes as they arrive (evaluated after each bucket's events, at
//! most one trigger per batch); down-spikes — down to zero when traffic stops — are decided by
//! the tick: [`Spike::next_due`] is the first bucket at which, with no further event, the
//! windows would make a down-spike. Observation: "60 in 1 min, 12× the previous 1 min (5)",
//! "2 in 5 min, down from 40 in the previous 5 min", with the sparkline of both windows.
//!
//! **State**: ≤ 121 bucket counts (≈ 2 KB), the first-seen time and the last alert's window end.

use serde::{Deserialize, Serialize};

use super::common::{Counts, fmt_count, fmt_duration, fmt_num, sample_ids};
use super::select::Selectors;
use super::{MatchView, RuleType, Trigger};
use crate::alert::Observation;

/// `spike_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpikeType {
    Up,
    Down,
    Both,
}

impl SpikeType {
    pub fn parse(s: &str) -> Option<SpikeType> {
        match s {
            "up" => Some(SpikeType::Up),
            "down" => Some(SpikeType::Down),
            "both" => Some(SpikeType::Both),
            _ => None,
        }
    }

    pub fn up(self) -> bool {
        matches!(self, SpikeType::Up | SpikeType::Both)
    }

    pub fn down(self) -> bool {
        matches!(self, SpikeType::Down | SpikeType::Both)
    }
}

/// Which way a spike went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// The comparison shared with `spike_aggregation`: is `cur` against `reference` a spike?
pub fn spike_direction(
    cur: f64,
    reference: f64,
    height: f64,
    kind: SpikeType,
    threshold_cur: f64,
    threshold_ref: f64,
) -> Option<Direction> {
    if cur < threshold_cur || reference < threshold_ref {
        return None;
    }
    if kind.up() && cur > reference && cur >= reference * height {
        return Some(Direction::Up);
    }
    if kind.down() && cur < reference && cur <= reference / height {
        return Some(Direction::Down);
    }
    None
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The rule's `query_key` (for the sentence: "from service b").
    pub query_key: Selectors,
    /// `timeframe`, ms.
    pub timeframe_ms: i64,
    /// `spike_height` (> 0; usually > 1).
    pub spike_height: f64,
    /// `spike_type`.
    pub spike_type: SpikeType,
    /// `threshold_cur` (default 0).
    pub threshold_cur: u64,
    /// `threshold_ref` (default 0).
    pub threshold_ref: u64,
    /// `alert_on_new_data` (default false).
    pub alert_on_new_data: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub counts: Counts,
    /// Event time of the first event seen.
    #[serde(default)]
    pub first_seen: Option<i64>,
    /// Newest event time seen.
    #[serde(default)]
    pub newest: Option<i64>,
    /// End of the window of the last tick alert (down-spikes alert once per timeframe).
    #[serde(default)]
    pub last_tick_alert: Option<i64>,
    /// The key as a sentence part (`service b`), from the first event.
    #[serde(default)]
    pub key: Option<String>,
}

pub struct Spike;

struct Judged {
    dir: Direction,
    cur: u64,
    reference: u64,
    end: i64,
}

fn judge(cfg: &Config, st: &State, end: i64) -> Option<Judged> {
    let tf = cfg.timeframe_ms;
    let first = st.first_seen?;
    if !cfg.alert_on_new_data && end - first < 2 * tf {
        return None;
    }
    let cur = st.counts.count_window(end, tf);
    let reference = st.counts.count_previous_window(end, tf);
    let dir = spike_direction(
        cur as f64,
        reference as f64,
        cfg.spike_height,
        cfg.spike_type,
        cfg.threshold_cur as f64,
        cfg.threshold_ref as f64,
    )?;
    Some(Judged {
        dir,
        cur,
        reference,
        end,
    })
}

fn observe(cfg: &Config, st: &State, j: &Judged) -> Observation {
    let tf = fmt_duration(cfg.timeframe_ms);
    let from = st
        .key
        .as_ref()
        .map(|k| format!(" from {k}"))
        .unwrap_or_default();
    let text = match j.dir {
        Direction::Up if j.reference == 0 => format!(
            "{}{from} in {tf}, none in the previous {tf}",
            fmt_count(j.cur)
        ),
        Direction::Up => format!(
            "{}{from} in {tf}, {}× the previous {tf} ({})",
            fmt_count(j.cur),
            fmt_num(j.cur as f64 / j.reference as f64),
            fmt_count(j.reference)
        ),
        Direction::Down => format!(
            "{}{from} in {tf}, down from {} in the previous {tf}",
            fmt_count(j.cur),
            fmt_count(j.reference)
        ),
    };
    let mut details = serde_json::Map::new();
    details.insert("current".into(), j.cur.into());
    details.insert("reference".into(), j.reference.into());
    details.insert(
        "direction".into(),
        if j.dir == Direction::Up { "up" } else { "down" }.into(),
    );
    details.insert("spike_height".into(), cfg.spike_height.into());
    details.insert("timeframe_ms".into(), cfg.timeframe_ms.into());
    Observation {
        text,
        sparkline: Some(
            st.counts
                .sparkline(j.end - 2 * cfg.timeframe_ms + 1, j.end + 1),
        ),
        details,
    }
}

impl RuleType for Spike {
    type Config = Config;
    type State = State;

    fn on_matches(cfg: &Config, st: &mut State, m: &[MatchView], _now_ms: i64) -> Vec<Trigger> {
        if st.counts.width_ms == 0 {
            st.counts = Counts::for_timeframe(cfg.timeframe_ms);
        }
        let w = st.counts.width_ms;
        let mut fired: Option<Judged> = None;
        let mut i = 0;
        while i < m.len() {
            // One run of events in the same bucket.
            let bucket = m[i].timestamp.div_euclid(w);
            let mut j = i;
            while j < m.len() && m[j].timestamp.div_euclid(w) == bucket {
                if st.key.is_none() {
                    st.key = cfg.query_key.describe(&m[j]);
                }
                let ts = m[j].timestamp;
                st.counts.add(ts, 1);
                st.first_seen = Some(st.first_seen.map_or(ts, |f| f.min(ts)));
                st.newest = Some(st.newest.map_or(ts, |n| n.max(ts)));
                j += 1;
            }
            if fired.is_none() {
                let end = st.newest.expect("events were added");
                fired =
                    judge(cfg, st, end).filter(|x| x.dir == Direction::Up || cfg.spike_type.down());
            }
            i = j;
        }
        if let Some(newest) = st.newest {
            st.counts.prune_before(newest - 2 * cfg.timeframe_ms - w);
        }
        let Some(j) = fired else {
            return Vec::new();
        };
        let window_start = j.end - cfg.timeframe_ms;
        let in_window: Vec<&MatchView> = m
            .iter()
            .filter(|e| e.timestamp > window_start && e.timestamp <= j.end)
            .collect();
        vec![Trigger {
            count: j.cur,
            first_ms: window_start,
            last_ms: j.end,
            sample_ids: sample_ids(in_window),
            observation: observe(cfg, st, &j),
            key_override: None,
            events: Vec::new(),
        }]
    }

    fn on_tick(cfg: &Config, st: &mut State, now: i64) -> Vec<Trigger> {
        if !cfg.spike_type.down() || st.newest.is_none_or(|n| now <= n) {
            return Vec::new();
        }
        if st
            .last_tick_alert
            .is_some_and(|a| now - a < cfg.timeframe_ms)
        {
            return Vec::new();
        }
        let Some(j) = judge(cfg, st, now).filter(|j| j.dir == Direction::Down) else {
            return Vec::new();
        };
        st.last_tick_alert = Some(now);
        vec![Trigger {
            count: j.cur,
            first_ms: now - cfg.timeframe_ms,
            last_ms: now,
            sample_ids: Vec::new(),
            observation: observe(cfg, st, &j),
            key_override: None,
            events: Vec::new(),
        }]
    }

    fn next_due(cfg: &Config, st: &State) -> Option<i64> {
        if !cfg.spike_type.down() {
            return None;
        }
        let newest = st.newest?;
        let w = st.counts.width_ms.max(1);
        let mut from = newest + 1;
        if let Some(a) = st.last_tick_alert {
            from = from.max(a + cfg.timeframe_ms);
        }
        // With no new events, the windows change only at bucket boundaries, and after two
        // timeframes past the newest event both are empty: look no further.
        let first_bucket = from.div_euclid(w) + i64::from(from.rem_euclid(w) != 0);
        let last_bucket = (newest + 2 * cfg.timeframe_ms).div_euclid(w) + 1;
        (first_bucket..=last_bucket)
            .map(|b| b * w)
            .find(|&t| judge(cfg, st, t).is_some_and(|j| j.dir == Direction::Down))
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::test_support::{MIN, T0, ev, views};
    use super::*;
    use proptest::prelude::*;

    fn cfg(kind: SpikeType) -> Config {
        Config {
            query_key: Selectors::default(),
            timeframe_ms: MIN,
            spike_height: 3.0,
            spike_type: kind,
            threshold_cur: 0,
            threshold_ref: 0,
            alert_on_new_data: false,
        }
    }

    /// `n` events spread over the minute starting at `start`.
    fn minute(start: i64, n: usize) -> Vec<i64> {
        (0..n)
            .map(|i| start + (i as i64 * 59_000) / n.max(1) as i64)
            .collect()
    }

    fn feed(c: &Config, st: &mut State, times: &[i64]) -> Vec<Trigger> {
        let evs: Vec<_> = times
            .iter()
            .enumerate()
            .map(|(i, t)| ev(format!("{t}-{i}"), *t, "x"))
            .collect();
        Spike::on_matches(c, st, &views(&evs), 0)
    }

    #[test]
    fn up_spike_against_the_previous_window() {
        let c = cfg(SpikeType::Up);
        let mut st = State::default();
        assert!(feed(&c, &mut st, &[T0; 5]).is_empty());
        assert!(feed(&c, &mut st, &[T0 + MIN; 5]).is_empty());
        let mut now: Vec<i64> = vec![T0 + 2 * MIN; 15];
        now.extend([T0 + 2 * MIN + 30_000; 45]);
        let t = feed(&c, &mut st, &now);
        assert_eq!(t.len(), 1, "one trigger per batch");
        // The first bucket run where cur ≥ 3 × ref (ref 5): at the 15th event.
        assert_eq!(t[0].count, 15);
        assert_eq!(
            t[0].observation.text,
            "15 in 1 min, 3× the previous 1 min (5)"
        );
        assert_eq!(t[0].observation.details["reference"], 5);
        assert_eq!(t[0].sample_ids.len(), 15);
        assert_eq!(t[0].observation.sparkline.as_deref(), Some("▃█"));
    }

    #[test]
    fn key_and_ratio_in_words() {
        let c = cfg(SpikeType::Up);
        let mut st = State {
            key: Some("host a".into()),
            ..State::default()
        };
        feed(&c, &mut st, &minute(T0, 5));
        feed(&c, &mut st, &minute(T0 + MIN, 5));
        let all: Vec<i64> = vec![T0 + 2 * MIN + 59_000; 60];
        let t = feed(&c, &mut st, &all);
        assert_eq!(
            t[0].observation.text,
            "60 from host a in 1 min, 12× the previous 1 min (5)"
        );
    }

    #[test]
    fn no_alert_before_a_baseline_unless_alert_on_new_data() {
        let mut c = cfg(SpikeType::Up);
        let mut st = State::default();
        assert!(feed(&c, &mut st, &minute(T0, 50)).is_empty());
        c.alert_on_new_data = true;
        let mut st = State::default();
        let t = feed(&c, &mut st, &minute(T0, 50));
        assert_eq!(
            t[0].observation.text,
            "1 in 1 min, none in the previous 1 min"
        );
    }

    #[test]
    fn baseline_is_two_timeframes_after_first_seen() {
        let c = cfg(SpikeType::Up);
        let mut st = State::default();
        feed(&c, &mut st, &[T0]);
        assert!(feed(&c, &mut st, &[T0 + 2 * MIN - 1; 10]).is_empty());
        assert_eq!(feed(&c, &mut st, &[T0 + 2 * MIN]).len(), 1);
    }

    #[test]
    fn thresholds_gate_alerts() {
        let mut c = cfg(SpikeType::Up);
        c.threshold_cur = 20;
        c.threshold_ref = 5;
        let mut st = State::default();
        feed(&c, &mut st, &minute(T0, 2));
        feed(&c, &mut st, &minute(T0 + MIN, 2));
        assert!(
            feed(&c, &mut st, &minute(T0 + 2 * MIN, 30)).is_empty(),
            "ref 2 < threshold_ref"
        );
        let mut st = State::default();
        feed(&c, &mut st, &minute(T0, 5));
        feed(&c, &mut st, &minute(T0 + MIN, 5));
        let t = feed(&c, &mut st, &minute(T0 + 2 * MIN, 30));
        assert_eq!(t[0].count, 20, "first moment at threshold_cur");
    }

    #[test]
    fn comparison_boundaries() {
        use Direction::*;
        let f = |cur, r, k| spike_direction(cur, r, 3.0, k, 0.0, 0.0);
        assert_eq!(f(15.0, 5.0, SpikeType::Up), Some(Up));
        assert_eq!(f(14.0, 5.0, SpikeType::Up), None);
        assert_eq!(f(0.0, 0.0, SpikeType::Both), None);
        assert_eq!(f(1.0, 0.0, SpikeType::Up), Some(Up));
        assert_eq!(f(5.0, 15.0, SpikeType::Down), Some(Down));
        assert_eq!(f(6.0, 15.0, SpikeType::Down), None);
        assert_eq!(f(5.0, 15.0, SpikeType::Up), None);
        assert_eq!(f(15.0, 5.0, SpikeType::Down), None);
        assert_eq!(f(0.0, 1.0, SpikeType::Both), Some(Down));
        assert_eq!(
            spike_direction(15.0, 5.0, 3.0, SpikeType::Up, 16.0, 0.0),
            None
        );
        assert_eq!(
            spike_direction(5.0, 15.0, 3.0, SpikeType::Down, 0.0, 16.0),
            None
        );
        // height below 1 never makes 'up' true without cur > ref.
        assert_eq!(
            spike_direction(5.0, 5.0, 0.5, SpikeType::Both, 0.0, 0.0),
            None
        );
    }

    #[test]
    fn down_spike_to_zero_is_decided_by_the_tick() {
        let c = cfg(SpikeType::Down);
        let mut st = State {
            key: Some("service b".into()),
            ..State::default()
        };
        for k in 0..3 {
            assert!(feed(&c, &mut st, &minute(T0 + k * MIN, 30)).is_empty());
        }
        let newest = st.newest.unwrap();
        let due = Spike::next_due(&c, &st).unwrap();
        assert!(due > newest);
        // Just before due: no down-spike yet; at due: one.
        let mut before = st.clone();
        assert!(Spike::on_tick(&c, &mut before, due - 1).is_empty());
        let t = Spike::on_tick(&c, &mut st, due);
        assert_eq!(t.len(), 1);
        assert!(
            t[0].observation
                .text
                .contains("from service b in 1 min, down from"),
            "{}",
            t[0].observation.text
        );
        assert_eq!(t[0].sample_ids, Vec::<String>::new());
        // Once per timeframe, then down to zero.
        assert!(Spike::on_tick(&c, &mut st, due + 1000).is_empty());
        let due2 = Spike::next_due(&c, &st);
        assert!(due2.is_none_or(|d| d >= due + MIN));
    }

    #[test]
    fn down_spike_to_zero_text() {
        let c = cfg(SpikeType::Down);
        let mut st = State::default();
        feed(&c, &mut st, &minute(T0, 30));
        feed(&c, &mut st, &minute(T0 + MIN, 30));
        // Silence: one minute after the last, the current window is empty.
        let t = Spike::on_tick(&c, &mut st, T0 + 3 * MIN - 1);
        assert_eq!(
            t[0].observation.text,
            "0 in 1 min, down from 30 in the previous 1 min"
        );
        assert_eq!(t[0].count, 0);
    }

    #[test]
    fn up_only_rules_never_tick() {
        let c = cfg(SpikeType::Up);
        let mut st = State::default();
        feed(&c, &mut st, &minute(T0, 30));
        assert_eq!(Spike::next_due(&c, &st), None);
        assert!(Spike::on_tick(&c, &mut st, T0 + 10 * MIN).is_empty());
    }

    #[test]
    fn late_events_count_in_their_bucket_and_windows_stay_at_the_newest() {
        let c = cfg(SpikeType::Up);
        let mut st = State::default();
        feed(&c, &mut st, &minute(T0 + MIN, 5));
        feed(&c, &mut st, &[T0 + 2 * MIN + 30_000]);
        // Late: belong to the reference window of T0 + 2.5 min.
        feed(&c, &mut st, &[T0 + MIN + 40_000, T0]);
        assert_eq!(st.first_seen, Some(T0));
        assert_eq!(st.newest, Some(T0 + 2 * MIN + 30_000));
        assert_eq!(st.counts.count_previous_window(st.newest.unwrap(), MIN), 3);
    }

    #[test]
    fn old_buckets_are_pruned() {
        let c = cfg(SpikeType::Both);
        let mut st = State::default();
        for k in 0..100 {
            feed(&c, &mut st, &minute(T0 + k * MIN, 60));
        }
        assert!(
            st.counts.buckets.len() <= 2 * 60 + 2,
            "{}",
            st.counts.buckets.len()
        );
        assert!(serde_json::to_string(&st).unwrap().len() < 4_000);
    }

    proptest! {
        /// Whatever the batches, a trigger's counts are the true (bucketed) counts of the
        /// windows ending where it judged, and they satisfy the spike condition.
        #[test]
        fn triggers_report_the_windows_they_judged(
            times in prop::collection::vec(0i64..10 * MIN, 1..200),
            cut in 1usize..50,
        ) {
            let mut c = cfg(SpikeType::Up);
            c.alert_on_new_data = true;
            let mut st = State::default();
            let mut sorted: Vec<i64> = times.iter().map(|t| T0 + t).collect();
            sorted.sort();
            let w = 1000;
            let in_window = |fed: &[i64], end: i64, back: i64| {
                let last = end.div_euclid(w) - back * 60;
                fed.iter().filter(|t| (last - 59..=last).contains(&t.div_euclid(w))).count() as u64
            };
            let mut fed_until = 0;
            for chunk in sorted.chunks(cut) {
                let before = &sorted[..fed_until];
                fed_until += chunk.len();
                for t in feed(&c, &mut st, chunk) {
                    // Judged after its bucket's events of this batch: all earlier ones, and
                    // this batch's up to the end of that bucket.
                    let upto = chunk.partition_point(|x| x.div_euclid(w) <= t.last_ms.div_euclid(w));
                    let fed: Vec<i64> = before.iter().chain(&chunk[..upto]).copied().collect();
                    let in_window = |end, back| in_window(&fed, end, back);
                    let reference = t.observation.details["reference"].as_u64().unwrap();
                    prop_assert_eq!(t.count, in_window(t.last_ms, 0));
                    prop_assert_eq!(reference, in_window(t.last_ms, 1));
                    prop_assert!(t.count > reference && t.count as f64 >= 3.0 * reference as f64);
                }
            }
        }
    }
}
