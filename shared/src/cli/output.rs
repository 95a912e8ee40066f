//! `--output json|text`: machine-readable JSON (the default when stdout is not a terminal) or text
//! for people (the default on a terminal).
//!
//! ```
//! use logalert::cli::output::{clean, iso};
//! assert_eq!(iso(1_795_600_800_000), "2026-11-25T10:00:00Z");
//! assert_eq!(clean("a\x1b[31mred\tb\n", 80), "a\\x1b[31mred b");
//! ```
//!
//! Text never lets log text drive the terminal: control characters are shown escaped (`\x1b`),
//! tabs and line breaks become spaces, and long samples are cut with `…`.

use std::io::IsTerminal;

use crate::alert::AlertMessage;

use super::report::{plural, thousands};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// JSON (one value per line unless the subcommand pretty-prints).
    Json,
    /// Text for people.
    Text,
}

impl OutputFormat {
    /// The given format, or text on a terminal and JSON otherwise.
    pub fn resolve(given: Option<OutputFormat>) -> OutputFormat {
        given.unwrap_or_else(|| {
            if std::io::stdout().is_terminal() {
                OutputFormat::Text
            } else {
                OutputFormat::Json
            }
        })
    }
}

/// Epoch milliseconds as ISO-8601 UTC (`2026-11-25T10:00:00Z`, with `.123` when there are ms).
pub fn iso(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.to_string(),
        Err(_) => format!("{ms} (epoch ms, out of range)"),
    }
}

/// Log text made safe and short for a terminal line: control characters escaped, whitespace runs
/// of tabs/newlines turned into one space, at most `max` characters (then `…`).
pub fn clean(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    let mut pending_space = false;
    for c in text.chars() {
        if matches!(c, '\t' | '\n' | '\r') {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
            n += 1;
        }
        pending_space = false;
        if n >= max {
            out.push('…');
            return out;
        }
        if c.is_control() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}') {
            let esc: String = if (c as u32) < 0x100 {
                format!("\\x{:02x}", c as u32)
            } else {
                format!("\\u{{{:x}}}", c as u32)
            };
            n += esc.chars().count();
            out.push_str(&esc);
        } else {
            out.push(c);
            n += 1;
        }
    }
    out
}

/// Longest sample shown per alert in text output.
pub const TEXT_SAMPLE_CHARS: usize = 200;

/// One alert, for people:
///
/// ```text
/// payments-auth-failures  [ERROR]  key: E401
///   3 matches (2 suppressed) in /aws/lambda/payments, 2026-11-25T10:00:00Z → 2026-11-25T10:00:20Z
///   subject: [ERROR] payments-auth-failures: 3 matches in /aws/lambda/payments
///   sample:  2026-11-25T10:00:00Z  2026/11/25/[$LATEST]ab12  ERROR auth failed for user 42
/// ```
pub fn alert_text(subject: &str, alert: &AlertMessage) -> String {
    let mut s = format!(
        "{}  [{}]",
        clean(&alert.rule.name, 120),
        alert.rule.severity.as_str().to_uppercase()
    );
    if alert.kind != crate::alert::KIND_LOG_MATCH && !alert.kind.is_empty() {
        s.push_str(&format!("  ({})", alert.kind));
    }
    if let Some(k) = &alert.query_key {
        s.push_str(&format!("  key: {}", clean(k, 120)));
    }
    s.push_str(&format!("\n  {}", plural(alert.count, "match", "matches")));
    if alert.suppressed > 0 {
        s.push_str(&format!(" ({} suppressed)", thousands(alert.suppressed)));
    }
    s.push_str(&format!(
        " in {}, {}",
        clean(&alert.log_group, 200),
        iso(alert.first_timestamp)
    ));
    if alert.last_timestamp != alert.first_timestamp {
        s.push_str(&format!(" → {}", iso(alert.last_timestamp)));
    }
    if let Some(o) = &alert.observation
        && !o.text.is_empty()
    {
        s.push_str(&format!("\n  seen:    {}", clean(&o.text, 200)));
    }
    s.push_str(&format!("\n  subject: {}", clean(subject, 200)));
    if let Some(t) = &alert.text {
        s.push_str(&format!("\n  text:    {}", clean(t, TEXT_SAMPLE_CHARS)));
    }
    match alert.samples.first() {
        Some(sample) => s.push_str(&format!(
            "\n  sample:  {}  {}  {}",
            iso(sample.timestamp),
            clean(&sample.log_stream, 80),
            clean(&sample.message, TEXT_SAMPLE_CHARS)
        )),
        None => s.push_str("\n  sample:  (none)"),
    }
    if alert.samples.len() > 1 {
        s.push_str(&format!(
            " (+{} more)",
            thousands(alert.samples.len() as u64 - 1)
        ));
    }
    s
}

/// The closing line of replay's text output: `3 alerts from 2 rules (errors: 2, payments: 1)`.
pub fn alerts_summary<'a>(alerts: impl IntoIterator<Item = &'a AlertMessage>) -> String {
    let mut per_rule: Vec<(String, u64)> = Vec::new();
    let mut total = 0u64;
    for a in alerts {
        total += 1;
        match per_rule.iter_mut().find(|(n, _)| *n == a.rule.name) {
            Some((_, c)) => *c += 1,
            None => per_rule.push((a.rule.name.clone(), 1)),
        }
    }
    if total == 0 {
        return "no alerts".to_string();
    }
    let parts: Vec<String> = per_rule
        .iter()
        .map(|(n, c)| format!("{}: {}", clean(n, 120), thousands(*c)))
        .collect();
    format!(
        "{} from {} ({})",
        plural(total, "alert", "alerts"),
        plural(per_rule.len() as u64, "rule", "rules"),
        parts.join(", ")
    )
}

/// A Slack webhook payload for people: the channel, then every title and text it shows, in order
/// (attachments and Block Kit alike; `fallback` and `alt_text` duplicates are left out).
pub fn slack_text(channel: &str, kind: &str, payload: &serde_json::Value) -> String {
    let mut lines = vec![format!("#{}  ({kind})", clean(channel, 120))];
    collect_text(payload, &mut lines);
    lines.join("\n  ")
}

fn collect_text(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    (
                        "fallback" | "alt_text" | "color" | "type" | "style" | "url" | "image_url",
                        _,
                    ) => {}
                    (
                        "text" | "title" | "pretext" | "value" | "footer",
                        serde_json::Value::String(s),
                    ) => {
                        for line in s.lines().filter(|l| !l.trim().is_empty()) {
                            out.push(clean(line, TEXT_SAMPLE_CHARS));
                        }
                    }
                    _ => collect_text(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_text(i, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_escapes_controls_and_cuts() {
        assert_eq!(clean("plain", 10), "plain");
        assert_eq!(clean("a\r\n\tb", 10), "a b");
        assert_eq!(clean("\nlead", 10), "lead");
        assert_eq!(clean("x\u{7}y", 10), "x\\x07y");
        assert_eq!(clean("rtl\u{202E}txt", 20), "rtl\\u{202e}txt");
        assert_eq!(clean("abcdef", 3), "abc…");
        assert_eq!(clean("인증실패", 2), "인증…");
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(1_795_600_800_123), "2026-11-25T10:00:00.123Z");
        assert!(iso(i64::MAX).contains("out of range"));
    }
}
