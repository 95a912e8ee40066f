//! One state item ↔ its DynamoDB attributes, and the size DynamoDB bills it at.
//!
//! | attribute    | type | what                                                                 |
//! |--------------|------|----------------------------------------------------------------------|
//! | `pk`         | S    | the state key (`KeyState` of a rule+key, `batch#…` marker, …)         |
//! | `version`    | N    | bumped by every write; the condition of the next one                 |
//! | `expires_at` | N    | epoch seconds; the table's TTL attribute                             |
//! | `body`       | S    | the record's JSON                                                    |
//! | `due_shard`  | S    | only on items with due work: the due index's partition ([`DUE_SHARDS`]) |
//! | `due_at`     | N    | only on items with due work: epoch ms, the due index's sort key      |
//!
//! The due index is sparse: DynamoDB puts an item in a GSI only when it carries the index's key
//! attributes, so only keys with due work are in it and a tick reads nothing else.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use logalert::state::{StateError, StateRecord};

pub const PK: &str = "pk";
pub const VERSION: &str = "version";
pub const EXPIRES_AT: &str = "expires_at";
pub const BODY: &str = "body";
pub const DUE_SHARD: &str = "due_shard";
pub const DUE_AT: &str = "due_at";
/// The sparse global secondary index over (`due_shard`, `due_at`), projecting `expires_at`.
pub const DUE_INDEX: &str = "due";

/// Partitions of the due index. One GSI partition takes about 1,000 writes per second; spreading
/// due items over a few partitions keeps a burst of due-time changes from throttling the table
/// (a throttled GSI throttles the writes to the table). A tick queries each of them: an idle
/// tick is `DUE_SHARDS` queries that return nothing. Raising it later is safe (new shards are
/// queried too); lowering it would strand items in the dropped shards.
pub const DUE_SHARDS: u32 = 4;

pub type Item = HashMap<String, AttributeValue>;

/// The due-index partition of `key`: FNV-1a of the key (written out here: two lines, and stable
/// across Rust versions, unlike `std`'s hasher — though only the spread matters, never the value).
pub fn due_shard(key: &str) -> String {
    let h = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}", h % u64::from(DUE_SHARDS))
}

/// The full item for a put.
pub fn to_item(key: &str, record: &StateRecord, due_at: Option<i64>) -> Item {
    let mut item = Item::new();
    item.insert(PK.into(), AttributeValue::S(key.to_string()));
    item.insert(
        VERSION.into(),
        AttributeValue::N(record.version.to_string()),
    );
    item.insert(
        EXPIRES_AT.into(),
        AttributeValue::N(record.expires_at.to_string()),
    );
    item.insert(BODY.into(), AttributeValue::S(record.body.to_string()));
    if let Some(due) = due_at {
        item.insert(DUE_SHARD.into(), AttributeValue::S(due_shard(key)));
        item.insert(DUE_AT.into(), AttributeValue::N(due.to_string()));
    }
    item
}

/// A number attribute, or an error naming the item and attribute.
pub fn number(item: &Item, key: &str, name: &str) -> Result<i64, StateError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .ok_or_else(|| StateError::Unavailable(format!("item {key:?}: bad `{name}`")))
}

/// The record an item holds, `None` if it expired at `now_secs` (DynamoDB deletes lazily).
pub fn from_item(item: &Item, now_secs: i64) -> Result<Option<StateRecord>, StateError> {
    let key = item.get(PK).and_then(|v| v.as_s().ok()).map_or("?", |s| s);
    let expires_at = number(item, key, EXPIRES_AT)?;
    if expires_at <= now_secs {
        return Ok(None);
    }
    let version = u64::try_from(number(item, key, VERSION)?)
        .map_err(|_| StateError::Unavailable(format!("item {key:?}: bad `{VERSION}`")))?;
    let body = item
        .get(BODY)
        .and_then(|v| v.as_s().ok())
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| StateError::Unavailable(format!("item {key:?}: bad `{BODY}`")))?;
    Ok(Some(StateRecord {
        version,
        expires_at,
        body,
    }))
}

/// The size DynamoDB bills an item at: attribute names plus values (strings: UTF-8 bytes;
/// numbers: about one byte per two significant digits, plus one). See "Item sizes" in the
/// DynamoDB developer guide.
pub fn billed_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| {
            name.len()
                + match value {
                    AttributeValue::S(s) => s.len(),
                    AttributeValue::N(n) => n.trim_start_matches('-').len().div_ceil(2) + 1,
                    _ => 1,
                }
        })
        .sum()
}

/// Write units of one item of `size` bytes (1 per KB, rounded up; at least 1).
pub fn write_units(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

/// Strongly consistent read units of one item of `size` bytes (1 per 4 KB, rounded up; an absent
/// item still costs 1).
pub fn read_units(size: usize) -> f64 {
    size.div_ceil(4096).max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_and_expire() {
        let rec = StateRecord {
            version: 7,
            expires_at: 2_000,
            body: serde_json::json!({"a": [1, "é"]}),
        };
        let item = to_item("k", &rec, Some(5));
        assert_eq!(item[DUE_AT].as_n().unwrap(), "5");
        assert_eq!(item[DUE_SHARD].as_s().unwrap(), &due_shard("k"));
        assert_eq!(from_item(&item, 1_999).unwrap(), Some(rec.clone()));
        assert_eq!(from_item(&item, 2_000).unwrap(), None);
        let plain = to_item("k", &rec, None);
        assert!(!plain.contains_key(DUE_AT) && !plain.contains_key(DUE_SHARD));
    }

    #[test]
    fn shards_cover_every_partition_and_stay_put() {
        let shards: std::collections::BTreeSet<String> =
            (0..200).map(|i| due_shard(&format!("key#{i}"))).collect();
        assert_eq!(shards.len(), DUE_SHARDS as usize);
        assert_eq!(due_shard("rule#key"), due_shard("rule#key"));
    }

    #[test]
    fn billed_sizes_and_units() {
        let rec = StateRecord {
            version: 12,
            expires_at: 1_800_000_000,
            body: serde_json::json!("x".repeat(1_000)),
        };
        let item = to_item("abc", &rec, None);
        // pk 2+3, version 7+2, expires_at 10+6, body 4+1002.
        assert_eq!(billed_size(&item), 5 + 9 + 16 + 1006);
        assert_eq!(write_units(billed_size(&item)), 2.0);
        assert_eq!(write_units(1), 1.0);
        assert_eq!(read_units(0), 1.0);
        assert_eq!(read_units(4097), 2.0);
    }
}
