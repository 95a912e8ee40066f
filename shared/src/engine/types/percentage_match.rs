//! `type: percentage_match` — the share of events matching `match_bucket_filter` among those the
//! rule's `filter_pattern` selects, per `buffer_time` window.
//!
//! ```yaml
//! - name: error-rate
//!   type: percentage_match
//!   filter_pattern: '{ $.type = "request" }'              # the denominator (default: every event)
//!   match_bucket_filter: '{ $.status >= 500 }'            # the numerator
//!   max_percentage: 10                                    # alert above … (and/or min_percentage: below)
//!   min_denominator: 100                                  # ignore windows with fewer events (default 0)
//!   buffer_time: 5m
//! ```
//!
//! Windows are epoch-aligned `buffer_time` windows decided at their end plus a minute's grace
//! (as [`metric_aggregation`](super::metric_aggregation); late events for a decided window are not
//! counted). The comparison is strict: 10 % is not above `max_percentage: 10`.
//! Observation: "30 % of 1,200 events match `{ $.status >= 500 }` over 5 min (max 10 %)".
//! **State**: per open window two counts and up to 5 sample ids of the numerator (≤ 8 windows;
//! the policy holds those events for the alert's samples, see [`WindowSamples`]).

use serde::{Deserialize, Serialize};

use super::common::{fmt_count, fmt_duration, fmt_num};
#[cfg(test)]
use super::metric_aggregation::WINDOW_SAMPLES;
use super::metric_aggregation::{AggType, WindowSamples, Windows};
use super::select::Selectors;
use super::{MatchView, RuleType, Trigger};
use crate::alert::Observation;
use crate::pattern::FilterPattern;

/// Longest filter text quoted in an observation.
const QUOTED_FILTER_CHARS: usize = 60;

#[derive(Debug, Clone)]
pub struct Config {
    /// `match_bucket_filter`.
    pub bucket: FilterPattern,
    /// `min_percentage`.
    pub min_percentage: Option<f64>,
    /// `max_percentage`.
    pub max_percentage: Option<f64>,
    /// `min_denominator` (default 0).
    pub min_denominator: u64,
    /// `buffer_time`, ms.
    pub buffer_ms: i64,
    /// The rule's `query_key` (for the sentence).
    pub query_key: Selectors,
}

impl PartialEq for Config {
    fn eq(&self, o: &Config) -> bool {
        self.bucket.source() == o.bucket.source()
            && self.min_percentage == o.min_percentage
            && self.max_percentage == o.max_percentage
            && self.min_denominator == o.min_denominator
            && self.buffer_ms == o.buffer_ms
            && self.query_key == o.query_key
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Per window: events (`n`) and the share matching the bucket (`avg` of 0/1).
    #[serde(default)]
    pub windows: Windows,
    /// Numerator sample ids per open window.
    #[serde(default, skip_serializing_if = "WindowSamples::is_empty")]
    pub samples: WindowSamples,
    #[serde(default)]
    pub key: Option<String>,
}

fn quoted(p: &FilterPattern) -> String {
    let s = p.source();
    if s.chars().count() > QUOTED_FILTER_CHARS {
        let cut: String = s.chars().take(QUOTED_FILTER_CHARS - 1).collect();
        format!("`{cut}…`")
    } else {
        format!("`{s}`")
    }
}

pub struct PercentageMatch;

impl RuleType for PercentageMatch {
    type Config = Config;
    type State = State;

    fn on_matches(cfg: &Config, st: &mut State, m: &[MatchView], _now: i64) -> Vec<Trigger> {
        let mut newest = i64::MIN;
        for ev in m {
            if st.key.is_none() {
                st.key = cfg.query_key.describe(ev);
            }
            let hit = cfg.bucket.is_match(ev.message);
            let counted = st.windows.add(
                cfg.buffer_ms,
                AggType::Avg,
                ev.timestamp,
                Some(if hit { "1" } else { "0" }),
            );
            if counted && hit {
                let start = ev.timestamp.div_euclid(cfg.buffer_ms) * cfg.buffer_ms;
                st.samples.remember(start, ev.id);
            }
            newest = newest.max(ev.timestamp);
        }
        Self::on_tick(cfg, st, newest)
    }

    fn on_tick(cfg: &Config, st: &mut State, now: i64) -> Vec<Trigger> {
        let mut out = Vec::new();
        for w in st.windows.close(cfg.buffer_ms, now) {
            let samples = st.samples.take(w.start);
            let den = w.agg.n;
            let num = w.agg.sum.round() as u64;
            if den == 0 || den < cfg.min_denominator {
                continue;
            }
            let pct = num as f64 * 100.0 / den as f64;
            let (bound, limit) = match (cfg.max_percentage, cfg.min_percentage) {
                (Some(max), _) if pct > max => ("max", max),
                (_, Some(min)) if pct < min => ("min", min),
                _ => continue,
            };
            let from = st
                .key
                .as_ref()
                .map(|k| format!(" from {k}"))
                .unwrap_or_default();
            let text = format!(
                "{} % of {} events{from} match {} over {} ({bound} {} %)",
                fmt_num(pct),
                fmt_count(den),
                quoted(&cfg.bucket),
                fmt_duration(cfg.buffer_ms),
                fmt_num(limit)
            );
            let mut details = serde_json::Map::new();
            details.insert("percentage".into(), pct.into());
            details.insert("numerator".into(), num.into());
            details.insert("denominator".into(), den.into());
            details.insert(bound.into(), limit.into());
            details.insert("window_start".into(), w.start.into());
            out.push(Trigger {
                count: num,
                first_ms: w.start,
                last_ms: w.start + cfg.buffer_ms - 1,
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

    fn cfg(max: Option<f64>, min: Option<f64>, min_den: u64) -> Config {
        Config {
            bucket: FilterPattern::parse("{ $.status >= 500 }").unwrap(),
            min_percentage: min,
            max_percentage: max,
            min_denominator: min_den,
            buffer_ms: 5 * MIN,
            query_key: Selectors::default(),
        }
    }

    /// `ok` 200s and `bad` 500s in the window starting at `start`.
    fn run(c: &Config, st: &mut State, start: i64, ok: usize, bad: usize) -> Vec<Trigger> {
        let evs: Vec<_> = (0..ok + bad)
            .map(|i| {
                ev(
                    format!("{start}-{i}"),
                    start + i as i64,
                    format!(r#"{{"status":{}}}"#, if i < bad { 503 } else { 200 }),
                )
            })
            .collect();
        PercentageMatch::on_matches(c, st, &views(&evs), 0)
    }

    #[test]
    fn a_filter_is_quoted_whole_up_to_its_limit() {
        // `{ $.` + name + ` = 1 }`: 10 characters besides the name.
        let of =
            |n: usize| FilterPattern::parse(&format!("{{ $.{} = 1 }}", "a".repeat(n))).unwrap();
        let exact = of(QUOTED_FILTER_CHARS - 10);
        assert_eq!(quoted(&exact), format!("`{}`", exact.source()));
        let q = quoted(&of(QUOTED_FILTER_CHARS - 9));
        assert!(q.ends_with("…`"));
        assert_eq!(q.chars().count(), QUOTED_FILTER_CHARS + 2);
    }

    #[test]
    fn share_above_max_alerts_when_the_window_closes() {
        let c = cfg(Some(10.0), None, 0);
        let mut st = State::default();
        assert!(run(&c, &mut st, T0, 840, 360).is_empty());
        assert_eq!(PercentageMatch::next_due(&c, &st), Some(T0 + 6 * MIN));
        let t = PercentageMatch::on_tick(&c, &mut st, T0 + 6 * MIN);
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0].observation.text,
            "30 % of 1,200 events match `{ $.status >= 500 }` over 5 min (max 10 %)"
        );
        assert_eq!(t[0].count, 360);
        assert_eq!(t[0].sample_ids.len(), WINDOW_SAMPLES);
        assert!(t[0].sample_ids[0].starts_with(&T0.to_string()));
    }

    #[test]
    fn boundaries_are_strict_and_min_works() {
        let c = cfg(Some(10.0), Some(1.0), 0);
        for (ok, bad, alerts) in [
            (90, 10, false),
            (89, 11, true),
            (99, 1, false),
            (100, 0, true),
        ] {
            let mut st = State::default();
            run(&c, &mut st, T0, ok, bad);
            assert_eq!(
                !PercentageMatch::on_tick(&c, &mut st, T0 + 6 * MIN).is_empty(),
                alerts,
                "{ok}/{bad}"
            );
        }
    }

    #[test]
    fn min_denominator_skips_thin_windows() {
        let c = cfg(Some(10.0), None, 100);
        let mut st = State::default();
        run(&c, &mut st, T0, 50, 49);
        assert!(PercentageMatch::on_tick(&c, &mut st, T0 + 6 * MIN).is_empty());
        let mut st = State::default();
        run(&c, &mut st, T0, 51, 49);
        assert_eq!(PercentageMatch::on_tick(&c, &mut st, T0 + 6 * MIN).len(), 1);
    }

    #[test]
    fn windows_are_separate_and_a_later_event_decides() {
        let c = cfg(Some(10.0), None, 0);
        let mut st = State::default();
        run(&c, &mut st, T0, 50, 50);
        let t = run(&c, &mut st, T0 + 6 * MIN, 100, 0);
        assert_eq!(
            t.len(),
            1,
            "the first window closed when event time passed its end + grace"
        );
        assert!(
            PercentageMatch::on_tick(&c, &mut st, T0 + 20 * MIN).is_empty(),
            "second window: 0 %"
        );
        assert!(st.samples.is_empty());
    }

    #[test]
    fn long_filters_are_cut_in_the_sentence() {
        let p =
            FilterPattern::parse(&format!("{{ $.message = \"{}\" }}", "x".repeat(100))).unwrap();
        let q = quoted(&p);
        assert_eq!(q.chars().count(), QUOTED_FILTER_CHARS + 2);
        assert!(q.ends_with("…`"));
    }
}
