//! What an SNS message is: a logalert alert, a CloudWatch alarm notification, other JSON, or text —
//! and, for the CLI, finding the SNS message(s) in whatever was pasted (a bare message body, an SNS
//! record, a Lambda SNS event, or an SNS HTTP/SQS notification).
//!
//! ```
//! use logalert::slack::incoming::{Incoming, SnsEnvelope};
//! assert!(matches!(Incoming::classify("disk full on db-1"), Incoming::Text(_)));
//! assert!(matches!(Incoming::classify(r#"{"AlarmName":"a","NewStateValue":"OK"}"#), Incoming::Alarm(_)));
//! let envs = SnsEnvelope::from_input(r#"{"Records":[{"EventSource":"aws:sns","Sns":{
//!     "MessageId":"m-1","Subject":"hi","Message":"hello",
//!     "MessageAttributes":{"channel":{"Type":"String","Value":"ops"}}}}]}"#);
//! assert_eq!(envs[0].message, "hello");
//! assert_eq!(envs[0].attribute("channel"), Some("ops"));
//! ```
//!
//! Classification never fails: a body that claims to be a logalert alert or an alarm but does not
//! parse is shown as JSON with a note saying what is wrong, so nothing is dropped.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::alarm::AlarmNotification;
use crate::alert::{ALERT_VERSION, AlertMessage, KIND_LOG_MATCH, KIND_RESOLVED, KIND_SUMMARY};

/// The `kind`s of a logalert alert message.
pub const ALERT_KINDS: [&str; 3] = [KIND_LOG_MATCH, KIND_SUMMARY, KIND_RESOLVED];

/// The channel used when a message names none, or names one without a webhook.
pub const DEFAULT_CHANNEL: &str = "default";

/// A classified SNS message body.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Alert(Box<AlertMessage>),
    Alarm(Box<AlarmNotification>),
    /// JSON of another shape; `note` says why a known-looking shape was not accepted.
    Json {
        value: Value,
        note: Option<String>,
    },
    Text(String),
}

impl Incoming {
    pub fn classify(message: &str) -> Incoming {
        let trimmed = message.trim();
        if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
            return Incoming::Text(message.to_string());
        }
        let Ok(value) = serde_json::from_str::<Value>(trimmed) else {
            return Incoming::Text(message.to_string());
        };
        if AlarmNotification::looks_like(&value) {
            return match serde_json::from_value::<AlarmNotification>(value.clone()) {
                Ok(alarm) => Incoming::Alarm(Box::new(alarm)),
                Err(e) => Incoming::Json {
                    value,
                    note: Some(format!(
                        "looks like a CloudWatch alarm but could not be read: {e}"
                    )),
                },
            };
        }
        // The same state change as a Lambda alarm action or an EventBridge event (also when an
        // EventBridge rule targets the SNS topic).
        if let Some(alarm) = AlarmNotification::from_event(&value) {
            return Incoming::Alarm(Box::new(alarm));
        }
        let kind = value.get("kind").and_then(Value::as_str);
        if kind.is_some_and(|k| ALERT_KINDS.contains(&k)) {
            let version = value.get("version").and_then(Value::as_u64);
            if version != Some(u64::from(ALERT_VERSION)) {
                let shown = value
                    .get("version")
                    .map(Value::to_string)
                    .unwrap_or("none".into());
                return Incoming::Json {
                    value,
                    note: Some(format!(
                        "logalert alert with unsupported version {shown} (this notifier reads version {ALERT_VERSION})"
                    )),
                };
            }
            // Parse from the text (not the Value) so the error carries a line and column.
            return match serde_json::from_str::<AlertMessage>(trimmed) {
                Ok(alert) => Incoming::Alert(Box::new(alert)),
                Err(e) => Incoming::Json {
                    value,
                    note: Some(format!("logalert alert v1 that could not be read: {e}")),
                },
            };
        }
        Incoming::Json { value, note: None }
    }

    /// Where the message goes: the alert's `channel`, else the SNS `channel` message attribute, else
    /// [`DEFAULT_CHANNEL`].
    pub fn channel<'a>(&'a self, envelope_channel: Option<&'a str>) -> &'a str {
        let named = match self {
            Incoming::Alert(alert) => Some(alert.channel.as_str()),
            _ => None,
        };
        named
            .or(envelope_channel)
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .unwrap_or(DEFAULT_CHANNEL)
    }

    /// A short name of the kind, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Incoming::Alert(_) => "alert",
            Incoming::Alarm(_) => "alarm",
            Incoming::Json { .. } => "json",
            Incoming::Text(_) => "text",
        }
    }
}

/// One SNS message as the notifier sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnsEnvelope {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub message: String,
    /// String-valued message attributes.
    pub attributes: BTreeMap<String, String>,
}

impl SnsEnvelope {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// Find SNS messages in `input`: a Lambda SNS event (`{"Records":[{"Sns":{…}}]}`), one record
    /// (`{"Sns":{…}}`), an SNS notification (`{"Type":"Notification","Message":…}`, as delivered to
    /// HTTP and SQS subscribers), or else the input itself as the message body.
    pub fn from_input(input: &str) -> Vec<SnsEnvelope> {
        let whole = || {
            vec![SnsEnvelope {
                message: input.trim_end_matches('\n').to_string(),
                ..Default::default()
            }]
        };
        let Ok(value) = serde_json::from_str::<Value>(input.trim()) else {
            return whole();
        };
        if let Some(records) = value.get("Records").and_then(Value::as_array) {
            let found: Vec<SnsEnvelope> = records
                .iter()
                .filter_map(|r| r.get("Sns"))
                .filter_map(envelope_of)
                .collect();
            if !found.is_empty() {
                return found;
            }
        }
        if let Some(sns) = value.get("Sns")
            && let Some(env) = envelope_of(sns)
        {
            return vec![env];
        }
        if value.get("Type").and_then(Value::as_str) == Some("Notification")
            && let Some(env) = envelope_of(&value)
        {
            return vec![env];
        }
        whole()
    }
}

/// An SNS message object (`MessageId`, `Subject`, `Message`, `MessageAttributes`).
fn envelope_of(sns: &Value) -> Option<SnsEnvelope> {
    let message = sns.get("Message")?.as_str()?.to_string();
    let text = |k: &str| sns.get(k).and_then(Value::as_str).map(str::to_string);
    let mut attributes = BTreeMap::new();
    if let Some(attrs) = sns.get("MessageAttributes").and_then(Value::as_object) {
        for (name, attr) in attrs {
            // Lambda events use Type/Value; the SNS API and SQS deliveries use DataType/StringValue.
            let v = attr
                .get("Value")
                .or_else(|| attr.get("StringValue"))
                .and_then(Value::as_str);
            if let Some(v) = v {
                attributes.insert(name.clone(), v.to_string());
            }
        }
    }
    Some(SnsEnvelope {
        message_id: text("MessageId"),
        subject: text("Subject").filter(|s| !s.is_empty()),
        message,
        attributes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(matches!(Incoming::classify("plain"), Incoming::Text(_)));
        assert!(matches!(Incoming::classify("{not json"), Incoming::Text(_)));
        assert!(matches!(
            Incoming::classify("[1,2]"),
            Incoming::Json { note: None, .. }
        ));
        assert!(matches!(
            Incoming::classify(r#"{"a":1}"#),
            Incoming::Json { note: None, .. }
        ));
        let Incoming::Json {
            note: Some(note), ..
        } = Incoming::classify(r#"{"kind":"log-match","version":2}"#)
        else {
            panic!("expected a note")
        };
        assert!(note.contains("unsupported version 2"), "{note}");
        let Incoming::Json {
            note: Some(note), ..
        } = Incoming::classify(r#"{"kind":"log-match","version":1,"rule":{}}"#)
        else {
            panic!("expected a note")
        };
        assert!(
            note.contains("could not be read") && note.contains("column"),
            "{note}"
        );
        let Incoming::Json {
            note: Some(note), ..
        } = Incoming::classify(r#"{"AlarmName":1,"NewStateValue":"OK"}"#)
        else {
            panic!("expected a note")
        };
        assert!(note.contains("CloudWatch alarm"), "{note}");
    }

    #[test]
    fn alarm_events_are_alarms() {
        let event =
            include_str!("../../tests/fixtures/alarm-events/example-cloudwatch-alarm-metric.json");
        let Incoming::Alarm(a) = Incoming::classify(event) else {
            panic!("a Lambda alarm action is an alarm")
        };
        assert_eq!(a.alarm_name, "lambda-demo-metric-alarm");
    }

    #[test]
    fn every_alert_kind_is_an_alert() {
        for kind in ALERT_KINDS {
            let body = serde_json::json!({"version":1,"kind":kind,"alert_id":"a","incident_id":"i",
                "rule":{"name":"r","type":"any","severity":"error","description":null},
                "account":"1","region":"us-east-1","log_group":"/g","query_key":null,
                "count":0,"suppressed":3,"first_timestamp":0,"last_timestamp":0,
                "samples":[],"truncated":false,"channel":"c","mention":[]});
            let Incoming::Alert(a) = Incoming::classify(&body.to_string()) else {
                panic!("{kind} is an alert")
            };
            assert_eq!(a.kind, kind);
        }
        // An unknown kind is other JSON (shown, not dropped).
        assert!(matches!(
            Incoming::classify(r#"{"version":1,"kind":"digest","rule":{}}"#),
            Incoming::Json { note: None, .. }
        ));
    }

    #[test]
    fn channels() {
        let text = Incoming::classify("x");
        assert_eq!(text.channel(None), "default");
        assert_eq!(text.channel(Some("ops")), "ops");
        assert_eq!(text.channel(Some("  ")), "default");
    }

    #[test]
    fn envelopes() {
        assert_eq!(SnsEnvelope::from_input("hello\n")[0].message, "hello");
        assert_eq!(
            SnsEnvelope::from_input(r#"{"a":1}"#)[0].message,
            r#"{"a":1}"#
        );
        let n = SnsEnvelope::from_input(
            r#"{"Type":"Notification","MessageId":"x","Subject":"","Message":"m",
                "MessageAttributes":{"channel":{"DataType":"String","StringValue":"c"}}}"#,
        );
        assert_eq!(n[0].message_id.as_deref(), Some("x"));
        assert_eq!(n[0].subject, None);
        assert_eq!(n[0].attribute("channel"), Some("c"));
        let rec = SnsEnvelope::from_input(r#"{"Sns":{"Message":"m2"}}"#);
        assert_eq!(rec[0].message, "m2");
        let two = SnsEnvelope::from_input(
            r#"{"Records":[{"Sns":{"Message":"a"}},{"Sns":{"Message":"b"}}]}"#,
        );
        assert_eq!(two.len(), 2);
    }
}
