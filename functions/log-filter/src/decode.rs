//! Decode: a Lambda event (direct subscription delivery or Kinesis batch) → subscription payloads.
//! Each Kinesis record decodes on its own, so one corrupt record fails alone.

use logalert::payload::{self, DecodeError, InvocationEvent, LogsPayload};
use serde_json::Value;

/// A decoded invocation event.
#[derive(Debug)]
pub enum Decoded {
    /// `{"awslogs":{"data":…}}`.
    Direct(Result<LogsPayload, DecodeError>),
    /// Kinesis records: (sequence number, decoded payload or why not).
    Kinesis(Vec<(String, Result<LogsPayload, DecodeError>)>),
}

/// Recognise the event's shape, then decode each payload.
pub fn decode_event(event: &Value) -> Result<Decoded, DecodeError> {
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
