//! The Slack app (`slack-app`: a bot token and a channel id): one thread per incident.
//!
//! * The first alert of an incident is a `chat.postMessage` — the thread's **parent** — and its `ts`
//!   is stored in the state table (`slack-thread#<channel id>#<incident id>`, with the parent's
//!   payload, so it can be edited later).
//! * Later alerts and summaries of the incident reply in its thread (`thread_ts`), then the
//!   parent's status line is updated with `chat.update` ("open since …, 57 matches so far").
//! * `resolved` replies in the thread and updates the parent: ✅, how long it lasted, the total.
//! * Messages without an incident (CloudWatch alarms, plain SNS messages, alerts written before
//!   engine v2) are posted as plain messages.
//!
//! **Exactly once.** `chat.postMessage` cannot de-duplicate, so a timeout after sending is "maybe
//! delivered" (never re-posted), like the incoming webhook; Slack's `internal_error` and
//! `fatal_error` ("it's possible some aspect of the operation succeeded") count the same way.
//! `chat.update` sets the whole message, so it is retried freely, and a failed update never fails
//! the record (the reply is already there; a retry would post it again). Opening a thread is
//! claimed in the state table first (`state: "opening"`, conditional write), so two invocations
//! with alerts of one new incident do not both post a parent: the second fails and is retried by
//! Lambda, by which time the thread exists. A crash between posting a parent and storing its `ts`
//! leaves that parent without follow-ups; the next alert then opens a new thread.
//!
//! **Rate limits.** Slack allows about one message per second per channel: posts from one
//! container are spaced by [`Pacer`], and a 429 is waited out as its `Retry-After` says.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use logalert::alert::AlertMessage;
use logalert::render::view::{AlertView, Stage};
use logalert::slack::escape::escape;
use logalert::slack::{Incoming, render_incoming};
use logalert::state::{StateError, StateRecord, StateStore};
use serde_json::{Value, json};

use super::{Clients, Message};
use crate::deliver::{Delivered, DeliveryError, Idempotence, Request};
use crate::destination::{Secret, WebhookUrl};

/// Thread records live this long after their last change.
const THREAD_TTL_SECS: i64 = 30 * 24 * 3600;
/// Spacing between posts to one channel from one container.
pub const CHANNEL_SPACING: Duration = Duration::from_secs(1);
const COLOR_RESOLVED: &str = "#2eb886";

/// The state-table key of an incident's thread.
pub fn thread_key(channel_id: &str, incident_id: &str) -> String {
    format!("slack-thread#{channel_id}#{incident_id}")
}

/// Spaces posts to a channel ([`CHANNEL_SPACING`]) within a container.
#[derive(Debug, Default)]
pub struct Pacer {
    next: Mutex<HashMap<String, Instant>>,
    spacing: Option<Duration>,
}

impl Pacer {
    /// A pacer with another spacing (tests).
    pub fn with_spacing(spacing: Duration) -> Pacer {
        Pacer {
            spacing: Some(spacing),
            ..Pacer::default()
        }
    }

    /// Wait for this channel's turn.
    pub async fn wait(&self, channel: &str) {
        let spacing = self.spacing.unwrap_or(CHANNEL_SPACING);
        let at = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let at = next
                .get(channel)
                .copied()
                .filter(|t| *t > now)
                .unwrap_or(now);
            next.insert(channel.to_string(), at + spacing);
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }
}

/// One Slack app destination.
pub struct SlackApp<'a> {
    pub token: &'a Secret,
    pub channel_id: &'a str,
    pub api_url: &'a WebhookUrl,
}

/// A Web API answer worth keeping.
struct Posted {
    ts: Option<String>,
    delivered: Delivered,
}

impl SlackApp<'_> {
    pub async fn deliver<S: StateStore>(
        &self,
        m: &Message<'_>,
        clients: &Clients<'_, S>,
        deadline: Instant,
    ) -> Result<Delivered, DeliveryError> {
        let payload = render_incoming(m.incoming, m.subject, m.enrichment, m.opts);
        let alert = match m.incoming {
            Incoming::Alert(a) if !a.incident_id.trim().is_empty() => a,
            _ => {
                return self
                    .post(&payload, None, clients, deadline)
                    .await
                    .map(|p| p.delivered);
            }
        };
        let key = thread_key(self.channel_id, alert.incident_id.trim());
        let now_ms = jiff::Timestamp::now().as_millisecond();
        let current = match clients.state.get(&key).await {
            Ok(c) => c,
            Err(e) => {
                // Fail open: post without threading rather than not at all.
                tracing::warn!(error = %e, "state table unavailable: posting without a thread");
                return self
                    .post(&payload, None, clients, deadline)
                    .await
                    .map(|p| p.delivered);
            }
        };
        let thread = current.as_ref().map(|r| &r.body);
        let state = thread.and_then(|b| b["state"].as_str()).unwrap_or("");
        match (state, thread.and_then(|b| b["ts"].as_str())) {
            ("open" | "resolved", Some(ts)) => {
                let record = current.as_ref().expect("state read");
                self.reply(alert, &payload, ts, record, &key, clients, deadline, now_ms)
                    .await
            }
            ("opening", _)
                if thread.and_then(|b| b["owner"].as_str()) != Some(m.request_id)
                    && thread.and_then(|b| b["until"].as_i64()).unwrap_or(0) > now_ms =>
            {
                Err(DeliveryError::Exhausted {
                    last: "another invocation is opening this incident's thread; retry later"
                        .into(),
                    attempts: 0,
                })
            }
            _ => {
                self.open(
                    alert,
                    &payload,
                    current.as_ref(),
                    &key,
                    m,
                    clients,
                    deadline,
                    now_ms,
                )
                .await
            }
        }
    }

    /// Post the parent of a new thread and remember its `ts`.
    #[allow(clippy::too_many_arguments)]
    async fn open<S: StateStore>(
        &self,
        alert: &AlertMessage,
        payload: &Value,
        current: Option<&StateRecord>,
        key: &str,
        m: &Message<'_>,
        clients: &Clients<'_, S>,
        deadline: Instant,
        now_ms: i64,
    ) -> Result<Delivered, DeliveryError> {
        let expected = current.map(|r| r.version);
        let version = expected.unwrap_or(0) + 1;
        let claim = StateRecord {
            version,
            expires_at: now_ms / 1000 + THREAD_TTL_SECS,
            body: json!({"state": "opening", "owner": m.request_id, "until": m.deadline_ms}),
        };
        match clients.state.put(key, &claim, expected).await {
            Ok(()) => {}
            Err(StateError::Conflict) => {
                return Err(DeliveryError::Exhausted {
                    last: "this incident's thread changed concurrently; retry later".into(),
                    attempts: 0,
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "state table unavailable: posting without a thread");
                return self
                    .post(payload, None, clients, deadline)
                    .await
                    .map(|p| p.delivered);
            }
        }
        let posted = self.post(payload, None, clients, deadline).await;
        let thread_state = if AlertView::of(alert).stage == Stage::Resolved {
            "resolved"
        } else {
            "open"
        };
        let record = match &posted {
            Ok(Posted { ts: Some(ts), .. }) => StateRecord {
                version: version + 1,
                expires_at: now_ms / 1000 + THREAD_TTL_SECS,
                body: json!({"state": thread_state, "ts": ts, "parent": payload, "replies": 0}),
            },
            // Not posted (or no ts): release the claim so a retry opens the thread.
            _ => StateRecord {
                version: version + 1,
                expires_at: now_ms / 1000 + THREAD_TTL_SECS,
                body: json!({"state": "failed"}),
            },
        };
        if let Err(e) = clients.state.put(key, &record, Some(version)).await {
            tracing::warn!(error = %e, "could not store the incident's thread: later alerts open a new one");
        }
        posted.map(|p| p.delivered)
    }

    /// Reply in the incident's thread, then update the parent's status line.
    #[allow(clippy::too_many_arguments)]
    async fn reply<S: StateStore>(
        &self,
        alert: &AlertMessage,
        payload: &Value,
        ts: &str,
        record: &StateRecord,
        key: &str,
        clients: &Clients<'_, S>,
        deadline: Instant,
        now_ms: i64,
    ) -> Result<Delivered, DeliveryError> {
        let posted = self.post(payload, Some(ts), clients, deadline).await?;
        let view = AlertView::of(alert);
        let replies = record.body["replies"].as_u64().unwrap_or(0) + 1;
        let parent = &record.body["parent"];
        if parent.is_object() {
            let updated = parent_with_status(parent, &view, replies);
            if let Err(e) = self.update(ts, &updated, clients, deadline).await {
                tracing::warn!(error = %e, "reply posted, but the thread's parent could not be updated");
            }
        }
        record_reply(
            clients.state,
            key,
            record,
            view.stage == Stage::Resolved,
            now_ms,
        )
        .await;
        Ok(posted.delivered)
    }

    fn request<'u>(
        &self,
        url: &'u WebhookUrl,
        body: &Value,
        idempotence: Idempotence,
    ) -> Request<'u> {
        Request::json(url, body, idempotence)
            .header("Authorization", format!("Bearer {}", self.token.expose()))
            .header("Content-Type", "application/json; charset=utf-8")
    }

    async fn post<S: StateStore>(
        &self,
        payload: &Value,
        thread_ts: Option<&str>,
        clients: &Clients<'_, S>,
        deadline: Instant,
    ) -> Result<Posted, DeliveryError> {
        let mut body = payload.clone();
        body["channel"] = json!(self.channel_id);
        body["unfurl_links"] = json!(false);
        body["unfurl_media"] = json!(false);
        if let Some(ts) = thread_ts {
            body["thread_ts"] = json!(ts);
        }
        clients.pacer.wait(self.channel_id).await;
        let url = self.api_url.join("chat.postMessage");
        let d = clients
            .deliverer
            .send(
                &self.request(&url, &body, Idempotence::NotIdempotent),
                deadline,
            )
            .await?;
        web_api_result(d, false)
    }

    async fn update<S: StateStore>(
        &self,
        ts: &str,
        payload: &Value,
        clients: &Clients<'_, S>,
        deadline: Instant,
    ) -> Result<Posted, DeliveryError> {
        let mut body = payload.clone();
        body["channel"] = json!(self.channel_id);
        body["ts"] = json!(ts);
        clients.pacer.wait(self.channel_id).await;
        let url = self.api_url.join("chat.update");
        let d = clients
            .deliverer
            .send(
                &self.request(&url, &body, Idempotence::Idempotent),
                deadline,
            )
            .await?;
        web_api_result(d, true)
    }
}

/// Count the reply in the thread record (and mark it resolved). Another invocation replying in the
/// same thread at the same moment makes the conditional write fail: re-read and count on top of
/// its write, a few times, so no reply goes uncounted. The reply is already posted, so a failure
/// here is logged, never returned.
async fn record_reply<S: StateStore>(
    state: &S,
    key: &str,
    read: &StateRecord,
    resolved: bool,
    now_ms: i64,
) {
    let mut current = read.clone();
    for _ in 0..3 {
        let mut body = current.body.clone();
        body["replies"] = json!(body["replies"].as_u64().unwrap_or(0) + 1);
        if resolved {
            body["state"] = json!("resolved");
        }
        let next = StateRecord {
            version: current.version + 1,
            expires_at: now_ms / 1000 + THREAD_TTL_SECS,
            body,
        };
        match state.put(key, &next, Some(current.version)).await {
            Ok(()) => return,
            Err(StateError::Conflict) => match state.get(key).await {
                // Still the same thread: count on top of the other write.
                Ok(Some(again)) if again.body["ts"] == read.body["ts"] => current = again,
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "could not re-read the incident's thread record");
                    return;
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "could not update the incident's thread record");
                return;
            }
        }
    }
    tracing::warn!("the incident's thread record kept changing: this reply is not counted");
}

/// Slack's Web API answers HTTP 200 with `{"ok":false,"error":…}` for most failures.
fn web_api_result(d: Delivered, idempotent: bool) -> Result<Posted, DeliveryError> {
    let v: Value = serde_json::from_str(&d.body).unwrap_or(Value::Null);
    if v["ok"].as_bool() == Some(true) {
        return Ok(Posted {
            ts: v["ts"].as_str().map(str::to_string),
            delivered: d,
        });
    }
    let error = crate::deliver::error_code(&d.body);
    Err(match error.as_str() {
        // "It's possible some aspect of the operation succeeded before the error was raised."
        "internal_error" | "fatal_error" if !idempotent => DeliveryError::MaybeDelivered {
            last: format!("Slack answered {error}"),
            attempts: d.attempts,
        },
        "internal_error"
        | "fatal_error"
        | "service_unavailable"
        | "request_timeout"
        | "ratelimited" => DeliveryError::Exhausted {
            last: format!("Slack answered {error}"),
            attempts: d.attempts,
        },
        _ => DeliveryError::Permanent {
            status: d.status,
            error,
            attempts: d.attempts,
        },
    })
}

/// The parent message with its status line set (an extra attachment after the alert's own), and
/// for a resolution: ✅, green, the duration and the total.
pub fn parent_with_status(parent: &Value, view: &AlertView<'_>, replies: u64) -> Value {
    let mut out = parent.clone();
    let line = match view.stage {
        Stage::Resolved => format!(
            ":white_check_mark: *Resolved* — {}",
            escape(&view.incident_line().unwrap_or_else(|| view.headline()))
        ),
        _ => {
            let mut s = format!(
                ":hourglass_flowing_sand: *Open* — {}",
                escape(&view.incident_line().unwrap_or_else(|| view.headline()))
            );
            s.push_str(&format!(
                " · {replies} {} in the thread",
                if replies == 1 { "update" } else { "updates" }
            ));
            s
        }
    };
    if view.stage == Stage::Resolved {
        if let Some(text) = out["text"].as_str() {
            out["text"] = json!(format!(":white_check_mark: *RESOLVED* · {text}"));
        }
        if let Some(first) = out["attachments"].get_mut(0) {
            first["color"] = json!(COLOR_RESOLVED);
        }
    }
    let color = out["attachments"][0]["color"].clone();
    if let Some(list) = out["attachments"].as_array_mut() {
        list.push(json!({"color": color, "text": line, "mrkdwn_in": ["text"],
            "fallback": line}));
    }
    out
}
