//! `type: whitelist` — alert on events whose `compare_key` value is *not* in `whitelist`.
//!
//! ```yaml
//! - name: unexpected-callers
//!   type: whitelist
//!   compare_key: $.caller
//!   whitelist: [billing, checkout]
//!   ignore_null: true      # events without the field do not alert (default false: they do)
//! ```
//!
//! Exact text comparison, as [`blacklist`](super::blacklist). All such events of a batch make one
//! trigger: "caller scraper is not in the whitelist" / "4 events with an unlisted caller:
//! scraper ×3, <missing>". No state.

use std::collections::HashSet;

use super::blacklist::{NoState, listed_trigger};
use super::select::Selector;
use super::{MatchView, RuleType, Trigger};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `compare_key`.
    pub compare_key: Selector,
    /// `whitelist`.
    pub values: HashSet<String>,
    /// `ignore_null` (default false): events without the field do not alert.
    pub ignore_null: bool,
}

pub struct Whitelist;

impl RuleType for Whitelist {
    type Config = Config;
    type State = NoState;

    fn on_matches(cfg: &Config, _st: &mut NoState, m: &[MatchView], _now: i64) -> Vec<Trigger> {
        let hits = m
            .iter()
            .filter_map(|e| match cfg.compare_key.get(e) {
                None if cfg.ignore_null => None,
                None => Some((e, None)),
                Some(v) if cfg.values.contains(&v) => None,
                Some(v) => Some((e, Some(v))),
            })
            .collect::<Vec<_>>();
        listed_trigger(
            m,
            &cfg.compare_key,
            &hits,
            "is not in the whitelist",
            "an unlisted",
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

#[cfg(test)]
mod tests {
    use super::super::common::test_support::{T0, ev, views};
    use super::*;

    fn cfg(ignore_null: bool) -> Config {
        Config {
            compare_key: Selector::parse("$.caller").unwrap(),
            values: ["billing".to_string(), "checkout".to_string()].into(),
            ignore_null,
        }
    }

    fn run(c: &Config, msgs: &[&str]) -> Vec<Trigger> {
        let evs: Vec<_> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| ev(i, T0 + i as i64, m))
            .collect();
        Whitelist::on_matches(c, &mut NoState {}, &views(&evs), 0)
    }

    #[test]
    fn unlisted_values_alert() {
        let t = run(
            &cfg(false),
            &[r#"{"caller":"billing"}"#, r#"{"caller":"scraper"}"#],
        );
        assert_eq!(t.len(), 1);
        assert_eq!(
            t[0].observation.text,
            "caller scraper is not in the whitelist"
        );
        assert_eq!(t[0].sample_ids, vec!["1"]);
        assert!(
            run(
                &cfg(false),
                &[r#"{"caller":"billing"}"#, r#"{"caller":"checkout"}"#]
            )
            .is_empty()
        );
    }

    #[test]
    fn missing_fields_alert_unless_ignore_null() {
        let t = run(&cfg(false), &[r#"{"x":1}"#]);
        assert_eq!(
            t[0].observation.text,
            "caller missing (not in the whitelist)"
        );
        assert!(run(&cfg(true), &[r#"{"x":1}"#, r#"{"caller":null}"#]).is_empty());
        let t = run(
            &cfg(false),
            &[
                r#"{"x":1}"#,
                r#"{"caller":"scraper"}"#,
                r#"{"caller":"scraper"}"#,
                r#"{"caller":"billing"}"#,
            ],
        );
        assert_eq!(
            t[0].observation.text,
            "3 events with an unlisted caller: scraper ×2, <missing>"
        );
        assert_eq!(t[0].count, 3);
    }
}
