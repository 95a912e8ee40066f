//! `type: metric_aggregation` — an aggregate of a numeric field per `buffer_time` window against
//! thresholds.
//!
//! ```yaml
//! - name: slow-checkout
//!   type: metric_aggregation
//!   filter_pattern: '{ $.route = "/checkout" }'
//!   metric_agg_key: $.latency_ms
//!   metric_agg_type: avg          # min | max | avg | sum | count (value_count) | cardinality | percentiles
//!   percentile_range: 95          # with percentiles
//!   max_threshold: 500            # alert above … (and/or min_threshold: below)
//!   buffer_time: 5m
//!   query_key: $.region
//! ```
//!
//! Windows are `buffer_time` long, aligned to the epoch (10:00–10:05, 10:05–10:10, …), per query
//! key, in event time. A window is decided once, when it closes: at its end plus
//! [`CLOSE_GRACE_MS`] (for events delivered late), by the tick or by an event of a later time.
//! Events for a window already decided are not counted (`late` in the state). Events whose value
//! is absent or not a number are ignored (for `cardinality` any value counts).
//! Observation: "avg latency_ms 903 over 5 min (max 500)" (`metric_unit: ms` gives "903 ms").
//!
//! **State**: at most [`MAX_OPEN_WINDOWS`] open windows (5 sample ids each, whose events the
//! policy holds for the alert: [`WindowSamples`]), each count/sum/min/max and, when needed,
//! a DDSketch (`sketches-ddsketch`, relative error 1 % on any percentile, ≤ 2,048 bins; about
//! 2–5 KB for latencies) or distinct values ([`super::sketch::Distinct`]: exact up to 1,000, then
//! HyperLogLog, ≈ 3.3 %).

use serde::{Deserialize, Serialize};
use sketches_ddsketch::DDSketch;

use super::common::{fmt_count, fmt_duration, fmt_num, parse_number};
use super::select::{Selector, Selectors};
use super::sketch::{Distinct, value_hash};
use super::{MatchView, RuleType, Trigger};
use crate::alert::Observation;

/// How long after its end a window waits for late events before it is decided.
pub const CLOSE_GRACE_MS: i64 = 60_000;
/// Open windows kept per key (older ones are decided early).
pub const MAX_OPEN_WINDOWS: usize = 8;
/// Distinct values counted exactly per window for `cardinality`.
pub const DISTINCT_EXACT_LIMIT: usize = 1_000;

/// `metric_agg_type`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AggType {
    Min,
    Max,
    Avg,
    Sum,
    /// `count` / `value_count`: events with a value.
    Count,
    Cardinality,
    /// `percentiles` with `percentile_range` (0–100).
    Percentile(f64),
}

impl AggType {
    /// Parse `metric_agg_type` (`percentile` is `percentile_range`, used by `percentiles`).
    pub fn parse(s: &str, percentile: Option<f64>) -> Option<AggType> {
        Some(match s {
            "min" => AggType::Min,
            "max" => AggType::Max,
            "avg" => AggType::Avg,
            "sum" => AggType::Sum,
            "count" | "value_count" => AggType::Count,
            "cardinality" => AggType::Cardinality,
            "percentiles" => AggType::Percentile(percentile.unwrap_or(95.0)),
            _ => return None,
        })
    }

    /// How it reads: `avg`, `p95`.
    pub fn name(&self) -> String {
        match self {
            AggType::Min => "min".into(),
            AggType::Max => "max".into(),
            AggType::Avg => "avg".into(),
            AggType::Sum => "sum".into(),
            AggType::Count => "count".into(),
            AggType::Cardinality => "distinct".into(),
            AggType::Percentile(p) => format!("p{}", fmt_num(*p)),
        }
    }
}

/// The aggregate of one window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Agg {
    /// Events counted.
    pub n: u64,
    #[serde(default)]
    pub sum: f64,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sketch: Option<Sketch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct: Option<Distinct>,
}

/// A DDSketch (compared by its serialised form).
#[derive(Clone, Serialize, Deserialize)]
pub struct Sketch(pub DDSketch);

impl std::fmt::Debug for Sketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DDSketch({} values)", self.0.count())
    }
}

impl PartialEq for Sketch {
    fn eq(&self, other: &Sketch) -> bool {
        serde_json::to_value(self).ok() == serde_json::to_value(other).ok()
    }
}

impl Agg {
    /// Add one event's value; false when it does not count (absent / not a number).
    pub fn add(&mut self, agg: AggType, raw: Option<&str>) -> bool {
        let Some(raw) = raw else {
            return false;
        };
        if let AggType::Cardinality = agg {
            self.n += 1;
            self.distinct
                .get_or_insert_with(Distinct::default)
                .insert(value_hash(raw), DISTINCT_EXACT_LIMIT);
            return true;
        }
        let Some(v) = parse_number(raw) else {
            return false;
        };
        self.n += 1;
        self.sum += v;
        self.min = Some(self.min.map_or(v, |m| m.min(v)));
        self.max = Some(self.max.map_or(v, |m| m.max(v)));
        if let AggType::Percentile(_) = agg {
            self.sketch
                .get_or_insert_with(|| Sketch(DDSketch::default()))
                .0
                .add(v);
        }
        true
    }

    /// The aggregate's value; None for an empty window.
    pub fn value(&self, agg: AggType) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        match agg {
            AggType::Min => self.min,
            AggType::Max => self.max,
            AggType::Avg => Some(self.sum / self.n as f64),
            AggType::Sum => Some(self.sum),
            AggType::Count => Some(self.n as f64),
            AggType::Cardinality => self.distinct.as_ref().map(|d| d.estimate().0 as f64),
            AggType::Percentile(p) => self
                .sketch
                .as_ref()
                .and_then(|s| s.0.quantile((p / 100.0).clamp(0.0, 1.0)).ok().flatten()),
        }
    }
}

/// One `buffer_time` window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub start: i64,
    pub agg: Agg,
}

/// Open windows of one key, and the time before which windows are decided.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Windows {
    #[serde(default)]
    pub open: Vec<Window>,
    /// Windows starting before this were decided.
    #[serde(default)]
    pub decided_before: Option<i64>,
    /// Events that arrived for decided windows.
    #[serde(default)]
    pub late: u64,
}

impl Windows {
    /// Add an event; false when it was not counted (late, or no usable value).
    pub fn add(&mut self, width: i64, agg: AggType, ts: i64, raw: Option<&str>) -> bool {
        let start = ts.div_euclid(width) * width;
        if self.decided_before.is_some_and(|d| start < d) {
            self.late += 1;
            return false;
        }
        let pos = match self.open.binary_search_by_key(&start, |w| w.start) {
            Ok(p) => p,
            Err(p) => {
                self.open.insert(
                    p,
                    Window {
                        start,
                        agg: Agg::default(),
                    },
                );
                p
            }
        };
        self.open[pos].agg.add(agg, raw)
    }

    /// Take the windows that close by `now` (end + grace ≤ now), oldest first, plus the oldest
    /// beyond [`MAX_OPEN_WINDOWS`]. Empty windows are dropped silently.
    pub fn close(&mut self, width: i64, now: i64) -> Vec<Window> {
        let mut closed = Vec::new();
        while let Some(w) = self.open.first() {
            let due = w.start + width + CLOSE_GRACE_MS <= now;
            if !(due || self.open.len() > MAX_OPEN_WINDOWS) {
                break;
            }
            let w = self.open.remove(0);
            self.decided_before = Some(
                self.decided_before
                    .map_or(w.start + width, |d| d.max(w.start + width)),
            );
            if w.agg.n > 0 {
                closed.push(w);
            }
        }
        closed
    }

    /// When the oldest open window closes.
    pub fn next_close(&self, width: i64) -> Option<i64> {
        self.open.first().map(|w| w.start + width + CLOSE_GRACE_MS)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `metric_agg_key`.
    pub key: Selector,
    /// `metric_agg_type` (+ `percentile_range`).
    pub agg: AggType,
    /// `max_threshold`: alert when the value is above.
    pub max_threshold: Option<f64>,
    /// `min_threshold`: alert when the value is below.
    pub min_threshold: Option<f64>,
    /// `buffer_time`, ms.
    pub buffer_ms: i64,
    /// `metric_unit` (text after the figures, e.g. `ms`).
    pub unit: Option<String>,
    /// The rule's `query_key` (for the sentence).
    pub query_key: Selectors,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub windows: Windows,
    /// Ids of the first events per open window start (samples), at most 5 each.
    #[serde(default, skip_serializing_if = "WindowSamples::is_empty")]
    pub samples: WindowSamples,
    #[serde(default)]
    pub key: Option<String>,
}

/// Sample ids kept per open window.
pub const WINDOW_SAMPLES: usize = 5;

/// The ids of the first [`WINDOW_SAMPLES`] counted events of each open window, by window start:
/// the samples of the alert its window may become. The window types decide when a window closes,
/// usually on a tick, so the events are not among the matches given then: the engine's policy
/// holds the messages of these ids (`held_ids`, [`super::RuleType::held_ids`]) until then.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WindowSamples(Vec<(i64, Vec<String>)>);

impl WindowSamples {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Windows with sample ids.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Remember `id` as a sample of the window starting at `start` (while it has room).
    pub fn remember(&mut self, start: i64, id: &str) {
        match self.0.iter_mut().find(|(s, _)| *s == start) {
            Some((_, ids)) if ids.len() < WINDOW_SAMPLES => ids.push(id.to_string()),
            Some(_) => {}
            None => self.0.push((start, vec![id.to_string()])),
        }
    }

    /// The sample ids of the window starting at `start`, forgetting them and those of every
    /// window before it (windows close in order of start).
    pub fn take(&mut self, start: i64) -> Vec<String> {
        let ids = self
            .0
            .iter()
            .find(|(s, _)| *s == start)
            .map(|(_, ids)| ids.clone())
            .unwrap_or_default();
        self.0.retain(|(s, _)| *s > start);
        ids
    }

    /// Every id remembered, oldest window first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .flat_map(|(_, ids)| ids.iter().map(String::as_str))
    }
}

/// `903 ms`, `0.5`.
pub(super) fn with_unit(v: f64, unit: &Option<String>) -> String {
    match unit {
        Some(u) => format!("{} {u}", fmt_num(v)),
        None => fmt_num(v),
    }
}

pub(super) fn metric_label(cfg_key: &Selector, agg: AggType) -> String {
    match agg {
        AggType::Count => "events".to_string(),
        AggType::Cardinality => format!("distinct {}", cfg_key.label()),
        _ => format!("{} {}", agg.name(), cfg_key.label()),
    }
}

fn decide(cfg: &Config, st: &mut State, w: Window) -> Option<Trigger> {
    let v = w.agg.value(cfg.agg)?;
    let samples = st.samples.take(w.start);
    let (bound, limit) = match (cfg.max_threshold, cfg.min_threshold) {
        (Some(max), _) if v > max => ("max", max),
        (_, Some(min)) if v < min => ("min", min),
        _ => return None,
    };
    let from = st
        .key
        .as_ref()
        .map(|k| format!(" from {k}"))
        .unwrap_or_default();
    let text = format!(
        "{}{from} {} over {} ({bound} {})",
        metric_label(&cfg.key, cfg.agg),
        with_unit(v, &cfg.unit),
        fmt_duration(cfg.buffer_ms),
        with_unit(limit, &cfg.unit)
    );
    let mut details = serde_json::Map::new();
    details.insert("value".into(), v.into());
    details.insert("aggregation".into(), cfg.agg.name().into());
    details.insert(bound.into(), limit.into());
    details.insert("events".into(), w.agg.n.into());
    details.insert("window_start".into(), w.start.into());
    details.insert("window_end".into(), (w.start + cfg.buffer_ms).into());
    if let AggType::Percentile(_) = cfg.agg {
        details.insert("relative_error".into(), 0.01.into());
    }
    Some(Trigger {
        count: w.agg.n,
        first_ms: w.start,
        last_ms: w.start + cfg.buffer_ms - 1,
        sample_ids: samples,
        observation: Observation {
            text: format!("{text} — {} events", fmt_count(w.agg.n))
                .replace(" — 1 events", " — 1 event"),
            sparkline: None,
            details,
        },
        key_override: None,
        events: Vec::new(),
    })
}

pub struct MetricAggregation;

impl RuleType for MetricAggregation {
    type Config = Config;
    type State = State;

    fn on_matches(cfg: &Config, st: &mut State, m: &[MatchView], _now: i64) -> Vec<Trigger> {
        let mut newest = i64::MIN;
        for ev in m {
            if st.key.is_none() {
                st.key = cfg.query_key.describe(ev);
            }
            let raw = cfg.key.get(ev);
            if st
                .windows
                .add(cfg.buffer_ms, cfg.agg, ev.timestamp, raw.as_deref())
            {
                let start = ev.timestamp.div_euclid(cfg.buffer_ms) * cfg.buffer_ms;
                st.samples.remember(start, ev.id);
            }
            newest = newest.max(ev.timestamp);
        }
        // Event time has reached `newest`: windows that closed by then are decided.
        Self::on_tick(cfg, st, newest)
    }

    fn on_tick(cfg: &Config, st: &mut State, now: i64) -> Vec<Trigger> {
        let closed = st.windows.close(cfg.buffer_ms, now);
        closed
            .into_iter()
            .filter_map(|w| decide(cfg, st, w))
            .collect()
    }

    fn next_due(cfg: &Config, st: &State) -> Option<i64> {
        st.windows.next_close(cfg.buffer_ms)
    }

    fn held_ids(st: &State) -> Vec<&str> {
        st.samples.ids().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::test_support::{MIN, T0, ev, views};
    use super::*;

    fn cfg(agg: AggType, max: Option<f64>, min: Option<f64>) -> Config {
        Config {
            key: Selector::parse("$.latency").unwrap(),
            agg,
            max_threshold: max,
            min_threshold: min,
            buffer_ms: 5 * MIN,
            unit: Some("ms".into()),
            query_key: Selectors::default(),
        }
    }

    fn run(c: &Config, st: &mut State, evs: &[(i64, &str)]) -> Vec<Trigger> {
        let owned: Vec<_> = evs
            .iter()
            .enumerate()
            .map(|(i, (t, v))| {
                ev(
                    format!("{t}-{i}"),
                    *t,
                    format!(r#"{{"latency":{v},"user":"u{v}"}}"#),
                )
            })
            .collect();
        MetricAggregation::on_matches(c, st, &views(&owned), 0)
    }

    #[test]
    fn avg_above_max_is_decided_when_the_window_closes() {
        let c = cfg(AggType::Avg, Some(500.0), None);
        let mut st = State::default();
        assert!(run(&c, &mut st, &[(T0, "800"), (T0 + MIN, "1006")]).is_empty());
        assert_eq!(MetricAggregation::next_due(&c, &st), Some(T0 + 6 * MIN));
        assert!(MetricAggregation::on_tick(&c, &mut st, T0 + 6 * MIN - 1).is_empty());
        let t = MetricAggregation::on_tick(&c, &mut st, T0 + 6 * MIN);
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0].observation.text,
            "avg latency 903 ms over 5 min (max 500 ms) — 2 events"
        );
        assert_eq!(
            (t[0].count, t[0].first_ms, t[0].last_ms),
            (2, T0, T0 + 5 * MIN - 1)
        );
        assert_eq!(t[0].sample_ids.len(), 2);
        assert_eq!(MetricAggregation::next_due(&c, &st), None);
    }

    #[test]
    fn windows_are_aligned_and_a_later_event_closes_them() {
        let c = cfg(AggType::Max, Some(100.0), None);
        let mut st = State::default();
        // 10:04:59 and 10:05:00 are different windows.
        run(
            &c,
            &mut st,
            &[(T0 + 5 * MIN - 1, "150"), (T0 + 5 * MIN, "50")],
        );
        let t = run(&c, &mut st, &[(T0 + 6 * MIN, "60")]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].observation.details["value"], 150.0);
        assert_eq!(t[0].first_ms, T0);
    }

    #[test]
    fn late_events_for_decided_windows_are_not_counted() {
        let c = cfg(AggType::Sum, Some(10.0), None);
        let mut st = State::default();
        run(&c, &mut st, &[(T0, "5")]);
        assert!(MetricAggregation::on_tick(&c, &mut st, T0 + 6 * MIN).is_empty());
        assert!(run(&c, &mut st, &[(T0 + MIN, "50")]).is_empty());
        assert_eq!(st.windows.late, 1);
        // Inside the grace period a late event still counts.
        run(&c, &mut st, &[(T0 + 10 * MIN - 1, "5")]);
        run(&c, &mut st, &[(T0 + 5 * MIN + 30_000, "6")]);
        let t = MetricAggregation::on_tick(&c, &mut st, T0 + 11 * MIN);
        assert_eq!(t[0].observation.details["value"], 11.0);
    }

    #[test]
    fn min_threshold_and_non_numeric_values() {
        let c = cfg(AggType::Min, None, Some(10.0));
        let mut st = State::default();
        run(
            &c,
            &mut st,
            &[
                (T0, "20"),
                (T0 + 1, "\"fast\""),
                (T0 + 2, "null"),
                (T0 + 3, "5"),
            ],
        );
        let t = MetricAggregation::on_tick(&c, &mut st, T0 + 6 * MIN);
        assert_eq!(
            t[0].observation.text,
            "min latency 5 ms over 5 min (min 10 ms) — 2 events"
        );
        let mut st = State::default();
        run(&c, &mut st, &[(T0, "\"x\"")]);
        assert!(
            MetricAggregation::on_tick(&c, &mut st, T0 + 6 * MIN).is_empty(),
            "no numeric values: nothing to decide"
        );
    }

    #[test]
    fn within_thresholds_no_alert_and_boundaries_are_strict() {
        let c = cfg(AggType::Avg, Some(500.0), Some(100.0));
        for (v, alerts) in [
            ("500", false),
            ("500.01", true),
            ("100", false),
            ("99.9", true),
        ] {
            let mut st = State::default();
            run(&c, &mut st, &[(T0, v)]);
            assert_eq!(
                !MetricAggregation::on_tick(&c, &mut st, T0 + 6 * MIN).is_empty(),
                alerts,
                "{v}"
            );
        }
    }

    #[test]
    fn every_aggregation() {
        let vals = ["1", "2", "3", "4", "100"];
        let agg = |a: AggType| {
            let mut w = Agg::default();
            for v in vals {
                w.add(a, Some(v));
            }
            w.value(a).unwrap()
        };
        assert_eq!(agg(AggType::Min), 1.0);
        assert_eq!(agg(AggType::Max), 100.0);
        assert_eq!(agg(AggType::Avg), 22.0);
        assert_eq!(agg(AggType::Sum), 110.0);
        assert_eq!(agg(AggType::Count), 5.0);
        assert_eq!(agg(AggType::Cardinality), 5.0);
        let p50 = agg(AggType::Percentile(50.0));
        assert!((p50 - 3.0).abs() <= 0.03 + 1e-9, "{p50}");
        assert_eq!(Agg::default().value(AggType::Avg), None);
        assert_eq!(AggType::parse("value_count", None), Some(AggType::Count));
        assert_eq!(
            AggType::parse("percentiles", Some(99.0)),
            Some(AggType::Percentile(99.0))
        );
        assert_eq!(AggType::parse("median", None), None);
        assert_eq!(AggType::Percentile(99.9).name(), "p99.9");
    }

    #[test]
    fn p95_latency_within_one_percent_and_bounded_state() {
        let c = cfg(AggType::Percentile(95.0), Some(900.0), None);
        let mut st = State::default();
        let vals: Vec<String> = (1..=10_000).map(|i| (i % 1000 + 1).to_string()).collect();
        let evs: Vec<(i64, &str)> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| (T0 + i as i64 * 20, v.as_str()))
            .collect();
        run(&c, &mut st, &evs);
        let size = serde_json::to_string(&st).unwrap().len();
        assert!(size < 30_000, "{size} bytes");
        let t = MetricAggregation::on_tick(&c, &mut st, T0 + 6 * MIN);
        let v = t[0].observation.details["value"].as_f64().unwrap();
        assert!((v - 950.0).abs() / 950.0 <= 0.011, "{v}");
        assert!(
            t[0].observation.text.starts_with("p95 latency "),
            "{}",
            t[0].observation.text
        );
    }

    #[test]
    fn open_windows_are_bounded() {
        let c = cfg(AggType::Max, Some(0.0), None);
        let mut st = State::default();
        // Twenty windows' events in one batch whose newest is far ahead: all decided.
        let evs: Vec<(i64, &str)> = (0..20).map(|i| (T0 + i * 5 * MIN, "1")).collect();
        let t = run(&c, &mut st, &evs);
        assert_eq!(
            t.len(),
            18,
            "every window closed by the newest event's time (end + grace)"
        );
        assert_eq!(st.windows.open.len(), 2);
        assert_eq!(st.samples.len(), 2);
        // Far more windows than MAX_OPEN_WINDOWS within the grace: the oldest are decided early.
        let mut st = State::default();
        let evs: Vec<(i64, &str)> = (0..20).rev().map(|i| (T0 - i * 5 * MIN, "1")).collect();
        for e in evs {
            run(&c, &mut st, &[e]);
            assert!(st.windows.open.len() <= MAX_OPEN_WINDOWS);
        }
    }

    #[test]
    fn count_and_cardinality_read_naturally() {
        let mut c = cfg(AggType::Cardinality, Some(1.0), None);
        c.key = Selector::parse("$.user").unwrap();
        c.unit = None;
        let mut st = State::default();
        run(&c, &mut st, &[(T0, "1"), (T0 + 1, "2"), (T0 + 2, "2")]);
        let t = MetricAggregation::on_tick(&c, &mut st, T0 + 6 * MIN);
        assert_eq!(
            t[0].observation.text,
            "distinct user 2 over 5 min (max 1) — 3 events"
        );
    }
}
