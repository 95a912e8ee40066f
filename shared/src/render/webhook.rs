//! The generic webhook: the alert JSON itself, POSTed with headers that let the receiver
//! authenticate it and de-duplicate it.
//!
//! | header | value |
//! |---|---|
//! | `Content-Type` | `application/json` |
//! | `Logalert-Alert-Id` | the alert's `alert_id` (for other messages, `sns:<MessageId>`) |
//! | `Idempotency-Key` | the same value (the IETF `Idempotency-Key` header) |
//! | `Logalert-Timestamp` | Unix seconds when the request was signed |
//! | `Logalert-Signature` | `v1=` + hex HMAC-SHA256(secret, `"{timestamp}.{body}"`) |
//!
//! The signature covers the timestamp and the exact body bytes, so a receiver can reject forged
//! requests and replays older than a few minutes:
//!
//! ```
//! use logalert::render::webhook::{sign, verify};
//! let body = br#"{"version":1,"kind":"log-match"}"#;
//! let sig = sign(b"s3cret", 1_700_000_000, body);
//! assert!(sig.starts_with("v1="));
//! // Receiver side: recompute, compare in constant time, check the age.
//! assert!(verify(b"s3cret", "1700000000", body, &sig, 1_700_000_100, 300).is_ok());
//! assert!(verify(b"s3cret", "1700000000", body, &sig, 1_700_000_400, 300).is_err()); // too old
//! assert!(verify(b"other", "1700000000", body, &sig, 1_700_000_100, 300).is_err());
//! ```
//!
//! Body: for a logalert alert, the alert message (version 1, see docs/alert-message.md) with its
//! log-derived text redacted by the notifier's `REDACT_PATTERNS` (and control characters removed);
//! for a CloudWatch alarm `{"version":1,"kind":"alarm","alarm":{…as CloudWatch sent it…},
//! "log_events":[…]}`; for anything else `{"version":1,"kind":"message","subject":…,"message":…}`.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::alarm::AlarmEnrichment;
use crate::alert::AlertMessage;
use crate::slack::card::readable;
use crate::slack::{Incoming, RenderOptions};

pub const HEADER_ALERT_ID: &str = "Logalert-Alert-Id";
pub const HEADER_IDEMPOTENCY_KEY: &str = "Idempotency-Key";
pub const HEADER_TIMESTAMP: &str = "Logalert-Timestamp";
pub const HEADER_SIGNATURE: &str = "Logalert-Signature";

type HmacSha256 = Hmac<Sha256>;

/// The body a webhook receives for `incoming` (see the module docs).
pub fn render(
    incoming: &Incoming,
    subject: Option<&str>,
    enrichment: Option<&AlarmEnrichment>,
    opts: &RenderOptions,
) -> Value {
    match incoming {
        Incoming::Alert(alert) => {
            serde_json::to_value(redacted(alert, opts)).expect("an alert serialises")
        }
        Incoming::Alarm(alarm) => {
            let events: Vec<Value> = enrichment
                .map(|e| {
                    e.sources
                        .iter()
                        .flat_map(|s| {
                            s.events.iter().map(move |ev| {
                                json!({"log_group": s.log_group, "log_stream": ev.log_stream,
                                       "timestamp": ev.timestamp, "message": readable(&ev.message, opts)})
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!({"version": 1, "kind": "alarm", "alarm": alarm, "log_events": events})
        }
        Incoming::Json { value, .. } => {
            json!({"version": 1, "kind": "message", "subject": subject, "message": redact_strings(value, opts)})
        }
        Incoming::Text(text) => {
            json!({"version": 1, "kind": "message", "subject": subject, "message": readable(text, opts)})
        }
    }
}

/// The alert with every log-derived string redacted and cleaned (ids, counts and times untouched).
pub fn redacted(alert: &AlertMessage, opts: &RenderOptions) -> AlertMessage {
    let r = |s: &str| readable(s, opts);
    let mut a = alert.clone();
    for s in &mut a.samples {
        s.message = r(&s.message);
        for v in s.extracted.values_mut().chain(s.fields.values_mut()) {
            if let Value::String(x) = v {
                *x = r(x);
            }
        }
    }
    // The selectors (as the rule wrote them) are cleaned too: a renderer never trusts a name.
    for s in &mut a.samples {
        s.fields = std::mem::take(&mut s.fields)
            .into_iter()
            .map(|(k, v)| (r(&k), v))
            .collect();
    }
    if let Some(t) = a.digest.as_mut().and_then(|d| d.table.as_mut()) {
        for v in t
            .rows
            .iter_mut()
            .flat_map(|row| row.values.iter_mut())
            .chain(t.fields.iter_mut())
        {
            *v = r(v);
        }
    }
    for t in &mut a.top_counts {
        t.key = r(&t.key);
        for v in &mut t.values {
            v.value = r(&v.value);
        }
    }
    // The rule's name and description come from the rules file, not the log, but every other
    // destination shows them through the same pipeline: no place of the body is exempt.
    a.rule.name = r(&a.rule.name);
    a.rule.description = a.rule.description.as_deref().map(r);
    a.subject = a.subject.as_deref().map(r);
    a.text = a.text.as_deref().map(r);
    a.query_key = a.query_key.as_deref().map(r);
    if let Some(o) = &mut a.observation {
        o.text = r(&o.text);
    }
    a
}

/// Every string in a JSON value made readable (redacted, controls removed).
fn redact_strings(v: &Value, opts: &RenderOptions) -> Value {
    match v {
        Value::String(s) => Value::String(readable(s, opts)),
        Value::Array(a) => Value::Array(a.iter().map(|x| redact_strings(x, opts)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), redact_strings(x, opts)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `v1=` + hex HMAC-SHA256(secret, `"{timestamp}.{body}"`).
pub fn sign(secret: &[u8], timestamp_secs: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let mut out = String::with_capacity(3 + bytes.len() * 2);
    out.push_str("v1=");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the timestamp header is not a number of seconds")]
    BadTimestamp,
    #[error("the request is {age_secs} s old (more than {max_age_secs} s): a replay?")]
    TooOld { age_secs: i64, max_age_secs: i64 },
    #[error("the signature header is not `v1=<64 hex digits>`")]
    BadSignature,
    #[error("the signature does not match")]
    Mismatch,
}

/// Check a request as a receiver would: the signature over `timestamp` and `body` in constant
/// time, and the timestamp within `max_age_secs` of `now_secs`.
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    body: &[u8],
    signature: &str,
    now_secs: i64,
    max_age_secs: i64,
) -> Result<(), VerifyError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    let age = now_secs.saturating_sub(ts);
    if age.saturating_abs() > max_age_secs {
        return Err(VerifyError::TooOld {
            age_secs: age,
            max_age_secs,
        });
    }
    let hex = signature
        .trim()
        .strip_prefix("v1=")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or(VerifyError::BadSignature)?;
    let mut expected = [0u8; 32];
    for (i, b) in expected.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .map_err(|_| VerifyError::BadSignature)?;
    }
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer() {
        // HMAC-SHA256("Jefe", "0.what do ya want for nothing?"), computed independently with
        // Python's hmac module (RFC 4231 test case 2's key and message, with our "{ts}." framing).
        let sig = sign(b"Jefe", 0, b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "v1=37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc"
        );
        assert!(verify(b"Jefe", "0", b"what do ya want for nothing?", &sig, 0, 1).is_ok());
    }

    #[test]
    fn tampering_is_detected() {
        let sig = sign(b"k", 100, b"body");
        assert_eq!(
            verify(b"k", "100", b"bodY", &sig, 100, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"k", "101", b"body", &sig, 100, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"k", "x", b"body", &sig, 100, 300),
            Err(VerifyError::BadTimestamp)
        );
        assert_eq!(
            verify(b"k", "100", b"body", "v1=zz", 100, 300),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify(b"k", "100", b"body", &sig.replace("v1=", "v2="), 100, 300),
            Err(VerifyError::BadSignature)
        );
        assert!(matches!(
            verify(b"k", "100", b"body", &sig, 1_000, 300),
            Err(VerifyError::TooOld { age_secs: 900, .. })
        ));
    }

    #[test]
    fn the_age_limit_is_inclusive_both_ways() {
        let sig = sign(b"k", 1_000, b"body");
        assert!(verify(b"k", "1000", b"body", &sig, 1_300, 300).is_ok());
        assert!(
            verify(b"k", "1000", b"body", &sig, 700, 300).is_ok(),
            "clock skew"
        );
        assert!(verify(b"k", "1000", b"body", &sig, 1_301, 300).is_err());
        assert!(verify(b"k", "1000", b"body", &sig, 699, 300).is_err());
    }

    #[test]
    fn a_signature_of_the_wrong_length_or_alphabet_is_malformed_never_a_panic() {
        let sig = sign(b"k", 100, b"body");
        let hex = sig.strip_prefix("v1=").unwrap();
        for bad in [
            format!("v1={}", &hex[..62]),
            format!("v1={hex}00"),
            format!("v1={}", "g".repeat(64)),
            format!("v1={}é", &hex[..62]),
            "v1=".to_string(),
        ] {
            assert_eq!(
                verify(b"k", "100", b"body", &bad, 100, 300),
                Err(VerifyError::BadSignature),
                "{bad}"
            );
        }
        // Upper-case hex is the same signature.
        let upper = format!("v1={}", hex.to_ascii_uppercase());
        assert!(verify(b"k", "100", b"body", &upper, 100, 300).is_ok());
    }
}
