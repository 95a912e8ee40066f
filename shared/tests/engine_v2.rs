//! Engine v2 end to end over the in-memory store: the storm and the realert examples of issue 8,
//! ticks, incidents and `resolve_after`, the outbox across failures, large invocations, and
//! timestamps at the extremes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use logalert::alert::AlertMessage;
use logalert::engine::{AlertSink, CollectingSink, Engine, EngineConfig, Publication};
use logalert::payload::{LogEvent, LogsPayload, MessageType};
use logalert::state::{MemoryStore, StateStore, block_on};

const T0: i64 = 1_795_600_800_000;
const SEC: i64 = 1000;
const MIN: i64 = 60_000;

fn engine(yaml: &str) -> Engine {
    let rules = logalert::rules::load(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
    Engine::new(rules, EngineConfig::new("eu-west-1"))
}

fn payload(stream: &str, events: Vec<(String, i64, String)>) -> LogsPayload {
    LogsPayload {
        message_type: MessageType::Data,
        owner: "123456789012".into(),
        log_group: "/app".into(),
        log_stream: stream.into(),
        subscription_filters: vec!["f".into()],
        policy_level: None,
        log_events: events
            .into_iter()
            .map(|(id, timestamp, message)| LogEvent {
                id,
                timestamp,
                message,
            })
            .collect(),
    }
}

fn error_at(id: &str, t: i64) -> LogsPayload {
    payload("s", vec![(id.to_string(), t, format!("ERROR {id}"))])
}

/// The engine, its store and a clock, like `logalert replay` (and the function) run them.
struct Harness {
    engine: Engine,
    store: MemoryStore,
    sink: CollectingSink,
    published: Vec<AlertMessage>,
}

impl Harness {
    fn new(yaml: &str) -> Harness {
        Harness {
            engine: engine(yaml),
            store: MemoryStore::default(),
            sink: CollectingSink::default(),
            published: Vec::new(),
        }
    }

    fn invoke(&mut self, payloads: &[LogsPayload], now: i64) -> Vec<AlertMessage> {
        self.store.set_clock(now / 1000);
        let o = block_on(self.engine.process(payloads, &self.store, &self.sink, now));
        assert!(o.failed_payloads.is_empty(), "{o:?}");
        self.collect()
    }

    fn tick(&mut self, now: i64) -> Vec<AlertMessage> {
        self.store.set_clock(now / 1000);
        block_on(self.engine.tick(&self.store, &self.sink, now));
        self.collect()
    }

    /// Tick every minute from `from` to `to` (inclusive).
    fn ticks(&mut self, from: i64, to: i64) -> Vec<AlertMessage> {
        let mut out = Vec::new();
        let mut t = from;
        while t <= to {
            out.extend(self.tick(t));
            t += MIN;
        }
        out
    }

    fn collect(&mut self) -> Vec<AlertMessage> {
        let got: Vec<AlertMessage> = self.sink.take().into_iter().map(|p| p.alert).collect();
        self.published.extend(got.iter().cloned());
        got
    }
}

fn kinds(alerts: &[AlertMessage]) -> Vec<(&str, u64, u64)> {
    alerts
        .iter()
        .map(|a| (a.kind.as_str(), a.count, a.suppressed))
        .collect()
}

/// Issue 8: 10,000 matching errors in 60 s over 10 payloads with `realert: 5m` → at most two
/// publications per rule+key, with the exact total.
#[test]
fn the_storm_is_reported_in_full_in_two_publications() {
    let mut h = Harness::new(
        "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 5m\n",
    );
    for inv in 0..10 {
        let events = (0..1000)
            .map(|i| {
                let n = inv * 1000 + i;
                (format!("e{n}"), T0 + n * 6, format!("ERROR storm {n}"))
            })
            .collect();
        h.invoke(&[payload("s", events)], T0 + (inv + 1) * 6 * SEC);
    }
    h.ticks(T0 + MIN, T0 + 10 * MIN);
    let all = h.published.clone();
    assert!(all.len() <= 2, "{:?}", kinds(&all));
    assert_eq!(kinds(&all), [("log-match", 1000, 0), ("summary", 0, 9000)]);
    let total: u64 = all.iter().map(|a| a.count + a.suppressed).sum();
    assert_eq!(total, 10_000);
    assert_eq!(all[0].incident_id, all[1].incident_id);
    assert_eq!(all[1].incident_total, Some(10_000));
    assert_ne!(all[0].alert_id, all[1].alert_id);
    assert_eq!(
        all[1].samples.len(),
        5,
        "the summary samples the suppressed matches"
    );
    assert_eq!(all[1].samples[0].id, "e1000");
    // The summary goes out when the window closes (5 min after the first alert's last match).
    assert_eq!(all[1].decided_at, T0 + 6 * MIN);
}

/// Issue 8: ERROR at minutes 0, 2, 4 and 6 with `realert: 10m`, then silence → one alert (count
/// 1), then one summary (suppressed 3) when the window closes.
#[test]
fn matches_inside_realert_are_summarised_when_the_window_closes() {
    let mut h = Harness::new(
        "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 10m\n",
    );
    for m in [0, 2, 4, 6] {
        h.ticks(T0 + m * MIN - MIN, T0 + m * MIN - MIN);
        h.invoke(&[error_at(&format!("m{m}"), T0 + m * MIN)], T0 + m * MIN);
    }
    assert_eq!(kinds(&h.published), [("log-match", 1, 0)]);
    assert!(
        h.ticks(T0 + 7 * MIN, T0 + 9 * MIN).is_empty(),
        "not before the window ends"
    );
    let summary = h.ticks(T0 + 10 * MIN, T0 + 30 * MIN);
    assert_eq!(kinds(&summary), [("summary", 0, 3)]);
    assert_eq!(summary[0].decided_at, T0 + 10 * MIN);
    let ids: Vec<&str> = summary[0].samples.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["m2", "m4", "m6"]);
    assert_eq!(
        (summary[0].first_timestamp, summary[0].last_timestamp),
        (T0 + 2 * MIN, T0 + 6 * MIN)
    );
    // Nothing is due any more: an idle tick finds nothing.
    assert!(block_on(h.store.due(i64::MAX, 10)).unwrap().is_empty());
}

#[test]
fn a_window_without_suppressed_matches_closes_silently() {
    let mut h = Harness::new(
        "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 10m\n",
    );
    h.invoke(&[error_at("a", T0)], T0);
    assert!(block_on(h.store.due(i64::MAX, 10)).unwrap().is_empty());
    assert!(h.ticks(T0, T0 + 20 * MIN).is_empty());
    // The next match is a new incident.
    let a = h.invoke(&[error_at("b", T0 + 21 * MIN)], T0 + 21 * MIN);
    assert_eq!(kinds(&a), [("log-match", 1, 0)]);
    assert_ne!(a[0].incident_id, h.published[0].incident_id);
}

const RESOLVING: &str = "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 5m\n    resolve_after: 10m\n";

#[test]
fn resolve_after_ends_the_incident_and_the_next_match_opens_a_new_one() {
    let mut h = Harness::new(RESOLVING);
    let first = h.invoke(&[error_at("a", T0)], T0);
    h.invoke(&[error_at("b", T0 + MIN)], T0 + MIN);
    // Window closes at 5m: summary (1 suppressed), same incident.
    let s = h.ticks(T0 + 2 * MIN, T0 + 6 * MIN);
    assert_eq!(kinds(&s), [("summary", 0, 1)]);
    // Another alert at 7m: the incident continues (quiet for less than 10 minutes).
    let again = h.invoke(&[error_at("c", T0 + 7 * MIN)], T0 + 7 * MIN);
    assert_eq!(kinds(&again), [("log-match", 1, 0)]);
    assert_eq!(again[0].incident_id, first[0].incident_id);
    assert_eq!(again[0].incident_total, Some(3));
    h.invoke(&[error_at("d", T0 + 8 * MIN)], T0 + 8 * MIN);
    // Quiet for 10 minutes after the last match (8m): resolved at 18m, carrying the window's
    // last suppressed match (the window would have closed at 12m, but 'd' is reported once).
    let r = h.ticks(T0 + 9 * MIN, T0 + 30 * MIN);
    assert_eq!(kinds(&r), [("summary", 0, 1), ("resolved", 0, 0)]);
    assert_eq!(r[0].decided_at, T0 + 12 * MIN);
    assert_eq!(r[1].decided_at, T0 + 18 * MIN);
    assert_eq!(r[1].incident_id, first[0].incident_id);
    assert_eq!(r[1].incident_total, Some(4));
    assert_eq!(r[1].incident_opened_at, Some(T0));
    assert_eq!(r[1].last_timestamp, T0 + 8 * MIN);
    assert!(r[1].observation.as_ref().unwrap().text.contains("10m"));
    // A new match opens a new incident.
    let n = h.invoke(&[error_at("e", T0 + 40 * MIN)], T0 + 40 * MIN);
    assert_ne!(n[0].incident_id, first[0].incident_id);
    assert_eq!(n[0].incident_total, Some(1));
    let total: u64 = h.published.iter().map(|a| a.count + a.suppressed).sum();
    assert_eq!(total, 5);
}

#[test]
fn resolved_carries_what_the_open_window_still_holds() {
    let mut h = Harness::new(
        "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 30m\n    resolve_after: 10m\n",
    );
    h.invoke(&[error_at("a", T0)], T0);
    h.invoke(&[error_at("b", T0 + MIN)], T0 + MIN);
    let r = h.ticks(T0 + 2 * MIN, T0 + 40 * MIN);
    assert_eq!(kinds(&r), [("resolved", 0, 1)]);
    assert_eq!(r[0].samples[0].id, "b");
    assert_eq!(r[0].decided_at, T0 + 11 * MIN);
    // The window went with the incident: the next match alerts at once.
    let n = h.invoke(&[error_at("c", T0 + 41 * MIN)], T0 + 41 * MIN);
    assert_eq!(kinds(&n), [("log-match", 1, 0)]);
}

#[test]
fn without_resolve_after_each_window_is_one_incident_and_realert_zero_each_alert() {
    let mut h = Harness::new(
        "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 0\n",
    );
    let a = h.invoke(&[error_at("a", T0)], T0);
    let b = h.invoke(&[error_at("b", T0 + 1)], T0 + 1);
    assert_ne!(a[0].incident_id, b[0].incident_id);
    assert_ne!(a[0].alert_id, b[0].alert_id);
    assert!(
        block_on(h.store.due(i64::MAX, 10)).unwrap().is_empty(),
        "nothing ever due"
    );
}

/// A sink that refuses while `down` is set, and records what it accepted.
#[derive(Default)]
struct Switch {
    down: std::sync::atomic::AtomicBool,
    accepted: Mutex<Vec<Publication>>,
    calls: AtomicUsize,
}

impl AlertSink for Switch {
    async fn publish(&self, ps: &[Publication]) -> Vec<Result<(), String>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return vec![Err("SNS is down".to_string()); ps.len()];
        }
        self.accepted.lock().unwrap().extend(ps.iter().cloned());
        vec![Ok(()); ps.len()]
    }
}

#[test]
fn a_refused_publication_stays_pending_and_goes_out_later_with_the_same_id() {
    let e = engine(RESOLVING);
    let store = MemoryStore::default();
    store.set_clock(T0 / 1000);
    let sink = Switch::default();
    sink.down.store(true, Ordering::SeqCst);
    let p = error_at("a", T0);
    let o = block_on(e.process(std::slice::from_ref(&p), &store, &sink, T0));
    assert_eq!((o.decided, o.published, o.pending), (1, 0, 1));
    assert_eq!(o.failed_payloads, [0], "the caller retries soon");
    assert_eq!(
        o.metrics.per_rule["errors"],
        (1, 1),
        "counted once, at the commit"
    );
    // The retry is a duplicate payload, which still republishes its key's outbox.
    sink.down.store(false, Ordering::SeqCst);
    let o = block_on(e.process(std::slice::from_ref(&p), &store, &sink, T0 + SEC));
    assert_eq!((o.duplicate_payloads, o.decided, o.published), (1, 0, 1));
    assert!(o.metrics.per_rule.is_empty(), "a redelivery counts nothing");
    let first_id = sink.accepted.lock().unwrap()[0].alert.alert_id.clone();
    // Sent: no tick republishes it.
    let o = block_on(e.tick(&store, &sink, T0 + MIN));
    assert_eq!(o.published, 0);
    // Down again for a summary: the tick leaves it pending and the next tick sends it.
    block_on(e.process(&[error_at("b", T0 + MIN)], &store, &sink, T0 + MIN));
    sink.down.store(true, Ordering::SeqCst);
    let o = block_on(e.tick(&store, &sink, T0 + 5 * MIN));
    assert_eq!((o.decided, o.pending), (1, 1));
    sink.down.store(false, Ordering::SeqCst);
    let o = block_on(e.tick(&store, &sink, T0 + 6 * MIN));
    assert_eq!((o.decided, o.published), (0, 1));
    let accepted = sink.accepted.lock().unwrap();
    assert_eq!(accepted[1].alert.kind, "summary");
    assert_eq!(
        accepted[1].alert.decided_at,
        T0 + 5 * MIN,
        "as decided, not re-decided"
    );
    assert_ne!(accepted[1].alert.alert_id, first_id);
}

#[test]
fn a_long_outage_of_the_sink_keeps_the_outbox_bounded_and_the_counts_exact() {
    let e =
        engine("version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 0\n");
    let store = MemoryStore::default();
    let sink = Switch::default();
    sink.down.store(true, Ordering::SeqCst);
    for i in 0..20 {
        let t = T0 + i * MIN;
        store.set_clock(t / 1000);
        block_on(e.process(&[error_at(&format!("e{i}"), t)], &store, &sink, t));
    }
    let rec = block_on(store.get("key#errors#")).unwrap().unwrap();
    let outbox = rec.body["outbox"].as_array().unwrap().len();
    assert_eq!(outbox, logalert::engine::MAX_OUTBOX_PENDING);
    assert!(serde_json::to_string(&rec.body).unwrap().len() < 350_000);
    sink.down.store(false, Ordering::SeqCst);
    for i in 20..30 {
        let t = T0 + i * MIN;
        store.set_clock(t / 1000);
        block_on(e.tick(&store, &sink, t));
    }
    let accepted = sink.accepted.lock().unwrap();
    let total: u64 = accepted
        .iter()
        .map(|p| p.alert.count + p.alert.suppressed)
        .sum();
    assert_eq!(
        total,
        20,
        "{:?}",
        accepted
            .iter()
            .map(|p| (&p.alert.kind, p.alert.count, p.alert.suppressed))
            .collect::<Vec<_>>()
    );
    let mut ids: Vec<&str> = accepted.iter().map(|p| p.alert.alert_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), accepted.len(), "each publication once");
}

/// An invocation touching more keys than one commit holds is committed in several units; a
/// redelivery after a crash in the middle counts nothing twice.
#[test]
fn many_keys_are_committed_in_units_and_a_partial_commit_is_resumed() {
    let e = engine(
        "version: 1\nrules:\n  - name: per-user\n    filter_pattern: fail\n    query_key: $.user\n    realert: 0\n",
    );
    let events: Vec<(String, i64, String)> = (0..250)
        .map(|i| {
            (
                format!("e{i}"),
                T0 + i,
                format!(r#"{{"msg":"fail","user":"u{i}"}}"#),
            )
        })
        .collect();
    let p = payload("s", events);
    // A store that fails the second commit (a crash after the first unit).
    struct CrashSecond {
        inner: MemoryStore,
        commits: AtomicUsize,
    }
    impl StateStore for CrashSecond {
        async fn get(
            &self,
            k: &str,
        ) -> Result<Option<logalert::state::StateRecord>, logalert::state::StateError> {
            self.inner.get(k).await
        }
        async fn put(
            &self,
            k: &str,
            r: &logalert::state::StateRecord,
            v: Option<u64>,
        ) -> Result<(), logalert::state::StateError> {
            self.inner.put(k, r, v).await
        }
        async fn commit(
            &self,
            w: &[logalert::state::Write],
        ) -> Result<(), logalert::state::StateError> {
            assert!(w.len() <= logalert::state::MAX_COMMIT_ITEMS);
            if self.commits.fetch_add(1, Ordering::SeqCst) == 1 {
                panic!("crash");
            }
            self.inner.commit(w).await
        }
    }
    let store = CrashSecond {
        inner: MemoryStore::default(),
        commits: AtomicUsize::new(0),
    };
    store.inner.set_clock(T0 / 1000);
    let sink = CollectingSink::default();
    let crashed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        block_on(e.process(std::slice::from_ref(&p), &store, &sink, T0))
    }));
    assert!(crashed.is_err());
    assert!(sink.take().is_empty(), "crashed before publishing");
    assert_eq!(
        store.inner.keys().len(),
        99 + 1,
        "the first unit: 99 key items + the marker"
    );
    // The redelivery: the first unit's keys are done (their outbox is republished), the rest is new.
    let o = block_on(e.process(std::slice::from_ref(&p), &store, &sink, T0 + SEC));
    assert!(o.failed_payloads.is_empty());
    let published = sink.take();
    assert_eq!(published.len(), 250);
    let mut per_key: HashMap<String, u64> = HashMap::new();
    for p in &published {
        *per_key
            .entry(p.alert.query_key.clone().unwrap())
            .or_default() += p.alert.count;
    }
    assert_eq!(per_key.len(), 250);
    assert!(per_key.values().all(|&c| c == 1));
    assert_eq!(
        o.metrics.per_rule["per-user"].0,
        250 - 99,
        "only the resumed part is new"
    );
    // And a third delivery is a complete duplicate.
    let o = block_on(e.process(std::slice::from_ref(&p), &store, &sink, T0 + 2 * SEC));
    assert_eq!((o.duplicate_payloads, sink.take().len()), (1, 0));
}

#[test]
fn timestamps_at_the_extremes_never_wrap() {
    for (t, now) in [
        (i64::MAX, i64::MAX),
        (i64::MIN, i64::MIN),
        (i64::MIN, i64::MAX),
        (i64::MAX, i64::MIN),
        (i64::MAX - 1, 0),
    ] {
        let mut h = Harness::new(
            "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 1d\n    resolve_after: 1d\n  - name: freq\n    filter_pattern: ERROR\n    type: frequency\n    num_events: 2\n    timeframe: 1d\n",
        );
        let a = h.invoke(&[error_at("a", t), error_at("b", t)], now);
        assert_eq!(
            kinds(&a),
            [("log-match", 2, 0), ("log-match", 2, 0)],
            "t={t} now={now}"
        );
        h.invoke(&[error_at("c", t)], now);
        h.tick(i64::MIN);
        h.tick(t.max(now).saturating_add(2 * 86_400_000));
        h.tick(i64::MAX);
        let total: u64 = h
            .published
            .iter()
            .filter(|a| a.rule.name == "errors")
            .map(|a| a.count + a.suppressed)
            .sum();
        assert_eq!(total, 3, "t={t} now={now}: {:?}", kinds(&h.published));
    }
}

/// A store whose writes fail as in a DynamoDB outage while `down` (reads answer, as log-filter's
/// container cache answers them).
#[derive(Default)]
struct WritesDown {
    inner: MemoryStore,
    down: std::sync::atomic::AtomicBool,
    /// The due index query fails too.
    due_down: std::sync::atomic::AtomicBool,
    /// Reads of several items fail too (`get_many`).
    reads_down: std::sync::atomic::AtomicBool,
}

impl WritesDown {
    fn check(&self) -> Result<(), logalert::state::StateError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(logalert::state::StateError::Unavailable("outage".into()));
        }
        Ok(())
    }
}

impl StateStore for WritesDown {
    async fn get(
        &self,
        key: &str,
    ) -> Result<Option<logalert::state::StateRecord>, logalert::state::StateError> {
        self.inner.get(key).await
    }
    async fn get_many(
        &self,
        keys: &[String],
    ) -> Result<Vec<Option<logalert::state::StateRecord>>, logalert::state::StateError> {
        if self.reads_down.load(Ordering::SeqCst) {
            return Err(logalert::state::StateError::Unavailable("outage".into()));
        }
        self.inner.get_many(keys).await
    }
    async fn put(
        &self,
        k: &str,
        r: &logalert::state::StateRecord,
        v: Option<u64>,
    ) -> Result<(), logalert::state::StateError> {
        self.check()?;
        self.inner.put(k, r, v).await
    }
    async fn commit(
        &self,
        writes: &[logalert::state::Write],
    ) -> Result<(), logalert::state::StateError> {
        self.check()?;
        self.inner.commit(writes).await
    }
    async fn due(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<logalert::state::DueKey>, logalert::state::StateError> {
        if self.due_down.load(Ordering::SeqCst) {
            return Err(logalert::state::StateError::Unavailable("outage".into()));
        }
        self.inner.due(now_ms, limit).await
    }
}

/// A realert window closing during an outage: the tick fails open and publishes the summary it
/// decided; once the store is back, the next tick decides the same summary from the same state and
/// publishes it with the same `alert_id` (which the notifier de-duplicates), then nothing is due.
#[test]
fn a_tick_during_an_outage_fails_open_and_the_summary_keeps_its_id() {
    let e = engine(
        "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 10m\n",
    );
    let store = WritesDown::default();
    let sink = CollectingSink::default();
    for m in [0, 2, 4] {
        store.inner.set_clock((T0 + m * MIN) / 1000);
        let o = block_on(e.process(
            &[error_at(&format!("m{m}"), T0 + m * MIN)],
            &store,
            &sink,
            T0 + m * MIN,
        ));
        assert!(o.failed_payloads.is_empty(), "{o:?}");
    }
    let first: Vec<AlertMessage> = sink.take().into_iter().map(|p| p.alert).collect();
    assert_eq!(kinds(&first), [("log-match", 1, 0)]);
    store.down.store(true, Ordering::SeqCst);
    let at = T0 + 10 * MIN;
    store.inner.set_clock(at / 1000);
    let o = block_on(e.tick(&store, &sink, at));
    assert_eq!(o.metrics.state_failures, 1, "{o:?}");
    assert_eq!(o.published, 1, "{o:?}");
    let during: Vec<AlertMessage> = sink.take().into_iter().map(|p| p.alert).collect();
    assert_eq!(kinds(&during), [("summary", 0, 2)]);
    // The due index unreachable as well: nothing can be found, and the failure is counted.
    store.due_down.store(true, Ordering::SeqCst);
    let o = block_on(e.tick(&store, &sink, at));
    assert_eq!((o.metrics.state_failures, o.published), (1, 0), "{o:?}");
    assert_eq!(o.errors.len(), 1, "{o:?}");
    store.due_down.store(false, Ordering::SeqCst);
    // Due keys found but unreadable: nothing decided without their state, the failure counted.
    store.reads_down.store(true, Ordering::SeqCst);
    let o = block_on(e.tick(&store, &sink, at));
    assert_eq!((o.metrics.state_failures, o.published), (1, 0), "{o:?}");
    assert_eq!(o.errors.len(), 1, "{o:?}");
    assert!(sink.take().is_empty());
    store.reads_down.store(false, Ordering::SeqCst);
    store.down.store(false, Ordering::SeqCst);
    let at = T0 + 11 * MIN;
    store.inner.set_clock(at / 1000);
    let o = block_on(e.tick(&store, &sink, at));
    assert_eq!(o.metrics.state_failures, 0, "{o:?}");
    let after: Vec<AlertMessage> = sink.take().into_iter().map(|p| p.alert).collect();
    assert_eq!(kinds(&after), [("summary", 0, 2)]);
    // The same publication (decided again, so stamped with this tick's clock).
    assert_eq!(after[0].alert_id, during[0].alert_id);
    assert_eq!(after[0].samples, during[0].samples);
    assert!(block_on(store.due(i64::MAX, 10)).unwrap().is_empty());
}
