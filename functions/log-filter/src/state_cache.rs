//! The container's memory of the state table, so a DynamoDB outage keeps suppression.
//!
//! [`CachedStore`] wraps the real store. While DynamoDB answers, every read and commit goes to it
//! (it stays the only source of truth) and the cache keeps the latest record of every key read or
//! committed. When DynamoDB is unavailable:
//!
//! * reads answer from the cache (a key never seen reads as absent) — each one counted as a state
//!   failure ([`CachedStore::take_failures`]: the handler adds them to `StateFailures`);
//! * commits are applied to the cache, with the same version conditions, and still return
//!   [`StateError::Unavailable`], so the engine fails open: it publishes what it decided directly
//!   and counts the failure. The cache therefore keeps each key's state with its outbox emptied
//!   (those publications went out directly), and the next invocation in this container finds the
//!   realert window and nothing pending: it suppresses instead of posting again;
//! * `due` answers from the cache's due times, so this container's ticks still find what is due
//!   (the engine's tick publishes it once its commit can land).
//!
//! What a failed-open commit put in the cache is a guess: the commit may have landed (only its
//! answer was lost), with its outbox still pending in the store, while the cache holds the same
//! version with the outbox emptied. A write conditioned on a guessed version is therefore never
//! sent as it is: the store is read first, and if it answers, the cache learns the truth and the
//! write is refused as a conflict, so the engine decides again from the truth (a guess never
//! overwrites a pending publication); if it is still unavailable, the write fails open too.
//!
//! What an outage still costs: each container starts with an empty cache (its first match alerts),
//! and what the cache learnt is not written back — when DynamoDB returns, decisions continue from
//! the state committed before the outage (a window opened during the outage may alert once more).
//!
//! The cache is bounded by the bytes of the bodies it holds ([`DEFAULT_CACHE_BYTES`]); when full
//! it forgets the least recently written keys first.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use logalert::engine::KeyState;
use logalert::state::{DueKey, StateError, StateRecord, StateStore, Write, WriteOp};

/// Default bound of the cache: 16 MiB of record bodies (log-filter runs with 128 MB).
pub const DEFAULT_CACHE_BYTES: usize = 16 << 20;

#[derive(Debug, Clone)]
struct Entry {
    record: StateRecord,
    due_at: Option<i64>,
    bytes: usize,
    /// Write order, for eviction.
    stamp: u64,
    /// Written by a commit the store did not confirm (see [`CachedStore::commit`]): the store may
    /// hold this version with other contents, or an older version.
    uncertain: bool,
}

#[derive(Debug, Default)]
struct Cache {
    entries: HashMap<String, Entry>,
    by_stamp: BTreeMap<u64, String>,
    bytes: usize,
    next_stamp: u64,
}

impl Cache {
    fn remove(&mut self, key: &str) {
        if let Some(e) = self.entries.remove(key) {
            self.by_stamp.remove(&e.stamp);
            self.bytes -= e.bytes;
        }
    }

    fn insert(
        &mut self,
        key: &str,
        record: StateRecord,
        due_at: Option<i64>,
        uncertain: bool,
        limit: usize,
    ) {
        self.remove(key);
        let bytes = key.len() + record.body.to_string().len();
        if bytes > limit {
            return;
        }
        while self.bytes + bytes > limit {
            let Some((_, oldest)) = self.by_stamp.pop_first() else {
                break;
            };
            if let Some(e) = self.entries.remove(&oldest) {
                self.bytes -= e.bytes;
            }
        }
        self.next_stamp += 1;
        let stamp = self.next_stamp;
        self.by_stamp.insert(stamp, key.to_string());
        self.bytes += bytes;
        self.entries.insert(
            key.to_string(),
            Entry {
                record,
                due_at,
                bytes,
                stamp,
                uncertain,
            },
        );
    }

    fn live(&self, key: &str, now_secs: i64) -> Option<&Entry> {
        self.entries
            .get(key)
            .filter(|e| e.record.expires_at > now_secs)
    }

    /// Apply a commit the store could not make if every condition holds against the cache (all or
    /// nothing), as the engine goes on after it: with the outboxes published directly.
    fn apply_failed_open(&mut self, writes: &[Write], now_secs: i64, limit: usize) -> bool {
        let holds = writes
            .iter()
            .all(|w| self.live(&w.key, now_secs).map(|e| e.record.version) == w.expected_version);
        if holds {
            for w in writes {
                match &w.op {
                    WriteOp::Put { record, due_at } => {
                        self.insert(&w.key, published_directly(record), *due_at, true, limit)
                    }
                    WriteOp::Delete => self.remove(&w.key),
                }
            }
        }
        holds
    }
}

/// `record` as it stands once the engine, failing open, has published its outbox directly.
fn published_directly(record: &StateRecord) -> StateRecord {
    match serde_json::from_value::<KeyState>(record.body.clone()) {
        Ok(mut st) if !st.outbox.is_empty() => {
            st.outbox.clear();
            StateRecord {
                body: serde_json::to_value(&st).unwrap_or_else(|_| record.body.clone()),
                ..record.clone()
            }
        }
        // Not a key state (a payload marker) or nothing pending: as written.
        _ => record.clone(),
    }
}

/// A store that remembers what it read and wrote, and answers from memory when the inner store is
/// unavailable (see the module docs).
#[derive(Debug)]
pub struct CachedStore<S> {
    inner: S,
    cache: Mutex<Cache>,
    limit: usize,
    failures: AtomicU64,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl<S> CachedStore<S> {
    pub fn new(inner: S) -> CachedStore<S> {
        CachedStore::with_limit(inner, DEFAULT_CACHE_BYTES)
    }

    /// A cache holding at most `limit` bytes of keys and bodies.
    pub fn with_limit(inner: S, limit: usize) -> CachedStore<S> {
        CachedStore {
            inner,
            cache: Mutex::new(Cache::default()),
            limit,
            failures: AtomicU64::new(0),
        }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Reads answered from the cache because the store was unavailable, since the last call.
    pub fn take_failures(&self) -> u64 {
        self.failures.swap(0, Ordering::Relaxed)
    }

    /// Keys the cache holds (for tests and logs).
    pub fn cached_keys(&self) -> usize {
        self.cache.lock().unwrap().entries.len()
    }

    fn remember(&self, key: &str, record: Option<&StateRecord>) {
        let mut cache = self.cache.lock().unwrap();
        match record {
            // A read does not tell the due time: keep the one the cache knows.
            Some(r) => {
                let due = cache.entries.get(key).and_then(|e| e.due_at);
                cache.insert(key, r.clone(), due, false, self.limit);
            }
            None => cache.remove(key),
        }
    }

    fn cached(&self, key: &str) -> Option<StateRecord> {
        self.cache
            .lock()
            .unwrap()
            .live(key, now_secs())
            .map(|e| e.record.clone())
    }

    fn outage(&self, what: &str, e: &StateError) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(error = %e, "state {what} failed; answering from the container cache");
    }
}

impl<S: StateStore> CachedStore<S> {
    /// Before `writes` reach the store: any of them conditioned on a version the cache only
    /// guessed (an entry written by a commit whose answer never came) is not sent. Such a
    /// version may be in the store with other contents — the commit may have landed with its
    /// outbox still pending, which the cache assumed published — so a write conditioned on it
    /// could pass and overwrite what the store holds. The store is read instead:
    ///
    /// * it answers: the cache learns the truth and the write is refused as a
    ///   [`StateError::Conflict`], so the engine reads and decides again, from the truth;
    /// * it is still unavailable: the writes are applied to the cache as any commit in an
    ///   outage is, and the answer is [`StateError::Unavailable`] (the engine fails open).
    async fn confirm_guesses(&self, writes: &[Write]) -> Result<(), StateError> {
        let guessed: Vec<String> = {
            let cache = self.cache.lock().unwrap();
            let now = now_secs();
            writes
                .iter()
                .filter(|w| {
                    cache.live(&w.key, now).is_some_and(|e| {
                        e.uncertain && w.expected_version == Some(e.record.version)
                    })
                })
                .map(|w| w.key.clone())
                .collect()
        };
        if guessed.is_empty() {
            return Ok(());
        }
        match self.inner.get_many(&guessed).await {
            Ok(records) => {
                for (k, r) in guessed.iter().zip(&records) {
                    self.remember(k, r.as_ref());
                }
                Err(StateError::Conflict)
            }
            Err(StateError::Unavailable(m)) => {
                self.outage("read", &StateError::Unavailable(m.clone()));
                let mut cache = self.cache.lock().unwrap();
                cache.apply_failed_open(writes, now_secs(), self.limit);
                Err(StateError::Unavailable(m))
            }
            Err(e) => Err(e),
        }
    }
}

impl<S: StateStore> StateStore for CachedStore<S> {
    async fn get(&self, key: &str) -> Result<Option<StateRecord>, StateError> {
        match self.inner.get(key).await {
            Ok(r) => {
                self.remember(key, r.as_ref());
                Ok(r)
            }
            Err(StateError::Unavailable(m)) => {
                self.outage("read", &StateError::Unavailable(m));
                Ok(self.cached(key))
            }
            Err(e) => Err(e),
        }
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<StateRecord>>, StateError> {
        match self.inner.get_many(keys).await {
            Ok(rs) => {
                for (k, r) in keys.iter().zip(&rs) {
                    self.remember(k, r.as_ref());
                }
                Ok(rs)
            }
            Err(StateError::Unavailable(m)) => {
                self.outage("read", &StateError::Unavailable(m));
                Ok(keys.iter().map(|k| self.cached(k)).collect())
            }
            Err(e) => Err(e),
        }
    }

    async fn put(
        &self,
        key: &str,
        record: &StateRecord,
        expected_version: Option<u64>,
    ) -> Result<(), StateError> {
        let due = self
            .cache
            .lock()
            .unwrap()
            .entries
            .get(key)
            .and_then(|e| e.due_at);
        let write = Write::put(key, record.clone(), expected_version).due_at(due);
        self.confirm_guesses(std::slice::from_ref(&write)).await?;
        let result = self.inner.put(key, record, expected_version).await;
        let mut cache = self.cache.lock().unwrap();
        match &result {
            Ok(()) => cache.insert(key, record.clone(), due, false, self.limit),
            Err(StateError::Unavailable(_)) => {
                cache.apply_failed_open(&[write], now_secs(), self.limit);
            }
            Err(StateError::Conflict) => cache.remove(key),
        }
        result
    }

    async fn commit(&self, writes: &[Write]) -> Result<(), StateError> {
        self.confirm_guesses(writes).await?;
        let result = self.inner.commit(writes).await;
        let mut cache = self.cache.lock().unwrap();
        match &result {
            Ok(()) => {
                for w in writes {
                    match &w.op {
                        WriteOp::Put { record, due_at } => {
                            cache.insert(&w.key, record.clone(), *due_at, false, self.limit)
                        }
                        WriteOp::Delete => cache.remove(&w.key),
                    }
                }
            }
            Err(StateError::Unavailable(_)) => {
                cache.apply_failed_open(writes, now_secs(), self.limit);
            }
            // Someone else changed these keys: what the cache holds for them is stale.
            Err(StateError::Conflict) => {
                for w in writes {
                    cache.remove(&w.key);
                }
            }
        }
        result
    }

    async fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<DueKey>, StateError> {
        match self.inner.due(now_ms, limit).await {
            Ok(d) => Ok(d),
            Err(StateError::Unavailable(m)) => {
                self.outage("due query", &StateError::Unavailable(m));
                let now = now_secs();
                let cache = self.cache.lock().unwrap();
                let mut due: Vec<DueKey> = cache
                    .entries
                    .iter()
                    .filter(|(_, e)| e.record.expires_at > now)
                    .filter_map(|(k, e)| {
                        e.due_at.filter(|d| *d <= now_ms).map(|due_at| DueKey {
                            key: k.clone(),
                            due_at,
                        })
                    })
                    .collect();
                due.sort_by(|a, b| (a.due_at, &a.key).cmp(&(b.due_at, &b.key)));
                due.truncate(limit);
                Ok(due)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logalert::state::{MemoryStore, block_on};
    use std::sync::atomic::AtomicBool;

    /// A store that can be switched off (every call then fails as an outage would).
    /// Reads that fail (`reads_down`, and writes are answered as lost: applied, then
    /// `Unavailable`) with `lose_answers`.
    #[derive(Default)]
    struct Switch {
        inner: MemoryStore,
        down: AtomicBool,
        reads_down: AtomicBool,
        lose_answers: AtomicBool,
    }

    impl Switch {
        fn check(&self) -> Result<(), StateError> {
            if self.down.load(Ordering::Relaxed) {
                Err(StateError::Unavailable("switched off".into()))
            } else {
                Ok(())
            }
        }
        fn check_read(&self) -> Result<(), StateError> {
            self.check()?;
            if self.reads_down.load(Ordering::Relaxed) {
                return Err(StateError::Unavailable("reads switched off".into()));
            }
            Ok(())
        }
        fn answer(&self, applied: Result<(), StateError>) -> Result<(), StateError> {
            match applied {
                Ok(()) if self.lose_answers.load(Ordering::Relaxed) => {
                    Err(StateError::Unavailable("answer lost".into()))
                }
                other => other,
            }
        }
    }

    impl StateStore for Switch {
        async fn get(&self, key: &str) -> Result<Option<StateRecord>, StateError> {
            self.check_read()?;
            self.inner.get(key).await
        }
        async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<StateRecord>>, StateError> {
            self.check_read()?;
            self.inner.get_many(keys).await
        }
        async fn put(&self, k: &str, r: &StateRecord, v: Option<u64>) -> Result<(), StateError> {
            self.check()?;
            self.answer(self.inner.put(k, r, v).await)
        }
        async fn commit(&self, writes: &[Write]) -> Result<(), StateError> {
            self.check()?;
            self.answer(self.inner.commit(writes).await)
        }
        async fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<DueKey>, StateError> {
            self.check()?;
            self.inner.due(now_ms, limit).await
        }
    }

    const FAR: i64 = 4_000_000_000;

    fn rec(version: u64, body: serde_json::Value) -> StateRecord {
        StateRecord {
            version,
            expires_at: FAR,
            body,
        }
    }

    fn key_state_with_outbox() -> serde_json::Value {
        let mut st = KeyState::new("errors", Some("alice"), 1);
        let alert: logalert::alert::AlertMessage = serde_json::from_value(serde_json::json!({
            "version": 1, "kind": "log-match", "rule": {"name": "errors", "type": "any", "severity": "error"},
            "account": "1", "region": "r", "log_group": "/g", "query_key": "alice", "count": 1,
            "suppressed": 0, "first_timestamp": 1, "last_timestamp": 1, "samples": [], "truncated": false,
            "channel": "default", "alert_id": "a1"
        }))
        .unwrap();
        st.outbox.push(logalert::engine::Pending {
            subject: "s".into(),
            alert,
            attributes: vec![],
        });
        serde_json::to_value(&st).unwrap()
    }

    #[test]
    fn healthy_calls_go_to_the_store_and_the_cache_learns() {
        block_on(async {
            let s = CachedStore::new(Switch::default());
            s.commit(&[Write::put("a", rec(1, "x".into()), None).due_at(Some(50))])
                .await
                .unwrap();
            // Changed behind the cache's back (another container): reads see the store, not the cache.
            s.inner()
                .inner
                .commit(&[Write::put("a", rec(2, "y".into()), Some(1))])
                .await
                .unwrap();
            assert_eq!(s.get("a").await.unwrap().unwrap().version, 2);
            assert_eq!(s.take_failures(), 0);
            s.inner().down.store(true, Ordering::Relaxed);
            assert_eq!(
                s.get("a").await.unwrap().unwrap().body,
                "y",
                "the latest read"
            );
            assert_eq!(s.get("never-seen").await.unwrap(), None);
            assert_eq!(
                s.get_many(&["a".into(), "b".into()])
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.as_ref().map(|r| r.version))
                    .collect::<Vec<_>>(),
                [Some(2), None]
            );
            assert_eq!(s.take_failures(), 3);
            assert_eq!(s.take_failures(), 0);
        });
    }

    #[test]
    fn in_an_outage_commits_land_in_the_cache_and_still_fail() {
        block_on(async {
            let s = CachedStore::new(Switch::default());
            s.inner().down.store(true, Ordering::Relaxed);
            let w = Write::put("key#errors#alice", rec(1, key_state_with_outbox()), None);
            assert!(matches!(
                s.commit(&[w.clone(), Write::put("batch#1", rec(1, "m".into()), None)])
                    .await,
                Err(StateError::Unavailable(_))
            ));
            // The engine published the outbox directly: the cache keeps the state without it.
            let cached = s.get("key#errors#alice").await.unwrap().unwrap();
            let st: KeyState = serde_json::from_value(cached.body).unwrap();
            assert!(st.outbox.is_empty());
            assert_eq!(st.query_key.as_deref(), Some("alice"));
            assert_eq!(s.get("batch#1").await.unwrap().unwrap().body, "m");
            // The cache checks versions as the store would: a stale write is not applied.
            let stale = Write::put("batch#1", rec(5, "stale".into()), Some(4));
            assert!(s.commit(&[stale]).await.is_err());
            assert_eq!(s.get("batch#1").await.unwrap().unwrap().body, "m");
            // Back up: the store is the truth again (it never saw the outage's writes).
            s.inner().down.store(false, Ordering::Relaxed);
            assert_eq!(s.get("batch#1").await.unwrap(), None);
        });
    }

    /// The chaos test's seed 1796131659058: a commit landed with its outbox pending but its answer
    /// was lost, so the cache guessed the outbox published; a later read failed and the cache
    /// answered that guess, whose version the store also holds. A write conditioned on it would
    /// have passed and dropped the pending publication.
    #[test]
    fn a_write_built_on_a_guessed_version_never_overwrites_the_store() {
        for via_put in [false, true] {
            block_on(async {
                let s = CachedStore::new(Switch::default());
                let key = "key#errors#alice";
                let pending = rec(1, key_state_with_outbox());
                s.inner().lose_answers.store(true, Ordering::Relaxed);
                assert!(matches!(
                    s.commit(&[Write::put(key, pending.clone(), None)]).await,
                    Err(StateError::Unavailable(_))
                ));
                s.inner().lose_answers.store(false, Ordering::Relaxed);
                // The store has the outbox; the cache guessed it published.
                assert_eq!(
                    s.inner().inner.get(key).await.unwrap(),
                    Some(pending.clone())
                );
                s.inner().reads_down.store(true, Ordering::Relaxed);
                let guess = s.get(key).await.unwrap().unwrap();
                assert_eq!(guess.version, 1);
                assert_ne!(
                    guess.body, pending.body,
                    "the cache's guess: outbox emptied"
                );
                s.inner().reads_down.store(false, Ordering::Relaxed);
                let next = rec(2, serde_json::json!({"overwrites": true}));
                let refused = if via_put {
                    s.put(key, &next, Some(1)).await
                } else {
                    s.commit(&[Write::put(key, next.clone(), Some(1))]).await
                };
                assert!(matches!(refused, Err(StateError::Conflict)), "{refused:?}");
                assert_eq!(
                    s.inner().inner.get(key).await.unwrap(),
                    Some(pending.clone())
                );
                // The cache learnt the truth: a read that fails now answers it, and a write built
                // on it goes through.
                s.inner().reads_down.store(true, Ordering::Relaxed);
                assert_eq!(s.get(key).await.unwrap(), Some(pending.clone()));
                s.commit(&[Write::put(key, next.clone(), Some(1))])
                    .await
                    .unwrap();
                assert_eq!(s.inner().inner.get(key).await.unwrap(), Some(next));
            });
        }
    }

    #[test]
    fn in_an_outage_a_write_built_on_a_guess_still_fails_open() {
        block_on(async {
            let s = CachedStore::new(Switch::default());
            let key = "key#errors#alice";
            s.inner().down.store(true, Ordering::Relaxed);
            assert!(
                s.commit(&[Write::put(key, rec(1, "a".into()), None)])
                    .await
                    .is_err()
            );
            // Still down: the write on the guess is applied to the cache only, and fails open.
            assert!(matches!(
                s.commit(&[Write::put(key, rec(2, "b".into()), Some(1))])
                    .await,
                Err(StateError::Unavailable(_))
            ));
            assert_eq!(s.get(key).await.unwrap().unwrap().body, "b");
            assert!(s.take_failures() >= 2);
            s.inner().down.store(false, Ordering::Relaxed);
            assert_eq!(s.inner().inner.get(key).await.unwrap(), None);
        });
    }

    #[test]
    fn in_an_outage_due_answers_from_the_cache() {
        block_on(async {
            let s = CachedStore::new(Switch::default());
            s.commit(&[
                Write::put("late", rec(1, 1.into()), None).due_at(Some(900)),
                Write::put("early", rec(1, 1.into()), None).due_at(Some(100)),
                Write::put("none", rec(1, 1.into()), None),
            ])
            .await
            .unwrap();
            s.inner().down.store(true, Ordering::Relaxed);
            let keys = |d: Vec<DueKey>| d.into_iter().map(|d| d.key).collect::<Vec<_>>();
            assert_eq!(keys(s.due(1_000, 10).await.unwrap()), ["early", "late"]);
            assert_eq!(keys(s.due(500, 10).await.unwrap()), ["early"]);
            assert_eq!(keys(s.due(1_000, 1).await.unwrap()), ["early"]);
        });
    }

    #[test]
    fn a_conflict_forgets_the_keys_and_the_cache_stays_within_its_bound() {
        block_on(async {
            let s = CachedStore::with_limit(Switch::default(), 100);
            s.commit(&[Write::put("a", rec(1, "x".into()), None)])
                .await
                .unwrap();
            assert!(matches!(
                s.commit(&[Write::put("a", rec(1, "x".into()), None)]).await,
                Err(StateError::Conflict)
            ));
            assert_eq!(s.cached_keys(), 0);
            for i in 0..20 {
                s.commit(&[Write::put(
                    format!("k{i}"),
                    rec(1, "0123456789".into()),
                    None,
                )])
                .await
                .unwrap();
            }
            // 16 bytes each (key + quoted body): at most 6 fit in 100 bytes; the newest stay.
            assert_eq!(s.cached_keys(), 6);
            s.inner().down.store(true, Ordering::Relaxed);
            assert!(s.get("k19").await.unwrap().is_some());
            assert!(s.get("k0").await.unwrap().is_none());
        });
    }
}
