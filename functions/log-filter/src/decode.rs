//! Decode: a Lambda event (direct subscription delivery, Kinesis batch, or the scheduled tick) →
//! subscription payloads or a tick. Each Kinesis record decodes on its own, so one corrupt record
//! fails alone.
//!
//! The tick is the EventBridge scheduled event `template.yaml` sends every minute:
//! `{"source":"aws.events","detail-type":"Scheduled Event","time":"…",…}`. Any other EventBridge
//! event (another source or detail type) is refused with an error naming it, rather than taken
//! for a tick or a malformed payload.

use logalert::payload::{self, DecodeError, InvocationEvent, LogsPayload};
use serde_json::Value;

/// A decoded invocation event.
#[derive(Debug)]
pub enum Decoded {
    /// `{"awslogs":{"data":…}}`.
    Direct(Result<LogsPayload, DecodeError>),
    /// Kinesis records: (sequence number, decoded payload or why not).
    Kinesis(Vec<(String, Result<LogsPayload, DecodeError>)>),
    /// The scheduled tick: publish what is due.
    Tick,
}

/// `source` and `detail-type` of the scheduled tick.
pub const TICK_SOURCE: &str = "aws.events";
pub const TICK_DETAIL_TYPE: &str = "Scheduled Event";

/// An EventBridge event that is not the tick.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "an EventBridge event that is not the scheduled tick (source {event_source:?}, detail-type {detail_type:?}); log-filter expects {TICK_SOURCE:?} / {TICK_DETAIL_TYPE:?}"
)]
pub struct NotATick {
    pub event_source: String,
    pub detail_type: String,
}

/// Is `event` an EventBridge event (it has `source` and `detail-type`)? If so, is it the tick?
pub fn eventbridge(event: &Value) -> Option<Result<(), NotATick>> {
    let source = event.get("source")?.as_str()?;
    let detail_type = event.get("detail-type")?.as_str()?;
    Some(
        if source == TICK_SOURCE && detail_type == TICK_DETAIL_TYPE {
            Ok(())
        } else {
            Err(NotATick {
                event_source: source.to_string(),
                detail_type: detail_type.to_string(),
            })
        },
    )
}

/// Recognise the event's shape, then decode each payload. (An EventBridge event that is not the
/// tick is [`NotATick`]: see [`eventbridge`], which the handler asks first.)
pub fn decode_event(event: &Value) -> Result<Decoded, DecodeError> {
    if let Some(Ok(())) = eventbridge(event) {
        return Ok(Decoded::Tick);
    }
    Ok(match InvocationEvent::from_json(event)? {
        InvocationEvent::Direct(data) => Decoded::Direct(payload::decode_awslogs_data(&data)),
        InvocationEvent::Kinesis(records) => Decoded::Kinesis(
            records
                .into_iter()
                .map(|r| {
                    let decoded = payload::decode_awslogs_data(&r.data);
                    (r.sequence_number, decoded)
                })
                .collect(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_scheduled_event_is_a_tick_and_other_eventbridge_events_are_named() {
        let tick = json!({"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
            "time": "2026-12-01T08:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/logalert-tick"], "detail": {}});
        assert!(matches!(decode_event(&tick), Ok(Decoded::Tick)));
        assert_eq!(eventbridge(&tick), Some(Ok(())));
        let other = json!({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {}});
        let err = eventbridge(&other).unwrap().unwrap_err();
        assert_eq!(err.event_source, "aws.ec2");
        assert!(
            err.to_string()
                .contains("EC2 Instance State-change Notification"),
            "{err}"
        );
        // Not EventBridge at all: the subscription decoders decide.
        assert_eq!(eventbridge(&json!({"awslogs": {"data": ""}})), None);
        assert_eq!(
            eventbridge(&json!({"source": 1, "detail-type": "Scheduled Event"})),
            None
        );
    }
}
