//! Slack rendering: every SNS message logalert's notifier receives becomes one Slack incoming-webhook
//! payload, with untrusted text made visible and redacted by the shared text pipeline
//! ([`crate::render::text`]), escaped ([`escape`]) and trimmed to Slack's
//! limits ([`limits`]).
//!
//! ```
//! use logalert::alert::AlertMessage;
//! use logalert::slack::{render_alert, RenderOptions};
//! let alert: AlertMessage = serde_json::from_str(r#"{"version":1,"kind":"log-match",
//!   "rule":{"name":"errors","type":"any","severity":"error","description":null,
//!           "filter_pattern":"ERROR"},
//!   "account":"123456789012","region":"us-east-1","log_group":"/app","query_key":null,
//!   "count":1,"suppressed":0,"first_timestamp":1700000000000,"last_timestamp":1700000000000,
//!   "samples":[{"id":"1","timestamp":1700000000000,"log_stream":"s1",
//!               "message":"ERROR <!channel> password=hunter2","extracted":{}}],
//!   "truncated":false,"channel":"default","mention":["here"]}"#).unwrap();
//! let payload = render_alert(&alert, &RenderOptions::default());
//! let attachment = &payload["attachments"][0];
//! assert_eq!(attachment["title"], "errors");
//! assert!(payload["text"].as_str().unwrap().starts_with("<!here> "));
//! let text = attachment["text"].as_str().unwrap();
//! assert!(text.contains("ERROR &lt;!channel&gt; password=[REDACTED]"));
//! ```
//!
//! Two layouts, chosen per channel ([`SlackFormat`]): legacy **attachments** (colour bar, title link,
//! fields, footer — what ElastAlert and the CloudWatch-to-Slack Lambdas send) and **Block Kit**
//! (header, sections, fields, context), placed inside an attachment so the colour bar stays.
//!
//! The pipeline for a message: [`incoming::Incoming::classify`] decides what the SNS body is (a
//! logalert alert, a CloudWatch alarm, other JSON or plain text), a `Card` is built from it (all
//! content redacted and escaped, links built by [`crate::links`]), and the card is laid out as
//! attachments or blocks under Slack's limits.

mod attachments;
mod blocks;
pub(crate) mod card;
pub mod escape;
pub mod incoming;
pub mod limits;

use serde_json::Value;

use crate::alarm::{AlarmEnrichment, AlarmNotification};
use crate::alert::AlertMessage;
/// Redaction moved to [`crate::render::text::redact`] (shared by every destination).
pub use crate::render::text::redact;
pub use incoming::{Incoming, SnsEnvelope};
pub use redact::Redactor;

/// Message layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SlackFormat {
    /// Legacy attachments (`SLACK_FORMAT=attachments`, the default).
    #[default]
    Attachments,
    /// Block Kit inside an attachment (`SLACK_FORMAT=blocks`, or the channel is in
    /// `SLACK_BLOCKS_CHANNELS`).
    Blocks,
}

impl SlackFormat {
    pub fn parse(s: &str) -> Option<SlackFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "attachments" | "attachment" | "legacy" => Some(SlackFormat::Attachments),
            "blocks" | "block-kit" | "blockkit" => Some(SlackFormat::Blocks),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SlackFormat::Attachments => "attachments",
            SlackFormat::Blocks => "blocks",
        }
    }
}

/// How to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub format: SlackFormat,
    /// Applied to every piece of log-derived text before anything else.
    pub redactor: Redactor,
    /// Samples (or alarm log events) shown at most; the rest are counted in the "more" line.
    pub max_samples: usize,
    /// Each sample's code block, in characters (UTF-16 units, after escaping).
    pub sample_max_chars: usize,
    /// Each sample's code block, in lines (after JSON pretty-printing).
    pub sample_max_lines: usize,
    /// Console links show this much time before the first and after the last event (ms).
    pub link_padding_ms: i64,
}

impl Default for RenderOptions {
    fn default() -> RenderOptions {
        RenderOptions {
            format: SlackFormat::Attachments,
            redactor: Redactor::default(),
            max_samples: 5,
            sample_max_chars: 1_200,
            sample_max_lines: 25,
            link_padding_ms: 60_000,
        }
    }
}

impl RenderOptions {
    /// The same options with another layout.
    pub fn with_format(&self, format: SlackFormat) -> RenderOptions {
        RenderOptions {
            format,
            ..self.clone()
        }
    }
}

/// Render a logalert alert (message v1). This is what `logalert replay --slack` prints.
pub fn render_alert(alert: &AlertMessage, opts: &RenderOptions) -> Value {
    layout(&card::alert_card(alert, opts), opts)
}

/// Render a CloudWatch alarm notification, with the log lines behind it when enrichment found any
/// (or a note when it failed).
pub fn render_alarm(
    alarm: &AlarmNotification,
    enrichment: Option<&AlarmEnrichment>,
    opts: &RenderOptions,
) -> Value {
    layout(&card::alarm_card(alarm, enrichment, opts), opts)
}

/// Render any other SNS message: JSON is pretty-printed in a code block, text is shown as text.
pub fn render_other(subject: Option<&str>, message: &str, opts: &RenderOptions) -> Value {
    let incoming = Incoming::classify(message);
    match &incoming {
        Incoming::Json { .. } | Incoming::Text(_) => {
            layout(&card::other_card(subject, &incoming, opts), opts)
        }
        // Asked to render a known kind as "other": still render it faithfully.
        _ => render_incoming(&incoming, subject, None, opts),
    }
}

/// Render whatever [`Incoming::classify`] found.
pub fn render_incoming(
    incoming: &Incoming,
    subject: Option<&str>,
    enrichment: Option<&AlarmEnrichment>,
    opts: &RenderOptions,
) -> Value {
    match incoming {
        Incoming::Alert(alert) => render_alert(alert, opts),
        Incoming::Alarm(alarm) => render_alarm(alarm, enrichment, opts),
        Incoming::Json { .. } | Incoming::Text(_) => {
            layout(&card::other_card(subject, incoming, opts), opts)
        }
    }
}

fn layout(card: &card::Card, opts: &RenderOptions) -> Value {
    match opts.format {
        SlackFormat::Attachments => attachments::layout(card),
        SlackFormat::Blocks => blocks::layout(card),
    }
}
