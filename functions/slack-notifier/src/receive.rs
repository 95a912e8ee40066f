//! Receive: what invokes the notifier — SNS records, or a CloudWatch alarm state change delivered
//! directly (a Lambda alarm action, or an EventBridge rule targeting the function) — as the shared
//! [`SnsEnvelope`]s the renderers read.

use aws_lambda_events::event::sns::{SnsEvent, SnsRecord};
use logalert::alarm::AlarmNotification;
use logalert::slack::SnsEnvelope;
use serde_json::Value;

/// Envelopes for any invocation payload. `Err` names what the payload is not.
pub fn envelopes_of(payload: &Value) -> Result<Vec<SnsEnvelope>, String> {
    if payload.get("Records").is_some() {
        let event: SnsEvent = serde_json::from_value(payload.clone())
            .map_err(|e| format!("not an SNS event: {e}"))?;
        return Ok(envelopes(&event));
    }
    if AlarmNotification::looks_like_event(payload) {
        return Ok(vec![alarm_event_envelope(payload)]);
    }
    Err("neither an SNS event nor a CloudWatch alarm state change".into())
}

/// A Lambda alarm action / EventBridge event as an envelope. Its de-duplication id: the
/// EventBridge event id, else the alarm ARN and state timestamp (the same state change redelivered
/// gives the same id).
pub fn alarm_event_envelope(payload: &Value) -> SnsEnvelope {
    let text = |p: &str| payload.pointer(p).and_then(Value::as_str).map(str::trim);
    let id = text("/id")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| {
            let arn = text("/alarmArn").or_else(|| text("/resources/0"))?;
            let at =
                text("/alarmData/state/timestamp").or_else(|| text("/detail/state/timestamp"))?;
            Some(format!("alarm:{arn}:{at}").replace(' ', ""))
        });
    SnsEnvelope {
        message_id: id,
        subject: None,
        message: payload.to_string(),
        attributes: Default::default(),
    }
}

/// One envelope per record, in order.
pub fn envelopes(event: &SnsEvent) -> Vec<SnsEnvelope> {
    event.records.iter().map(envelope).collect()
}

pub fn envelope(record: &SnsRecord) -> SnsEnvelope {
    let sns = &record.sns;
    SnsEnvelope {
        message_id: Some(sns.message_id.clone()).filter(|m| !m.is_empty()),
        subject: sns.subject.clone().filter(|s| !s.trim().is_empty()),
        message: sns.message.clone(),
        attributes: sns
            .message_attributes
            .iter()
            .filter(|(_, a)| a.data_type.starts_with("String"))
            .map(|(k, a)| (k.clone(), a.value.clone()))
            .collect(),
    }
}
