//! CloudWatch embedded metric format (EMF): metrics as JSON lines on stdout, which the Lambda log
//! agent turns into CloudWatch metrics — no API call, no IAM permission, and testable by reading the
//! lines.
//!
//! ```
//! use logalert::metrics::emf_line;
//! let line = emf_line("logalert", 1_700_000_000_000, &[("Rule", "errors")], &[("Matches", "Count", vec![3.0])]);
//! let v: serde_json::Value = serde_json::from_str(&line).unwrap();
//! assert_eq!(v["Matches"], 3.0);
//! assert_eq!(v["Rule"], "errors");
//! assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0], "Rule");
//! ```
//!
//! log-filter's metrics (docs/log-filter.md): `EventsProcessed`, `DecodeFailures`, `StateFailures`,
//! `PublishFailures` (no dimensions), `Matches` and `Alerts` (dimension `Rule`), plus each rule's
//! own `metric` under its own name and dimensions. All counters use unit `Count`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// EMF allows at most 100 values per metric in one document.
pub const MAX_VALUES_PER_METRIC: usize = 100;

/// One EMF document (a single line of JSON). `metrics` are (name, unit, values); a single value is
/// written as a number, several as an array.
pub fn emf_line(
    namespace: &str,
    timestamp_ms: i64,
    dimensions: &[(&str, &str)],
    metrics: &[(&str, &str, Vec<f64>)],
) -> String {
    let mut doc = Map::new();
    let dim_names: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let defs: Vec<Value> = metrics
        .iter()
        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
        .collect();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [dim_names],
                "Metrics": defs,
            }]
        }),
    );
    for (k, v) in dimensions {
        doc.insert((*k).to_string(), Value::from(*v));
    }
    for (name, _, values) in metrics {
        let v = match values.as_slice() {
            [one] => json!(one),
            many => json!(many),
        };
        doc.insert((*name).to_string(), v);
    }
    Value::Object(doc).to_string()
}

/// A rule metric's identity: name, unit, dimensions, and the minute (event time) it belongs to.
pub type RuleMetricKey = (String, String, Vec<(String, String)>, i64);

/// Everything log-filter counts in one invocation.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct InvocationMetrics {
    pub events_processed: u64,
    pub decode_failures: u64,
    pub state_failures: u64,
    pub publish_failures: u64,
    /// Rule name → (matches, alerts).
    pub per_rule: BTreeMap<String, (u64, u64)>,
    /// Rules' own metrics, with the values seen.
    pub rule_metrics: BTreeMap<RuleMetricKey, Vec<f64>>,
}

impl InvocationMetrics {
    pub fn add_matches(&mut self, rule: &str, n: u64) {
        self.per_rule.entry(rule.to_string()).or_default().0 += n;
    }

    pub fn add_alert(&mut self, rule: &str) {
        self.per_rule.entry(rule.to_string()).or_default().1 += 1;
    }

    /// Record one value of a rule's metric at event time `timestamp_ms`.
    pub fn add_rule_metric(
        &mut self,
        name: &str,
        unit: &str,
        dimensions: Vec<(String, String)>,
        timestamp_ms: i64,
        value: f64,
    ) {
        let minute = timestamp_ms.div_euclid(60_000) * 60_000;
        self.rule_metrics
            .entry((name.to_string(), unit.to_string(), dimensions, minute))
            .or_default()
            .push(value);
    }

    /// Fold another invocation's counts into this one.
    pub fn merge(&mut self, other: InvocationMetrics) {
        self.events_processed += other.events_processed;
        self.decode_failures += other.decode_failures;
        self.state_failures += other.state_failures;
        self.publish_failures += other.publish_failures;
        for (rule, (m, a)) in other.per_rule {
            let e = self.per_rule.entry(rule).or_default();
            e.0 += m;
            e.1 += a;
        }
        for (k, v) in other.rule_metrics {
            self.rule_metrics.entry(k).or_default().extend(v);
        }
    }

    /// The EMF lines for these counts. Zero counters are still written for the dimension-less
    /// metrics (so alarms on them see data); per-rule lines only for rules that matched.
    pub fn to_emf_lines(&self, namespace: &str, now_ms: i64) -> Vec<String> {
        let mut lines = vec![emf_line(
            namespace,
            now_ms,
            &[],
            &[
                (
                    "EventsProcessed",
                    "Count",
                    vec![self.events_processed as f64],
                ),
                ("DecodeFailures", "Count", vec![self.decode_failures as f64]),
                ("StateFailures", "Count", vec![self.state_failures as f64]),
                (
                    "PublishFailures",
                    "Count",
                    vec![self.publish_failures as f64],
                ),
            ],
        )];
        for (rule, (matches, alerts)) in &self.per_rule {
            lines.push(emf_line(
                namespace,
                now_ms,
                &[("Rule", rule)],
                &[
                    ("Matches", "Count", vec![*matches as f64]),
                    ("Alerts", "Count", vec![*alerts as f64]),
                ],
            ));
        }
        for ((name, unit, dims, minute), values) in &self.rule_metrics {
            let dims: Vec<(&str, &str)> =
                dims.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            for chunk in values.chunks(MAX_VALUES_PER_METRIC) {
                lines.push(emf_line(
                    namespace,
                    *minute,
                    &dims,
                    &[(name, unit, chunk.to_vec())],
                ));
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_for_an_invocation() {
        let mut m = InvocationMetrics {
            events_processed: 10,
            ..Default::default()
        };
        m.add_matches("r1", 4);
        m.add_alert("r1");
        for i in 0..150 {
            m.add_rule_metric(
                "Latency",
                "Milliseconds",
                vec![("Service".into(), "api".into())],
                61_000,
                i as f64,
            );
        }
        let lines = m.to_emf_lines("ns", 5);
        assert_eq!(lines.len(), 1 + 1 + 2, "{lines:#?}");
        let v: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["EventsProcessed"], 10.0);
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([[]]));
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "ns");
        let r: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(
            (
                r["Rule"].as_str(),
                r["Matches"].as_f64(),
                r["Alerts"].as_f64()
            ),
            (Some("r1"), Some(4.0), Some(1.0))
        );
        let l: Value = serde_json::from_str(&lines[2]).unwrap();
        assert_eq!(l["Latency"].as_array().unwrap().len(), 100);
        assert_eq!(l["_aws"]["Timestamp"], 60_000);
        assert_eq!(l["Service"], "api");
        assert_eq!(
            l["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
            "Milliseconds"
        );
    }
}
