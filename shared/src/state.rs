//! The state contract: a small versioned key/value store behind the alert decisions.
//!
//! The engine keeps everything that must survive between invocations (frequency windows, suppression
//! windows, de-duplication markers) as [`StateRecord`]s. Lambda backs this with DynamoDB (one item per
//! key: `pk`, `version`, `expires_at` as the TTL attribute, `body` as a JSON string); `logalert replay`
//! and unit tests use [`MemoryStore`]. Both behave identically, so a local replay decides exactly like
//! the deployed function.
//!
//! Writes are optimistic: [`StateStore::put`] succeeds only if the stored version is the one the caller
//! read (or the key is absent when `expected_version` is `None`); otherwise it returns
//! [`StateError::Conflict`] and the caller re-reads and retries.
//!
//! ```
//! use logalert::state::{MemoryStore, StateRecord, StateStore, StateError};
//! # tokio_test_block_on(async {
//! let store = MemoryStore::default();
//! let rec = StateRecord { version: 1, expires_at: 4_000_000_000, body: serde_json::json!({"n": 1}) };
//! store.put("k", &rec, None).await.unwrap();
//! assert!(matches!(store.put("k", &rec, None).await, Err(StateError::Conflict)));
//! assert_eq!(store.get("k").await.unwrap().unwrap().body["n"], 1);
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output { logalert::state::block_on(f) }
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

/// One stored item.
#[derive(Debug, Clone, PartialEq)]
pub struct StateRecord {
    /// Incremented by the writer on every successful put (first put: 1).
    pub version: u64,
    /// Epoch **seconds** after which the item is dead (DynamoDB TTL attribute). Readers treat an
    /// expired item as absent (DynamoDB deletes lazily).
    pub expires_at: i64,
    pub body: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The item changed since it was read (or exists when it should not).
    #[error("state item changed concurrently")]
    Conflict,
    /// The store could not be reached or refused the request. The engine fails open on this.
    #[error("state store unavailable: {0}")]
    Unavailable(String),
}

/// A versioned key/value store. Implemented by DynamoDB (functions) and [`MemoryStore`] (replay).
pub trait StateStore: Sync {
    /// Read a record; `None` if absent or expired (relative to `now_secs`).
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<StateRecord>, StateError>> + Send;

    /// Write `record` if the stored version equals `expected_version` (`None`: the key must be absent or
    /// expired). `record.version` is what gets stored.
    fn put(
        &self,
        key: &str,
        record: &StateRecord,
        expected_version: Option<u64>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// In-memory store with the same semantics as the DynamoDB one. Expiry is judged against `clock_secs`
/// (event time in replay), settable with [`MemoryStore::set_clock`].
#[derive(Debug, Default)]
pub struct MemoryStore {
    items: Mutex<HashMap<String, StateRecord>>,
    clock_secs: Mutex<i64>,
}

impl MemoryStore {
    /// Set the store's notion of "now" (epoch seconds) used to expire items.
    pub fn set_clock(&self, now_secs: i64) {
        *self.clock_secs.lock().unwrap() = now_secs;
    }

    /// Number of live items (for tests).
    pub fn len(&self) -> usize {
        let now = *self.clock_secs.lock().unwrap();
        self.items.lock().unwrap().values().filter(|r| r.expires_at > now).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn live(&self, key: &str) -> Option<StateRecord> {
        let now = *self.clock_secs.lock().unwrap();
        self.items.lock().unwrap().get(key).filter(|r| r.expires_at > now).cloned()
    }
}

impl StateStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<StateRecord>, StateError> {
        Ok(self.live(key))
    }

    async fn put(&self, key: &str, record: &StateRecord, expected_version: Option<u64>) -> Result<(), StateError> {
        let current = self.live(key).map(|r| r.version);
        if current != expected_version {
            return Err(StateError::Conflict);
        }
        self.items.lock().unwrap().insert(key.to_string(), record.clone());
        Ok(())
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
