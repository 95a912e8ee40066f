//! State cost per rule type: what each type's decisions read and write through the
//! [`StateStore`], per invocation and per tick, counted by a store that wraps the in-memory one.
//! `cargo test -p logalert --test state_cost -- --nocapture` prints the table BENCHMARKS.md
//! quotes; the test asserts the contract (one batch read and at most two commits per invocation,
//! nothing read by an idle tick but the due index, every item far under DynamoDB's 400 KB).
//!
//! The load: one rule at a time (examples/rules-types.yaml's rules, plus `any`, `frequency` and an
//! `aggregation` digest), 40 invocations 30 s apart (20 min of event time), each one payload of 10
//! matching events for one query key (`host a`), a tick every minute of event time during and for
//! 30 min after, as log-filter runs them.

use std::sync::Mutex;

use logalert::engine::{CollectingSink, Engine, EngineConfig};
use logalert::payload::{LogEvent, LogsPayload, MessageType};
use logalert::rules::{self, RuleSet};
use logalert::state::{
    DueKey, MemoryStore, StateError, StateRecord, StateStore, Write, WriteOp, block_on,
};

const T0: i64 = 1_796_083_200_000;
const MIN: i64 = 60_000;
/// DynamoDB's item limit.
const ITEM_LIMIT: usize = 400 * 1024;

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    batch_gets: u64,
    items_read: u64,
    commits: u64,
    items_written: u64,
    /// Write units as DynamoDB bills a transaction: 2 per started KB of each item.
    write_units: u64,
    due_queries: u64,
    largest_item: usize,
}

#[derive(Default)]
struct CountingStore {
    inner: MemoryStore,
    counts: Mutex<Counts>,
}

impl CountingStore {
    fn take(&self) -> Counts {
        std::mem::take(&mut *self.counts.lock().unwrap())
    }
}

impl StateStore for CountingStore {
    async fn get(&self, key: &str) -> Result<Option<StateRecord>, StateError> {
        {
            let mut c = self.counts.lock().unwrap();
            c.batch_gets += 1;
            c.items_read += 1;
        }
        self.inner.get(key).await
    }
    async fn put(&self, k: &str, r: &StateRecord, v: Option<u64>) -> Result<(), StateError> {
        self.inner.put(k, r, v).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<StateRecord>>, StateError> {
        {
            let mut c = self.counts.lock().unwrap();
            c.batch_gets += 1;
            c.items_read += keys.len() as u64;
        }
        self.inner.get_many(keys).await
    }
    async fn commit(&self, writes: &[Write]) -> Result<(), StateError> {
        {
            let mut c = self.counts.lock().unwrap();
            c.commits += 1;
            for w in writes {
                c.items_written += 1;
                let bytes = match &w.op {
                    WriteOp::Put { record, .. } => {
                        w.key.len() + serde_json::to_string(&record.body).unwrap().len() + 40
                    }
                    WriteOp::Delete => w.key.len(),
                };
                c.write_units += 2 * bytes.div_ceil(1024) as u64;
                c.largest_item = c.largest_item.max(bytes);
            }
        }
        self.inner.commit(writes).await
    }
    async fn due(&self, now: i64, limit: usize) -> Result<Vec<DueKey>, StateError> {
        self.counts.lock().unwrap().due_queries += 1;
        self.inner.due(now, limit).await
    }
}

fn event(i: usize, t: i64) -> LogEvent {
    // Every field some rule type reads: errors with kinds, users, callers, statuses, latencies.
    let message = serde_json::json!({
        "level": "error", "event": if i.is_multiple_of(7) { "login_failed" } else { "order_placed" },
        "type": "request", "status": if i.is_multiple_of(5) { 503 } else { 200 },
        "host": "a", "service": "api", "route": "/checkout", "path": "/internal/x",
        "user": format!("u{}", i % 13), "caller": if i.is_multiple_of(3) { "scraper" } else { "billing" },
        "source_ip": "10.0.0.1", "errorCode": format!("E{}", i % 4),
        "latency_ms": 100 + (i * 37) % 900, "requestId": format!("r-{i}"),
        "msg": format!("db timeout after {}ms", i % 50),
    })
    .to_string();
    LogEvent {
        id: format!("{:056}", i),
        timestamp: t,
        message,
    }
}

fn payload(events: Vec<LogEvent>) -> LogsPayload {
    LogsPayload {
        message_type: MessageType::Data,
        owner: "123456789012".into(),
        log_group: "/app".into(),
        log_stream: "s".into(),
        subscription_filters: vec![],
        policy_level: None,
        log_events: events,
    }
}

struct Cost {
    rule: String,
    kind: &'static str,
    invocations: u64,
    per_invocation: Counts,
    ticks: u64,
    per_tick: Counts,
    idle_tick: Counts,
    publications: usize,
    /// Key state items at the end.
    keys: usize,
}

fn cost(rules: RuleSet) -> Cost {
    let rule = rules.rules[0].name.clone();
    let kind = rules.rules[0].kind.as_str();
    let engine = Engine::new(rules, EngineConfig::new("eu-west-1"));
    let store = CountingStore::default();
    let sink = CollectingSink::default();
    let (mut inv, mut ticks) = (Counts::default(), Counts::default());
    let (mut n_inv, mut n_ticks) = (0u64, 0u64);
    let mut published = 0;
    let mut next_tick = T0 + MIN;
    let mut id = 0;
    let add = |into: &mut Counts, c: Counts| {
        into.batch_gets += c.batch_gets;
        into.items_read += c.items_read;
        into.commits += c.commits;
        into.items_written += c.items_written;
        into.write_units += c.write_units;
        into.due_queries += c.due_queries;
        into.largest_item = into.largest_item.max(c.largest_item);
    };
    let tick = |t: i64, ticks: &mut Counts, n: &mut u64, published: &mut usize| {
        store.inner.set_clock(t / 1000);
        block_on(engine.tick(&store, &sink, t));
        *published += sink.take().len();
        add(ticks, store.take());
        *n += 1;
    };
    for k in 0..40 {
        let t = T0 + k * 30_000;
        while next_tick <= t {
            tick(next_tick, &mut ticks, &mut n_ticks, &mut published);
            next_tick += MIN;
        }
        let events = (0..10)
            .map(|j| {
                id += 1;
                event(id, t + j * 100)
            })
            .collect();
        store.inner.set_clock(t / 1000);
        let o = block_on(engine.process(&[payload(events)], &store, &sink, t + 900));
        assert!(o.failed_payloads.is_empty(), "{rule}: {:?}", o.errors);
        published += sink.take().len();
        let c = store.take();
        assert_eq!(c.batch_gets, 1, "{rule}: one batch read per invocation");
        assert!(c.commits <= 2, "{rule}: decide+commit, mark sent: {c:?}");
        add(&mut inv, c);
        n_inv += 1;
    }
    for _ in 0..30 {
        tick(next_tick, &mut ticks, &mut n_ticks, &mut published);
        next_tick += MIN;
    }
    let keys = store
        .inner
        .keys()
        .iter()
        .filter(|k| k.starts_with("key#"))
        .count();
    // Long after: nothing due any more, an idle tick.
    let late = next_tick + 40 * 86_400_000;
    store.inner.set_clock(late / 1000);
    block_on(engine.tick(&store, &sink, late));
    let idle = store.take();
    let per = |c: Counts, n: u64| Counts {
        batch_gets: c.batch_gets * 100 / n,
        items_read: c.items_read * 100 / n,
        commits: c.commits * 100 / n,
        items_written: c.items_written * 100 / n,
        write_units: c.write_units * 100 / n,
        due_queries: c.due_queries * 100 / n,
        largest_item: c.largest_item,
    };
    Cost {
        rule,
        kind,
        invocations: n_inv,
        per_invocation: per(inv, n_inv),
        ticks: n_ticks,
        per_tick: per(ticks, n_ticks),
        idle_tick: idle,
        publications: published,
        keys,
    }
}

/// One row of the BENCHMARKS.md table.
fn print_row(label: &str, c: &Cost) {
    println!(
        "| {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        c.keys,
        h(c.per_invocation.items_read),
        h(c.per_invocation.items_written),
        h(c.per_invocation.write_units),
        h(c.per_tick.items_read),
        h(c.per_tick.items_written),
        h(c.per_tick.write_units),
        h(c.per_tick.due_queries),
        c.per_invocation.largest_item.max(c.per_tick.largest_item),
        c.publications,
    );
}

/// Hundredths as `1.25`.
fn h(n: u64) -> String {
    format!("{}.{:02}", n / 100, n % 100)
}

#[test]
fn state_cost_per_rule_type() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/rules-types.yaml"
    ))
    .unwrap();
    let mut all = rules::load(&text, "rules-types.yaml").unwrap().rules;
    let extra = rules::load(
        "version: 1\nrules:\n  - name: errors\n    filter_pattern: '{ $.level = \"error\" }'\n    query_key: $.host\n    realert: 5m\n  - name: bursts\n    type: frequency\n    filter_pattern: '{ $.level = \"error\" }'\n    num_events: 50\n    timeframe: 5m\n    query_key: $.host\n",
        "extra.yaml",
    )
    .unwrap();
    all.splice(0..0, extra.rules);
    println!(
        "| rule (type) | keys | per invocation: reads (items) | writes (items) | write units | per tick: reads (items) | writes (items) | write units | due queries | largest item (bytes) | publications |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in all {
        let c = cost(RuleSet {
            rules: vec![r],
            warnings: vec![],
        });
        print_row(&format!("`{}` ({})", c.rule, c.kind), &c);
        assert_eq!(c.invocations, 40);
        assert!(c.ticks >= 49);
        // An invocation reads its key items and its payload marker, in one request.
        if c.keys == 1 {
            assert_eq!(c.per_invocation.items_read, 200, "{}", c.rule);
        }
        // It writes the key item (when it changed) and the marker, and marks sent what it published.
        assert!(
            c.per_invocation.items_written <= 100 + 200 * c.keys as u64,
            "{}",
            c.rule
        );
        // A tick reads only due keys, never the table.
        assert!(
            c.per_tick.items_read <= 100,
            "{}: {}",
            c.rule,
            h(c.per_tick.items_read)
        );
        // An idle tick is one due query, nothing read or written.
        assert_eq!(
            (
                c.idle_tick.due_queries,
                c.idle_tick.items_read,
                c.idle_tick.items_written
            ),
            (1, 0, 0),
            "{}",
            c.rule
        );
        assert!(
            c.per_invocation.largest_item.max(c.per_tick.largest_item) < ITEM_LIMIT / 4,
            "{}",
            c.rule
        );
    }
    // `realert_key`: two rules sharing a silence per query key, every event matching both.
    let pair = rules::load(
        "version: 1\nrules:\n  - name: db-errors\n    filter_pattern: '{ $.level = \"error\" }'\n    query_key: $.host\n    realert: 5m\n    realert_key: db\n  - name: db-timeouts\n    filter_pattern: '{ $.msg = \"db timeout*\" }'\n    query_key: $.host\n    realert: 5m\n    realert_key: db\n",
        "pair.yaml",
    )
    .unwrap();
    let c = cost(pair);
    print_row("`db-errors` + `db-timeouts` (any, `realert_key: db`)", &c);
    // One batch read: the two key items, the marker and the shared silence.
    assert_eq!((c.keys, c.per_invocation.items_read), (2, 400));
    // The silence is written only by an alert that opens it: at most once per realert window.
    assert!(c.per_invocation.items_written <= 100 + 200 * 2 + 100);
    assert_eq!(
        (c.idle_tick.due_queries, c.idle_tick.items_read),
        (1, 0),
        "an idle tick reads no silence"
    );
    // `aggregation_key` with `query_key`: decided per user (13 keys), one digest item per service.
    let across = rules::load(
        "version: 1\nrules:\n  - name: digest-per-service\n    filter_pattern: '{ $.level = \"error\" }'\n    query_key: $.user\n    aggregation: 10m\n    aggregation_key: $.service\n    summary_table_fields: $.user\n",
        "across.yaml",
    )
    .unwrap();
    let c = cost(across);
    print_row(
        "`digest-per-service` (any, `query_key: $.user`, `aggregation_key: $.service`)",
        &c,
    );
    // One batch read: the keys of the invocation's users, the marker and the one digest item.
    assert_eq!(c.keys, 13);
    assert!(
        c.per_invocation.items_read <= 100 * (13 + 2),
        "{}",
        h(c.per_invocation.items_read)
    );
    // The keys do not change once they know their service: the marker and the digest item.
    assert!(
        c.per_invocation.items_written <= 300,
        "{}",
        h(c.per_invocation.items_written)
    );
    assert_eq!((c.idle_tick.due_queries, c.idle_tick.items_read), (1, 0));
}
