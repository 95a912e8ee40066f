//! Redaction of what log-filter publishes: every SNS subscriber (the notifier, an e-mail
//! subscription, an archive queue) gets redacted samples, text and subject.
//!
//! ```
//! use logalert::alert::AlertMessage;
//! use logalert::render::text::{publication::redact_alert, Redactor};
//! let mut alert: AlertMessage = serde_json::from_str(r#"{"version":1,"kind":"log-match",
//!   "rule":{"name":"r","type":"any","severity":"error","description":null,"filter_pattern":null},
//!   "account":"1","region":"us-east-1","log_group":"/g","query_key":null,"count":1,"suppressed":0,
//!   "first_timestamp":0,"last_timestamp":0,"truncated":false,"channel":"c","mention":[],
//!   "samples":[{"id":"1","timestamp":0,"log_stream":"s","message":"login password=hunter2",
//!               "extracted":{"$3":"token=abc123"}}]}"#).unwrap();
//! let subject = redact_alert(&Redactor::default(), &mut alert, "[ERROR] r: password=hunter2");
//! assert_eq!(subject, "[ERROR] r: password=[REDACTED]");
//! assert_eq!(alert.samples[0].message, "login password=[REDACTED]");
//! assert_eq!(alert.samples[0].extracted["$3"], "token=[REDACTED]");
//! ```

use serde_json::Value;

use super::Redactor;
use crate::alert::AlertMessage;

/// Redact every log-derived text of `alert` in place (sample messages and extracted values, the
/// `include` fields, rendered `text` and `subject`, the observation, summary-table and top-count
/// values) and return `subject` (the SNS Subject)
/// redacted. The raw form is redacted (ANSI codes and escapes are kept as they were written):
/// subscribers see the message as logged, less its secrets.
pub fn redact_alert(redactor: &Redactor, alert: &mut AlertMessage, subject: &str) -> String {
    for sample in &mut alert.samples {
        redactor.redact_in_place(&mut sample.message);
        for v in sample
            .extracted
            .values_mut()
            .chain(sample.fields.values_mut())
        {
            redact_value(redactor, v);
        }
    }
    if let Some(t) = alert.digest.as_mut().and_then(|d| d.table.as_mut()) {
        for v in t.rows.iter_mut().flat_map(|r| r.values.iter_mut()) {
            redactor.redact_in_place(v);
        }
    }
    for v in alert
        .top_counts
        .iter_mut()
        .flat_map(|t| t.values.iter_mut())
    {
        redactor.redact_in_place(&mut v.value);
    }
    for t in [&mut alert.text, &mut alert.subject].into_iter().flatten() {
        redactor.redact_in_place(t);
    }
    if let Some(o) = &mut alert.observation {
        redactor.redact_in_place(&mut o.text);
        for v in o.details.values_mut() {
            redact_value(redactor, v);
        }
    }
    redactor.redact(subject)
}

/// Redact every string inside a JSON value.
fn redact_value(redactor: &Redactor, v: &mut Value) {
    match v {
        Value::String(s) => {
            redactor.redact_in_place(s);
        }
        Value::Array(a) => a.iter_mut().for_each(|v| redact_value(redactor, v)),
        Value::Object(o) => o.values_mut().for_each(|v| redact_value(redactor, v)),
        _ => {}
    }
}
