//! The text pipeline every destination runs untrusted text (log lines, alarm reasons, rule
//! descriptions from templates) through, in this order:
//!
//! 1. **as a person will see it** ([`visible`], [`readable`]): ANSI colour codes removed, control
//!    characters and bidirectional overrides made visible as U+FFFD, CRLF → LF; for code blocks,
//!    JSON pretty-printed (which decodes `\/`, `\uXXXX` and the like);
//! 2. **redacted** ([`redact::Redactor`]) — on that text, so a secret behind a colour code or an
//!    escape is found in the form the reader gets (and in its still-escaped forms);
//! 3. **escaped for the destination** — by the destination (`slack::escape` for Slack), on the
//!    output of [`line`], [`paragraph`] or [`code`].
//!
//! ```
//! use logalert::render::text::{self, Redactor};
//! let r = Redactor::default();
//! // An ANSI-coloured key/value pair: the colour codes no longer hide the secret.
//! assert_eq!(text::line("\x1b[31mpassword=\x1b[0mhunter2 ok\nnext", &r), "password=[REDACTED] ok next");
//! // A JSON sample: pretty-printed (escapes decoded), then redacted.
//! assert_eq!(
//!     text::code(r#"{"dsn":"mysql:\/\/root:hunter2@db:3306"}"#, &r),
//!     "{\n  \"dsn\": \"mysql://root:[REDACTED]@db:3306\"\n}"
//! );
//! ```
//!
//! log-filter runs the same redactor over each sample's raw message before publishing
//! ([`publication::redact_alert`]), so every SNS subscriber gets redacted samples; renderers
//! redact again after decoding, which changes nothing that is already redacted.

pub mod publication;
pub mod redact;
pub mod views;

pub use redact::Redactor;

use serde_json::Value;

use views::View;

/// One line of untrusted text, ready for a destination's escaping: [`visible`], redacted, line
/// breaks and tabs turned into spaces (after redaction, so a multi-line secret is found whole).
pub fn line(raw: &str, redactor: &Redactor) -> String {
    redactor.redact(&visible(raw)).replace(['\n', '\t'], " ")
}

/// A paragraph of untrusted text (line breaks kept), ready for a destination's escaping:
/// [`visible`], redacted, trimmed.
pub fn paragraph(raw: &str, redactor: &Redactor) -> String {
    redactor.redact(&visible(raw)).trim().to_string()
}

/// A log message for a code block, ready for a destination's escaping: [`readable`] (JSON
/// pretty-printed), redacted, blank lines at either end removed.
pub fn code(raw: &str, redactor: &Redactor) -> String {
    redactor
        .redact(&readable(raw))
        .trim_matches('\n')
        .to_string()
}

/// `s` as a person will see it: ANSI escape sequences removed, CRLF → LF, control characters
/// (other than newline and tab) and bidirectional overrides/isolates/marks (which can make text
/// display in another order than it is written) → U+FFFD.
///
/// ```
/// use logalert::render::text::visible;
/// assert_eq!(visible("\x1b[1;31mERROR\x1b[0m a\r\nb\u{202E}c\u{7}"), "ERROR a\nb\u{FFFD}c\u{FFFD}");
/// ```
pub fn visible(s: &str) -> String {
    let stripped = View::identity(s).ansi_stripped();
    let s = stripped.as_ref().map_or(s, |v| v.text());
    s.replace("\r\n", "\n")
        .chars()
        .map(|c| if is_unsafe_char(c) { '\u{FFFD}' } else { c })
        .collect()
}

fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// [`visible`], and JSON pretty-printed when the text is a JSON object or array, or one after a
/// one-line prefix (the Lambda text format `2024-… <request id> ERROR {…}`). ANSI codes inside
/// JSON strings are removed too.
///
/// ```
/// use logalert::render::text::readable;
/// assert_eq!(readable(r#"INFO {"a":"x\/y"}"#), "INFO\n{\n  \"a\": \"x/y\"\n}");
/// assert_eq!(readable("not json {"), "not json {");
/// ```
pub fn readable(raw: &str) -> String {
    let shown = visible(raw);
    pretty_json(&shown).unwrap_or(shown)
}

/// Pretty-printed JSON for `s` (see [`readable`]), or `None` when it holds no JSON to print.
fn pretty_json(s: &str) -> Option<String> {
    let trimmed = s.trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let v: Value = serde_json::from_str(trimmed).ok()?;
        if v.is_object() || v.is_array() {
            return serde_json::to_string_pretty(&clean_strings(v)).ok();
        }
    }
    let brace = trimmed.find('{')?;
    let (prefix, rest) = trimmed.split_at(brace);
    if prefix.contains('\n') {
        return None;
    }
    let v: Value = serde_json::from_str(rest).ok()?;
    Some(format!(
        "{}\n{}",
        prefix.trim_end(),
        serde_json::to_string_pretty(&clean_strings(v)).ok()?
    ))
}

/// ANSI codes removed from every string (keys and values) of a JSON value.
fn clean_strings(v: Value) -> Value {
    let clean = |s: String| match View::identity(&s).ansi_stripped() {
        Some(view) => view.text().to_string(),
        None => s,
    };
    match v {
        Value::String(s) => Value::String(clean(s)),
        Value::Array(a) => Value::Array(a.into_iter().map(clean_strings).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (clean(k), clean_strings(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_text() {
        assert_eq!(visible("a\u{0}b\u{1b}c"), "a\u{FFFD}bc");
        assert_eq!(
            visible("x\u{200F}\u{2066}y\u{2069}\u{200E}"),
            "x\u{FFFD}\u{FFFD}y\u{FFFD}\u{FFFD}"
        );
        assert_eq!(visible("tab\tnl\ncr\r."), "tab\tnl\ncr\u{FFFD}.");
        assert_eq!(
            visible("\u{202A}\u{202E}\u{2067}\u{2068}"),
            "\u{FFFD}".repeat(4)
        );
        assert_eq!(visible("é漢字"), "é漢字");
    }

    #[test]
    fn readable_json() {
        assert_eq!(readable("[1,2]"), "[\n  1,\n  2\n]");
        assert_eq!(
            readable("\"str\""),
            "\"str\"",
            "a JSON scalar is shown as written"
        );
        assert_eq!(
            readable("{\"a\":\"\\u001b[31mred\\u001b[0m\"}"),
            "{\n  \"a\": \"red\"\n}"
        );
        assert_eq!(
            readable("a\nb {\"x\":1}"),
            "a\nb {\"x\":1}",
            "prefix must be one line"
        );
        assert_eq!(
            readable("ERROR {\"k\":[\"\\u001b[1mv\"]}"),
            "ERROR\n{\n  \"k\": [\n    \"v\"\n  ]\n}"
        );
        assert_eq!(readable("p {bad"), "p {bad");
    }

    #[test]
    fn pipeline_order_finds_hidden_secrets() {
        let r = Redactor::default();
        // Colour codes between key and value.
        assert_eq!(
            paragraph("  \x1b[33mtoken\x1b[0m: abc123  \n", &r),
            "token: [REDACTED]"
        );
        // Escaped slashes in a JSON line are decoded, then the URL password is found.
        let c = code(r#"{"url":"postgres:\/\/app:s3cr3t@db\/x","n":1}"#, &r);
        assert_eq!(
            c,
            "{\n  \"n\": 1,\n  \"url\": \"postgres://app:[REDACTED]@db/x\"\n}"
        );
        // JSON nested in a JSON string: still escaped after pretty-printing, found all the same.
        let c = code(r#"{"msg":"{\"password\":\"hunter2\"}"}"#, &r);
        assert_eq!(
            c,
            "{\n  \"msg\": \"{\\\"password\\\":\\\"[REDACTED]\\\"}\"\n}"
        );
        assert_eq!(line("a\tb\nc", &Redactor::none()), "a b c");
        assert_eq!(code("\n\nx\n\n", &Redactor::none()), "x");
    }
}
