//! The typed, versioned state of one (rule, query key): the record every decision reads and writes.
//!
//! Stored as the JSON body of one state item, key `key#<rule>#<query key>` (see
//! [`key_state_key`]); the store's item version is the optimistic-concurrency condition. It holds
//! the common alerting policy — the open incident, the realert window with what it suppressed, the
//! publication sequence number, and the **outbox** of publications decided but not yet accepted by
//! the sink — and the rule type's own state (`type_state`, owned by the type module).
//!
//! ```
//! use logalert::engine::KeyState;
//! let st = KeyState::new("errors", Some("alice"), 1_700_000_000_000);
//! let json = serde_json::to_value(&st).unwrap();
//! assert_eq!(json["rule"], "errors");
//! let back: KeyState = serde_json::from_value(json).unwrap();
//! assert_eq!(back, st);
//! ```

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::alert::{AlertMessage, Sample};

/// The `schema` this crate writes in [`KeyState`].
pub const KEY_STATE_SCHEMA: u32 = 2;

/// The state of one (rule, query key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyState {
    /// Record layout version ([`KEY_STATE_SCHEMA`]).
    pub schema: u32,
    pub rule: String,
    pub query_key: Option<String>,
    /// When this record was created (engine clock, ms). Part of every id derived from it, so a
    /// record recreated after expiry never reuses an id.
    pub created_ms: i64,
    /// Log group and account of the latest match (tick publications report them).
    #[serde(default)]
    pub log_group: String,
    #[serde(default)]
    pub account: String,
    /// Publications decided so far for this record (the next one gets `seq + 1`).
    #[serde(default)]
    pub seq: u64,
    /// The open incident, if any.
    #[serde(default)]
    pub incident: Option<Incident>,
    /// The realert window opened by the latest alert, if any.
    #[serde(default)]
    pub window: Option<RealertWindow>,
    /// Publications decided (committed) and not yet accepted by the sink, oldest first.
    #[serde(default)]
    pub outbox: Vec<Pending>,
    /// The rule type's own state (see [`crate::engine::types::RuleType::State`]).
    #[serde(default)]
    pub type_state: serde_json::Value,
}

/// One (rule, key) episode: from its first alert to its `resolved`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    /// Engine clock when the first alert was decided (ms).
    pub opened_at: i64,
    /// Event time of the newest match represented (alerted or suppressed) in this incident.
    pub last_match_ms: i64,
    /// Matches represented so far (alerted + suppressed).
    pub total: u64,
}

/// After an alert: matches of this (rule, key) up to `until_ms` (event time, exclusive) are
/// suppressed, counted and sampled; the window's summary reports them when it closes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealertWindow {
    /// Event time the window ends (exclusive).
    pub until_ms: i64,
    /// Matches suppressed in this window, not yet reported.
    pub suppressed: u64,
    /// Event times of the first and last suppressed match.
    #[serde(default)]
    pub first_ms: Option<i64>,
    #[serde(default)]
    pub last_ms: Option<i64>,
    /// The first suppressed matches (≤ the rule's `max_samples`, messages cut).
    #[serde(default)]
    pub samples: Vec<Sample>,
    /// A sample message was cut.
    #[serde(default)]
    pub truncated: bool,
}

/// A publication in the outbox: decided, committed, not yet accepted by the sink. Republished with
/// the same `alert_id` until it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub subject: String,
    pub alert: AlertMessage,
    pub attributes: Vec<(String, String)>,
}

impl KeyState {
    pub fn new(rule: &str, query_key: Option<&str>, created_ms: i64) -> KeyState {
        KeyState {
            schema: KEY_STATE_SCHEMA,
            rule: rule.to_string(),
            query_key: query_key.map(str::to_string),
            created_ms,
            log_group: String::new(),
            account: String::new(),
            seq: 0,
            incident: None,
            window: None,
            outbox: Vec::new(),
            type_state: serde_json::Value::Null,
        }
    }

    /// The store key of this record.
    pub fn key(&self) -> String {
        key_state_key(&self.rule, self.query_key.as_deref())
    }
}

/// `key#<rule>#<query key>` (no query key: `key#<rule>#`), hashing an over-long key (DynamoDB
/// partition keys are at most 2048 bytes). A rule name holding `#` is length-prefixed, so two
/// (rule, key) pairs never share an item.
pub fn key_state_key(rule: &str, query_key: Option<&str>) -> String {
    let rule_part = if rule.contains('#') {
        format!("{}:{rule}", rule.len())
    } else {
        rule.to_string()
    };
    let key = query_key.unwrap_or("");
    if key.len() + rule_part.len() > 1500 {
        format!(
            "key#{rule_part}#sha256:{}",
            super::hex(&Sha256::digest(key.as_bytes()))
        )
    } else {
        format!("key#{rule_part}#{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(key_state_key("r", Some("k")), "key#r#k");
        assert_eq!(key_state_key("r", None), "key#r#");
        assert_eq!(key_state_key("a#b", Some("c")), "key#3:a#b#c");
        assert_ne!(
            key_state_key("a#b", Some("c")),
            key_state_key("a", Some("b#c"))
        );
        let long = "k".repeat(3000);
        assert!(key_state_key("r", Some(&long)).len() < 100);
        assert_ne!(
            key_state_key("r", Some(&long)),
            key_state_key("r", Some(&"k".repeat(3001)))
        );
    }

    #[test]
    fn old_fields_default() {
        let st: KeyState = serde_json::from_value(serde_json::json!({
            "schema": 2, "rule": "r", "query_key": null, "created_ms": 5
        }))
        .unwrap();
        assert_eq!(st, KeyState::new("r", None, 5));
    }
}
