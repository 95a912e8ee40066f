//! `type: blacklist` — alert on events whose `compare_key` value is in `blacklist`.
//!
//! ```yaml
//! - name: banned-users
//!   type: blacklist
//!   compare_key: $.user          # a selector (also @fingerprint, @logStream, …)
//!   blacklist: [mallory, eve]
//!   filter_pattern: ''           # optional: every event of the log groups
//! ```
//!
//! Values compare exactly as text (a JSON number as written: `500`, not `500.0`). An event
//! without the field never matches. All the listed events of one batch make one trigger:
//! "user mallory is blacklisted" / "3 events with a blacklisted user: mallory ×2, eve".
//! No state. [`whitelist`](super::whitelist) is the same with the list inverted.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::common::{fmt_count, positions, sample_ids};
use super::select::Selector;
use super::{MatchView, RuleType, Trigger};
use crate::alert::Observation;
use crate::engine::MISSING_VALUE;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `compare_key`.
    pub compare_key: Selector,
    /// `blacklist`.
    pub values: HashSet<String>,
}

/// Neither list type keeps state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct NoState {}

pub struct Blacklist;

impl RuleType for Blacklist {
    type Config = Config;
    type State = NoState;

    fn on_matches(cfg: &Config, _st: &mut NoState, m: &[MatchView], _now: i64) -> Vec<Trigger> {
        let hits = m
            .iter()
            .filter_map(|e| {
                let v = cfg.compare_key.get(e)?;
                cfg.values.contains(&v).then_some((e, Some(v)))
            })
            .collect::<Vec<_>>();
        listed_trigger(
            m,
            &cfg.compare_key,
            &hits,
            "is blacklisted",
            "a blacklisted",
        )
        .into_iter()
        .collect()
    }

    fn on_tick(_: &Config, _: &mut NoState, _: i64) -> Vec<Trigger> {
        Vec::new()
    }

    fn next_due(_: &Config, _: &NoState) -> Option<i64> {
        None
    }
}

/// Values shown in a multi-event observation.
const SHOWN_VALUES: usize = 5;

/// One trigger for the events `hits` (event, its value; None: missing). `one` completes
/// "user bob …", `many` reads "N events with … user: …".
pub(super) fn listed_trigger(
    m: &[MatchView],
    key: &Selector,
    hits: &[(&MatchView, Option<String>)],
    one: &str,
    many: &str,
) -> Option<Trigger> {
    let (first, _) = hits.first()?;
    let label = key.label();
    let mut by_value: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, v) in hits {
        *by_value
            .entry(v.as_deref().unwrap_or(MISSING_VALUE))
            .or_default() += 1;
    }
    let text = if by_value.len() == 1 && hits.len() == 1 {
        match &hits[0].1 {
            Some(v) => format!("{label} {v} {one}"),
            None => format!("{label} missing ({})", one.trim_start_matches("is ")),
        }
    } else {
        let mut ranked: Vec<(&str, u64)> = by_value.iter().map(|(v, n)| (*v, *n)).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut parts: Vec<String> = ranked
            .iter()
            .take(SHOWN_VALUES)
            .map(|(v, n)| {
                if *n > 1 {
                    format!("{v} ×{n}")
                } else {
                    v.to_string()
                }
            })
            .collect();
        if ranked.len() > SHOWN_VALUES {
            parts.push(format!("+{} more", ranked.len() - SHOWN_VALUES));
        }
        format!(
            "{} events with {many} {label}: {}",
            fmt_count(hits.len() as u64),
            parts.join(", ")
        )
    };
    let mut details = serde_json::Map::new();
    details.insert("compare_key".into(), key.to_string().into());
    details.insert(
        "values".into(),
        serde_json::Value::Object(
            by_value
                .iter()
                .map(|(v, n)| (v.to_string(), (*n).into()))
                .collect(),
        ),
    );
    Some(Trigger {
        count: hits.len() as u64,
        first_ms: first.timestamp,
        last_ms: hits
            .iter()
            .map(|(e, _)| e.timestamp)
            .max()
            .unwrap_or(first.timestamp),
        sample_ids: sample_ids(hits.iter().map(|(e, _)| *e)),
        observation: Observation {
            text,
            sparkline: None,
            details,
        },
        key_override: None,
        events: positions(m, hits.iter().map(|(e, _)| *e)),
    })
}

#[cfg(test)]
mod tests {
    use super::super::common::test_support::{T0, ev, views};
    use super::*;

    fn cfg(list: &[&str]) -> Config {
        Config {
            compare_key: Selector::parse("$.user").unwrap(),
            values: list.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn run(c: &Config, msgs: &[&str]) -> Vec<Trigger> {
        let evs: Vec<_> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| ev(i, T0 + i as i64, m))
            .collect();
        Blacklist::on_matches(c, &mut NoState {}, &views(&evs), 0)
    }

    #[test]
    fn listed_values_alert_in_one_trigger() {
        let c = cfg(&["mallory", "eve"]);
        let t = run(&c, &[r#"{"user":"bob"}"#, r#"{"user":"mallory"}"#]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].observation.text, "user mallory is blacklisted");
        assert_eq!((t[0].count, t[0].first_ms), (1, T0 + 1));
        assert_eq!(t[0].sample_ids, vec!["1"]);
        let t = run(
            &c,
            &[
                r#"{"user":"eve"}"#,
                r#"{"user":"mallory"}"#,
                r#"{"user":"mallory"}"#,
            ],
        );
        assert_eq!(
            t[0].observation.text,
            "3 events with a blacklisted user: mallory ×2, eve"
        );
        assert_eq!(t[0].observation.details["values"]["mallory"], 2);
        assert_eq!(t[0].last_ms, T0 + 2);
    }

    #[test]
    fn unlisted_missing_and_non_scalar_values_do_not_alert() {
        let c = cfg(&["mallory"]);
        assert!(
            run(
                &c,
                &[
                    r#"{"user":"bob"}"#,
                    r#"{"other":1}"#,
                    r#"{"user":{"n":"mallory"}}"#,
                    "plain mallory"
                ]
            )
            .is_empty()
        );
        assert!(run(&c, &[]).is_empty());
    }

    #[test]
    fn comparison_is_exact_text() {
        let c = Config {
            compare_key: Selector::parse("$.status").unwrap(),
            values: ["500".to_string()].into(),
        };
        assert_eq!(run(&c, &[r#"{"status":500}"#]).len(), 1);
        assert_eq!(run(&c, &[r#"{"status":"500"}"#]).len(), 1);
        assert!(run(&c, &[r#"{"status":500.0}"#, r#"{"status":" 500"}"#]).is_empty());
        let c = cfg(&["Mallory"]);
        assert!(
            run(&c, &[r#"{"user":"mallory"}"#]).is_empty(),
            "case-sensitive"
        );
    }

    #[test]
    fn long_lists_of_values_are_summarised() {
        let c = cfg(&["a", "b", "c", "d", "e", "f", "g"]);
        let msgs: Vec<String> = ["a", "b", "c", "d", "e", "f", "g", "g"]
            .iter()
            .map(|u| format!(r#"{{"user":"{u}"}}"#))
            .collect();
        let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
        let t = run(&c, &refs);
        assert_eq!(
            t[0].observation.text,
            "8 events with a blacklisted user: g ×2, a, b, c, d, +2 more"
        );
    }

    #[test]
    fn fingerprints_can_be_blacklisted() {
        let c = Config {
            compare_key: Selector::Fingerprint,
            values: ["connection reset by <ip>".to_string()].into(),
        };
        assert_eq!(run(&c, &["connection reset by 10.1.2.3"]).len(), 1);
    }
}
