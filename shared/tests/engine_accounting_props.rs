//! The accounting invariant, as a property: over random event streams delivered with
//! redeliveries, duplicates within a batch, out-of-order event times, sink refusals and crashes
//! injected at every step of the driver (state read, commit, due query, publish, mark sent), once
//! the ticks have caught up:
//!
//! * for every `any` rule + key, the sum of `count + suppressed` over its distinct publications
//!   equals the number of distinct matching events (for `frequency`: never more) — with
//!   `realert`, `exponential_realert`, `resolve_after` and `aggregation` digests (whose summary
//!   tables add up to their counts) and two rules sharing a silence (`realert_key`), whose
//!   matches suppressed by the other's alert are counted in their own summaries, and digests per
//!   `aggregation_key` value across query keys (`digest-across`: per `$.k`, digests per level);
//! * every `alert_id` that was decided is published at least once, and a republished id carries
//!   the same publication (so counting each distinct id once is exact).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use logalert::alert::AlertMessage;
use logalert::engine::{AlertSink, Engine, EngineConfig, Publication};
use logalert::payload::{LogEvent, LogsPayload, MessageType};
use logalert::state::{DueKey, MemoryStore, StateError, StateRecord, StateStore, Write, block_on};
use proptest::prelude::*;

const T0: i64 = 1_795_600_800_000;
const MIN: i64 = 60_000;

const RULES: &str = r#"
version: 1
rules:
  - name: any-realert
    filter_pattern: ERROR
    query_key: $.k
    realert: 3m
    max_samples: 2
  - name: any-resolving
    filter_pattern: ERROR
    query_key: $.k
    realert: 5m
    resolve_after: 7m
  - name: any-every
    filter_pattern: '{ $.k = "a" }'
    realert: 0
  - name: any-digest
    filter_pattern: ERROR
    query_key: $.k
    aggregation: 4m
    summary_table_fields: [$.level, $.k]
    top_count_keys: $.k
    max_samples: 2
  - name: any-digest-resolving
    filter_pattern: ERROR
    aggregation: 3m
    resolve_after: 5m
    summary_table_fields: $.k
  - name: any-exponential
    filter_pattern: ERROR
    query_key: $.k
    realert: 1m
    exponential_realert: 8m
  - name: freq
    filter_pattern: ERROR
    type: frequency
    num_events: 3
    timeframe: 2m
    query_key: $.k
    realert: 4m
  - name: shared-a
    filter_pattern: ERROR
    query_key: $.k
    realert: 3m
    realert_key: shared
  - name: shared-b
    filter_pattern: '{ $.k = "a" || $.k = "b" }'
    query_key: $.k
    realert: 1m
    exponential_realert: 4m
    realert_key: shared
  - name: digest-across
    filter_pattern: ''
    query_key: $.k
    aggregation: 4m
    aggregation_key: $.level
    summary_table_fields: $.k
"#;

/// Crashes (panics) at chosen operation numbers; the sink may also refuse.
struct Faults {
    ops: AtomicUsize,
    crash_at: HashSet<usize>,
    refuse_at: HashSet<usize>,
}

impl Faults {
    fn step(&self) -> usize {
        let n = self.ops.fetch_add(1, Ordering::SeqCst);
        if self.crash_at.contains(&n) {
            panic!("injected crash at operation {n}");
        }
        n
    }
}

struct FaultyStore<'a> {
    inner: MemoryStore,
    faults: &'a Faults,
}

impl StateStore for FaultyStore<'_> {
    async fn get(&self, key: &str) -> Result<Option<StateRecord>, StateError> {
        self.faults.step();
        self.inner.get(key).await
    }
    async fn put(&self, k: &str, r: &StateRecord, v: Option<u64>) -> Result<(), StateError> {
        self.faults.step();
        self.inner.put(k, r, v).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<StateRecord>>, StateError> {
        self.faults.step();
        self.inner.get_many(keys).await
    }
    async fn commit(&self, writes: &[Write]) -> Result<(), StateError> {
        self.faults.step();
        let r = self.inner.commit(writes).await;
        // A crash right after a commit took effect (before the caller learns it).
        self.faults.step();
        r
    }
    async fn due(&self, now: i64, limit: usize) -> Result<Vec<DueKey>, StateError> {
        self.faults.step();
        self.inner.due(now, limit).await
    }
}

struct FaultySink<'a> {
    faults: &'a Faults,
    accepted: Mutex<Vec<AlertMessage>>,
}

impl AlertSink for FaultySink<'_> {
    async fn publish(&self, ps: &[Publication]) -> Vec<Result<(), String>> {
        let mut out = Vec::new();
        for p in ps {
            let n = self.faults.step();
            if self.faults.refuse_at.contains(&n) {
                out.push(Err("refused".to_string()));
            } else {
                self.accepted.lock().unwrap().push(p.alert.clone());
                out.push(Ok(()));
            }
        }
        // A crash after SNS accepted, before the engine marks them sent.
        self.faults.step();
        out
    }
}

#[derive(Debug, Clone)]
struct Ev {
    id: String,
    ts: i64,
    key: &'static str,
    error: bool,
}

fn event_strategy() -> impl Strategy<Value = Vec<Ev>> {
    prop::collection::vec(
        (0i64..40 * MIN, 0usize..3, prop::bool::weighted(0.85)),
        1..40,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (dt, k, error))| Ev {
                id: format!("{:056}", i),
                ts: T0 + dt,
                key: ["a", "b", "c"][k],
                error,
            })
            .collect()
    })
}

#[derive(Debug, Clone)]
struct Scenario {
    events: Vec<Ev>,
    /// Payload sizes (events are cut into payloads in time order, then delivered shuffled).
    cuts: Vec<usize>,
    /// Delivery order: indices into the payloads (repeats = redeliveries), in batches.
    deliveries: Vec<Vec<usize>>,
    crash_at: HashSet<usize>,
    refuse_at: HashSet<usize>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        event_strategy(),
        prop::collection::vec(1usize..6, 1..20),
        prop::collection::vec((0usize..64, 0usize..64, 0usize..3), 1..30),
        prop::collection::hash_set(0usize..400, 0..12),
        prop::collection::hash_set(0usize..400, 0..12),
    )
        .prop_map(|(mut events, cuts, picks, crash_at, refuse_at)| {
            // Out of order within payloads too: payloads are cut in id order, ids are random times.
            events.sort_by_key(|e| e.id.clone());
            let n_payloads = payload_count(events.len(), &cuts);
            let mut deliveries: Vec<Vec<usize>> = (0..n_payloads).map(|p| vec![p]).collect();
            for (a, b, extra) in picks {
                let a = a % n_payloads;
                let b = b % n_payloads;
                let batch = match extra {
                    0 => vec![a],
                    1 => vec![a, b],
                    _ => vec![a, a, b],
                };
                let at = (a * 7 + b) % (deliveries.len() + 1);
                deliveries.insert(at, batch);
            }
            Scenario {
                events,
                cuts,
                deliveries,
                crash_at,
                refuse_at,
            }
        })
}

fn payload_count(n: usize, cuts: &[usize]) -> usize {
    let mut i = 0;
    let mut count = 0;
    let mut c = cuts.iter().cycle();
    while i < n {
        i += c.next().unwrap();
        count += 1;
    }
    count
}

fn payloads(s: &Scenario) -> Vec<LogsPayload> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut c = s.cuts.iter().cycle();
    while i < s.events.len() {
        let n = *c.next().unwrap();
        let evs = &s.events[i..(i + n).min(s.events.len())];
        out.push(LogsPayload {
            message_type: MessageType::Data,
            owner: "123456789012".into(),
            log_group: "/app".into(),
            log_stream: format!("s{}", out.len() % 2),
            subscription_filters: vec![],
            policy_level: None,
            log_events: evs
                .iter()
                .map(|e| LogEvent {
                    id: e.id.clone(),
                    timestamp: e.ts,
                    message: format!(
                        r#"{{"level":"{}","k":"{}"}}"#,
                        if e.error { "ERROR" } else { "INFO" },
                        e.key
                    ),
                })
                .collect(),
        });
        i += n;
    }
    out
}

/// Run an operation until it completes without an injected crash (the caller retries, as Lambda
/// does); returns how many crashes it took.
fn until_done<T>(mut f: impl FnMut() -> T) -> T {
    for _ in 0..1000 {
        if let Ok(v) = catch_unwind(AssertUnwindSafe(&mut f)) {
            return v;
        }
    }
    panic!("never completed");
}

fn run(s: &Scenario) -> Vec<AlertMessage> {
    let rules = logalert::rules::load(RULES, "p.yaml").unwrap();
    let engine = Engine::new(rules, EngineConfig::new("eu-west-1"));
    let faults = Faults {
        ops: AtomicUsize::new(0),
        crash_at: s.crash_at.clone(),
        refuse_at: s.refuse_at.clone(),
    };
    let store = FaultyStore {
        inner: MemoryStore::default(),
        faults: &faults,
    };
    let sink = FaultySink {
        faults: &faults,
        accepted: Mutex::new(Vec::new()),
    };
    let all = payloads(s);
    let mut clock = i64::MIN;
    let mut last_tick = i64::MIN;
    let tick_to = |to: i64, last_tick: &mut i64| {
        let mut t = if *last_tick == i64::MIN {
            to.div_euclid(MIN) * MIN
        } else {
            *last_tick + MIN
        };
        while t <= to {
            store.inner.set_clock(t / 1000);
            // A crashed tick is simply run again (the next minute's would pick the work up).
            until_done(|| block_on(engine.tick(&store, &sink, t)));
            *last_tick = t;
            t += MIN;
        }
    };
    for batch in &s.deliveries {
        let batch: Vec<LogsPayload> = batch.iter().map(|&i| all[i].clone()).collect();
        let latest = batch
            .iter()
            .flat_map(|p| p.log_events.iter().map(|e| e.timestamp))
            .max()
            .unwrap();
        if clock != i64::MIN {
            tick_to(clock.max(latest), &mut last_tick);
        }
        clock = clock.max(latest);
        store.inner.set_clock(clock / 1000);
        // Lambda retries a crashed or failed invocation.
        let mut tries = 0;
        loop {
            tries += 1;
            let r = catch_unwind(AssertUnwindSafe(|| {
                block_on(engine.process(&batch, &store, &sink, clock))
            }));
            match r {
                Ok(o) if o.failed_payloads.is_empty() => break,
                _ if tries > 50 => panic!("invocation never succeeded"),
                _ => {}
            }
        }
    }
    // Catch up: ticks until nothing is due (faults keep firing until their operation numbers pass).
    let end = clock.saturating_add(60 * MIN);
    tick_to(end, &mut last_tick);
    let mut t = end;
    while !block_on(store.inner.due(i64::MAX, 1)).unwrap().is_empty() {
        t += MIN;
        store.inner.set_clock(t / 1000);
        until_done(|| block_on(engine.tick(&store, &sink, t)));
        assert!(t < end + 600 * MIN, "still due long after the last event");
    }
    // Every decided publication was published: one leaves its outbox only once the sink
    // accepted it, and no outbox holds anything any more.
    for key in store.inner.keys().iter().filter(|k| k.starts_with("key#")) {
        let rec = block_on(store.inner.get(key)).unwrap().unwrap();
        assert_eq!(
            rec.body["outbox"],
            serde_json::json!([]),
            "{key} still has pending publications"
        );
    }
    let crashes = faults
        .crash_at
        .iter()
        .filter(|&&n| n < faults.ops.load(Ordering::SeqCst))
        .count();
    CRASHES.fetch_add(crashes, Ordering::SeqCst);
    let accepted = sink.accepted.into_inner().unwrap();
    DIGESTS.fetch_add(
        accepted.iter().filter(|a| a.digest.is_some()).count(),
        Ordering::SeqCst,
    );
    accepted
}

/// Injected crashes that fired, over all cases (the property must have been exercised).
static CRASHES: AtomicUsize = AtomicUsize::new(0);

/// Digest publications accepted, over all cases (the digest rules must have published).
static DIGESTS: AtomicUsize = AtomicUsize::new(0);

/// Injected crashes are expected: keep their panic messages out of the test output.
fn quiet_injected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let injected = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.starts_with("injected crash"));
            if !injected {
                default(info);
            }
        }));
    });
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(96),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_distinct_matching_event_is_accounted_exactly_once(s in scenario()) {
        quiet_injected_panics();
        let accepted = run(&s);
        // Distinct publications, and a republished id is the same publication.
        let mut by_id: HashMap<&str, &AlertMessage> = HashMap::new();
        for a in &accepted {
            prop_assert!(!a.alert_id.is_empty());
            if let Some(prev) = by_id.insert(&a.alert_id, a) {
                prop_assert_eq!(prev, a, "one alert_id, two publications");
            }
        }
        let mut sums: BTreeMap<(String, Option<String>), u64> = BTreeMap::new();
        for a in by_id.values() {
            *sums.entry((a.rule.name.clone(), a.query_key.clone())).or_default() += a.count + a.suppressed;
        }
        let mut want: BTreeMap<(String, Option<String>), u64> = BTreeMap::new();
        let mut seen = HashSet::new();
        for e in s.events.iter().filter(|e| seen.insert(e.id.clone())) {
            if e.error {
                for rule in ["any-realert", "any-resolving", "any-digest", "any-exponential", "freq", "shared-a"] {
                    *want.entry((rule.to_string(), Some(e.key.to_string()))).or_default() += 1;
                }
                *want.entry(("any-digest-resolving".to_string(), None)).or_default() += 1;
            }
            if e.key == "a" {
                *want.entry(("any-every".to_string(), None)).or_default() += 1;
            }
            let level = if e.error { "ERROR" } else { "INFO" };
            *want.entry(("digest-across".to_string(), Some(level.to_string()))).or_default() += 1;
            if e.key != "c" {
                *want.entry(("shared-b".to_string(), Some(e.key.to_string()))).or_default() += 1;
            }
        }
        for (k, n) in &want {
            let got = sums.get(k).copied().unwrap_or(0);
            if k.0 == "freq" {
                prop_assert!(got <= *n, "{:?}: {} published > {} distinct", k, got, n);
            } else {
                prop_assert_eq!(got, *n, "{:?}", k);
            }
        }
        for k in sums.keys() {
            prop_assert!(want.contains_key(k), "published for a key with no events: {:?}", k);
        }
        // Digests: their summary tables add up to their counts.
        for a in by_id.values().filter(|a| a.digest.is_some()) {
            let d = a.digest.as_ref().unwrap();
            let t = d.table.as_ref().unwrap();
            let listed: u64 = t.rows.iter().map(|r| r.count).sum();
            prop_assert_eq!(listed + t.other_count, a.count, "table of {}", a.alert_id);
            prop_assert_eq!(a.suppressed, 0);
        }
        prop_assert!(by_id.values().all(|a| a.rule.name.contains("digest") == a.digest.is_some() || a.kind != "log-match"));
        // Incidents: every resolved closes an incident that had an alert.
        for a in by_id.values().filter(|a| a.kind == "resolved") {
            prop_assert!(by_id.values().any(|b| b.kind == "log-match" && b.incident_id == a.incident_id));
        }
    }
}

#[test]
fn crashes_are_injected_at_all() {
    quiet_injected_panics();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(16));
    runner
        .run(&scenario(), |s| {
            run(&s);
            Ok(())
        })
        .unwrap();
    assert!(
        CRASHES.load(Ordering::SeqCst) > 0,
        "no injected crash ever fired"
    );
    assert!(
        DIGESTS.load(Ordering::SeqCst) > 0,
        "no digest was ever published"
    );
}
