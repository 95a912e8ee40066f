//! `type: spike_aggregation` — spike detection on an aggregate: this `timeframe`'s
//! `metric_agg_type` of `metric_agg_key` against the previous `timeframe`'s.
//!
//! ```yaml
//! - name: latency-spike
//!   type: spike_aggregation
//!   metric_agg_key: $.latency_ms
//!   metric_agg_type: avg        # as metric_aggregation
//!   timeframe: 5m
//!   spike_height: 3
//!   spike_type: up              # up | down | both
//!   threshold_cur: 200          # optional, on the aggregate's value
//! ```
//!
//! Windows are epoch-aligned `timeframe` windows, decided when they close (end plus a minute's
//! grace, as [`metric_aggregation`](super::metric_aggregation)); each closed window is compared
//! with the one just before it, with spike's comparison ([`super::spike::spike_direction`]).
//! As in ElastAlert, a window or reference without a value, or a value of 0, is no spike (so a
//! gap in traffic compares nothing). Observation: "avg latency_ms 2,400 ms over 5 min, 4× the
//! previous 5 min (600 ms)". **State**: the open windows (as metric_aggregation, with 5 sample
//! ids each, whose events the policy holds for the alert) and the last decided window's value.

use serde::{Deserialize, Serialize};

use super::common::{fmt_duration, fmt_num};
use super::metric_aggregation::{AggType, WindowSamples, Windows, metric_label, with_unit};
use super::select::{Selector, Selectors};
use super::spike::{Direction, SpikeType, spike_direction};
use super::{MatchView, RuleType, Trigger};
use crate::alert::Observation;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `metric_agg_key`.
    pub key: Selector,
    /// `metric_agg_type`.
    pub agg: AggType,
    /// `timeframe`, ms.
    pub timeframe_ms: i64,
    pub spike_height: f64,
    pub spike_type: SpikeType,
    /// `threshold_cur` / `threshold_ref` on the aggregate's value (default 0).
    pub threshold_cur: f64,
    pub threshold_ref: f64,
    /// `metric_unit`.
    pub unit: Option<String>,
    pub query_key: Selectors,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub windows: Windows,
    /// The last decided window: (start, value).
    #[serde(default)]
    pub previous: Option<(i64, f64)>,
    /// Sample ids per open window (the first events counted in it).
    #[serde(default, skip_serializing_if = "WindowSamples::is_empty")]
    pub samples: WindowSamples,
    #[serde(default)]
    pub key: Option<String>,
}

pub struct SpikeAggregation;

impl RuleType for SpikeAggregation {
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
                .add(cfg.timeframe_ms, cfg.agg, ev.timestamp, raw.as_deref())
            {
                let start = ev.timestamp.div_euclid(cfg.timeframe_ms) * cfg.timeframe_ms;
                st.samples.remember(start, ev.id);
            }
            newest = newest.max(ev.timestamp);
        }
        Self::on_tick(cfg, st, newest)
    }

    fn on_tick(cfg: &Config, st: &mut State, now: i64) -> Vec<Trigger> {
        let tf = cfg.timeframe_ms;
        let mut out = Vec::new();
        for w in st.windows.close(tf, now) {
            let samples = st.samples.take(w.start);
            let Some(cur) = w.agg.value(cfg.agg) else {
                continue;
            };
            let previous = st.previous.replace((w.start, cur));
            let Some((_, reference)) = previous.filter(|(s, _)| *s == w.start - tf) else {
                continue;
            };
            if cur == 0.0 || reference == 0.0 {
                continue;
            }
            let Some(dir) = spike_direction(
                cur,
                reference,
                cfg.spike_height,
                cfg.spike_type,
                cfg.threshold_cur,
                cfg.threshold_ref,
            ) else {
                continue;
            };
            let label = metric_label(&cfg.key, cfg.agg);
            let from = st
                .key
                .as_ref()
                .map(|k| format!(" from {k}"))
                .unwrap_or_default();
            let span = fmt_duration(tf);
            let text = match dir {
                Direction::Up => format!(
                    "{label}{from} {} over {span}, {}× the previous {span} ({})",
                    with_unit(cur, &cfg.unit),
                    fmt_num(cur / reference),
                    with_unit(reference, &cfg.unit)
                ),
                Direction::Down => format!(
                    "{label}{from} {} over {span}, down from {} in the previous {span}",
                    with_unit(cur, &cfg.unit),
                    with_unit(reference, &cfg.unit)
                ),
            };
            let mut details = serde_json::Map::new();
            details.insert("current".into(), cur.into());
            details.insert("reference".into(), reference.into());
            details.insert(
                "direction".into(),
                if dir == Direction::Up { "up" } else { "down" }.into(),
            );
            details.insert("aggregation".into(), cfg.agg.name().into());
            details.insert("events".into(), w.agg.n.into());
            out.push(Trigger {
                count: w.agg.n,
                first_ms: w.start,
                last_ms: w.start + tf - 1,
                sample_ids: samples,
                observation: Observation {
                    text,
                    sparkline: None,
                    details,
                },
                key_override: None,
                events: Vec::new(),
            });
        }
        out
    }

    fn next_due(cfg: &Config, st: &State) -> Option<i64> {
        st.windows.next_close(cfg.timeframe_ms)
    }

    fn held_ids(st: &State) -> Vec<&str> {
        st.samples.ids().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::test_support::{MIN, T0, ev, views};
    use super::*;

    fn cfg(kind: SpikeType) -> Config {
        Config {
            key: Selector::parse("$.latency").unwrap(),
            agg: AggType::Avg,
            timeframe_ms: 5 * MIN,
            spike_height: 3.0,
            spike_type: kind,
            threshold_cur: 0.0,
            threshold_ref: 0.0,
            unit: Some("ms".into()),
            query_key: Selectors::default(),
        }
    }

    fn window(c: &Config, st: &mut State, start: i64, vals: &[f64]) -> Vec<Trigger> {
        let evs: Vec<_> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| {
                ev(
                    format!("{start}-{i}"),
                    start + i as i64,
                    format!(r#"{{"latency":{v}}}"#),
                )
            })
            .collect();
        SpikeAggregation::on_matches(c, st, &views(&evs), 0)
    }

    #[test]
    fn up_spike_of_the_average() {
        let c = cfg(SpikeType::Up);
        let mut st = State::default();
        window(&c, &mut st, T0, &[500.0, 700.0]);
        assert!(
            window(&c, &mut st, T0 + 5 * MIN, &[2000.0, 2800.0]).is_empty(),
            "first window: no reference"
        );
        let t = SpikeAggregation::on_tick(&c, &mut st, T0 + 11 * MIN);
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0].observation.text,
            "avg latency 2,400 ms over 5 min, 4× the previous 5 min (600 ms)"
        );
        assert_eq!((t[0].count, t[0].first_ms), (2, T0 + 5 * MIN));
    }

    #[test]
    fn down_spike_and_boundaries() {
        let c = cfg(SpikeType::Down);
        let mut st = State::default();
        window(&c, &mut st, T0, &[900.0]);
        window(&c, &mut st, T0 + 5 * MIN, &[300.0]);
        let t = SpikeAggregation::on_tick(&c, &mut st, T0 + 11 * MIN);
        assert_eq!(
            t[0].observation.text,
            "avg latency 300 ms over 5 min, down from 900 ms in the previous 5 min"
        );
        let mut st = State::default();
        window(&c, &mut st, T0, &[900.0]);
        window(&c, &mut st, T0 + 5 * MIN, &[301.0]);
        assert!(SpikeAggregation::on_tick(&c, &mut st, T0 + 11 * MIN).is_empty());
    }

    #[test]
    fn a_gap_or_a_zero_compares_nothing() {
        let c = cfg(SpikeType::Both);
        let mut st = State::default();
        window(&c, &mut st, T0, &[100.0]);
        window(&c, &mut st, T0 + 10 * MIN, &[900.0]);
        assert!(
            SpikeAggregation::on_tick(&c, &mut st, T0 + 16 * MIN).is_empty(),
            "not adjacent"
        );
        let mut st = State::default();
        window(&c, &mut st, T0, &[0.0]);
        window(&c, &mut st, T0 + 5 * MIN, &[900.0]);
        assert!(
            SpikeAggregation::on_tick(&c, &mut st, T0 + 11 * MIN).is_empty(),
            "reference 0"
        );
    }

    #[test]
    fn thresholds_apply_to_values() {
        let mut c = cfg(SpikeType::Up);
        c.threshold_cur = 5000.0;
        let mut st = State::default();
        window(&c, &mut st, T0, &[500.0]);
        window(&c, &mut st, T0 + 5 * MIN, &[2000.0]);
        assert!(SpikeAggregation::on_tick(&c, &mut st, T0 + 11 * MIN).is_empty());
        assert_eq!(SpikeAggregation::next_due(&c, &st), None);
    }
}
