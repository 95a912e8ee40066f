//! At most one chat message per alert, through the shared state table.
//!
//! The key ([`key_for`]) is the alert's `alert_id` (`alert#<alert_id>`): log-filter publishes at
//! least once, so one alert can arrive as two SNS messages with different `MessageId`s. Messages
//! without an `alert_id` (CloudWatch alarms, plain text, alerts written before engine v2) fall back
//! to the SNS `MessageId` (`sns#<MessageId>`).
//!
//! SNS and Lambda deliver at least once, so the same key can arrive twice — after a failed
//! invocation (Lambda retries it with the *same request id*) or as an independent duplicate (a
//! *different* request id, possibly at the same moment). The marker goes through these states:
//!
//! 1. **claimed** `{owner: request id, until: deadline}` — written (conditionally) before posting. A
//!    second invocation that finds someone else's live claim does not post; it fails so Lambda retries
//!    it later, when the message is either delivered (then skipped) or the claim has expired (then it
//!    posts). A claim by the same request id is a retry of our own crashed attempt and is taken over.
//! 2. **delivered** — written after Slack answered 200. Any later delivery is skipped.
//! 3. **maybe-delivered** — the request was sent and no answer came (a timeout): the destination may
//!    have shown it, and cannot de-duplicate, so nobody posts it again (see `deliver`). Skipped.
//! 4. **failed** — written when posting failed; anyone may claim it again.
//!
//! The crash window: if the function dies after Slack accepted the post but before the "delivered"
//! marker is written (a timeout or crash in the few milliseconds between), the retry finds its own
//! claim and posts again — one duplicate message. The alternative (treat a claim as delivered) would
//! silently lose messages when the crash happened *before* the post; a duplicate is preferred to a
//! loss. If the table is unavailable the notifier fails open: it posts without a marker and logs it.

use logalert::slack::Incoming;
use logalert::state::{StateError, StateRecord, StateStore};
use serde_json::json;

/// The state-table key for an SNS message (used when the message carries no `alert_id`).
pub fn key(message_id: &str) -> String {
    format!("sns#{message_id}")
}

/// The state-table key for an alert id.
pub fn alert_key(alert_id: &str) -> String {
    format!("alert#{alert_id}")
}

/// The de-duplication key of a message: its `alert_id` when it has one, else its SNS `MessageId`;
/// `None` when it has neither (it is delivered without de-duplication).
pub fn key_for(incoming: &Incoming, message_id: Option<&str>) -> Option<String> {
    if let Incoming::Alert(alert) = incoming {
        let id = alert.alert_id.trim();
        if !id.is_empty() {
            return Some(alert_key(id));
        }
    }
    message_id.map(str::trim).filter(|m| !m.is_empty()).map(key)
}

/// How a claimed delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Delivered,
    /// Sent without an answer: never posted again.
    MaybeDelivered,
    /// Not delivered: may be claimed again.
    Failed,
}

impl Settled {
    fn as_str(self) -> &'static str {
        match self {
            Settled::Delivered => "delivered",
            Settled::MaybeDelivered => "maybe-delivered",
            Settled::Failed => "failed",
        }
    }
}

/// What [`claim`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// We own the message now; the claim is at this version.
    Owned { version: u64 },
    /// Already delivered: skip.
    Delivered,
    /// An earlier attempt may have delivered it (no answer after sending): skip, never re-post.
    MaybeDelivered,
    /// Another invocation is delivering it right now: retry later.
    InFlight { owner: String },
    /// The table could not be used: post anyway (fail open), without a marker.
    Unavailable(String),
}

/// Try to take the message whose de-duplication key is `key` ([`key_for`]).
pub async fn claim<S: StateStore>(
    store: &S,
    key: &str,
    request_id: &str,
    deadline_ms: i64,
    now_ms: i64,
    ttl_secs: i64,
) -> Claim {
    let current = match store.get(key).await {
        Ok(c) => c,
        Err(e) => return Claim::Unavailable(e.to_string()),
    };
    let expected = current.as_ref().map(|r| r.version);
    if let Some(rec) = &current {
        let state = rec.body.get("state").and_then(|v| v.as_str()).unwrap_or("");
        let owner = rec.body.get("owner").and_then(|v| v.as_str()).unwrap_or("");
        let until = rec.body.get("until").and_then(|v| v.as_i64()).unwrap_or(0);
        match state {
            "delivered" => return Claim::Delivered,
            "maybe-delivered" => return Claim::MaybeDelivered,
            "claimed" if owner != request_id && until > now_ms => {
                return Claim::InFlight {
                    owner: owner.to_string(),
                };
            }
            _ => {}
        }
    }
    let version = expected.unwrap_or(0) + 1;
    let record = StateRecord {
        version,
        expires_at: now_ms / 1000 + ttl_secs,
        body: json!({"state": "claimed", "owner": request_id, "until": deadline_ms}),
    };
    match store.put(key, &record, expected).await {
        Ok(()) => Claim::Owned { version },
        Err(StateError::Conflict) => Claim::InFlight {
            owner: "(concurrent claim)".into(),
        },
        Err(e) => Claim::Unavailable(e.to_string()),
    }
}

/// Record the outcome of our claim.
pub async fn settle<S: StateStore>(
    store: &S,
    key: &str,
    claim_version: u64,
    outcome: Settled,
    channel: &str,
    now_ms: i64,
    ttl_secs: i64,
) -> Result<(), StateError> {
    let record = StateRecord {
        version: claim_version + 1,
        expires_at: now_ms / 1000 + ttl_secs,
        body: json!({
            "state": outcome.as_str(),
            "at": now_ms,
            "channel": channel,
        }),
    };
    store.put(key, &record, Some(claim_version)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use logalert::state::MemoryStore;

    const TTL: i64 = 3600;

    #[tokio::test]
    async fn lifecycle() {
        let store = MemoryStore::default();
        store.set_clock(1_000);
        let now = 1_000_000;
        let Claim::Owned { version } = claim(&store, "m", "req-1", now + 60_000, now, TTL).await
        else {
            panic!("first claim owns")
        };
        // Another invocation while we post: in flight.
        assert!(matches!(
            claim(&store, "m", "req-2", now + 60_000, now, TTL).await,
            Claim::InFlight { .. }
        ));
        // Our own retry (same request id) takes over.
        let Claim::Owned { version: v2 } =
            claim(&store, "m", "req-1", now + 60_000, now, TTL).await
        else {
            panic!("own retry owns")
        };
        assert_eq!(v2, version + 1);
        settle(&store, "m", v2, Settled::Delivered, "ops", now, TTL)
            .await
            .unwrap();
        assert_eq!(
            claim(&store, "m", "req-3", now + 60_000, now, TTL).await,
            Claim::Delivered
        );
    }

    #[tokio::test]
    async fn expired_and_failed_claims_are_taken_over() {
        let store = MemoryStore::default();
        let now = 1_000_000;
        let Claim::Owned { version } = claim(&store, "m", "a", now + 10, now, TTL).await else {
            panic!()
        };
        // The owner's deadline passed: someone else may take it.
        assert!(matches!(
            claim(&store, "m", "b", now + 60_000, now + 11, TTL).await,
            Claim::Owned { .. }
        ));
        let store = MemoryStore::default();
        let Claim::Owned { version: v } = claim(&store, "n", "a", now + 60_000, now, TTL).await
        else {
            panic!()
        };
        settle(&store, "n", v, Settled::Failed, "ops", now, TTL)
            .await
            .unwrap();
        assert!(matches!(
            claim(&store, "n", "b", now + 60_000, now, TTL).await,
            Claim::Owned { .. }
        ));
        let _ = version;
    }

    #[tokio::test]
    async fn maybe_delivered_is_never_claimed_again() {
        let store = MemoryStore::default();
        let now = 1_000_000;
        let Claim::Owned { version } = claim(&store, "k", "a", now + 60_000, now, TTL).await else {
            panic!()
        };
        settle(
            &store,
            "k",
            version,
            Settled::MaybeDelivered,
            "ops",
            now,
            TTL,
        )
        .await
        .unwrap();
        // Neither a Lambda retry (same request id) nor another invocation posts it again.
        for req in ["a", "b"] {
            assert_eq!(
                claim(&store, "k", req, now + 60_000, now + 1, TTL).await,
                Claim::MaybeDelivered
            );
        }
    }

    #[test]
    fn keys_prefer_the_alert_id() {
        let alert = |id: &str| {
            Incoming::classify(
                &serde_json::json!({"version":1,"kind":"log-match","alert_id":id,
                    "rule":{"name":"r","type":"any","severity":"error","description":null},
                    "account":"1","region":"us-east-1","log_group":"/g","query_key":null,
                    "count":1,"suppressed":0,"first_timestamp":0,"last_timestamp":0,
                    "samples":[],"truncated":false,"channel":"c","mention":[]})
                .to_string(),
            )
        };
        assert_eq!(
            key_for(&alert("a-1"), Some("m-1")).as_deref(),
            Some("alert#a-1")
        );
        // The same alert published twice: one key whatever the MessageId.
        assert_eq!(
            key_for(&alert("a-1"), Some("m-2")),
            key_for(&alert("a-1"), Some("m-1"))
        );
        // Alerts from before engine v2, alarms and text fall back to the MessageId.
        assert_eq!(key_for(&alert(""), Some("m-1")).as_deref(), Some("sns#m-1"));
        assert_eq!(
            key_for(&alert("  "), Some("m-1")).as_deref(),
            Some("sns#m-1")
        );
        let text = Incoming::classify("deploy done");
        assert_eq!(key_for(&text, Some("m-3")).as_deref(), Some("sns#m-3"));
        assert_eq!(key_for(&text, Some("")), None);
        assert_eq!(key_for(&text, None), None);
    }

    struct Broken;
    impl StateStore for Broken {
        async fn get(&self, _: &str) -> Result<Option<StateRecord>, StateError> {
            Err(StateError::Unavailable("table gone".into()))
        }
        async fn put(&self, _: &str, _: &StateRecord, _: Option<u64>) -> Result<(), StateError> {
            Err(StateError::Unavailable("table gone".into()))
        }
    }

    #[tokio::test]
    async fn unavailable_table_fails_open() {
        assert!(matches!(
            claim(&Broken, "m", "a", 10, 0, TTL).await,
            Claim::Unavailable(_)
        ));
    }
}
