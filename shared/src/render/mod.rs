//! Rendering for every destination, pure (no I/O): one module per destination, each with its own
//! escaping and limits, over a shared reading of the alert ([`view`]) and one text pipeline
//! ([`text`]).
//!
//! * [`text`] — the text-safety pipeline every destination runs untrusted text through: the text
//!   as a person will see it, then redaction, then (in the destination's own module) escaping.
//! * [`view`] — what an alert says (first alert, follow-up, summary, resolved; counts, incident).
//! * Slack (incoming webhooks and the Slack app) — [`crate::slack`].
//! * Microsoft Teams (Workflows webhook, Adaptive Card 1.5) — [`teams`].
//! * PagerDuty Events API v2 — [`pagerduty`].
//! * Generic signed webhook (the alert JSON, HMAC-SHA256) — [`webhook`].

pub mod pagerduty;
pub mod teams;
pub mod text;
pub mod view;
pub mod webhook;

use serde_json::Value;

use crate::alarm::AlarmEnrichment;
use crate::slack::{Incoming, RenderOptions, SlackFormat};

/// A destination to render for (`logalert render --to …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Slack incoming webhook or app message, in this layout.
    Slack(SlackFormat),
    Teams,
    /// The routing key goes into the event (the CLI prints a placeholder).
    PagerDuty {
        routing_key: String,
    },
    /// The body only (the signature headers need the secret and the time).
    Webhook,
}

impl Target {
    /// `slack`, `teams`, `pagerduty`, `webhook` (Slack in `format`).
    pub fn parse(name: &str, format: SlackFormat) -> Option<Target> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "slack" | "slack-webhook" | "slack-app" => Target::Slack(format),
            "teams" => Target::Teams,
            "pagerduty" => Target::PagerDuty {
                routing_key: "<routing key>".into(),
            },
            "webhook" => Target::Webhook,
            _ => return None,
        })
    }
}

/// The exact body `target` receives for `incoming`.
pub fn render_to(
    target: &Target,
    incoming: &Incoming,
    subject: Option<&str>,
    enrichment: Option<&AlarmEnrichment>,
    opts: &RenderOptions,
) -> Value {
    match target {
        Target::Slack(format) => {
            crate::slack::render_incoming(incoming, subject, enrichment, &opts.with_format(*format))
        }
        Target::Teams => teams::render(incoming, subject, enrichment, opts),
        Target::PagerDuty { routing_key } => {
            pagerduty::render(incoming, subject, enrichment, routing_key, opts)
        }
        Target::Webhook => webhook::render(incoming, subject, enrichment, opts),
    }
}
