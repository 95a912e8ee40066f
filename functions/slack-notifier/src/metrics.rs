//! The notifier's CloudWatch metrics as embedded-metric-format (EMF) lines on stdout: no API call, no
//! IAM permission; CloudWatch extracts them from the function's log.
//!
//! Names and dimensions are fixed by the project's runtime contract: `SlackDelivered`,
//! `SlackRetries`, `EnrichmentFailures`, `DuplicatesSkipped`, `SlackUncertainDeliveries` (sent, no
//! answer, not re-posted: "maybe delivered"; alarmed on in template.yaml) (no dimensions) and
//! `SlackPermanentFailures` (dimension-less and per `Channel`; the name is kept for existing alarms
//! though it counts every destination), `PermanentFailures` and `UncertainDeliveries` per
//! `DestinationType` (`slack-webhook`, `slack-app`, `teams`, …). Unit `Count`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// What one invocation counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    pub delivered: u64,
    pub retries: u64,
    pub enrichment_failures: u64,
    pub duplicates_skipped: u64,
    /// Requests sent without an answer to a destination that cannot de-duplicate.
    pub uncertain_deliveries: u64,
    /// Alarm notifications naming another account (not posted).
    pub foreign_alarms_ignored: u64,
    /// Permanent failures per channel name.
    pub permanent_failures: BTreeMap<String, u64>,
    /// Permanent failures per destination type (`slack-webhook`, `teams`, …).
    pub permanent_failures_by_type: BTreeMap<String, u64>,
    /// "Maybe delivered" per destination type (only types that cannot de-duplicate have any).
    pub uncertain_by_type: BTreeMap<String, u64>,
}

impl Counters {
    pub fn permanent_failures_total(&self) -> u64 {
        self.permanent_failures.values().sum()
    }

    /// EMF lines: one with every dimension-less metric, one per channel with a permanent failure.
    pub fn emf_lines(&self, namespace: &str, timestamp_ms: i64) -> Vec<String> {
        let metric = |name: &str| json!({"Name": name, "Unit": "Count"});
        let mut lines = vec![json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": [[]],
                    "Metrics": [
                        metric("SlackDelivered"),
                        metric("SlackRetries"),
                        metric("SlackPermanentFailures"),
                        metric("EnrichmentFailures"),
                        metric("DuplicatesSkipped"),
                        metric("SlackUncertainDeliveries"),
                        metric("ForeignAlarmsIgnored"),
                    ],
                }],
            },
            "SlackDelivered": self.delivered,
            "SlackRetries": self.retries,
            "SlackPermanentFailures": self.permanent_failures_total(),
            "EnrichmentFailures": self.enrichment_failures,
            "DuplicatesSkipped": self.duplicates_skipped,
            "SlackUncertainDeliveries": self.uncertain_deliveries,
            "ForeignAlarmsIgnored": self.foreign_alarms_ignored,
        })];
        // One line per dimension value: (dimension, metric, counts by value).
        let per_dimension = [
            (
                "Channel",
                "SlackPermanentFailures",
                &self.permanent_failures,
            ),
            (
                "DestinationType",
                "PermanentFailures",
                &self.permanent_failures_by_type,
            ),
            (
                "DestinationType",
                "UncertainDeliveries",
                &self.uncertain_by_type,
            ),
        ];
        for (dimension, name, counts) in per_dimension {
            for (value, n) in counts {
                let mut line = json!({
                    "_aws": {
                        "Timestamp": timestamp_ms,
                        "CloudWatchMetrics": [{
                            "Namespace": namespace,
                            "Dimensions": [[dimension]],
                            "Metrics": [metric(name)],
                        }],
                    },
                });
                line[dimension] = json!(value);
                line[name] = json!(n);
                lines.push(line);
            }
        }
        lines.iter().map(Value::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_shape() {
        let mut c = Counters {
            delivered: 2,
            retries: 1,
            uncertain_deliveries: 3,
            ..Default::default()
        };
        c.permanent_failures.insert("payments".into(), 1);
        c.permanent_failures_by_type.insert("teams".into(), 1);
        let lines = c.emf_lines("logalert", 1_700_000_000_000);
        assert_eq!(lines.len(), 3);
        let third: Value = serde_json::from_str(&lines[2]).unwrap();
        assert_eq!(
            third["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["DestinationType"]])
        );
        assert_eq!(
            (
                third["DestinationType"].as_str(),
                third["PermanentFailures"].as_u64()
            ),
            (Some("teams"), Some(1))
        );
        let first: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(
            first["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "logalert"
        );
        assert_eq!(
            first["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
        assert_eq!(first["SlackDelivered"], 2);
        assert_eq!(first["SlackPermanentFailures"], 1);
        assert_eq!(first["SlackUncertainDeliveries"], 3);
        let names: Vec<&str> = first["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"SlackUncertainDeliveries"), "{names:?}");
        let second: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(
            second["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Channel"]])
        );
        assert_eq!(second["Channel"], "payments");
        c.uncertain_by_type.insert("slack-app".into(), 3);
        let lines = c.emf_lines("logalert", 1_700_000_000_000);
        assert_eq!(lines.len(), 4);
        let fourth: Value = serde_json::from_str(&lines[3]).unwrap();
        assert_eq!(
            fourth["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "UncertainDeliveries", "Unit": "Count"}])
        );
        assert_eq!(
            (
                fourth["DestinationType"].as_str(),
                fourth["UncertainDeliveries"].as_u64()
            ),
            (Some("slack-app"), Some(3))
        );
    }
}
