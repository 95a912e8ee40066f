//! The state contract (v2): a small versioned key/value store with **atomic multi-item commits**
//! and a **due index**, behind the alert decisions.
//!
//! The engine keeps everything that must survive between invocations as [`StateRecord`]s: one
//! [`KeyState`](crate::engine::KeyState) item per (rule, query key) and one `batch#…` marker per
//! handled payload. Lambda backs this with DynamoDB (`functions/state-dynamodb`); `logalert replay`
//! and the tests use [`MemoryStore`]. Both behave identically, so a local replay decides exactly like
//! the deployed function.
//!
//! ## Operations
//!
//! * [`StateStore::get`] / [`StateStore::get_many`] — strongly consistent reads (DynamoDB `GetItem` /
//!   `BatchGetItem` with `ConsistentRead`, at most 100 keys per request). An expired item is absent.
//! * [`StateStore::put`] — one conditional write (kept for single-item users such as the notifier's
//!   de-duplication claims).
//! * [`StateStore::commit`] — **all or nothing**: every [`Write`] in the slice is applied, or none is.
//!   Each write carries its own condition (`expected_version`: the version read, or `None` for "absent
//!   or expired"). If any condition fails the whole commit fails with [`StateError::Conflict`] and the
//!   caller must **re-read and re-decide** (never re-apply a stale result). DynamoDB:
//!   `TransactWriteItems`, at most [`MAX_COMMIT_ITEMS`] writes (the engine never passes more; it
//!   splits larger work into several commits, each self-contained — see `docs/log-filter.md`). A
//!   commit must not name the same key twice.
//! * [`StateStore::due`] — the keys whose `due_at` is at or before `now_ms`, earliest first, at most
//!   `limit`. `due_at` is set (or cleared) by each [`WriteOp::Put`]; an item without one is not in
//!   the index. DynamoDB: a sparse GSI on `due_at`, so a tick never scans the table and an idle tick
//!   is one query that returns nothing. Memory: a `BTreeMap`.
//!
//! Versions: the writer sets `record.version` (the engine uses read version + 1, first write 1).
//! Expiry: `expires_at` is epoch **seconds** (DynamoDB TTL attribute); readers and conditions treat an
//! expired item as absent (DynamoDB deletes lazily). An expired item also leaves the due index.
//!
//! Errors: [`StateError::Conflict`] (a condition failed) or [`StateError::Unavailable`] (the store
//! could not be reached, throttled, or refused). The engine fails open on `Unavailable`.
//!
//! ```
//! use logalert::state::{MemoryStore, StateRecord, StateStore, StateError, Write};
//! # logalert::state::block_on(async {
//! let store = MemoryStore::default();
//! let rec = |v| StateRecord { version: v, expires_at: 4_000_000_000, body: serde_json::json!({"n": v}) };
//! // Two items, atomically; "b" becomes due at t = 1000 ms.
//! store.commit(&[Write::put("a", rec(1), None), Write::put("b", rec(1), None).due_at(Some(1000))]).await.unwrap();
//! // A failed condition on one item rejects the whole commit.
//! let stale = [Write::put("a", rec(2), Some(1)), Write::put("b", rec(2), None)];
//! assert!(matches!(store.commit(&stale).await, Err(StateError::Conflict)));
//! assert_eq!(store.get("a").await.unwrap().unwrap().version, 1);
//! assert_eq!(store.due(999, 10).await.unwrap().len(), 0);
//! assert_eq!(store.due(1000, 10).await.unwrap()[0].key, "b");
//! # });
//! ```

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Mutex;

/// Most writes in one [`StateStore::commit`] (DynamoDB `TransactWriteItems`' limit).
pub const MAX_COMMIT_ITEMS: usize = 100;

/// One stored item.
#[derive(Debug, Clone, PartialEq)]
pub struct StateRecord {
    /// Incremented by the writer on every successful write (first write: 1).
    pub version: u64,
    /// Epoch **seconds** after which the item is dead (DynamoDB TTL attribute). Readers treat an
    /// expired item as absent (DynamoDB deletes lazily).
    pub expires_at: i64,
    pub body: serde_json::Value,
}

/// What one [`Write`] does to its key.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Store `record`; `due_at` (epoch ms) places the key in the due index, `None` removes it.
    Put {
        record: StateRecord,
        due_at: Option<i64>,
    },
    /// Remove the item (and its due-index entry).
    Delete,
}

/// One item of an atomic [`StateStore::commit`].
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub key: String,
    pub op: WriteOp,
    /// The condition: the stored version must be this one (`None`: the key must be absent or
    /// expired).
    pub expected_version: Option<u64>,
}

impl Write {
    /// A put, not in the due index (add one with [`Write::due_at`]).
    pub fn put(
        key: impl Into<String>,
        record: StateRecord,
        expected_version: Option<u64>,
    ) -> Write {
        Write {
            key: key.into(),
            op: WriteOp::Put {
                record,
                due_at: None,
            },
            expected_version,
        }
    }

    /// A delete, conditioned on the version read.
    pub fn delete(key: impl Into<String>, expected_version: Option<u64>) -> Write {
        Write {
            key: key.into(),
            op: WriteOp::Delete,
            expected_version,
        }
    }

    /// Set the due time of a put (no effect on a delete).
    pub fn due_at(mut self, due: Option<i64>) -> Write {
        if let WriteOp::Put { due_at, .. } = &mut self.op {
            *due_at = due;
        }
        self
    }
}

/// One entry of the due index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueKey {
    pub key: String,
    /// Epoch ms.
    pub due_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A condition failed: an item changed since it was read (or exists when it should not).
    #[error("state item changed concurrently")]
    Conflict,
    /// The store could not be reached or refused the request. The engine fails open on this.
    #[error("state store unavailable: {0}")]
    Unavailable(String),
}

/// A versioned key/value store. Implemented by DynamoDB (functions) and [`MemoryStore`] (replay,
/// tests). See the module docs for the semantics every implementation must have.
///
/// `commit` and `due` have default bodies only so that single-item users (the notifier's
/// de-duplication, test doubles) need not write them: the defaults answer `Unavailable`, which the
/// engine treats as an outage (fail open). Every store the engine runs on implements them.
pub trait StateStore: Sync {
    /// Read a record; `None` if absent or expired.
    fn get(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<StateRecord>, StateError>> + Send;

    /// Write `record` if the stored version equals `expected_version` (`None`: the key must be absent
    /// or expired). `record.version` is what gets stored. Leaves the key's due-index entry as it was.
    fn put(
        &self,
        key: &str,
        record: &StateRecord,
        expected_version: Option<u64>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Read several records (one result per key, in order). DynamoDB: `BatchGetItem`, consistent,
    /// chunked by 100, unprocessed keys retried.
    fn get_many(
        &self,
        keys: &[String],
    ) -> impl Future<Output = Result<Vec<Option<StateRecord>>, StateError>> + Send {
        async move {
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                out.push(self.get(k).await?);
            }
            Ok(out)
        }
    }

    /// Apply every write or none (see the module docs). At most [`MAX_COMMIT_ITEMS`] writes, no key
    /// twice.
    fn commit(&self, writes: &[Write]) -> impl Future<Output = Result<(), StateError>> + Send {
        let _ = writes;
        async {
            Err(StateError::Unavailable(
                "this store has no atomic commit".into(),
            ))
        }
    }

    /// Keys due at or before `now_ms`, earliest first, at most `limit`.
    fn due(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<DueKey>, StateError>> + Send {
        let _ = (now_ms, limit);
        async {
            Err(StateError::Unavailable(
                "this store has no due index".into(),
            ))
        }
    }
}

#[derive(Debug, Default)]
struct Items {
    records: HashMap<String, (StateRecord, Option<i64>)>,
    /// (due_at, key) for every item with a due time.
    due: BTreeSet<(i64, String)>,
}

impl Items {
    fn live(&self, key: &str, now_secs: i64) -> Option<&(StateRecord, Option<i64>)> {
        self.records
            .get(key)
            .filter(|(r, _)| r.expires_at > now_secs)
    }

    fn remove(&mut self, key: &str) {
        if let Some((_, Some(d))) = self.records.remove(key) {
            self.due.remove(&(d, key.to_string()));
        }
    }

    fn insert(&mut self, key: &str, record: StateRecord, due_at: Option<i64>) {
        self.remove(key);
        if let Some(d) = due_at {
            self.due.insert((d, key.to_string()));
        }
        self.records.insert(key.to_string(), (record, due_at));
    }
}

/// In-memory store with the same semantics as the DynamoDB one. Expiry is judged against `clock_secs`
/// (event time in replay), settable with [`MemoryStore::set_clock`].
#[derive(Debug, Default)]
pub struct MemoryStore {
    items: Mutex<Items>,
    clock_secs: Mutex<i64>,
}

impl MemoryStore {
    /// Set the store's notion of "now" (epoch seconds) used to expire items.
    pub fn set_clock(&self, now_secs: i64) {
        *self.clock_secs.lock().unwrap() = now_secs;
    }

    fn now(&self) -> i64 {
        *self.clock_secs.lock().unwrap()
    }

    /// Number of live items (for tests).
    pub fn len(&self) -> usize {
        let now = self.now();
        self.items
            .lock()
            .unwrap()
            .records
            .values()
            .filter(|(r, _)| r.expires_at > now)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every live item's key, sorted (for tests).
    pub fn keys(&self) -> Vec<String> {
        let now = self.now();
        let items = self.items.lock().unwrap();
        let mut keys: Vec<String> = items
            .records
            .iter()
            .filter(|(_, (r, _))| r.expires_at > now)
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys
    }

    fn live(&self, key: &str) -> Option<StateRecord> {
        let now = self.now();
        self.items
            .lock()
            .unwrap()
            .live(key, now)
            .map(|(r, _)| r.clone())
    }
}

impl StateStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<StateRecord>, StateError> {
        Ok(self.live(key))
    }

    async fn put(
        &self,
        key: &str,
        record: &StateRecord,
        expected_version: Option<u64>,
    ) -> Result<(), StateError> {
        let now = self.now();
        let mut items = self.items.lock().unwrap();
        let (current, due) = match items.live(key, now) {
            Some((r, d)) => (Some(r.version), *d),
            None => (None, None),
        };
        if current != expected_version {
            return Err(StateError::Conflict);
        }
        items.insert(key, record.clone(), due);
        Ok(())
    }

    async fn commit(&self, writes: &[Write]) -> Result<(), StateError> {
        if writes.len() > MAX_COMMIT_ITEMS {
            return Err(StateError::Unavailable(format!(
                "a commit of {} items (at most {MAX_COMMIT_ITEMS})",
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
        let now = self.now();
        let mut items = self.items.lock().unwrap();
        for w in writes {
            if items.live(&w.key, now).map(|(r, _)| r.version) != w.expected_version {
                return Err(StateError::Conflict);
            }
        }
        for w in writes {
            match &w.op {
                WriteOp::Put { record, due_at } => items.insert(&w.key, record.clone(), *due_at),
                WriteOp::Delete => items.remove(&w.key),
            }
        }
        Ok(())
    }

    async fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<DueKey>, StateError> {
        let now = self.now();
        let items = self.items.lock().unwrap();
        Ok(items
            .due
            .iter()
            .take_while(|(d, _)| *d <= now_ms)
            .filter(|(_, k)| items.live(k, now).is_some())
            .take(limit)
            .map(|(d, k)| DueKey {
                key: k.clone(),
                due_at: *d,
            })
            .collect())
    }
}

/// Run a future to completion on the current thread (for doc tests and the CLI, which have no runtime;
/// [`MemoryStore`] never actually waits).
pub fn block_on<F: Future>(fut: F) -> F::Output {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(v: u64, expires_at: i64) -> StateRecord {
        StateRecord {
            version: v,
            expires_at,
            body: serde_json::json!(v),
        }
    }

    #[test]
    fn commit_is_all_or_nothing() {
        block_on(async {
            let s = MemoryStore::default();
            s.commit(&[Write::put("a", rec(1, 10), None)])
                .await
                .unwrap();
            // The second write's condition fails: the first is not applied either.
            let r = s
                .commit(&[
                    Write::put("b", rec(1, 10), None),
                    Write::put("a", rec(2, 10), None),
                ])
                .await;
            assert!(matches!(r, Err(StateError::Conflict)));
            assert_eq!(s.get("b").await.unwrap(), None);
            s.commit(&[
                Write::put("b", rec(1, 10), None),
                Write::put("a", rec(2, 10), Some(1)),
            ])
            .await
            .unwrap();
            assert_eq!(s.keys(), ["a", "b"]);
            s.commit(&[Write::delete("a", Some(2))]).await.unwrap();
            assert_eq!(s.keys(), ["b"]);
            assert!(matches!(
                s.commit(&[Write::delete("b", Some(7))]).await,
                Err(StateError::Conflict)
            ));
        });
    }

    #[test]
    fn commit_limits() {
        block_on(async {
            let s = MemoryStore::default();
            let many: Vec<Write> = (0..=MAX_COMMIT_ITEMS)
                .map(|i| Write::put(i.to_string(), rec(1, 10), None))
                .collect();
            assert!(matches!(
                s.commit(&many).await,
                Err(StateError::Unavailable(_))
            ));
            assert!(s.commit(&many[..MAX_COMMIT_ITEMS]).await.is_ok());
            let twice = [
                Write::put("x", rec(1, 10), None),
                Write::put("x", rec(1, 10), None),
            ];
            assert!(matches!(
                s.commit(&twice).await,
                Err(StateError::Unavailable(_))
            ));
            assert_eq!(s.get("x").await.unwrap(), None);
        });
    }

    #[test]
    fn due_index_is_ordered_sparse_and_follows_writes() {
        block_on(async {
            let s = MemoryStore::default();
            s.commit(&[
                Write::put("late", rec(1, 100), None).due_at(Some(5000)),
                Write::put("early", rec(1, 100), None).due_at(Some(1000)),
                Write::put("never", rec(1, 100), None),
                Write::put("min", rec(1, 100), None).due_at(Some(i64::MIN)),
            ])
            .await
            .unwrap();
            let keys = |d: Vec<DueKey>| d.into_iter().map(|d| d.key).collect::<Vec<_>>();
            assert_eq!(keys(s.due(999, 10).await.unwrap()), ["min"]);
            assert_eq!(
                keys(s.due(i64::MAX, 10).await.unwrap()),
                ["min", "early", "late"]
            );
            assert_eq!(keys(s.due(i64::MAX, 2).await.unwrap()), ["min", "early"]);
            // Moving and clearing due times.
            s.commit(&[
                Write::put("early", rec(2, 100), Some(1)).due_at(Some(9000)),
                Write::put("min", rec(2, 100), Some(1)),
            ])
            .await
            .unwrap();
            assert_eq!(keys(s.due(5000, 10).await.unwrap()), ["late"]);
            // `put` keeps the due entry; delete and expiry remove it.
            s.put("late", &rec(2, 100), Some(1)).await.unwrap();
            assert_eq!(keys(s.due(5000, 10).await.unwrap()), ["late"]);
            s.commit(&[Write::delete("late", Some(2))]).await.unwrap();
            assert_eq!(keys(s.due(i64::MAX, 10).await.unwrap()), ["early"]);
            s.set_clock(100);
            assert!(s.due(i64::MAX, 10).await.unwrap().is_empty());
            // An expired item is absent for conditions too.
            s.commit(&[Write::put("early", rec(1, 200), None)])
                .await
                .unwrap();
        });
    }

    #[test]
    fn get_many_reads_in_order() {
        block_on(async {
            let s = MemoryStore::default();
            s.put("a", &rec(1, 10), None).await.unwrap();
            let got = s.get_many(&["b".into(), "a".into()]).await.unwrap();
            assert_eq!(got, [None, Some(rec(1, 10))]);
        });
    }
}
