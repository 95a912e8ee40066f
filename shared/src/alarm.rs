//! CloudWatch Alarm notifications, as CloudWatch publishes them to SNS on a state change, and the log
//! lines behind an alarm whose metric comes from a log metric filter ([`AlarmLogs`]).
//!
//! ```
//! use logalert::alarm::{AlarmNotification, AlarmState};
//! let json = r#"{"AlarmName":"api-5xx","NewStateValue":"OK","OldStateValue":"ALARM",
//!   "NewStateReason":"Threshold Crossed","StateChangeTime":"2024-11-22T02:48:32.123+0000",
//!   "AlarmArn":"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx",
//!   "Trigger":{"MetricName":"Errors","Namespace":"app","Period":60,"EvaluationPeriods":5}}"#;
//! let alarm = AlarmNotification::from_json(json).unwrap();
//! assert_eq!(alarm.new_state(), AlarmState::Ok);
//! assert!(alarm.is_resolved());
//! assert_eq!(alarm.region(), Some("eu-west-1"));
//! assert_eq!(alarm.state_change_ms(), Some(1_732_243_712_123));
//! ```
//!
//! Only `AlarmName` and `NewStateValue` are required; every other field is optional, because composite
//! alarms carry `AlarmRule` instead of `Trigger`, metric-math alarms carry `Trigger.Metrics` instead
//! of `Trigger.MetricName`, and AWS adds fields over time (unknown fields are ignored on purpose).

use serde::{Deserialize, Serialize};

/// An alarm's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlarmState {
    Alarm,
    Ok,
    InsufficientData,
    /// A value this crate does not know (kept for display).
    Other(String),
}

impl AlarmState {
    pub fn parse(s: &str) -> AlarmState {
        match s {
            "ALARM" => AlarmState::Alarm,
            "OK" => AlarmState::Ok,
            "INSUFFICIENT_DATA" => AlarmState::InsufficientData,
            other => AlarmState::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            AlarmState::Alarm => "ALARM",
            AlarmState::Ok => "OK",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
            AlarmState::Other(s) => s,
        }
    }
}

/// `Trigger.Dimensions[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmDimension {
    #[serde(alias = "Name")]
    pub name: String,
    #[serde(alias = "Value")]
    pub value: String,
}

/// `Trigger.Metrics[].MetricStat.Metric` (metric-math alarms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricRef {
    pub metric_name: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStat {
    pub metric: Option<MetricRef>,
    pub period: Option<i64>,
    pub stat: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataQuery {
    pub id: Option<String>,
    pub expression: Option<String>,
    pub label: Option<String>,
    pub metric_stat: Option<MetricStat>,
}

/// The `Trigger` object: what the alarm watches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmTrigger {
    pub metric_name: Option<String>,
    pub namespace: Option<String>,
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    pub unit: Option<String>,
    #[serde(default)]
    pub dimensions: Vec<AlarmDimension>,
    /// Seconds.
    pub period: Option<i64>,
    pub evaluation_periods: Option<i64>,
    pub datapoints_to_alarm: Option<i64>,
    pub comparison_operator: Option<String>,
    pub threshold: Option<f64>,
    pub treat_missing_data: Option<String>,
    #[serde(default)]
    pub metrics: Vec<MetricDataQuery>,
}

/// A CloudWatch Alarm state-change notification (the SNS `Message`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmNotification {
    pub alarm_name: String,
    pub alarm_description: Option<String>,
    #[serde(rename = "AWSAccountId")]
    pub aws_account_id: Option<String>,
    pub new_state_value: String,
    pub new_state_reason: Option<String>,
    /// e.g. `2024-11-22T02:48:32.123+0000`.
    pub state_change_time: Option<String>,
    /// The region's long name, e.g. `US East (N. Virginia)`; the code is in `AlarmArn`.
    #[serde(rename = "Region")]
    pub region_name: Option<String>,
    pub alarm_arn: Option<String>,
    pub old_state_value: Option<String>,
    /// Composite alarms: the rule expression.
    pub alarm_rule: Option<String>,
    pub trigger: Option<AlarmTrigger>,
}

impl AlarmNotification {
    /// Parse an SNS message body. Errors if it is not JSON or lacks `AlarmName`/`NewStateValue`.
    pub fn from_json(message: &str) -> Result<AlarmNotification, serde_json::Error> {
        serde_json::from_str(message)
    }

    /// Whether a JSON object looks like an alarm notification (has `AlarmName` and `NewStateValue`).
    pub fn looks_like(value: &serde_json::Value) -> bool {
        value.get("AlarmName").is_some() && value.get("NewStateValue").is_some()
    }

    pub fn new_state(&self) -> AlarmState {
        AlarmState::parse(&self.new_state_value)
    }

    pub fn old_state(&self) -> Option<AlarmState> {
        self.old_state_value.as_deref().map(AlarmState::parse)
    }

    /// `OK` after `ALARM`: the problem went away.
    pub fn is_resolved(&self) -> bool {
        self.new_state() == AlarmState::Ok && self.old_state() == Some(AlarmState::Alarm)
    }

    /// The region code, from `AlarmArn` (`arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME`).
    pub fn region(&self) -> Option<&str> {
        self.alarm_arn
            .as_deref()
            .and_then(|arn| arn.split(':').nth(3))
            .filter(|r| !r.is_empty())
    }

    /// The account id, from `AWSAccountId` or `AlarmArn`.
    pub fn account(&self) -> Option<&str> {
        self.aws_account_id
            .as_deref()
            .or_else(|| {
                self.alarm_arn
                    .as_deref()
                    .and_then(|arn| arn.split(':').nth(4))
            })
            .filter(|a| !a.is_empty())
    }

    /// Whether this notification comes from an alarm of `account` (the notifier's own): every
    /// account id it names (`AWSAccountId`, the account in `AlarmArn`) is `account`, and it names
    /// at least one. The topic policy lets only this account's alarms publish; this check is the
    /// notifier's own guard against a forged or cross-account alarm making it read log groups.
    ///
    /// ```
    /// use logalert::alarm::AlarmNotification;
    /// let a = AlarmNotification::from_json(r#"{"AlarmName":"x","NewStateValue":"ALARM",
    ///   "AWSAccountId":"111122223333",
    ///   "AlarmArn":"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:x"}"#).unwrap();
    /// assert!(a.is_from_account("111122223333"));
    /// assert!(!a.is_from_account("444455556666"));
    /// ```
    pub fn is_from_account(&self, account: &str) -> bool {
        let arn_account = self
            .alarm_arn
            .as_deref()
            .map(|arn| arn.split(':').nth(4).unwrap_or(""));
        let named: Vec<&str> = [self.aws_account_id.as_deref(), arn_account]
            .into_iter()
            .flatten()
            .collect();
        !account.is_empty() && !named.is_empty() && named.iter().all(|a| *a == account)
    }

    /// `StateChangeTime` as epoch milliseconds.
    pub fn state_change_ms(&self) -> Option<i64> {
        parse_alarm_time(self.state_change_time.as_deref()?)
    }

    /// The metrics the alarm watches, as `(namespace, metric name)`: `Trigger.MetricName` or, for a
    /// metric-math alarm, each `Trigger.Metrics[].MetricStat.Metric`.
    pub fn metrics(&self) -> Vec<(String, String)> {
        let Some(trigger) = &self.trigger else {
            return Vec::new();
        };
        if let (Some(ns), Some(name)) = (&trigger.namespace, &trigger.metric_name) {
            return vec![(ns.clone(), name.clone())];
        }
        trigger
            .metrics
            .iter()
            .filter_map(|q| q.metric_stat.as_ref()?.metric.as_ref())
            .filter_map(|m| Some((m.namespace.clone()?, m.metric_name.clone()?)))
            .collect()
    }

    /// Period in seconds (`Trigger.Period` or the first metric-math `MetricStat.Period`).
    pub fn period_secs(&self) -> Option<i64> {
        let trigger = self.trigger.as_ref()?;
        trigger
            .period
            .or_else(|| {
                trigger
                    .metrics
                    .iter()
                    .find_map(|q| q.metric_stat.as_ref()?.period)
            })
            .filter(|p| *p > 0)
    }

    /// The time window whose data put the alarm in its new state, epoch ms: from
    /// `Period × (EvaluationPeriods + 1)` before `StateChangeTime` (one extra period because metric
    /// filter data arrives late) up to `StateChangeTime`. Capped at one day. `None` without a
    /// state-change time.
    pub fn evaluation_window_ms(&self) -> Option<(i64, i64)> {
        let end = self.state_change_ms()?;
        let period = self.period_secs().unwrap_or(60);
        let periods = self
            .trigger
            .as_ref()
            .and_then(|t| t.evaluation_periods)
            .filter(|n| *n > 0)
            .unwrap_or(1);
        let span_ms = period
            .saturating_mul(periods.saturating_add(1))
            .saturating_mul(1000);
        Some((end.saturating_sub(span_ms.min(86_400_000)), end))
    }
}

/// The other shape of an alarm state change: a CloudWatch **Lambda alarm action**
/// (`{"source":"aws.cloudwatch","alarmArn":…,"alarmData":{…}}`) or an **EventBridge** event
/// (`{"detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch","detail":{…}}`),
/// read into the SNS notification's form so it renders and is enriched the same way. `None` when
/// `value` is not one of them.
///
/// ```
/// use logalert::alarm::{AlarmNotification, AlarmState};
/// let event = serde_json::json!({"source": "aws.cloudwatch",
///     "alarmArn": "arn:aws:cloudwatch:us-east-1:444455556666:alarm:demo", "accountId": "444455556666",
///     "alarmData": {"alarmName": "demo",
///         "state": {"value": "ALARM", "reason": "test", "timestamp": "2023-08-04T12:36:15.490+0000"},
///         "previousState": {"value": "OK"},
///         "configuration": {"metrics": [{"id": "m1", "metricStat": {"metric": {"namespace": "AWS/Logs",
///             "name": "CallCount", "dimensions": {"LogGroup": "/app"}}, "period": 60, "stat": "Sum"},
///             "returnData": true}]}}});
/// let alarm = AlarmNotification::from_event(&event).unwrap();
/// assert_eq!(alarm.new_state(), AlarmState::Alarm);
/// assert_eq!(alarm.metrics(), [("AWS/Logs".to_string(), "CallCount".to_string())]);
/// assert_eq!(alarm.region(), Some("us-east-1"));
/// ```
impl AlarmNotification {
    pub fn looks_like_event(value: &serde_json::Value) -> bool {
        value.get("source").and_then(|s| s.as_str()) == Some("aws.cloudwatch")
            && (value.get("alarmData").is_some_and(|d| d.is_object())
                || value
                    .get("detail")
                    .is_some_and(|d| d.get("alarmName").is_some()))
    }

    pub fn from_event(value: &serde_json::Value) -> Option<AlarmNotification> {
        use serde_json::Value;
        if !AlarmNotification::looks_like_event(value) {
            return None;
        }
        let data = value.get("alarmData").or_else(|| value.get("detail"))?;
        let text = |v: &Value, path: &str| -> Option<String> {
            v.pointer(path)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        // AWS's own examples carry stray spaces ("12: 36: 15.490", "us-east-1: 4444…").
        let squeeze = |s: String| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        let config = data.get("configuration").cloned().unwrap_or(Value::Null);
        let metrics: Vec<MetricDataQuery> = config
            .get("metrics")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|m| MetricDataQuery {
                        id: text(m, "/id"),
                        expression: text(m, "/expression"),
                        label: text(m, "/label"),
                        metric_stat: m.get("metricStat").map(|st| MetricStat {
                            metric: Some(MetricRef {
                                metric_name: text(st, "/metric/name"),
                                namespace: text(st, "/metric/namespace"),
                            }),
                            period: st.get("period").and_then(Value::as_i64),
                            stat: text(st, "/stat"),
                        }),
                    })
                    .collect()
            })
            .unwrap_or_default();
        // A single plain metric reads like an SNS `Trigger` with MetricName.
        let single = match metrics.as_slice() {
            [only] if only.expression.is_none() => only.metric_stat.clone(),
            _ => None,
        };
        let dimensions = config
            .pointer("/metrics/0/metricStat/metric/dimensions")
            .and_then(Value::as_object)
            .filter(|_| single.is_some())
            .map(|d| {
                d.iter()
                    .map(|(k, v)| AlarmDimension {
                        name: k.clone(),
                        value: v
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let trigger = (!metrics.is_empty()).then(|| AlarmTrigger {
            metric_name: single
                .as_ref()
                .and_then(|s| s.metric.as_ref()?.metric_name.clone()),
            namespace: single
                .as_ref()
                .and_then(|s| s.metric.as_ref()?.namespace.clone()),
            statistic: single.as_ref().and_then(|s| s.stat.clone()),
            period: single.as_ref().and_then(|s| s.period),
            dimensions,
            metrics: if single.is_some() {
                Vec::new()
            } else {
                metrics.clone()
            },
            ..Default::default()
        });
        let arn = text(value, "/alarmArn")
            .or_else(|| text(value, "/resources/0"))
            .map(squeeze);
        Some(AlarmNotification {
            alarm_name: text(data, "/alarmName")?,
            alarm_description: text(&config, "/description"),
            aws_account_id: text(value, "/accountId")
                .or_else(|| text(value, "/account"))
                .map(squeeze),
            new_state_value: text(data, "/state/value")?,
            new_state_reason: text(data, "/state/reason"),
            state_change_time: text(data, "/state/timestamp")
                .or_else(|| text(value, "/time"))
                .map(squeeze),
            region_name: text(value, "/region"),
            alarm_arn: arn,
            old_state_value: text(data, "/previousState/value"),
            alarm_rule: text(&config, "/alarmRule"),
            trigger,
        })
    }
}

/// Parse CloudWatch's `2024-11-22T02:48:32.123+0000` (also RFC 3339) into epoch milliseconds.
pub fn parse_alarm_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond());
    }
    jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", s)
        .or_else(|_| jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%z", s))
        .ok()?
        .to_timestamp()
        .ok()
        .map(|ts| ts.as_millisecond())
}

/// One log event found behind an alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmLogEvent {
    pub log_stream: String,
    /// Epoch ms.
    pub timestamp: i64,
    pub message: String,
}

/// The log lines behind an alarm, found through one metric filter that publishes its metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmLogs {
    pub filter_name: String,
    pub log_group: String,
    pub filter_pattern: String,
    pub events: Vec<AlarmLogEvent>,
}

/// What enrichment found for an alarm.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlarmEnrichment {
    /// Window searched, epoch ms.
    pub start_ms: i64,
    pub end_ms: i64,
    /// One entry per metric filter behind the alarm's metric(s).
    pub sources: Vec<AlarmLogs>,
    /// Set when enrichment failed part-way; the message says so instead of showing nothing.
    pub failure: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(json: serde_json::Value) -> AlarmNotification {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn lambda_alarm_action_fixtures_read_as_alarms() {
        // aws_lambda_events' fixtures (as published by AWS, stray spaces included).
        let metric: serde_json::Value = serde_json::from_str(include_str!(
            "../tests/fixtures/alarm-events/example-cloudwatch-alarm-metric.json"
        ))
        .unwrap();
        let a = AlarmNotification::from_event(&metric).unwrap();
        assert_eq!(a.alarm_name, "lambda-demo-metric-alarm");
        assert_eq!(a.new_state(), AlarmState::Alarm);
        assert_eq!(a.old_state(), Some(AlarmState::InsufficientData));
        assert_eq!(a.region(), Some("us-east-1"));
        assert_eq!(a.account(), Some("444455556666"));
        assert_eq!(a.state_change_ms(), Some(1_691_152_575_490));
        assert_eq!(
            a.metrics(),
            [("AWS/Logs".to_string(), "CallCount".to_string())]
        );
        assert_eq!(a.period_secs(), Some(60));
        let t = a.trigger.as_ref().unwrap();
        assert_eq!(
            (
                t.dimensions[0].name.as_str(),
                t.dimensions[0].value.as_str()
            ),
            ("InstanceId", "i-12345678")
        );
        assert_eq!(
            a.alarm_description.as_deref(),
            Some("Metric Alarm to test Lambda actions")
        );
        let composite: serde_json::Value = serde_json::from_str(include_str!(
            "../tests/fixtures/alarm-events/example-cloudwatch-alarm-composite.json"
        ))
        .unwrap();
        let c = AlarmNotification::from_event(&composite).unwrap();
        assert_eq!(c.alarm_name, "CompositeDemo.Main");
        assert!(
            c.alarm_rule
                .as_deref()
                .unwrap()
                .starts_with("ALARM(CompositeDemo.FirstChild)")
        );
        assert!(c.metrics().is_empty());
        // The SNS form and other JSON are not events.
        assert!(
            AlarmNotification::from_event(
                &serde_json::json!({"AlarmName": "a", "NewStateValue": "OK"})
            )
            .is_none()
        );
        assert!(
            AlarmNotification::from_event(&serde_json::json!({"source": "aws.cloudwatch"}))
                .is_none()
        );
        assert!(
            AlarmNotification::from_event(
                &serde_json::json!({"source": "aws.cloudwatch", "alarmData": {}})
            )
            .is_none()
        );
    }

    #[test]
    fn only_alarms_of_the_given_account() {
        let from = |id: Option<&str>, arn: Option<&str>| {
            let mut v = serde_json::json!({"AlarmName":"a","NewStateValue":"ALARM"});
            if let Some(id) = id {
                v["AWSAccountId"] = id.into();
            }
            if let Some(arn) = arn {
                v["AlarmArn"] = arn.into();
            }
            alarm(v)
        };
        let ours = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a";
        let theirs = "arn:aws:cloudwatch:eu-west-1:444455556666:alarm:a";
        assert!(from(Some("111122223333"), Some(ours)).is_from_account("111122223333"));
        assert!(from(Some("111122223333"), None).is_from_account("111122223333"));
        assert!(from(None, Some(ours)).is_from_account("111122223333"));
        assert!(!from(Some("111122223333"), Some(theirs)).is_from_account("111122223333"));
        assert!(!from(Some("444455556666"), Some(ours)).is_from_account("111122223333"));
        assert!(
            !from(None, None).is_from_account("111122223333"),
            "names no account"
        );
        assert!(!from(None, Some("arn:aws:cloudwatch")).is_from_account("111122223333"));
        assert!(
            !from(Some(""), None).is_from_account(""),
            "an unknown own account"
        );
    }

    #[test]
    fn eventbridge_alarm_state_change_reads_as_an_alarm() {
        let event = serde_json::json!({
            "version": "0", "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
            "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
            "account": "123456789012", "time": "2019-10-02T17:04:40Z", "region": "us-east-1",
            "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"],
            "detail": {"alarmName": "ServerCpuTooHigh",
                "state": {"value": "OK", "reason": "Threshold Crossed", "timestamp": "2019-10-02T17:04:40.985+0000"},
                "previousState": {"value": "ALARM", "timestamp": "2019-10-02T17:01:40.985+0000"},
                "configuration": {"description": "Goes into alarm when server CPU utilization is too high!",
                    "metrics": [{"id": "30b6c6b2-a864-43a2-4877-c09a1afc3b87",
                        "metricStat": {"metric": {"dimensions": {"InstanceId": "i-12345678901234567"},
                            "name": "CPUUtilization", "namespace": "AWS/EC2"}, "period": 300, "stat": "Average"},
                        "returnData": true}]}}
        });
        let a = AlarmNotification::from_event(&event).unwrap();
        assert!(a.is_resolved());
        assert_eq!(
            a.alarm_arn.as_deref(),
            Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh")
        );
        assert_eq!(a.account(), Some("123456789012"));
        assert_eq!(
            a.metrics(),
            [("AWS/EC2".to_string(), "CPUUtilization".to_string())]
        );
        assert_eq!(a.evaluation_window_ms().unwrap().1, 1_570_035_880_985);
    }

    #[test]
    fn requires_name_and_state() {
        assert!(AlarmNotification::from_json(r#"{"AlarmName":"x"}"#).is_err());
        assert!(AlarmNotification::from_json(r#"{"NewStateValue":"OK"}"#).is_err());
        assert!(AlarmNotification::from_json(r#"{"AlarmName":"x","NewStateValue":"OK"}"#).is_ok());
    }

    #[test]
    fn states_and_resolution() {
        let a = alarm(
            serde_json::json!({"AlarmName":"a","NewStateValue":"OK","OldStateValue":"INSUFFICIENT_DATA"}),
        );
        assert!(!a.is_resolved());
        assert_eq!(a.old_state(), Some(AlarmState::InsufficientData));
        let a = alarm(serde_json::json!({"AlarmName":"a","NewStateValue":"WEIRD"}));
        assert_eq!(a.new_state(), AlarmState::Other("WEIRD".into()));
        assert_eq!(a.new_state().as_str(), "WEIRD");
    }

    #[test]
    fn times() {
        assert_eq!(
            parse_alarm_time("2024-11-22T02:48:32.123+0000"),
            Some(1_732_243_712_123)
        );
        assert_eq!(
            parse_alarm_time("2024-11-22T02:48:32+0000"),
            Some(1_732_243_712_000)
        );
        assert_eq!(
            parse_alarm_time("2024-11-22T02:48:32.5Z"),
            Some(1_732_243_712_500)
        );
        assert_eq!(parse_alarm_time("yesterday"), None);
    }

    #[test]
    fn window_and_metrics() {
        let a = alarm(serde_json::json!({
            "AlarmName":"a","NewStateValue":"ALARM","StateChangeTime":"2024-11-22T02:48:32.000+0000",
            "Trigger":{"Metrics":[{"Id":"e1","Expression":"m1*2"},
                {"Id":"m1","MetricStat":{"Metric":{"MetricName":"Errors","Namespace":"app"},"Period":300}}],
                "EvaluationPeriods":2}
        }));
        assert_eq!(a.metrics(), vec![("app".to_string(), "Errors".to_string())]);
        let (start, end) = a.evaluation_window_ms().unwrap();
        assert_eq!(end - start, 3 * 300 * 1000);
        // Absurd periods are capped at a day.
        let a = alarm(serde_json::json!({
            "AlarmName":"a","NewStateValue":"ALARM","StateChangeTime":"2024-11-22T02:48:32.000+0000",
            "Trigger":{"MetricName":"m","Namespace":"n","Period":86400,"EvaluationPeriods":100}
        }));
        let (start, end) = a.evaluation_window_ms().unwrap();
        assert_eq!(end - start, 86_400_000);
    }
}
