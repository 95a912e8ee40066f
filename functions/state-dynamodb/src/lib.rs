//! [`DynamoStateStore`]: logalert's [`StateStore`] on one DynamoDB table.
//!
//! ```no_run
//! # async fn demo() {
//! let config = aws_config::load_from_env().await;
//! let store = logalert_dynamodb::DynamoStateStore::new(
//!     aws_sdk_dynamodb::Client::new(&config),
//!     "logalert-state",
//! );
//! # }
//! ```
//!
//! Table layout (`template.yaml`, [`table::create`]): on-demand, partition key `pk` (S), TTL attribute
//! `expires_at`, and the sparse global secondary index `due` over (`due_shard`, `due_at`) — see
//! [`item`] for every attribute. DynamoDB deletes expired items lazily (within days), so reads treat
//! `expires_at <= now` as absent and conditions treat an expired item like a missing one.
//!
//! | [`StateStore`] operation | DynamoDB                                                              |
//! |--------------------------|-----------------------------------------------------------------------|
//! | `get`                    | `GetItem`, consistent                                                 |
//! | `get_many`               | `BatchGetItem`, consistent, 100 keys a request, unprocessed keys retried |
//! | `put`                    | `PutItem` (create) or `UpdateItem` (by version, keeps the due entry)  |
//! | `commit`                 | one `TransactWriteItems`, a condition per item (≤ 100 items)          |
//! | `due`                    | one `Query` per due-index shard, `due_at <= now`, paginated, bounded  |
//!
//! Errors: a failed condition is [`StateError::Conflict`] (for a transaction: cancelled with a
//! `ConditionalCheckFailed` or `TransactionConflict` reason — re-read and re-decide); everything
//! else — throttling (after the SDK's retries), a missing table, a validation error, a network
//! failure — is [`StateError::Unavailable`] with DynamoDB's message.
//!
//! Every request asks for `ReturnConsumedCapacity`; [`DynamoStateStore::usage`] adds it up together
//! with an estimate from item sizes ([`usage`]).

pub mod item;
pub mod table;
pub mod usage;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, ReturnConsumedCapacity, TransactWriteItem,
};
use logalert::state::{
    DueKey, MAX_COMMIT_ITEMS, StateError, StateRecord, StateStore, Write, WriteOp,
};

use crate::item::{
    BODY, DUE_AT, DUE_INDEX, DUE_SHARD, DUE_SHARDS, EXPIRES_AT, Item, PK, VERSION, billed_size,
};
pub use crate::usage::Usage;
use crate::usage::UsageMeter;

/// Keys per `BatchGetItem` request (DynamoDB's limit).
pub const BATCH_GET_KEYS: usize = 100;
/// Requests for one `get_many` chunk before its unprocessed keys count as an outage.
pub const BATCH_GET_ATTEMPTS: u32 = 6;
/// Pages read per due-index shard in one `due` call. Pages are `limit` entries long, so this bound
/// is only reached when most entries are expired items DynamoDB has not deleted yet.
pub const DUE_PAGES_PER_SHARD: usize = 8;

/// The state store on a DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStateStore {
    client: Client,
    table: String,
    meter: UsageMeter,
    retry_backoff: Duration,
}

impl DynamoStateStore {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoStateStore {
        DynamoStateStore {
            client,
            table: table.into(),
            meter: UsageMeter::default(),
            retry_backoff: Duration::from_millis(25),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Requests and capacity units since the store was created (shared by its clones).
    pub fn usage(&self) -> Usage {
        self.meter.snapshot()
    }

    /// [`DynamoStateStore::usage`], then start counting from zero.
    pub fn take_usage(&self) -> Usage {
        self.meter.take()
    }

    async fn batch_get_chunk(&self, keys: &[String]) -> Result<Vec<Item>, StateError> {
        let mut pending: Vec<Item> = keys
            .iter()
            .map(|k| HashMap::from([(PK.to_string(), AttributeValue::S(k.clone()))]))
            .collect();
        let mut found = Vec::with_capacity(keys.len());
        for attempt in 0..BATCH_GET_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(self.retry_backoff * 2u32.pow(attempt - 1)).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| StateError::Unavailable(format!("BatchGetItem: {e}")))?;
            let requested = request.keys().len();
            self.meter.request("BatchGetItem");
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| unavailable("BatchGetItem", e))?;
            self.meter.reported(out.consumed_capacity());
            let items = out
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default();
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            // Every key read costs at least one unit, found or not.
            let absent = requested - items.len() - pending.len();
            let units: f64 = items.iter().map(|i| item::read_units(billed_size(i))).sum();
            self.meter.add(units + absent as f64, 0.0, 0.0);
            found.extend(items);
            if pending.is_empty() {
                return Ok(found);
            }
        }
        Err(StateError::Unavailable(format!(
            "BatchGetItem: {} key(s) still unprocessed after {BATCH_GET_ATTEMPTS} requests (throttled)",
            pending.len()
        )))
    }

    async fn due_in_shard(
        &self,
        shard: u32,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<DueKey>, StateError> {
        // Expiry is wall time, as for every read (`now_ms` is the engine's clock for due times).
        let now_secs = now_secs();
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        for _ in 0..DUE_PAGES_PER_SHARD {
            self.meter.request("Query");
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(DUE_INDEX)
                .key_condition_expression("#shard = :shard AND #due <= :now")
                .expression_attribute_names("#shard", DUE_SHARD)
                .expression_attribute_names("#due", DUE_AT)
                .expression_attribute_values(":shard", AttributeValue::S(shard.to_string()))
                .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| unavailable("Query", e))?;
            self.meter.reported(page.consumed_capacity());
            let items = page.items();
            // Eventually consistent (a GSI cannot be read otherwise): ½ unit per 4 KB of the page.
            let bytes: usize = items.iter().map(billed_size).sum();
            self.meter.add(item::read_units(bytes) / 2.0, 0.0, 0.0);
            for i in items {
                let key = i.get(PK).and_then(|v| v.as_s().ok()).cloned();
                let due_at = item::number(i, key.as_deref().unwrap_or("?"), DUE_AT)?;
                let expired = item::number(i, key.as_deref().unwrap_or("?"), EXPIRES_AT)
                    .is_ok_and(|e| e <= now_secs);
                if let (Some(key), false) = (key, expired) {
                    out.push(DueKey { key, due_at });
                }
            }
            match page.last_evaluated_key {
                Some(k) if out.len() < limit => start = Some(k),
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn unavailable<E: std::error::Error + 'static>(what: &str, err: SdkError<E>) -> StateError {
    // `DisplayErrorContext` prints the whole cause chain (the plain Display says only "service error").
    StateError::Unavailable(format!(
        "{what}: {}",
        aws_sdk_dynamodb::error::DisplayErrorContext(&err)
    ))
}

/// The condition of a write: the version read, or "absent or expired" (`:now` is epoch seconds).
fn condition(expected_version: Option<u64>) -> (&'static str, Vec<(&'static str, AttributeValue)>) {
    let now = (":now", AttributeValue::N(now_secs().to_string()));
    match expected_version {
        None => ("attribute_not_exists(pk) OR expires_at <= :now", vec![now]),
        Some(v) => (
            "version = :v AND expires_at > :now",
            vec![now, (":v", AttributeValue::N(v.to_string()))],
        ),
    }
}

fn values(pairs: Vec<(&'static str, AttributeValue)>) -> HashMap<String, AttributeValue> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Conflict if a transaction was cancelled because a condition failed or another transaction held
/// an item (either way: re-read and re-decide); otherwise the reasons, as an outage.
fn commit_error(err: SdkError<TransactWriteItemsError>) -> StateError {
    if let Some(TransactWriteItemsError::TransactionCanceledException(e)) = err.as_service_error() {
        let codes: Vec<&str> = e
            .cancellation_reasons()
            .iter()
            .filter_map(|r| r.code())
            .filter(|c| *c != "None")
            .collect();
        if codes
            .iter()
            .any(|c| *c == "ConditionalCheckFailed" || *c == "TransactionConflict")
        {
            return StateError::Conflict;
        }
        return StateError::Unavailable(format!(
            "TransactWriteItems: cancelled ({})",
            codes.join(", ")
        ));
    }
    unavailable("TransactWriteItems", err)
}

impl DynamoStateStore {
    fn transact_item(&self, w: &Write) -> Result<(TransactWriteItem, f64, f64), StateError> {
        let (cond, vals) = condition(w.expected_version);
        let invalid = |e: aws_sdk_dynamodb::error::BuildError| {
            StateError::Unavailable(format!("TransactWriteItems: {e}"))
        };
        Ok(match &w.op {
            WriteOp::Put { record, due_at } => {
                let item = item::to_item(&w.key, record, *due_at);
                // Transactional writes are billed twice.
                let units = 2.0 * item::write_units(billed_size(&item));
                let index_units = if due_at.is_some() { 1.0 } else { 0.0 };
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression(cond)
                    .set_expression_attribute_values(Some(values(vals)))
                    .build()
                    .map_err(invalid)?;
                (
                    TransactWriteItem::builder().put(put).build(),
                    units,
                    index_units,
                )
            }
            WriteOp::Delete => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .key(PK, AttributeValue::S(w.key.clone()))
                    .condition_expression(cond)
                    .set_expression_attribute_values(Some(values(vals)))
                    .build()
                    .map_err(invalid)?;
                (
                    TransactWriteItem::builder().delete(delete).build(),
                    2.0,
                    0.0,
                )
            }
        })
    }
}

impl StateStore for DynamoStateStore {
    async fn get(&self, key: &str) -> Result<Option<StateRecord>, StateError> {
        self.meter.request("GetItem");
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(key.to_string()))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", e))?;
        self.meter.reported(out.consumed_capacity());
        let size = out.item.as_ref().map_or(0, billed_size);
        self.meter.add(item::read_units(size), 0.0, 0.0);
        match out.item {
            None => Ok(None),
            Some(item) => item::from_item(&item, now_secs()),
        }
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<StateRecord>>, StateError> {
        // BatchGetItem refuses a request naming a key twice: ask once, answer every position.
        let mut unique: Vec<String> = keys.to_vec();
        unique.sort();
        unique.dedup();
        let mut by_key: HashMap<String, Item> = HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH_GET_KEYS) {
            for item in self.batch_get_chunk(chunk).await? {
                if let Some(k) = item.get(PK).and_then(|v| v.as_s().ok()) {
                    by_key.insert(k.clone(), item);
                }
            }
        }
        let now = now_secs();
        keys.iter()
            .map(|k| match by_key.get(k) {
                Some(item) => item::from_item(item, now),
                None => Ok(None),
            })
            .collect()
    }

    async fn put(
        &self,
        key: &str,
        record: &StateRecord,
        expected_version: Option<u64>,
    ) -> Result<(), StateError> {
        let (cond, vals) = condition(expected_version);
        let size = billed_size(&item::to_item(key, record, None));
        let created = expected_version.is_none();
        let conflict = |failed: bool| failed.then_some(StateError::Conflict);
        if created {
            // A create replaces whatever expired item is there, due entry included.
            self.meter.request("PutItem");
            let out = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item::to_item(key, record, None)))
                .condition_expression(cond)
                .set_expression_attribute_values(Some(values(vals)))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| {
                    conflict(
                        e.as_service_error()
                            .is_some_and(|e| e.is_conditional_check_failed_exception()),
                    )
                    .unwrap_or_else(|| unavailable("PutItem", e))
                })?;
            self.meter.reported(out.consumed_capacity());
        } else {
            // An update by version keeps the item's due entry, as the contract says.
            self.meter.request("UpdateItem");
            let mut vals = vals;
            vals.push((":version", AttributeValue::N(record.version.to_string())));
            vals.push((":expires", AttributeValue::N(record.expires_at.to_string())));
            vals.push((":body", AttributeValue::S(record.body.to_string())));
            let out = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(PK, AttributeValue::S(key.to_string()))
                .update_expression(format!(
                    "SET {VERSION} = :version, {EXPIRES_AT} = :expires, {BODY} = :body"
                ))
                .condition_expression(cond)
                .set_expression_attribute_values(Some(values(vals)))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| {
                    conflict(
                        e.as_service_error()
                            .is_some_and(|e| e.is_conditional_check_failed_exception()),
                    )
                    .unwrap_or_else(|| unavailable("UpdateItem", e))
                })?;
            self.meter.reported(out.consumed_capacity());
        }
        self.meter.add(0.0, item::write_units(size), 0.0);
        Ok(())
    }

    async fn commit(&self, writes: &[Write]) -> Result<(), StateError> {
        if writes.is_empty() {
            return Ok(());
        }
        if writes.len() > MAX_COMMIT_ITEMS {
            return Err(StateError::Unavailable(format!(
                "a commit of {} items (TransactWriteItems takes at most {MAX_COMMIT_ITEMS})",
                writes.len()
            )));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(w) = writes.iter().find(|w| !seen.insert(w.key.as_str())) {
            return Err(StateError::Unavailable(format!(
                "a commit names {:?} twice",
                w.key
            )));
        }
        let mut items = Vec::with_capacity(writes.len());
        let (mut units, mut index_units) = (0.0, 0.0);
        for w in writes {
            let (item, u, iu) = self.transact_item(w)?;
            items.push(item);
            units += u;
            index_units += iu;
        }
        self.meter.request("TransactWriteItems");
        let out = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(commit_error)?;
        self.meter.reported(out.consumed_capacity());
        self.meter.add(0.0, units, index_units);
        Ok(())
    }

    async fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<DueKey>, StateError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut all = Vec::new();
        for shard in 0..DUE_SHARDS {
            all.extend(self.due_in_shard(shard, now_ms, limit).await?);
        }
        all.sort_by(|a, b| (a.due_at, &a.key).cmp(&(b.due_at, &b.key)));
        all.truncate(limit);
        Ok(all)
    }
}
