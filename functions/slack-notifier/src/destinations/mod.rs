//! Deliver one message to one [`Destination`]: render it (pure, `logalert::slack` and
//! `logalert::render`) and send it with the retry rule that fits the destination.
//!
//! | type | rendering | idempotent? | on a timeout after sending |
//! |---|---|---|---|
//! | `slack-webhook` | attachments / Block Kit | no | maybe delivered, not re-sent |
//! | `slack-app` | the same, threaded per incident ([`slack_app`]) | no (`chat.postMessage`); `chat.update` yes | maybe delivered |
//! | `teams` | Adaptive Card 1.5 | no | maybe delivered |
//! | `pagerduty` | Events v2, `dedup_key` = incident id | yes | retried |
//! | `webhook` | the alert JSON, signed | yes (`Logalert-Alert-Id`) | retried |

pub mod slack_app;

use std::time::Instant;

use logalert::alarm::AlarmEnrichment;
use logalert::render::{pagerduty, teams, webhook};
use logalert::slack::{Incoming, RenderOptions, render_incoming};
use logalert::state::StateStore;

use crate::deliver::{Delivered, Deliverer, DeliveryError, Idempotence, Request};
use crate::destination::Destination;

/// What is being delivered.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub incoming: &'a Incoming,
    pub subject: Option<&'a str>,
    pub enrichment: Option<&'a AlarmEnrichment>,
    /// Render options (the Slack layout already chosen for the channel).
    pub opts: &'a RenderOptions,
    /// The SNS MessageId (de-duplication key for messages without an alert id).
    pub message_id: &'a str,
    /// This invocation (owner of claims in the state table).
    pub request_id: &'a str,
    /// Invocation deadline as epoch ms (claims expire then).
    pub deadline_ms: i64,
}

impl Message<'_> {
    /// The id a receiver de-duplicates on: the alert id, else `sns:<MessageId>` (visible ASCII
    /// only, at most 200 characters: it travels in an HTTP header).
    pub fn idempotency_key(&self) -> String {
        let key = match self.incoming {
            Incoming::Alert(a) if !a.alert_id.trim().is_empty() => a.alert_id.trim().to_string(),
            _ => format!("sns:{}", self.message_id),
        };
        key.chars()
            .filter(char::is_ascii_graphic)
            .take(200)
            .collect()
    }
}

/// The PagerDuty event for `m`: the shared renderer's, and for a message without an incident
/// (a plain SNS message, an alert written before engine v2) `dedup_key` = its idempotency key, so
/// retries still de-duplicate.
pub fn pagerduty_event(m: &Message<'_>, routing_key: &str) -> serde_json::Value {
    let mut event = pagerduty::render(m.incoming, m.subject, m.enrichment, routing_key, m.opts);
    if event.get("dedup_key").is_none() {
        event["dedup_key"] = serde_json::json!(m.idempotency_key());
    }
    event
}

/// The clients a delivery may use.
pub struct Clients<'a, S> {
    pub deliverer: &'a Deliverer,
    pub state: &'a S,
    pub pacer: &'a slack_app::Pacer,
}

/// Render and send `message` to `destination`, finishing before `deadline`.
pub async fn deliver<S: StateStore>(
    destination: &Destination,
    message: &Message<'_>,
    clients: &Clients<'_, S>,
    deadline: Instant,
) -> Result<Delivered, DeliveryError> {
    let m = message;
    match destination {
        Destination::SlackWebhook { url } => {
            let payload = render_incoming(m.incoming, m.subject, m.enrichment, m.opts);
            clients.deliverer.post(url, &payload, deadline).await
        }
        Destination::Teams { url } => {
            let payload = teams::render(m.incoming, m.subject, m.enrichment, m.opts);
            let request = Request::json(url, &payload, Idempotence::NotIdempotent);
            clients.deliverer.send(&request, deadline).await
        }
        Destination::PagerDuty { routing_key, url } => {
            let event = pagerduty_event(m, routing_key.expose());
            let request = Request::json(url, &event, Idempotence::Idempotent);
            clients.deliverer.send(&request, deadline).await
        }
        Destination::Webhook { url, secret } => {
            let body = webhook::render(m.incoming, m.subject, m.enrichment, m.opts);
            let body = serde_json::to_vec(&body).expect("a JSON value serialises");
            let now = jiff::Timestamp::now().as_second();
            let key = m.idempotency_key();
            let request = Request {
                url,
                headers: vec![
                    (webhook::HEADER_ALERT_ID.into(), key.clone()),
                    (webhook::HEADER_IDEMPOTENCY_KEY.into(), key),
                    (webhook::HEADER_TIMESTAMP.into(), now.to_string()),
                    (
                        webhook::HEADER_SIGNATURE.into(),
                        webhook::sign(secret.expose().as_bytes(), now, &body),
                    ),
                ],
                body,
                idempotence: Idempotence::Idempotent,
            };
            clients.deliverer.send(&request, deadline).await
        }
        Destination::SlackApp {
            token,
            channel_id,
            api_url,
        } => {
            let app = slack_app::SlackApp {
                token,
                channel_id,
                api_url,
            };
            app.deliver(m, clients, deadline).await
        }
    }
}
