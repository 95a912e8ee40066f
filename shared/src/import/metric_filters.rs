//! CloudWatch metric filters (and the alarms on their metrics) → logalert rules on the same
//! patterns.
//!
//! ```
//! use logalert::import::metric_filters::convert;
//! let filters = r#"{"metricFilters": [{"filterName": "Errors", "logGroupName": "/aws/lambda/pay",
//!   "filterPattern": "ERROR -healthcheck",
//!   "metricTransformations": [{"metricName": "PayErrors", "metricNamespace": "App", "metricValue": "1"}]}]}"#;
//! let alarms = r#"{"MetricAlarms": [{"AlarmName": "pay-errors", "MetricName": "PayErrors",
//!   "Namespace": "App", "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1,
//!   "Threshold": 5, "ComparisonOperator": "GreaterThanOrEqualToThreshold"}]}"#;
//! let out = convert(filters, Some(alarms)).unwrap();
//! assert!(out.yaml.contains("type: frequency\n    num_events: 5\n    timeframe: 5m"));
//! assert!(logalert::rules::load(&out.yaml, "out.yaml").is_ok());
//! ```
//!
//! Input: the JSON `aws logs describe-metric-filters` prints (`{"metricFilters": […]}`) and,
//! optionally, `aws cloudwatch describe-alarms` (`{"MetricAlarms": […]}`). Each filter becomes a
//! rule on its log group with its pattern. An alarm on the filter's metric whose statistic counts
//! matches (`Sum` of a metric value of `1`, or `SampleCount`) with a `>` / `>=` threshold becomes a
//! `frequency` rule: `num_events` = the smallest count that breaches, `timeframe` = the period.
//! (An alarm needing M of N periods, a `<` threshold or a summed value other than 1 is not a count
//! of events: it is noted on the rule, which stays an `any` rule.) Filters on transformed logs are
//! noted: a subscription sees the log events as written.

use serde::Deserialize;

use super::Draft;
use super::yaml::{flow, scalar};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filters {
    metric_filters: Vec<Filter>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    filter_name: String,
    #[serde(default)]
    filter_pattern: String,
    log_group_name: String,
    #[serde(default)]
    metric_transformations: Vec<Transformation>,
    #[serde(default)]
    apply_on_transformed_logs: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Transformation {
    metric_name: String,
    metric_namespace: String,
    #[serde(default)]
    metric_value: String,
    #[serde(default)]
    dimensions: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Alarms {
    #[serde(rename = "MetricAlarms")]
    metric_alarms: Vec<Alarm>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Alarm {
    alarm_name: String,
    #[serde(default)]
    alarm_description: Option<String>,
    #[serde(default)]
    metric_name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    statistic: Option<String>,
    #[serde(default)]
    period: Option<u64>,
    #[serde(default)]
    evaluation_periods: Option<u64>,
    #[serde(default)]
    datapoints_to_alarm: Option<u64>,
    #[serde(default)]
    threshold: Option<f64>,
    #[serde(default)]
    comparison_operator: Option<String>,
    #[serde(default)]
    actions_enabled: Option<bool>,
}

/// The result of a conversion.
#[derive(Debug, Clone, Default)]
pub struct Conversion {
    pub yaml: String,
    pub usable: usize,
    pub unusable: usize,
    /// What could not be carried over (one line each, naming the filter).
    pub warnings: Vec<String>,
}

/// Convert `describe-metric-filters` JSON (and optionally `describe-alarms` JSON).
pub fn convert(filters: &str, alarms: Option<&str>) -> Result<Conversion, String> {
    let filters: Filters = serde_json::from_str(filters).map_err(|e| {
        format!(
            "not the JSON of `aws logs describe-metric-filters` ({{\"metricFilters\": […]}}): {e}"
        )
    })?;
    let alarms: Vec<Alarm> = match alarms {
        None => Vec::new(),
        Some(a) => {
            serde_json::from_str::<Alarms>(a)
                .map_err(|e| {
                    format!(
                        "not the JSON of `aws cloudwatch describe-alarms` ({{\"MetricAlarms\": […]}}): {e}"
                    )
                })?
                .metric_alarms
        }
    };
    let mut warnings = Vec::new();
    let mut drafts: Vec<Draft> = Vec::new();
    for f in &filters.metric_filters {
        let mut d = Draft {
            file: format!("metric filter {} on {}", f.filter_name, f.log_group_name),
            name: f.filter_name.clone(),
            keys: Vec::new(),
            notes: Vec::new(),
            blocked: None,
        };
        if drafts.iter().any(|o| o.name == d.name) {
            d.name = format!("{} ({})", f.filter_name, f.log_group_name);
        }
        d.set("log_groups", flow(&serde_json::json!([f.log_group_name])));
        d.set("filter_pattern", scalar(&f.filter_pattern));
        if f.filter_pattern.trim().is_empty() {
            d.notes
                .push("the filter pattern is empty: every event matches".to_string());
        }
        if f.apply_on_transformed_logs {
            let w = "the metric filter applies to transformed logs; a subscription sees the \
                     events as written, so write the pattern for those";
            d.notes.push(w.to_string());
            warnings.push(format!("{}: {w}", f.filter_name));
        }
        let t = f.metric_transformations.first();
        if let Some(t) = t
            && !t.dimensions.is_empty()
        {
            let keys: Vec<serde_json::Value> = t
                .dimensions
                .values()
                .filter_map(|v| v.as_str())
                .map(|s| serde_json::Value::String(s.to_string()))
                .collect();
            if !keys.is_empty() {
                d.set("query_key", flow(&serde_json::Value::Array(keys)));
            }
        }
        let on_metric: Vec<&Alarm> = match t {
            Some(t) => alarms
                .iter()
                .filter(|a| {
                    a.metric_name.as_deref() == Some(t.metric_name.as_str())
                        && a.namespace.as_deref() == Some(t.metric_namespace.as_str())
                })
                .collect(),
            None => Vec::new(),
        };
        if let [first, rest @ ..] = on_metric.as_slice() {
            let desc = first
                .alarm_description
                .clone()
                .unwrap_or_else(|| format!("was alarm {}", first.alarm_name));
            d.set("description", scalar(&desc));
            match frequency(first, t.map(|t| t.metric_value.as_str()).unwrap_or("")) {
                Ok((n, period)) => {
                    d.set("type", "frequency".to_string());
                    d.set("num_events", n.to_string());
                    d.set("timeframe", period);
                    d.notes.push(format!(
                        "threshold and period from alarm {}",
                        first.alarm_name
                    ));
                }
                Err(why) => {
                    let w = format!("alarm {} is not carried over: {why}", first.alarm_name);
                    warnings.push(format!("{}: {w}", f.filter_name));
                    d.notes.push(w);
                }
            }
            if first.actions_enabled == Some(false) {
                d.set("enabled", "false".to_string());
                d.notes.push(format!(
                    "alarm {} has its actions disabled",
                    first.alarm_name
                ));
            }
            for other in rest {
                let w = format!(
                    "alarm {} on the same metric is not carried over (one rule per filter: copy \
                     the rule for it)",
                    other.alarm_name
                );
                warnings.push(format!("{}: {w}", f.filter_name));
                d.notes.push(w);
            }
        }
        drafts.push(d);
    }
    let placed = super::place(&drafts);
    for (d, why) in &placed.refused {
        warnings.push(format!("{}: written commented out: {why}", d.name));
    }
    let header = "Converted from CloudWatch metric filters by `logalert import-metric-filters`.\n\
                  Check with `logalert validate`; try it on your logs with `logalert replay`.\n\
                  Set `channel` (and `severity`) per rule: metric filters do not say where alerts go.";
    Ok(Conversion {
        yaml: super::document(header, &placed),
        usable: placed.usable,
        unusable: placed.unusable,
        warnings,
    })
}

/// `(num_events, timeframe)` when the alarm counts matching events over one period.
fn frequency(a: &Alarm, metric_value: &str) -> Result<(u64, String), String> {
    let stat = a.statistic.as_deref().unwrap_or("");
    let counts = match stat {
        "SampleCount" => true,
        "Sum" => metric_value.trim() == "1",
        _ => false,
    };
    if !counts {
        return Err(format!(
            "its statistic {stat:?} of metric value {metric_value:?} is not a count of events"
        ));
    }
    let threshold = a.threshold.ok_or("it has no threshold")?;
    let n = match a.comparison_operator.as_deref() {
        Some("GreaterThanOrEqualToThreshold") => threshold.ceil(),
        Some("GreaterThanThreshold") => threshold.floor() + 1.0,
        Some(op) => return Err(format!("{op}: only > and >= thresholds are a frequency")),
        None => return Err("it has no comparison operator".to_string()),
    };
    let n = n.max(1.0) as u64;
    if n > crate::rules::MAX_NUM_EVENTS {
        return Err(format!(
            "a threshold of {n} events is above logalert's num_events limit ({})",
            crate::rules::MAX_NUM_EVENTS
        ));
    }
    let period = a.period.filter(|p| *p > 0).ok_or("it has no period")?;
    let evaluation = a.evaluation_periods.unwrap_or(1);
    let datapoints = a.datapoints_to_alarm.unwrap_or(evaluation);
    if evaluation != 1 || datapoints != 1 {
        return Err(format!(
            "it needs {datapoints} of {evaluation} periods to breach (logalert's frequency is one window)"
        ));
    }
    let d = if period % 3600 == 0 {
        format!("{}h", period / 3600)
    } else if period % 60 == 0 {
        format!("{}m", period / 60)
    } else {
        format!("{period}s")
    };
    Ok((n, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(stat: &str, op: &str, threshold: f64, eval: u64) -> Alarm {
        Alarm {
            alarm_name: "a".into(),
            alarm_description: None,
            metric_name: Some("M".into()),
            namespace: Some("N".into()),
            statistic: Some(stat.into()),
            period: Some(60),
            evaluation_periods: Some(eval),
            datapoints_to_alarm: None,
            threshold: Some(threshold),
            comparison_operator: Some(op.into()),
            actions_enabled: Some(true),
        }
    }

    #[test]
    fn thresholds_become_the_smallest_breaching_count() {
        let ge = "GreaterThanOrEqualToThreshold";
        let gt = "GreaterThanThreshold";
        assert_eq!(
            frequency(&alarm("Sum", ge, 5.0, 1), "1").unwrap(),
            (5, "1m".into())
        );
        assert_eq!(frequency(&alarm("Sum", gt, 5.0, 1), "1").unwrap().0, 6);
        assert_eq!(frequency(&alarm("Sum", gt, 0.0, 1), "1").unwrap().0, 1);
        assert_eq!(frequency(&alarm("Sum", ge, 2.5, 1), "1").unwrap().0, 3);
        assert_eq!(
            frequency(&alarm("SampleCount", ge, 3.0, 1), "$.ms")
                .unwrap()
                .0,
            3
        );
        assert!(frequency(&alarm("Sum", ge, 5.0, 1), "$.bytes").is_err());
        assert!(frequency(&alarm("Average", ge, 5.0, 1), "1").is_err());
        assert!(frequency(&alarm("Sum", "LessThanThreshold", 1.0, 1), "1").is_err());
        assert!(frequency(&alarm("Sum", ge, 5.0, 3), "1").is_err());
    }

    #[test]
    fn not_the_aws_json_is_an_error() {
        assert!(
            convert("{}", None)
                .unwrap_err()
                .contains("describe-metric-filters")
        );
        assert!(
            convert(r#"{"metricFilters": []}"#, Some("[]"))
                .unwrap_err()
                .contains("describe-alarms")
        );
    }
}
