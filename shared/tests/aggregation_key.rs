//! `aggregation_key` with `query_key` end to end over the in-memory store: the rule type decides
//! per query key, and its alerts go into one digest per aggregation value across query keys (a
//! `digest#…` item committed with the key items), published once per window by the tick through
//! the due index; redelivery publishes nothing twice, racing invocations serialise on the item.

mod race_support;
use std::sync::Mutex;

use logalert::alert::AlertMessage;
use logalert::engine::{CollectingSink, Engine, EngineConfig, KeyState};
use logalert::payload::{LogEvent, LogsPayload, MessageType};
use logalert::state::{MemoryStore, StateRecord, StateStore, block_on};
use race_support::RaceOnce;

const T0: i64 = 1_795_600_800_000;
const MIN: i64 = 60_000;

/// Per host, realert per host; digests per service across hosts.
const RULES: &str = "version: 1
rules:
  - name: errors
    filter_pattern: '{ $.level = \"error\" }'
    query_key: $.host
    aggregation: 10m
    aggregation_key: $.svc
    summary_table_fields: [$.host, $.code]
    top_count_keys: $.code
";

fn engine() -> Engine {
    let rules = logalert::rules::load(RULES, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
    Engine::new(rules, EngineConfig::new("eu-west-1"))
}

fn payload(stream: &str, events: &[(&str, i64, &str, &str, &str)]) -> LogsPayload {
    LogsPayload {
        message_type: MessageType::Data,
        owner: "123456789012".into(),
        log_group: "/app".into(),
        log_stream: stream.into(),
        subscription_filters: vec!["f".into()],
        policy_level: None,
        log_events: events
            .iter()
            .map(|&(id, timestamp, host, svc, code)| LogEvent {
                id: id.into(),
                timestamp,
                message: format!(
                    r#"{{"level":"error","host":"{host}","svc":"{svc}","code":"{code}"}}"#
                ),
            })
            .collect(),
    }
}

fn rows(a: &AlertMessage) -> Vec<(Vec<String>, u64)> {
    let t = a.digest.as_ref().unwrap().table.as_ref().unwrap();
    t.rows.iter().map(|r| (r.values.clone(), r.count)).collect()
}

fn process(
    e: &Engine,
    store: &impl StateStore,
    sink: &CollectingSink,
    p: &[LogsPayload],
    now: i64,
) -> logalert::engine::Outcome {
    let o = block_on(e.process(p, store, sink, now));
    assert!(o.failed_payloads.is_empty(), "{o:?}");
    o
}

fn take(sink: &CollectingSink) -> Vec<AlertMessage> {
    sink.take().into_iter().map(|p| p.alert).collect()
}

fn snapshot(store: &MemoryStore) -> Vec<(String, Option<StateRecord>)> {
    store
        .keys()
        .into_iter()
        .map(|k| {
            let r = block_on(store.get(&k)).unwrap();
            (k, r)
        })
        .collect()
}

#[test]
fn one_digest_per_aggregation_value_across_query_keys_published_by_the_tick() {
    let (e, store, sink) = (engine(), MemoryStore::default(), CollectingSink::default());
    store.set_clock(T0 / 1000);
    let first = payload(
        "s1",
        &[
            ("1", T0, "a", "pay", "E1"),
            ("2", T0 + 1, "b", "pay", "E2"),
            ("3", T0 + 2, "a", "auth", "E1"),
        ],
    );
    process(&e, &store, &sink, std::slice::from_ref(&first), T0 + 2);
    process(
        &e,
        &store,
        &sink,
        &[payload("s2", &[("4", T0 + MIN, "c", "pay", "E1")])],
        T0 + MIN,
    );
    assert!(take(&sink).is_empty(), "digests wait for their window");
    let mut keys = store.keys();
    keys.retain(|k| !k.starts_with("batch#"));
    keys.sort();
    assert_eq!(
        keys,
        [
            "digest#errors#auth",
            "digest#errors#pay",
            "key#errors#a",
            "key#errors#b",
            "key#errors#c"
        ]
    );
    // A redelivery changes nothing.
    let before = snapshot(&store);
    let o = process(
        &e,
        &store,
        &sink,
        std::slice::from_ref(&first),
        T0 + MIN + 5,
    );
    assert_eq!(o.duplicate_payloads, 1);
    assert_eq!(snapshot(&store), before);
    // The tick finds the digest items through the due index: nothing before their windows end.
    store.set_clock((T0 + 10 * MIN) / 1000);
    block_on(e.tick(&store, &sink, T0 + 10 * MIN - 1));
    assert!(take(&sink).is_empty());
    store.set_clock((T0 + 10 * MIN + 2) / 1000);
    let o = block_on(e.tick(&store, &sink, T0 + 10 * MIN + 2));
    let out = take(&sink);
    assert_eq!(o.published, 2);
    let by_value = |v: &str| {
        out.iter()
            .find(|a| a.query_key.as_deref() == Some(v))
            .unwrap()
    };
    let pay = by_value("pay");
    assert_eq!(
        (pay.kind.as_str(), pay.count, pay.suppressed),
        ("log-match", 3, 0)
    );
    assert_eq!(
        pay.digest.as_ref().unwrap().alerts,
        3,
        "one alert per host per invocation"
    );
    assert_eq!(
        rows(pay),
        [
            (vec!["a".to_string(), "E1".to_string()], 1),
            (vec!["b".to_string(), "E2".to_string()], 1),
            (vec!["c".to_string(), "E1".to_string()], 1),
        ]
    );
    let top: Vec<(&str, u64)> = pay.top_counts[0]
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.count))
        .collect();
    assert_eq!(top, [("E1", 2), ("E2", 1)]);
    assert_eq!(by_value("auth").count, 1);
    assert!(
        out.iter()
            .all(|a| !a.incident_id.is_empty() && !a.samples.is_empty())
    );
    // Published once: later ticks have nothing to do, and the items leave the due index.
    block_on(e.tick(&store, &sink, T0 + 30 * MIN));
    assert!(take(&sink).is_empty());
    assert!(block_on(store.due(T0 + 40 * MIN, 10)).unwrap().is_empty());
}

#[test]
fn racing_invocations_of_two_query_keys_serialise_on_the_digest_item() {
    let (e, store, sink) = (engine(), MemoryStore::default(), CollectingSink::default());
    store.set_clock(T0 / 1000);
    let host_b = payload("y", &[("2", T0 + 1, "b", "pay", "E2")]);
    let other_sink = CollectingSink::default();
    let racing = RaceOnce {
        inner: &store,
        other: Mutex::new(Some(Box::new(|| {
            let o = block_on(e.process(std::slice::from_ref(&host_b), &store, &other_sink, T0 + 1));
            assert_eq!(o.conflicts, 0);
        }))),
    };
    let host_a = payload("x", &[("1", T0, "a", "pay", "E1")]);
    let o = block_on(e.process(std::slice::from_ref(&host_a), &racing, &sink, T0 + 1));
    assert_eq!(o.conflicts, 1, "{o:?}");
    let item = block_on(store.get("digest#errors#pay")).unwrap().unwrap();
    let item: KeyState = serde_json::from_value(item.body).unwrap();
    let d = item.digest.unwrap();
    assert_eq!(
        (d.count, d.triggers),
        (2, 2),
        "both hosts' alerts in the one digest"
    );
    store.set_clock((T0 + 11 * MIN) / 1000);
    block_on(e.tick(&store, &sink, T0 + 11 * MIN));
    let out = take(&sink);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].count, 2);
}

#[test]
fn a_tick_trigger_goes_to_the_digest_of_the_keys_latest_value() {
    let rules = logalert::rules::load(
        "version: 1
rules:
  - name: quiet
    type: flatline
    filter_pattern: '{ $.event = \"beat\" }'
    threshold: 1
    timeframe: 5m
    query_key: $.host
    aggregation: 30m
    aggregation_key: $.svc
",
        "t.yaml",
    )
    .unwrap();
    let e = Engine::new(rules, EngineConfig::new("eu-west-1"));
    let (store, sink) = (MemoryStore::default(), CollectingSink::default());
    store.set_clock(T0 / 1000);
    let beat = |id: &str, t: i64, host: &str| LogsPayload {
        log_events: vec![LogEvent {
            id: id.into(),
            timestamp: t,
            message: format!(r#"{{"event":"beat","host":"{host}","svc":"pay"}}"#),
        }],
        ..payload("s", &[])
    };
    process(
        &e,
        &store,
        &sink,
        &[beat("1", T0, "a"), beat("2", T0 + 1, "b")],
        T0 + 1,
    );
    // Both hosts go quiet: each flatline (decided by the tick, no event) joins the pay digest.
    for m in 1..=40 {
        store.set_clock((T0 + m * MIN) / 1000);
        block_on(e.tick(&store, &sink, T0 + m * MIN));
    }
    let out = take(&sink);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].query_key.as_deref(), Some("pay"));
    assert_eq!(
        out[0].digest.as_ref().unwrap().alerts,
        2,
        "two flatlines, one digest"
    );
}
