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

use crate::alert::{AlertMessage, Observation, Sample};

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
    /// With `exponential_realert`: the end of the latest realert window and its exponent (kept
    /// after the window closes: a quiet period brings the exponent back down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realert_exp: Option<RealertExp>,
    /// With `aggregation`: the open digest window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<DigestWindow>,
    /// Keys a rule type reports instead of the record's (new_term: each new term), each with its
    /// own incident and realert window while one is open (at most [`MAX_SUB_KEYS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub: Vec<SubKey>,
    /// Events the rule type may name as samples of a later trigger ([`RuleType::held_ids`]: the
    /// window types), messages cut to [`HELD_MESSAGE_BYTES`]; dropped once no longer named.
    ///
    /// [`RuleType::held_ids`]: crate::engine::types::RuleType::held_ids
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<HeldEvent>,
    /// A digest item (`aggregation_key` with `query_key`): the record of one (rule, aggregation
    /// value), holding the digest window every query key of the rule adds to, its incident and
    /// outbox; `query_key` is the aggregation value. Stored at [`digest_key`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub digest_item: bool,
    /// `aggregation_key` with `query_key`: the aggregation value of this key's latest match (a
    /// trigger decided by the tick, with no event of its own, goes to that value's digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_value: Option<String>,
}

/// Longest message a [`HeldEvent`] keeps, in bytes.
pub const HELD_MESSAGE_BYTES: usize = 2048;

/// An event kept for the samples of a later publication (see [`KeyState::held`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldEvent {
    pub id: String,
    pub timestamp: i64,
    pub log_stream: String,
    /// The message, cut to [`HELD_MESSAGE_BYTES`] (see `cut`).
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extracted: crate::pattern::Extracted,
    /// The message was cut.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
}

impl HeldEvent {
    /// Hold `m`: its message cut to [`HELD_MESSAGE_BYTES`] (on a character boundary), and its
    /// extracted values while they take at most as much again (each cut to 256 bytes).
    pub fn of(m: &crate::engine::types::MatchView) -> HeldEvent {
        let mut message = m.message.to_string();
        let mut cut = crate::alert::truncate_utf8(&mut message, HELD_MESSAGE_BYTES);
        let mut extracted = Vec::new();
        let mut room = HELD_MESSAGE_BYTES;
        for (name, value) in m.extracted {
            let mut value = value.clone();
            cut |= crate::alert::truncate_utf8(&mut value, 256);
            let Some(left) = room.checked_sub(name.len() + value.len()) else {
                cut = true;
                break;
            };
            room = left;
            extracted.push((name.clone(), value));
        }
        HeldEvent {
            id: m.id.to_string(),
            timestamp: m.timestamp,
            log_stream: m.log_stream.to_string(),
            message,
            extracted,
            cut,
        }
    }

    /// The event as the rule type and the policy see a match (`log_group`: the record's).
    pub fn view<'a>(&'a self, log_group: &'a str) -> crate::engine::types::MatchView<'a> {
        crate::engine::types::MatchView {
            id: &self.id,
            timestamp: self.timestamp,
            log_group,
            log_stream: &self.log_stream,
            message: &self.message,
            extracted: &self.extracted,
        }
    }
}

/// DynamoDB's limit on one item (attribute names and values), in bytes.
pub const DYNAMODB_ITEM_LIMIT: usize = 400 * 1024;
/// Most bytes the encoded record (the JSON body the driver writes, [`encoded_len`]) may take:
/// DynamoDB's item limit less 8 KB for the item's key (≤ 1.6 KB, see [`key_state_key`]) and its
/// other attributes (version, expiry, due index: < 100 bytes). `policy::decide` keeps every record
/// within it (see [`crate::engine::policy`], "State stays bounded").
pub const STATE_BODY_BUDGET: usize = DYNAMODB_ITEM_LIMIT - 8 * 1024;
/// Longest query key or reported key (a new term) a record stores, in bytes; a longer one is
/// stored as its first bytes, `…` and a hash of the whole ([`stored_key`]).
pub const MAX_STORED_KEY_BYTES: usize = 1024;

/// The bytes of `value`'s JSON encoding (serde_json, compact: the encoding of the state item's
/// body), counted without building it.
pub fn encoded_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    serde_json::to_writer(&mut c, value).expect("state serialises");
    c.0
}

/// Bytes `c` takes inside a JSON string as serde_json writes it (`\"`, `\n`, `\u0001`, …).
fn json_char_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// Cut `s` so that its JSON encoding (between the quotes) is at most `max` bytes, ending in `…`
/// when cut (on a character boundary); true when it was cut.
pub fn cut_encoded(s: &mut String, max: usize) -> bool {
    if s.chars().map(json_char_len).sum::<usize>() <= max {
        return false;
    }
    const ELLIPSIS: char = '…';
    let room = max.saturating_sub(ELLIPSIS.len_utf8());
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        used += json_char_len(c);
        if used > room {
            break;
        }
        end = i + c.len_utf8();
    }
    s.truncate(end);
    if max >= ELLIPSIS.len_utf8() {
        s.push(ELLIPSIS);
    }
    true
}

/// A key as a record stores it: unchanged while its JSON encoding is at most
/// [`MAX_STORED_KEY_BYTES`], else cut ([`cut_encoded`], ending in `…`) and followed by the first
/// 16 hex digits of the whole key's SHA-256 — so two long keys that share a prefix stay apart, and
/// the stored form is the same on every decision.
pub fn stored_key(key: &str) -> std::borrow::Cow<'_, str> {
    if key.chars().map(json_char_len).sum::<usize>() <= MAX_STORED_KEY_BYTES {
        return std::borrow::Cow::Borrowed(key);
    }
    let hash = super::hex(&Sha256::digest(key.as_bytes())[..8]);
    let mut cut = key.to_string();
    cut_encoded(&mut cut, MAX_STORED_KEY_BYTES - hash.len());
    cut.push_str(&hash);
    std::borrow::Cow::Owned(cut)
}

/// Sub-keys with an open incident or window one record holds at most; a new key beyond that is
/// alerted without a window of its own (never suppressed by another key's window).
pub const MAX_SUB_KEYS: usize = 64;

/// The policy state of a key a rule type reports instead of the record's ([`KeyState::sub`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubKey {
    pub key: String,
    #[serde(default)]
    pub incident: Option<Incident>,
    #[serde(default)]
    pub window: Option<RealertWindow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realert_exp: Option<RealertExp>,
}

/// `exponential_realert` memory (ElastAlert's silence cache entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealertExp {
    /// Event time the latest realert window ended (or ends).
    pub until_ms: i64,
    /// The window was `realert × 2^exponent`.
    pub exponent: u32,
}

/// `aggregation`: the triggers of one window, published as one digest when it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestWindow {
    /// Event time the window ends (exclusive): the opening trigger's time + `aggregation`.
    pub until_ms: i64,
    /// Events the digest represents (the sum of its triggers' counts).
    pub count: u64,
    /// Triggers (alerts that would have been sent one by one).
    pub triggers: u64,
    /// Event times of the first and last represented event.
    pub first_ms: i64,
    pub last_ms: i64,
    /// The first triggers' samples (≤ `max_samples`, messages cut).
    #[serde(default)]
    pub samples: Vec<Sample>,
    #[serde(default)]
    pub truncated: bool,
    /// The latest trigger's observation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<Observation>,
    /// `summary_table_fields`: events per combination of values.
    #[serde(default, skip_serializing_if = "Tally::is_empty")]
    pub table: Tally,
    /// `top_count_keys`: events per value, one tally per key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top: Vec<Tally>,
}

/// Counts per row of values, exact for the first [`TALLY_ROWS`] distinct rows; later new rows are
/// counted in `other` (so the counts always add up).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    #[serde(default)]
    pub rows: Vec<(Vec<String>, u64)>,
    /// Events of rows not kept.
    #[serde(default)]
    pub other: u64,
    /// Distinct rows not kept (a lower bound: a dropped row seen twice counts once per sighting
    /// it was not recognised).
    #[serde(default)]
    pub other_rows: u64,
}

/// Distinct rows a [`Tally`] keeps.
pub const TALLY_ROWS: usize = 50;
/// Longest value kept in a [`Tally`] row, in bytes.
pub const TALLY_VALUE_BYTES: usize = 128;

impl Tally {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.other == 0
    }

    /// Count `n` events for `values` (cut to [`TALLY_VALUE_BYTES`]).
    pub fn add(&mut self, mut values: Vec<String>, n: u64) {
        if n == 0 {
            return;
        }
        for v in &mut values {
            crate::alert::truncate_utf8(v, TALLY_VALUE_BYTES);
        }
        if let Some(row) = self.rows.iter_mut().find(|(v, _)| *v == values) {
            row.1 = row.1.saturating_add(n);
        } else if self.rows.len() < TALLY_ROWS {
            self.rows.push((values, n));
        } else {
            self.other = self.other.saturating_add(n);
            self.other_rows = self.other_rows.saturating_add(1);
        }
    }

    /// Events counted in all.
    pub fn total(&self) -> u64 {
        self.rows
            .iter()
            .fold(self.other, |s, (_, n)| s.saturating_add(*n))
    }

    /// The rows by count (largest first, ties in first-seen order), at most `n`; the rest
    /// (beyond `n`, and `other`) as (rows, events).
    pub fn top(&self, n: usize) -> (Vec<(Vec<String>, u64)>, u64, u64) {
        let mut rows = self.rows.clone();
        rows.sort_by_key(|r| std::cmp::Reverse(r.1));
        let rest = rows.split_off(n.min(rows.len()));
        let rest_events = rest
            .iter()
            .fold(self.other, |s, (_, c)| s.saturating_add(*c));
        (rows, rest.len() as u64 + self.other_rows, rest_events)
    }
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
    /// Opened by a shared silence (`realert_key`): the rule whose alert silenced this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silenced_by: Option<String>,
}

/// `realert_key`: the silence shared by every rule with the same `realert_key`, per query-key
/// value (ElastAlert's silence cache entry `realert_key.query_key`). Stored in its own item,
/// [`silence_key`], read and written in the same atomic commit as the key items that use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    /// Event time the silence ends (exclusive): matches of any rule sharing it before then are
    /// suppressed (counted in that rule's own realert window).
    pub until_ms: i64,
    /// The rule whose alert opened it.
    pub rule: String,
    /// With `exponential_realert`: the backoff memory, shared by the rules (the alerting rule's
    /// `realert` and cap apply to each window it opens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<RealertExp>,
}

/// `silence#<realert_key>#<query key>`: the store key of a shared silence (the query key as
/// records store it, [`stored_key`]; an over-long one hashed, as in [`key_state_key`]).
pub fn silence_key(realert_key: &str, query_key: Option<&str>) -> String {
    let inner = key_state_key(realert_key, query_key.map(|k| stored_key(k)).as_deref());
    format!("silence#{}", &inner["key#".len()..])
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
            query_key: query_key.map(|k| stored_key(k).into_owned()),
            created_ms,
            log_group: String::new(),
            account: String::new(),
            seq: 0,
            incident: None,
            window: None,
            outbox: Vec::new(),
            type_state: serde_json::Value::Null,
            realert_exp: None,
            digest: None,
            sub: Vec::new(),
            held: Vec::new(),
            digest_item: false,
            aggregation_value: None,
        }
    }

    /// A fresh digest item of `rule` for aggregation value `value` ([`KeyState::digest_item`]).
    pub fn new_digest(rule: &str, value: &str, created_ms: i64) -> KeyState {
        KeyState {
            digest_item: true,
            ..KeyState::new(rule, Some(value), created_ms)
        }
    }

    /// The store key of this record.
    pub fn key(&self) -> String {
        if self.digest_item {
            return digest_key(&self.rule, self.query_key.as_deref().unwrap_or(""));
        }
        key_state_key(&self.rule, self.query_key.as_deref())
    }
}

/// `digest#<rule>#<aggregation value>`: the store key of a digest item (the value as records
/// store it, [`stored_key`]; an over-long one hashed, as in [`key_state_key`]).
pub fn digest_key(rule: &str, value: &str) -> String {
    let inner = key_state_key(rule, Some(&stored_key(value)));
    format!("digest#{}", &inner["key#".len()..])
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
    fn tally_counts_exactly_then_in_other() {
        let mut t = Tally::default();
        assert!(t.is_empty());
        t.add(vec!["a".into()], 2);
        t.add(vec!["b".into()], 5);
        t.add(vec!["a".into()], 1);
        t.add(vec!["c".into()], 0);
        assert_eq!(
            t.rows,
            vec![(vec!["a".to_string()], 3), (vec!["b".to_string()], 5)]
        );
        let (top, rest_rows, rest) = t.top(1);
        assert_eq!(
            (top, rest_rows, rest),
            (vec![(vec!["b".to_string()], 5)], 1, 3)
        );
        for i in 0..TALLY_ROWS {
            t.add(vec![format!("v{i}")], 1);
        }
        assert_eq!(t.rows.len(), TALLY_ROWS);
        assert_eq!((t.other, t.other_rows), (2, 2));
        assert_eq!(t.total(), 3 + 5 + TALLY_ROWS as u64);
        let mut long = Tally::default();
        long.add(vec!["x".repeat(1000)], 1);
        assert!(long.rows[0].0[0].len() <= TALLY_VALUE_BYTES);
    }

    #[test]
    fn long_keys_are_stored_cut_with_a_hash_of_the_whole() {
        assert_eq!(stored_key("alice"), "alice");
        let exact = "k".repeat(MAX_STORED_KEY_BYTES);
        assert_eq!(stored_key(&exact), exact);
        let a = format!("{}a", "é".repeat(2_000));
        let b = format!("{}b", "é".repeat(2_000));
        let (sa, sb) = (stored_key(&a), stored_key(&b));
        assert!(sa.len() <= MAX_STORED_KEY_BYTES, "{}", sa.len());
        assert!(sa.starts_with("éé") && sa.contains('…'));
        assert_ne!(sa, sb, "a shared prefix does not merge two keys");
        assert_eq!(stored_key(&a), sa, "the same on every decision");
        let st = KeyState::new("r", Some(&a), 1);
        assert_eq!(st.query_key.as_deref(), Some(&*sa));
        // Bounded in its encoding: control characters take 6 bytes each in JSON.
        let ctl = "\u{1}".repeat(1_000);
        let s = stored_key(&ctl);
        assert!(
            encoded_len(&*s) <= MAX_STORED_KEY_BYTES + 2,
            "{}",
            encoded_len(&*s)
        );
        let mut t = "ab\"".repeat(10);
        assert!(cut_encoded(&mut t, 10));
        assert_eq!(t, "ab\"ab…");
        assert!(!cut_encoded(&mut t, 100));
    }

    #[test]
    fn encoded_len_is_the_length_of_the_json() {
        let mut st = KeyState::new("r", Some("q\"\u{1}é"), 1);
        st.type_state = serde_json::json!({"x": [1.5, -2, "\n"], "y": null});
        assert_eq!(
            encoded_len(&st),
            serde_json::to_value(&st).unwrap().to_string().len()
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
