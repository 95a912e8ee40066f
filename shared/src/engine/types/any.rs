//! `type: any` — every match is an alert (the policy then applies `realert`).

use super::{MAX_TRIGGER_SAMPLES, MatchView, RuleType, Trigger};
use crate::alert::Observation;

/// `type: any`: the new matches of one invocation are one trigger.
#[derive(Debug)]
pub struct Any;

impl RuleType for Any {
    type Config = ();
    type State = ();

    fn on_matches(_: &(), _: &mut (), m: &[MatchView], _now_ms: i64) -> Vec<Trigger> {
        let (Some(first), Some(last)) = (m.first(), m.last()) else {
            return Vec::new();
        };
        vec![Trigger {
            count: m.len() as u64,
            first_ms: first.timestamp,
            last_ms: last.timestamp,
            sample_ids: m
                .iter()
                .take(MAX_TRIGGER_SAMPLES)
                .map(|m| m.id.to_string())
                .collect(),
            observation: Observation::default(),
            key_override: None,
            events: (0..m.len()).collect(),
        }]
    }

    fn on_tick(_: &(), _: &mut (), _now_ms: i64) -> Vec<Trigger> {
        Vec::new()
    }

    fn next_due(_: &(), _: &()) -> Option<i64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn views<'a>(
        ex: &'a crate::pattern::Extracted,
        ids: &'a [(String, i64)],
    ) -> Vec<MatchView<'a>> {
        ids.iter()
            .map(|(id, ts)| MatchView {
                id,
                timestamp: *ts,
                log_group: "/g",
                log_stream: "s",
                message: "m",
                extracted: ex,
            })
            .collect()
    }

    #[test]
    fn all_matches_are_one_trigger() {
        let ex = vec![];
        let ids: Vec<(String, i64)> = (0..150).map(|i| (format!("e{i}"), 1000 + i)).collect();
        let t = Any::on_matches(&(), &mut (), &views(&ex, &ids), 0);
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].count, t[0].first_ms, t[0].last_ms), (150, 1000, 1149));
        assert_eq!(t[0].sample_ids.len(), MAX_TRIGGER_SAMPLES);
        assert_eq!(t[0].sample_ids[0], "e0");
        assert!(t[0].key_override.is_none());
    }

    #[test]
    fn nothing_without_matches() {
        assert!(Any::on_matches(&(), &mut (), &[], 0).is_empty());
        assert!(Any::on_tick(&(), &mut (), i64::MAX).is_empty());
        assert_eq!(Any::next_due(&(), &()), None);
    }
}
