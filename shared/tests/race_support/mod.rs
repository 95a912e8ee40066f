//! A store for race tests: its first commit first lets another invocation run to completion (a
//! race two Lambda containers can have), so the commit meets the other's writes.

use std::sync::Mutex;

use logalert::state::{DueKey, MemoryStore, StateError, StateRecord, StateStore, Write};

/// A store whose first commit first lets another invocation run to completion (a race two
/// Lambda containers can have): the commit then meets the other's writes.
pub struct RaceOnce<'a> {
    pub inner: &'a MemoryStore,
    /// Run before the first commit.
    #[allow(clippy::type_complexity)]
    pub other: Mutex<Option<Box<dyn FnOnce() + Send + 'a>>>,
}

impl StateStore for RaceOnce<'_> {
    async fn get(&self, k: &str) -> Result<Option<StateRecord>, StateError> {
        self.inner.get(k).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<StateRecord>>, StateError> {
        self.inner.get_many(keys).await
    }
    async fn put(&self, k: &str, r: &StateRecord, v: Option<u64>) -> Result<(), StateError> {
        self.inner.put(k, r, v).await
    }
    async fn commit(&self, w: &[Write]) -> Result<(), StateError> {
        let other = self.other.lock().unwrap().take();
        if let Some(run) = other {
            run();
        }
        self.inner.commit(w).await
    }
    async fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<DueKey>, StateError> {
        self.inner.due(now_ms, limit).await
    }
}
