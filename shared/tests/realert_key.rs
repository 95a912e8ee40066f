//! `realert_key` end to end over the in-memory store: rules sharing a silence per query-key value
//! alert once, the silenced rule summarises what it suppressed, redelivery publishes nothing
//! twice, racing invocations serialise on the silence item, and the tick reads the silence when a
//! rule type's trigger (flatline) meets it.

mod race_support;
use std::sync::Mutex;

use logalert::alert::AlertMessage;
use logalert::engine::{CollectingSink, Engine, EngineConfig, Silence, silence_key};
use logalert::payload::{LogEvent, LogsPayload, MessageType};
use logalert::state::{DueKey, MemoryStore, StateError, StateRecord, StateStore, block_on};
use race_support::RaceOnce;

const T0: i64 = 1_795_600_800_000;
const MIN: i64 = 60_000;

/// `a` (ERROR) and `b` (db), one silence `db` per host.
const PAIR: &str = "version: 1
rules:
  - name: a
    filter_pattern: ERROR
    query_key: $.host
    realert: 10m
    realert_key: db
  - name: b
    filter_pattern: db
    query_key: $.host
    realert: 1m
    realert_key: db
";

fn engine(yaml: &str) -> Engine {
    let rules = logalert::rules::load(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
    Engine::new(rules, EngineConfig::new("eu-west-1"))
}

fn payload(stream: &str, events: &[(&str, i64, &str, &str)]) -> LogsPayload {
    LogsPayload {
        message_type: MessageType::Data,
        owner: "123456789012".into(),
        log_group: "/app".into(),
        log_stream: stream.into(),
        subscription_filters: vec!["f".into()],
        policy_level: None,
        log_events: events
            .iter()
            .map(|&(id, timestamp, text, host)| LogEvent {
                id: id.into(),
                timestamp,
                message: format!(r#"{{"msg":"{text}","host":"{host}"}}"#),
            })
            .collect(),
    }
}

fn kinds(alerts: &[AlertMessage]) -> Vec<(&str, &str, Option<&str>, u64, u64)> {
    alerts
        .iter()
        .map(|a| {
            (
                a.rule.name.as_str(),
                a.kind.as_str(),
                a.query_key.as_deref(),
                a.count,
                a.suppressed,
            )
        })
        .collect()
}

struct Harness {
    engine: Engine,
    store: MemoryStore,
    sink: CollectingSink,
}

impl Harness {
    fn new(yaml: &str) -> Harness {
        Harness {
            engine: engine(yaml),
            store: MemoryStore::default(),
            sink: CollectingSink::default(),
        }
    }
    fn invoke(&self, payloads: &[LogsPayload], now: i64) -> Vec<AlertMessage> {
        self.store.set_clock(now / 1000);
        let o = block_on(self.engine.process(payloads, &self.store, &self.sink, now));
        assert!(o.failed_payloads.is_empty(), "{o:?}");
        self.take()
    }
    fn tick(&self, now: i64) -> Vec<AlertMessage> {
        self.store.set_clock(now / 1000);
        block_on(self.engine.tick(&self.store, &self.sink, now));
        self.take()
    }
    fn take(&self) -> Vec<AlertMessage> {
        self.sink.take().into_iter().map(|p| p.alert).collect()
    }
    fn snapshot(&self) -> Vec<(String, Option<StateRecord>)> {
        self.store
            .keys()
            .into_iter()
            .map(|k| {
                let r = block_on(self.store.get(&k)).unwrap();
                (k, r)
            })
            .collect()
    }
    fn silence(&self, realert_key: &str, query_key: &str) -> Option<Silence> {
        let r = block_on(self.store.get(&silence_key(realert_key, Some(query_key)))).unwrap()?;
        Some(serde_json::from_value(r.body).unwrap())
    }
}

#[test]
fn rules_sharing_a_realert_key_alert_once_per_query_key_and_the_other_summarises() {
    let h = Harness::new(PAIR);
    // One event matches both rules (host h1); another only b's (host h2: its own silence).
    let p = payload(
        "s",
        &[
            ("1", T0, "ERROR db down", "h1"),
            ("2", T0 + 1000, "db slow", "h2"),
            ("3", T0 + 2000, "db slow", "h1"),
        ],
    );
    let out = h.invoke(std::slice::from_ref(&p), T0 + 3000);
    assert_eq!(
        kinds(&out),
        [
            ("a", "log-match", Some("h1"), 1, 0),
            ("b", "log-match", Some("h2"), 1, 0)
        ]
    );
    let s = h
        .silence("db", "h1")
        .expect("a's alert opened the silence of h1");
    assert_eq!((s.until_ms, s.rule.as_str()), (T0 + 10 * MIN, "a"));
    assert_eq!(h.silence("db", "h2").unwrap().rule, "b");
    // A redelivery changes no item and publishes nothing.
    let before = h.snapshot();
    assert!(h.invoke(std::slice::from_ref(&p), T0 + 4000).is_empty());
    assert_eq!(h.snapshot(), before);
    // b's h1 matches (both of them) wait for a's 10 minutes, not b's own 1 minute.
    assert!(h.tick(T0 + 5 * MIN).is_empty());
    let out = h.tick(T0 + 10 * MIN);
    assert_eq!(kinds(&out), [("b", "summary", Some("h1"), 0, 2)]);
    assert!(!out[0].incident_id.is_empty());
    assert!(
        out[0]
            .observation
            .as_ref()
            .unwrap()
            .text
            .contains("silenced by an alert of rule a, realert_key db"),
        "{:?}",
        out[0].observation
    );
    // After the silence, b alerts on h1 and opens it for its own realert.
    let out = h.invoke(
        &[payload("s", &[("4", T0 + 11 * MIN, "db slow", "h1")])],
        T0 + 11 * MIN,
    );
    assert_eq!(kinds(&out), [("b", "log-match", Some("h1"), 1, 0)]);
    assert_eq!(h.silence("db", "h1").unwrap().until_ms, T0 + 12 * MIN);
    // a inside b's silence is suppressed, and summarised by a's own tick.
    assert!(
        h.invoke(
            &[payload("s", &[("5", T0 + 11 * MIN + 1, "ERROR", "h1")])],
            T0 + 11 * MIN
        )
        .is_empty()
    );
    let out = h.tick(T0 + 12 * MIN);
    assert_eq!(kinds(&out), [("a", "summary", Some("h1"), 0, 1)]);
}

#[test]
fn racing_invocations_of_two_rules_serialise_on_the_silence() {
    let h = Harness::new(PAIR);
    let for_a = payload("x", &[("1", T0, "ERROR", "h1")]);
    let for_b = payload("y", &[("2", T0 + 1, "db slow", "h1")]);
    let other_sink = CollectingSink::default();
    let store = RaceOnce {
        inner: &h.store,
        other: Mutex::new(Some(Box::new(|| {
            let o = block_on(h.engine.process(
                std::slice::from_ref(&for_b),
                &h.store,
                &other_sink,
                T0 + 10,
            ));
            assert_eq!(o.conflicts, 0);
        }))),
    };
    h.store.set_clock(T0 / 1000);
    // a's invocation read the silence before b's committed: its commit conflicts, it re-reads,
    // sees b's silence, and suppresses.
    let o = block_on(
        h.engine
            .process(std::slice::from_ref(&for_a), &store, &h.sink, T0 + 10),
    );
    assert_eq!(o.conflicts, 1, "{o:?}");
    assert!(o.failed_payloads.is_empty());
    assert!(h.take().is_empty(), "a is silenced by b's alert");
    let b_alerts: Vec<AlertMessage> = other_sink.take().into_iter().map(|p| p.alert).collect();
    assert_eq!(kinds(&b_alerts), [("b", "log-match", Some("h1"), 1, 0)]);
    assert_eq!(h.silence("db", "h1").unwrap().rule, "b");
    // a's match is not lost: its summary when b's silence ends.
    let out = h.tick(T0 + 1 + MIN);
    assert_eq!(kinds(&out), [("a", "summary", Some("h1"), 0, 1)]);
    assert!(h.tick(T0 + 20 * MIN).is_empty());
}

#[test]
fn an_outage_fails_open_and_decides_without_the_silence() {
    struct Down;
    impl StateStore for Down {
        async fn get(&self, _: &str) -> Result<Option<StateRecord>, StateError> {
            Err(StateError::Unavailable("down".into()))
        }
        async fn put(&self, _: &str, _: &StateRecord, _: Option<u64>) -> Result<(), StateError> {
            Err(StateError::Unavailable("down".into()))
        }
        async fn due(&self, _: i64, _: usize) -> Result<Vec<DueKey>, StateError> {
            Err(StateError::Unavailable("down".into()))
        }
    }
    let e = engine(PAIR);
    let sink = CollectingSink::default();
    let p = payload("s", &[("1", T0, "ERROR db down", "h1")]);
    let o = block_on(e.process(&[p], &Down, &sink, T0));
    assert!(o.failed_payloads.is_empty());
    assert!(o.metrics.state_failures > 0);
    // Decided over fresh state, in order: a alerts and silences b within the invocation.
    let out: Vec<AlertMessage> = sink.take().into_iter().map(|p| p.alert).collect();
    assert_eq!(kinds(&out), [("a", "log-match", Some("h1"), 1, 0)]);
}

/// A flatline (decided by the tick) shares a silence with an `any` rule.
const WITH_FLATLINE: &str = "version: 1
rules:
  - name: beat
    type: flatline
    filter_pattern: heartbeat
    threshold: 1
    timeframe: 5m
    realert: 30m
    realert_key: svc
  - name: errors
    filter_pattern: ERROR
    realert: 20m
    realert_key: svc
";

#[test]
fn a_tick_trigger_reads_the_silence_and_opens_it() {
    let h = Harness::new(WITH_FLATLINE);
    let msg = |id, t, m: &str| LogsPayload {
        log_events: vec![LogEvent {
            id: format!("{id}"),
            timestamp: t,
            message: m.to_string(),
        }],
        ..payload("s", &[])
    };
    // errors alerts first: its silence holds beat's flatline back.
    h.invoke(&[msg(1, T0, "heartbeat")], T0);
    let out = h.invoke(&[msg(2, T0 + MIN, "ERROR")], T0 + MIN);
    assert_eq!(kinds(&out), [("errors", "log-match", None, 1, 0)]);
    let mut out = Vec::new();
    for m in 2..=20 {
        out.extend(h.tick(T0 + m * MIN));
    }
    assert!(
        out.is_empty(),
        "silenced by errors' alert: {:?}",
        kinds(&out)
    );
    let beat = block_on(h.store.get("key#beat#")).unwrap().unwrap();
    assert_eq!(
        beat.body["window"]["silenced_by"], "errors",
        "{}",
        beat.body
    );
    // A new flat period after the silence: the tick's flatline alert opens the silence.
    h.invoke(&[msg(3, T0 + 22 * MIN, "heartbeat")], T0 + 22 * MIN);
    let mut out = Vec::new();
    for m in 23..=28 {
        out.extend(h.tick(T0 + m * MIN));
    }
    assert_eq!(kinds(&out), [("beat", "log-match", None, 0, 0)]);
    let s = block_on(h.store.get(&silence_key("svc", None)))
        .unwrap()
        .unwrap();
    let s: Silence = serde_json::from_value(s.body).unwrap();
    assert_eq!(s.rule, "beat");
    // errors is now silenced by beat.
    assert!(
        h.invoke(&[msg(4, T0 + 29 * MIN, "ERROR")], T0 + 29 * MIN)
            .is_empty()
    );
    let errors = block_on(h.store.get("key#errors#")).unwrap().unwrap();
    assert_eq!(errors.body["window"]["silenced_by"], "beat");
}
