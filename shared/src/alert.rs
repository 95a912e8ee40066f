//! The alert message: the SNS body log-filter publishes and slack-notifier (or any other subscriber)
//! consumes. Versioned; this is version 1. The JSON Schema lives in `docs/alert-message.schema.json`.
//!
//! ```
//! use logalert::alert::{AlertMessage, AlertRule, Severity};
//! let json = r#"{"version":1,"kind":"log-match",
//!   "rule":{"name":"errors","type":"any","severity":"error","description":null},
//!   "account":"123456789012","region":"us-east-1","log_group":"/app","query_key":null,
//!   "count":1,"suppressed":0,"first_timestamp":1700000000000,"last_timestamp":1700000000000,
//!   "samples":[],"truncated":false,"channel":"default","mention":[]}"#;
//! let alert: AlertMessage = serde_json::from_str(json).unwrap();
//! assert_eq!(alert.rule.severity, Severity::Error);
//! ```

use serde::{Deserialize, Serialize};

/// The `version` this crate writes.
pub const ALERT_VERSION: u32 = 1;

/// The `kind` of a log-match alert.
pub const KIND_LOG_MATCH: &str = "log-match";
/// The `kind` of the report of a realert window's suppressed matches, sent when the window closes.
pub const KIND_SUMMARY: &str = "summary";
/// The `kind` of the end of an incident (quiet for `resolve_after`).
pub const KIND_RESOLVED: &str = "resolved";

/// Longest sample `message` carried in an alert, in bytes (cut on a UTF-8 boundary, `truncated` set).
pub const MAX_SAMPLE_MESSAGE_BYTES: usize = 8 * 1024;

/// SNS's limit on the whole published message (body + attributes), in bytes.
pub const SNS_MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// How loud an alert is. Ordered from least to most severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    #[default]
    Error,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Info,
        Severity::Warning,
        Severity::Error,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a message pings. Comes only from the rule's `mention`, never from log text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mention {
    /// `<!here>`
    Here,
    /// `<!channel>`
    Channel,
    /// A Slack user id (`U…`/`W…`) or user-group id (`S…`).
    #[serde(untagged)]
    Id(String),
}

/// The rule that produced an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    pub name: String,
    /// `any` or `frequency`.
    #[serde(rename = "type")]
    pub rule_type: String,
    pub severity: Severity,
    pub description: Option<String>,
    /// The rule's CloudWatch filter pattern (used for console links).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_pattern: Option<String>,
}

/// One log event carried in an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The CloudWatch event id (56-digit decimal string).
    pub id: String,
    /// Event time, epoch milliseconds.
    pub timestamp: i64,
    pub log_stream: String,
    /// The raw message, cut to [`MAX_SAMPLE_MESSAGE_BYTES`].
    pub message: String,
    /// Values extracted by a space-delimited pattern (`$name` / `$N` → value), in field order.
    #[serde(default)]
    pub extracted: serde_json::Map<String, serde_json::Value>,
    /// The rule's `include` selectors (as written) → this event's value (the rule's
    /// `alert_missing_value` when absent). Omitted when the rule has no `include`.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// `aggregation`: this alert is the digest of a window — the alerts the rule type decided in it,
/// published as one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    /// The rule's `aggregation` window, ms.
    pub window_ms: i64,
    /// Alerts the digest replaces (the rule type's triggers in the window); `count` is their events.
    pub alerts: u64,
    /// `summary_table_fields`: events per combination of the fields' values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<SummaryTable>,
}

/// Events per combination of values, largest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryTable {
    /// The selectors, as written (the column headers).
    pub fields: Vec<String>,
    pub rows: Vec<TableRow>,
    /// Rows not listed (beyond `summary_table_max_rows`, or beyond what the state keeps) and their
    /// events: the listed counts plus `other_count` add up to the digest's `count`.
    #[serde(default)]
    pub other_rows: u64,
    #[serde(default)]
    pub other_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// One value per field (`alert_missing_value` when absent), cut to 128 bytes.
    pub values: Vec<String>,
    pub count: u64,
}

/// `top_count_keys`: the most frequent values of one key among the events an alert represents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopCount {
    /// The selector, as written.
    pub key: String,
    /// At most `top_count_number`, largest first.
    pub values: Vec<TopValue>,
    /// Events with other values.
    #[serde(default)]
    pub other_count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopValue {
    pub value: String,
    pub count: u64,
}

/// What a decision saw, in words a person understands, for every rule type: the line the
/// renderers show under the title ("60 in 1 min, 12× the previous 5 min"), an optional per-minute
/// sparkline of the window's counts (`▁▂▅█`), and the figures behind it for other subscribers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Observation {
    /// One line of plain text (log-derived parts still get each destination's escaping).
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparkline: Option<String>,
    /// The figures (type specific: `current`, `reference`, `threshold`, `old`, `new`, …).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// The SNS body of an alert (version 1): a log match, the summary of a realert window, or the
/// resolution of an incident (see `kind`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertMessage {
    pub version: u32,
    /// [`KIND_LOG_MATCH`], [`KIND_SUMMARY`] or [`KIND_RESOLVED`].
    pub kind: String,
    /// Deterministic and unique per publication: the same decision always gives the same id, so a
    /// republished alert is recognised. Subscribers de-duplicate on it. Empty in messages written
    /// before engine v2.
    #[serde(default)]
    pub alert_id: String,
    /// Shared by every publication of one (rule, key) episode, from its first alert to its
    /// `resolved`. Empty in messages written before engine v2.
    #[serde(default)]
    pub incident_id: String,
    /// The engine's clock when it decided (epoch ms; event time in `logalert replay`).
    #[serde(default)]
    pub decided_at: i64,
    pub rule: AlertRule,
    pub account: String,
    pub region: String,
    pub log_group: String,
    /// The query-key value this alert groups by (joined with `, ` for several selectors), or null.
    pub query_key: Option<String>,
    /// Matches this alert represents.
    pub count: u64,
    /// Matches not alerted since the previous alert for this rule + key.
    pub suppressed: u64,
    /// Epoch ms of the first and last match represented.
    pub first_timestamp: i64,
    pub last_timestamp: i64,
    pub samples: Vec<Sample>,
    /// True when samples or messages were cut to fit the size limits.
    pub truncated: bool,
    pub channel: String,
    #[serde(default)]
    pub mention: Vec<Mention>,
    /// Rendered `alert_subject` template, when the rule has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Rendered `alert_text` template, when the rule has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// What the decision saw (rule types beyond `any`; summaries and resolutions say what they close).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<Observation>,
    /// Epoch ms when the incident opened (its first alert); set on every publication of an incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_opened_at: Option<i64>,
    /// Matches (alerted + suppressed) over the whole incident so far; on `resolved`, the total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_total: Option<u64>,
    /// Set when the rule has `aggregation`: this alert is the digest of a window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    /// `top_count_keys`: the most frequent values per key among the events this alert represents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top_counts: Vec<TopCount>,
}

/// SNS's `Subject` limit: fewer than 100 characters.
pub const SNS_MAX_SUBJECT_CHARS: usize = 99;

/// Make `subject` acceptable to SNS `Publish`: ASCII only (other characters become `?`), control
/// characters and line breaks become spaces, runs of spaces collapse, at most
/// [`SNS_MAX_SUBJECT_CHARS`] characters (cut with `...`), never empty, and starting with a letter,
/// digit or punctuation (older SNS documentation requires it).
///
/// ```
/// use logalert::alert::sanitize_subject;
/// assert_eq!(sanitize_subject("  [ERROR]\tdb\ndown  "), "[ERROR] db down");
/// assert_eq!(sanitize_subject("인증실패 x"), "???? x");
/// assert_eq!(sanitize_subject(&"a".repeat(300)).len(), 99);
/// assert_eq!(sanitize_subject("\n"), "logalert alert");
/// ```
pub fn sanitize_subject(subject: &str) -> String {
    let mut out = String::with_capacity(subject.len().min(SNS_MAX_SUBJECT_CHARS + 4));
    let mut pending_space = false;
    for c in subject.chars() {
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else if c.is_ascii() {
            c
        } else {
            '?'
        };
        if c == ' ' {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
        if out.len() > SNS_MAX_SUBJECT_CHARS {
            break;
        }
    }
    if out.len() > SNS_MAX_SUBJECT_CHARS {
        out.truncate(SNS_MAX_SUBJECT_CHARS - 3);
        out.truncate(out.trim_end().len());
        out.push_str("...");
    }
    if out.is_empty() {
        return "logalert alert".to_string();
    }
    out
}

/// Cut `s` to at most `max_bytes` bytes on a character boundary, ending with `…` when cut.
/// Returns whether it was cut.
pub fn truncate_utf8(s: &mut String, max_bytes: usize) -> bool {
    if s.len() <= max_bytes {
        return false;
    }
    const ELLIPSIS: &str = "…";
    let mut cut = max_bytes.saturating_sub(ELLIPSIS.len());
    while cut > 0 && !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    if max_bytes >= ELLIPSIS.len() {
        s.push_str(ELLIPSIS);
    }
    true
}
