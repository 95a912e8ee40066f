//! CloudWatch Logs subscription payloads: decoding what CloudWatch Logs delivers.
//!
//! ```
//! use logalert::payload::{self, MessageType};
//! # let json = br#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/app",
//! #   "logStream":"s1","subscriptionFilters":["f"],
//! #   "logEvents":[{"id":"1","timestamp":1700000000000,"message":"ERROR db down"}]}"#;
//! # let data = payload::encode_awslogs_data(json);
//! // `data` is the `awslogs.data` string of a direct subscription delivery:
//! // base64 of gzip of the JSON below.
//! let decoded = payload::decode_awslogs_data(&data).unwrap();
//! assert_eq!(decoded.message_type, MessageType::Data);
//! assert_eq!(decoded.log_events[0].message, "ERROR db down");
//! ```
//!
//! Two delivery shapes reach log-filter (see [`InvocationEvent::from_json`]):
//!
//! * **direct** — `{"awslogs":{"data":"<base64(gzip(JSON))>"}}`, one payload per invocation;
//! * **Kinesis** — `{"Records":[{"kinesis":{"data":"<base64(gzip(JSON))>","sequenceNumber":…}}…]}`:
//!   the record data is gzip(JSON) (base64 only because the Lambda event is JSON).
//!
//! Every failure is a [`DecodeError`] that names the stage (base64, gzip, JSON) and, for JSON, the
//! line/column — the caller fails the invocation (direct) or reports the record as a batch item
//! failure (Kinesis), so the payload is retried and finally dead-lettered, never silently dropped.
//!
//! We decode by hand rather than through `aws_lambda_events::cloudwatch_logs::LogsEvent` because that
//! type rejects numeric event ids and extra keys, and a failure inside the runtime's deserialiser
//! cannot be counted (`DecodeFailures`) or tied to a Kinesis record.

use std::io::Read;

use base64::Engine as _;

mod envelope;

pub(crate) use envelope::special_offset;
pub(crate) use envelope::unquote as unquote_json_string;
use serde::{Deserialize, Deserializer};

/// Largest decompressed payload accepted (a guard against gzip bombs). CloudWatch Logs batches are
/// at most ~1 MB of messages plus JSON overhead; 32 MiB leaves ample room.
pub const MAX_DECOMPRESSED_BYTES: u64 = 32 * 1024 * 1024;

/// `messageType` of a subscription payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// Log events to evaluate.
    Data,
    /// Health check sent when a subscription is created: acknowledged and ignored.
    Control,
}

/// One log event of a subscription payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LogEvent {
    /// CloudWatch's unique event id (a 56-digit decimal string; emulators send numbers, accepted too).
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// Event time, epoch milliseconds.
    pub timestamp: i64,
    pub message: String,
}

/// A decoded subscription payload (`DATA_MESSAGE` or `CONTROL_MESSAGE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsPayload {
    pub message_type: MessageType,
    /// Account id that owns the log data (`CloudwatchLogs` in control messages).
    pub owner: String,
    pub log_group: String,
    pub log_stream: String,
    pub subscription_filters: Vec<String>,
    /// `ACCOUNT_LEVEL_POLICY` for deliveries through an account-level subscription policy.
    pub policy_level: Option<String>,
    pub log_events: Vec<LogEvent>,
}

impl LogsPayload {
    pub fn is_control(&self) -> bool {
        self.message_type == MessageType::Control
    }
}

/// Why a payload could not be decoded. The `Display` text names the stage and the place.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid base64 in payload data: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("payload data is not gzip (it does not start with the gzip magic bytes 1f 8b)")]
    NotGzip,
    #[error("corrupt or truncated gzip stream in payload data: {0}")]
    Gzip(std::io::Error),
    #[error("decompressed payload is larger than {MAX_DECOMPRESSED_BYTES} bytes")]
    TooLarge,
    #[error("payload is not a CloudWatch Logs subscription message: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unknown messageType {0:?} (expected DATA_MESSAGE or CONTROL_MESSAGE)")]
    MessageType(String),
    #[error(
        "unrecognised invocation event: expected {{\"awslogs\":{{\"data\":…}}}} or a Kinesis \
         event {{\"Records\":[{{\"kinesis\":{{\"data\":…}}}}]}}; {0}"
    )]
    EventShape(String),
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPayload {
    message_type: String,
    owner: String,
    log_group: String,
    log_stream: String,
    #[serde(default)]
    subscription_filters: Vec<String>,
    #[serde(default)]
    policy_level: Option<String>,
    log_events: Vec<LogEvent>,
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        N(serde_json::Number),
    }
    Ok(match Id::deserialize(d)? {
        Id::S(s) => s,
        Id::N(n) => n.to_string(),
    })
}

/// Standard base64 alphabet, padding optional (some producers strip it).
const B64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Decode `awslogs.data` (or a Kinesis record's `data`): base64 → gzip → JSON.
pub fn decode_awslogs_data(data: &str) -> Result<LogsPayload, DecodeError> {
    let gz = B64.decode(data.trim())?;
    decode_gzip(&gz)
}

/// Decode gzip-compressed payload JSON (a Kinesis record's bytes, a Firehose object).
pub fn decode_gzip(gz: &[u8]) -> Result<LogsPayload, DecodeError> {
    let json = gunzip(gz)?;
    parse_json(&json)
}

/// Decompress a gzip stream, refusing anything that does not look like gzip or inflates past
/// [`MAX_DECOMPRESSED_BYTES`].
pub fn gunzip(gz: &[u8]) -> Result<Vec<u8>, DecodeError> {
    if !gz.starts_with(&[0x1f, 0x8b]) {
        return Err(DecodeError::NotGzip);
    }
    let mut out = Vec::with_capacity(gz.len().saturating_mul(8).min(16 << 20));
    let mut reader = flate2::read::MultiGzDecoder::new(gz).take(MAX_DECOMPRESSED_BYTES + 1);
    reader.read_to_end(&mut out).map_err(DecodeError::Gzip)?;
    if out.len() as u64 > MAX_DECOMPRESSED_BYTES {
        return Err(DecodeError::TooLarge);
    }
    Ok(out)
}

/// Parse the decoded payload JSON.
///
/// The plain envelope CloudWatch Logs writes is read by a fast path (`payload/envelope.rs`: one
/// UTF-8 check and a vectorised unescape instead of serde_json's per-escape work); anything else
/// — extra keys, numeric ids, every malformed payload — is parsed by serde_json, so the answers
/// and the error messages are serde_json's.
pub fn parse_json(json: &[u8]) -> Result<LogsPayload, DecodeError> {
    let raw = match envelope::parse(json) {
        Some(raw) => raw,
        None => serde_json::from_slice(json)?,
    };
    from_raw(raw)
}

/// Parse a decoded payload held as a JSON value (e.g. a decoded payload given to `logalert replay`).
pub fn from_value(value: serde_json::Value) -> Result<LogsPayload, DecodeError> {
    from_raw(serde_json::from_value(value)?)
}

fn from_raw(raw: RawPayload) -> Result<LogsPayload, DecodeError> {
    let message_type = match raw.message_type.as_str() {
        "DATA_MESSAGE" => MessageType::Data,
        "CONTROL_MESSAGE" => MessageType::Control,
        _ => return Err(DecodeError::MessageType(raw.message_type)),
    };
    Ok(LogsPayload {
        message_type,
        owner: raw.owner,
        log_group: raw.log_group,
        log_stream: raw.log_stream,
        subscription_filters: raw.subscription_filters,
        policy_level: raw.policy_level,
        log_events: raw.log_events,
    })
}

/// Encode payload JSON as CloudWatch Logs does (gzip, then standard padded base64). For tests,
/// fixtures and `logalert replay`'s round trips.
pub fn encode_awslogs_data(json: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(gzip(json))
}

/// Gzip `bytes` (what a Kinesis record carries).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    enc.write_all(bytes).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// One Kinesis record of a Lambda Kinesis event: its identity and still-encoded data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisRecord {
    /// `kinesis.sequenceNumber`: the `itemIdentifier` of a batch item failure.
    pub sequence_number: String,
    /// `kinesis.data`: base64 of gzip(JSON).
    pub data: String,
}

/// The shapes a log-filter invocation can have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationEvent {
    /// `{"awslogs":{"data":…}}` — the still-encoded data.
    Direct(String),
    /// A Kinesis batch.
    Kinesis(Vec<KinesisRecord>),
}

impl InvocationEvent {
    /// Recognise the event shape without decoding the payloads (each record decodes on its own, so
    /// one corrupt record fails alone).
    pub fn from_json(event: &serde_json::Value) -> Result<InvocationEvent, DecodeError> {
        let shape = |m: &str| DecodeError::EventShape(m.to_string());
        if let Some(awslogs) = event.get("awslogs") {
            let data = awslogs
                .get("data")
                .and_then(|d| d.as_str())
                .ok_or_else(|| shape("`awslogs.data` is missing or not a string"))?;
            return Ok(InvocationEvent::Direct(data.to_string()));
        }
        if let Some(records) = event.get("Records") {
            let records = records
                .as_array()
                .ok_or_else(|| shape("`Records` is not a list"))?;
            let mut out = Vec::with_capacity(records.len());
            for (i, record) in records.iter().enumerate() {
                let kinesis = record
                    .get("kinesis")
                    .ok_or_else(|| shape(&format!("`Records[{i}]` has no `kinesis` object")))?;
                let field = |name: &str| {
                    kinesis.get(name).and_then(|v| v.as_str()).ok_or_else(|| {
                        shape(&format!(
                            "`Records[{i}].kinesis.{name}` is missing or not a string"
                        ))
                    })
                };
                out.push(KinesisRecord {
                    sequence_number: field("sequenceNumber")?.to_string(),
                    data: field("data")?.to_string(),
                });
            }
            return Ok(InvocationEvent::Kinesis(out));
        }
        Err(shape("it has neither `awslogs` nor `Records`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012",
        "logGroup":"/aws/lambda/echo","logStream":"2019/03/13/[$LATEST]94fa",
        "subscriptionFilters":["f"],
        "logEvents":[{"id":"34622316099697884706540976068822859012661220141643892546",
                      "timestamp":1552518348220,"message":"REPORT RequestId: 1\n"}]}"#;

    #[test]
    fn round_trip() {
        let p = decode_awslogs_data(&encode_awslogs_data(SAMPLE.as_bytes())).unwrap();
        assert_eq!(p.log_group, "/aws/lambda/echo");
        assert_eq!(p.log_events.len(), 1);
        assert_eq!(p.log_events[0].timestamp, 1552518348220);
    }

    #[test]
    fn unpadded_base64_is_accepted() {
        let data = encode_awslogs_data(SAMPLE.as_bytes());
        let unpadded = data.trim_end_matches('=');
        assert!(decode_awslogs_data(unpadded).is_ok());
    }
}
