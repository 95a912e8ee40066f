//! The decision logic end to end over the in-memory store: grouping, frequency windows,
//! suppression, redelivery, fail-open, size limits, templates and metrics.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use logalert::alert::{AlertMessage, SNS_MAX_MESSAGE_BYTES};
use logalert::engine::{AlertSink, CollectingSink, Engine, EngineConfig, Outcome, Publication};
use logalert::payload::{LogEvent, LogsPayload, MessageType};
use logalert::state::{MemoryStore, StateError, StateRecord, StateStore, block_on};

const T0: i64 = 1_795_600_800_000;
const MIN: i64 = 60_000;

fn engine(yaml: &str) -> Engine {
    let rules = logalert::rules::load(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
    Engine::new(
        rules,
        EngineConfig::new("eu-west-1").with_ignored_log_groups("/aws/lambda/logalert-*"),
    )
}

fn payload(group: &str, stream: &str, events: &[(&str, i64, &str)]) -> LogsPayload {
    LogsPayload {
        message_type: MessageType::Data,
        owner: "123456789012".into(),
        log_group: group.into(),
        log_stream: stream.into(),
        subscription_filters: vec!["f".into()],
        policy_level: None,
        log_events: events
            .iter()
            .map(|(id, ts, m)| LogEvent {
                id: id.to_string(),
                timestamp: *ts,
                message: m.to_string(),
            })
            .collect(),
    }
}

/// Run one invocation against `store`, with the clock at the payloads' newest event.
fn run(
    engine: &Engine,
    store: &MemoryStore,
    payloads: &[LogsPayload],
) -> (Vec<Publication>, Outcome) {
    let now = payloads
        .iter()
        .flat_map(|p| p.log_events.iter().map(|e| e.timestamp))
        .max()
        .unwrap_or(T0);
    store.set_clock(now / 1000);
    let sink = CollectingSink::default();
    let outcome = block_on(engine.process(payloads, store, &sink, now));
    (sink.take(), outcome)
}

fn alerts(p: &[Publication]) -> Vec<&AlertMessage> {
    p.iter().map(|p| &p.alert).collect()
}

const ANY_RULES: &str = r#"
version: 1
rules:
  - name: errors
    filter_pattern: ERROR
    max_samples: 2
    realert: 5m
    severity: critical
    channel: oncall
    mention: here
  - name: per-user
    filter_pattern: login_failed
    query_key: $.user
    realert: 0
"#;

#[test]
fn one_alert_per_rule_and_key_per_invocation() {
    let e = engine(ANY_RULES);
    let store = MemoryStore::default();
    let p = payload(
        "/app/api",
        "stream-1",
        &[
            ("1", T0, "ERROR db down"),
            ("2", T0 + 1000, "INFO fine"),
            ("3", T0 + 2000, "ERROR db still down"),
            ("4", T0 + 3000, "ERROR again"),
            ("5", T0 + 4000, r#"{"event":"login_failed","user":"alice"}"#),
            ("6", T0 + 5000, r#"{"event":"login_failed","user":"bob"}"#),
            ("7", T0 + 6000, r#"{"event":"login_failed","user":"alice"}"#),
        ],
    );
    let (published, outcome) = run(&e, &store, &[p]);
    assert_eq!(published.len(), 3, "{published:#?}");
    let a = &published[0].alert;
    assert_eq!(
        (a.rule.name.as_str(), a.count, a.suppressed),
        ("errors", 3, 0)
    );
    assert_eq!((a.first_timestamp, a.last_timestamp), (T0, T0 + 3000));
    assert_eq!(a.samples.len(), 2, "max_samples");
    assert_eq!(a.samples[0].message, "ERROR db down");
    assert_eq!(a.samples[0].id, "1");
    assert_eq!(a.samples[0].log_stream, "stream-1");
    assert_eq!(
        (a.account.as_str(), a.region.as_str(), a.log_group.as_str()),
        ("123456789012", "eu-west-1", "/app/api")
    );
    assert_eq!(a.channel, "oncall");
    assert_eq!(a.query_key, None);
    assert_eq!(a.rule.filter_pattern.as_deref(), Some("ERROR"));
    assert_eq!(
        published[0].subject,
        "[CRITICAL] errors: 3 matches in /app/api"
    );
    assert_eq!(
        published[0].attributes,
        [
            ("severity".to_string(), "critical".to_string()),
            ("rule".to_string(), "errors".to_string()),
            ("log_group".to_string(), "/app/api".to_string()),
            ("channel".to_string(), "oncall".to_string()),
        ]
    );
    let keys: Vec<(Option<&str>, u64)> = published[1..]
        .iter()
        .map(|p| (p.alert.query_key.as_deref(), p.alert.count))
        .collect();
    assert_eq!(keys, [(Some("alice"), 2), (Some("bob"), 1)]);
    assert_eq!(
        published[1].subject,
        "[ERROR] per-user [alice]: 2 matches in /app/api"
    );
    assert_eq!(outcome.metrics.per_rule["errors"], (3, 1));
    assert_eq!(outcome.metrics.per_rule["per-user"], (3, 2));
    assert_eq!(outcome.metrics.events_processed, 7);
    // The body is the alert's JSON.
    let body: AlertMessage = serde_json::from_str(&published[0].body).unwrap();
    assert_eq!(&body, a);
}

#[test]
fn realert_suppresses_and_carries_the_count_into_the_next_alert() {
    let e = engine(ANY_RULES);
    let store = MemoryStore::default();
    let inv = |id: &str, t: i64| payload("/app", "s", &[(id, t, "ERROR x")]);
    assert_eq!(run(&e, &store, &[inv("1", T0)]).0.len(), 1);
    // Within 5 minutes (event time): suppressed.
    assert!(run(&e, &store, &[inv("2", T0 + MIN)]).0.is_empty());
    assert!(run(&e, &store, &[inv("3", T0 + 4 * MIN)]).0.is_empty());
    // After: the window's summary reports the 2 suppressed matches (v2: a closed window is
    // always summarised, also when no tick ran before the next match), then the alert.
    let (p, _) = run(&e, &store, &[inv("4", T0 + 5 * MIN + 1)]);
    assert_eq!(
        alerts(&p)
            .iter()
            .map(|a| (a.kind.as_str(), a.count, a.suppressed))
            .collect::<Vec<_>>(),
        [("summary", 0, 2), ("log-match", 1, 0)]
    );
    assert_eq!(
        p[0].alert.samples.len(),
        2,
        "the summary carries the suppressed matches"
    );
    assert_eq!(
        p[0].subject,
        "[CRITICAL] errors: 2 more matches suppressed in /app"
    );
    // The suppressed count was reset by that alert.
    let (p, _) = run(&e, &store, &[inv("5", T0 + 11 * MIN)]);
    assert_eq!((p[0].alert.count, p[0].alert.suppressed), (1, 0));
}

#[test]
fn realert_zero_alerts_every_invocation_but_not_twice_for_the_same_events() {
    let e = engine(ANY_RULES);
    let store = MemoryStore::default();
    let line = r#"{"event":"login_failed","user":"alice"}"#;
    for i in 0..3 {
        let id = format!("e{i}");
        let (p, _) = run(&e, &store, &[payload("/app", "s", &[(&id, T0 + i, line)])]);
        assert_eq!(p.len(), 1, "invocation {i}");
    }
}

#[test]
fn query_keys_suppress_independently() {
    let e = engine(
        "version: 1\nrules:\n  - name: r\n    filter_pattern: fail\n    query_key: $.user\n    realert: 10m\n",
    );
    let store = MemoryStore::default();
    let ev = |id: &str, t: i64, user: &str| {
        (
            id.to_string(),
            t,
            format!(r#"{{"msg":"fail","user":"{user}"}}"#),
        )
    };
    let mk = |evs: Vec<(String, i64, String)>| {
        let v: Vec<(&str, i64, &str)> = evs
            .iter()
            .map(|(a, b, c)| (a.as_str(), *b, c.as_str()))
            .collect();
        payload("/app", "s", &v)
    };
    let (p, _) = run(&e, &store, &[mk(vec![ev("1", T0, "alice")])]);
    assert_eq!(p.len(), 1);
    let (p, _) = run(
        &e,
        &store,
        &[mk(vec![
            ev("2", T0 + MIN, "alice"),
            ev("3", T0 + MIN, "bob"),
        ])],
    );
    assert_eq!(
        alerts(&p)
            .iter()
            .map(|a| a.query_key.clone().unwrap())
            .collect::<Vec<_>>(),
        ["bob"]
    );
    // A missing key value groups under `<missing>`.
    let (p, _) = run(
        &e,
        &store,
        &[payload(
            "/app",
            "s",
            &[("4", T0 + 2 * MIN, "fail without json")],
        )],
    );
    assert_eq!(p[0].alert.query_key.as_deref(), Some("<missing>"));
}

const FREQ: &str = r#"
version: 1
rules:
  - name: brute-force
    filter_pattern: login_failed
    type: frequency
    num_events: 3
    timeframe: 1m
    query_key: $.user
    realert: 10m
"#;

fn login(id: &str, t: i64, user: &str) -> (String, i64, String) {
    (
        id.to_string(),
        t,
        format!(r#"{{"event":"login_failed","user":"{user}"}}"#),
    )
}

fn mk(evs: &[(String, i64, String)]) -> LogsPayload {
    let v: Vec<(&str, i64, &str)> = evs
        .iter()
        .map(|(a, b, c)| (a.as_str(), *b, c.as_str()))
        .collect();
    payload("/auth", "s", &v)
}

#[test]
fn frequency_counts_across_invocations_by_event_time() {
    let e = engine(FREQ);
    let store = MemoryStore::default();
    assert!(
        run(
            &e,
            &store,
            &[mk(&[
                login("1", T0, "alice"),
                login("2", T0 + 10_000, "alice")
            ])]
        )
        .0
        .is_empty()
    );
    assert!(
        run(&e, &store, &[mk(&[login("3", T0 + 5_000, "bob")])])
            .0
            .is_empty(),
        "bob has his own window"
    );
    let (p, outcome) = run(&e, &store, &[mk(&[login("4", T0 + 50_000, "alice")])]);
    assert_eq!(p.len(), 1);
    let a = &p[0].alert;
    assert_eq!(
        (a.rule.rule_type.as_str(), a.query_key.as_deref(), a.count),
        ("frequency", Some("alice"), 3)
    );
    assert_eq!((a.first_timestamp, a.last_timestamp), (T0, T0 + 50_000));
    assert_eq!(
        a.samples.len(),
        1,
        "samples come from this invocation's events"
    );
    assert_eq!(outcome.metrics.per_rule["brute-force"], (1, 1));
}

#[test]
fn frequency_window_slides_old_matches_out() {
    let e = engine(FREQ);
    let store = MemoryStore::default();
    assert!(
        run(
            &e,
            &store,
            &[mk(&[login("1", T0, "a"), login("2", T0 + 30_000, "a")])]
        )
        .0
        .is_empty()
    );
    // 2 minutes later: the first two are outside the 1-minute window.
    assert!(
        run(
            &e,
            &store,
            &[mk(&[
                login("3", T0 + 2 * MIN, "a"),
                login("4", T0 + 2 * MIN + 1, "a")
            ])]
        )
        .0
        .is_empty()
    );
    let (p, _) = run(&e, &store, &[mk(&[login("5", T0 + 2 * MIN + 2, "a")])]);
    assert_eq!(p[0].alert.count, 3);
    assert_eq!(p[0].alert.first_timestamp, T0 + 2 * MIN);
}

#[test]
fn frequency_within_one_invocation_and_then_suppression() {
    let e = engine(FREQ);
    let store = MemoryStore::default();
    let evs: Vec<_> = (0..7)
        .map(|i| login(&format!("{i}"), T0 + i * 1000, "a"))
        .collect();
    let (p, _) = run(&e, &store, &[mk(&evs)]);
    assert_eq!(p.len(), 1, "one alert per invocation");
    assert_eq!(p[0].alert.count, 7, "later matches ride along");
    // Three more within realert: the threshold is reached again but suppressed.
    let evs: Vec<_> = (10..13)
        .map(|i| login(&format!("{i}"), T0 + 20_000 + i, "a"))
        .collect();
    assert!(run(&e, &store, &[mk(&evs)]).0.is_empty());
    // After realert, the next threshold crossing closes the window first: its summary reports
    // the 3 suppressed matches (v2; v1 carried them into this alert), then the alert.
    let evs: Vec<_> = (20..23)
        .map(|i| login(&format!("{i}"), T0 + 11 * MIN + i, "a"))
        .collect();
    let (p, _) = run(&e, &store, &[mk(&evs)]);
    let got: Vec<(&str, u64, u64)> = p
        .iter()
        .map(|p| (p.alert.kind.as_str(), p.alert.count, p.alert.suppressed))
        .collect();
    assert_eq!(got, [("summary", 0, 3), ("log-match", 3, 0)]);
}

#[test]
fn a_redelivered_batch_neither_counts_nor_alerts_twice() {
    let e = engine(FREQ);
    let store = MemoryStore::default();
    let first = mk(&[login("1", T0, "a"), login("2", T0 + 1, "a")]);
    assert!(run(&e, &store, std::slice::from_ref(&first)).0.is_empty());
    let (_, o) = run(&e, &store, std::slice::from_ref(&first));
    assert_eq!(o.duplicate_payloads, 1);
    // Had the redelivery counted, this single match would reach 3 (2 + 2 + 1 > 3).
    let (p, _) = run(&e, &store, &[mk(&[login("3", T0 + 2, "a")])]);
    assert_eq!(p[0].alert.count, 3);
    // And an any-rule alert is not repeated for a redelivered batch.
    let e = engine(ANY_RULES);
    let store = MemoryStore::default();
    let p = payload("/app", "s", &[("x", T0, "ERROR x")]);
    assert_eq!(run(&e, &store, std::slice::from_ref(&p)).0.len(), 1);
    assert!(run(&e, &store, std::slice::from_ref(&p)).0.is_empty());
}

#[test]
fn the_same_payload_twice_in_one_kinesis_batch_counts_once() {
    let e = engine(FREQ);
    let store = MemoryStore::default();
    let p = mk(&[login("1", T0, "a"), login("2", T0 + 1, "a")]);
    assert!(
        run(&e, &store, &[p.clone(), p]).0.is_empty(),
        "2 distinct events < 3"
    );
}

/// A sink that fails the first `fail` publishes.
#[derive(Default)]
struct FlakySink {
    fail: AtomicUsize,
    ok: Mutex<Vec<Publication>>,
}

impl AlertSink for FlakySink {
    async fn publish(&self, publications: &[Publication]) -> Vec<Result<(), String>> {
        publications
            .iter()
            .map(|p| {
                if self.fail.load(Ordering::SeqCst) > 0 {
                    self.fail.fetch_sub(1, Ordering::SeqCst);
                    Err("SNS is down".to_string())
                } else {
                    self.ok.lock().unwrap().push(p.clone());
                    Ok(())
                }
            })
            .collect()
    }
}

#[test]
fn a_failed_publish_is_retried_by_the_caller_and_alerts_exactly_once() {
    let e = engine(ANY_RULES);
    let store = MemoryStore::default();
    store.set_clock(T0 / 1000);
    let ok = payload("/ok", "s", &[("a", T0, "INFO fine")]);
    let bad = payload(
        "/app",
        "s",
        &[
            ("1", T0, "ERROR x"),
            ("2", T0 + 1, r#"{"event":"login_failed","user":"u"}"#),
        ],
    );
    let sink = FlakySink {
        fail: AtomicUsize::new(1),
        ..Default::default()
    };
    let batch = [ok, bad];
    let o = block_on(e.process(&batch, &store, &sink, T0));
    assert_eq!(o.failed_payloads, [1]);
    assert_eq!(o.published, 1);
    assert_eq!(o.metrics.publish_failures, 1);
    assert_eq!(o.errors, ["rule errors: SNS is down"]);
    // The retry (same batch) publishes the failed alert only.
    let o = block_on(e.process(&batch, &store, &sink, T0));
    assert!(o.failed_payloads.is_empty());
    let names: Vec<String> = sink
        .ok
        .lock()
        .unwrap()
        .iter()
        .map(|p| p.alert.rule.name.clone())
        .collect();
    assert_eq!(names, ["per-user", "errors"]);
    // A third delivery is a duplicate.
    let o = block_on(e.process(&batch, &store, &sink, T0));
    assert_eq!((o.published, o.duplicate_payloads), (0, 1));
}

/// A store that is always down.
struct DownStore;

impl StateStore for DownStore {
    async fn get(&self, _: &str) -> Result<Option<StateRecord>, StateError> {
        Err(StateError::Unavailable("throttled".into()))
    }
    async fn put(&self, _: &str, _: &StateRecord, _: Option<u64>) -> Result<(), StateError> {
        Err(StateError::Unavailable("throttled".into()))
    }
}

#[test]
fn state_failures_fail_open() {
    let e = engine(ANY_RULES);
    let sink = CollectingSink::default();
    let p = payload("/app", "s", &[("1", T0, "ERROR x")]);
    let o = block_on(e.process(std::slice::from_ref(&p), &DownStore, &sink, T0));
    assert_eq!(sink.take().len(), 1, "alerts anyway");
    assert!(o.metrics.state_failures >= 1, "{:?}", o.metrics);
    assert!(o.failed_payloads.is_empty());
    // A frequency rule judges the matches in hand.
    let e = engine(FREQ);
    let evs: Vec<_> = (0..3)
        .map(|i| login(&format!("{i}"), T0 + i, "a"))
        .collect();
    block_on(e.process(&[mk(&evs)], &DownStore, &sink, T0));
    assert_eq!(sink.take().len(), 1);
    block_on(e.process(&[mk(&evs[..2])], &DownStore, &sink, T0));
    assert!(sink.take().is_empty());
}

/// A store in which another instance decides and commits between our read and our commit.
struct RacingStore {
    inner: MemoryStore,
    other: Engine,
    other_payload: LogsPayload,
    raced: AtomicUsize,
}

impl StateStore for RacingStore {
    async fn get(&self, key: &str) -> Result<Option<StateRecord>, StateError> {
        self.inner.get(key).await
    }
    async fn put(&self, k: &str, r: &StateRecord, v: Option<u64>) -> Result<(), StateError> {
        self.inner.put(k, r, v).await
    }
    async fn commit(&self, writes: &[logalert::state::Write]) -> Result<(), StateError> {
        if self.raced.fetch_add(1, Ordering::SeqCst) == 0 {
            let sink = CollectingSink::default();
            let o = self
                .other
                .process(
                    std::slice::from_ref(&self.other_payload),
                    &self.inner,
                    &sink,
                    T0,
                )
                .await;
            assert_eq!(o.published, 1, "the other instance alerts");
        }
        self.inner.commit(writes).await
    }
    async fn due(
        &self,
        now: i64,
        limit: usize,
    ) -> Result<Vec<logalert::state::DueKey>, StateError> {
        self.inner.due(now, limit).await
    }
}

/// Two invocations deciding on the same rule+key at the same moment: the one that commits second
/// conflicts, re-reads and re-decides — it is suppressed by the other's alert, not a second alert.
#[test]
fn concurrent_decisions_are_re_decided_not_re_applied() {
    let store = RacingStore {
        inner: MemoryStore::default(),
        other: engine(ANY_RULES),
        other_payload: payload("/app", "s2", &[("9", T0, "ERROR other")]),
        raced: AtomicUsize::new(0),
    };
    store.inner.set_clock(T0 / 1000);
    let e = engine(ANY_RULES);
    let sink = CollectingSink::default();
    let p = payload("/app", "s", &[("1", T0 + 1, "ERROR x")]);
    let o = block_on(e.process(&[p], &store, &sink, T0 + 1));
    assert_eq!((o.conflicts, o.metrics.state_failures), (1, 0));
    assert!(sink.take().is_empty(), "suppressed by the concurrent alert");
    assert_eq!(
        o.metrics.per_rule["errors"],
        (1, 0),
        "counted once, no alert"
    );
    // The window's summary reports it when the window closes.
    let o = block_on(e.tick(&store, &sink, T0 + 5 * MIN));
    let p = sink.take();
    assert_eq!(o.published, 1);
    assert_eq!(
        (p[0].alert.kind.as_str(), p[0].alert.suppressed),
        ("summary", 1)
    );
    assert_eq!(p[0].alert.samples[0].id, "1");
}

#[test]
fn control_messages_ignored_groups_and_log_group_globs() {
    let e = engine(
        "version: 1\nrules:\n  - name: r\n    filter_pattern: ERROR\n    log_groups: ['/aws/lambda/pay-*']\n",
    );
    let store = MemoryStore::default();
    let mut control = payload(
        "",
        "",
        &[(
            "",
            T0,
            "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream.",
        )],
    );
    control.message_type = MessageType::Control;
    let own = payload(
        "/aws/lambda/logalert-log-filter",
        "s",
        &[("1", T0, "ERROR in logalert itself")],
    );
    let other = payload("/aws/lambda/orders", "s", &[("2", T0, "ERROR elsewhere")]);
    let pay = payload("/aws/lambda/pay-api", "s", &[("3", T0, "ERROR here")]);
    let (p, o) = run(&e, &store, &[control, own, other, pay]);
    assert_eq!(
        alerts(&p)
            .iter()
            .map(|a| a.log_group.as_str())
            .collect::<Vec<_>>(),
        ["/aws/lambda/pay-api"]
    );
    assert_eq!(
        o.metrics.events_processed, 2,
        "control and ignored groups are not processed"
    );
}

#[test]
fn huge_log_lines_never_break_the_size_limit() {
    let e = engine(
        "version: 1\nrules:\n  - name: r\n    filter_pattern: ERROR\n    max_samples: 100\n",
    );
    let store = MemoryStore::default();
    let big = format!("ERROR {}", "é".repeat(600_000));
    let ids: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let events: Vec<(&str, i64, &str)> = ids
        .iter()
        .map(|id| (id.as_str(), T0, big.as_str()))
        .collect();
    let (p, _) = run(&e, &store, &[payload("/app", "s", &events)]);
    let publication = &p[0];
    let size = publication.body.len()
        + publication.subject.len()
        + publication
            .attributes
            .iter()
            .map(|(k, v)| k.len() + v.len() + 6)
            .sum::<usize>();
    assert!(size < SNS_MAX_MESSAGE_BYTES, "{size}");
    let a = &publication.alert;
    assert!(a.truncated);
    assert_eq!(a.count, 100);
    assert!(!a.samples.is_empty());
    assert!(a.samples[0].message.starts_with("ERROR éé") && a.samples[0].message.ends_with('…'));
    assert!(a.samples[0].message.len() <= logalert::alert::MAX_SAMPLE_MESSAGE_BYTES);
}

#[test]
fn templates_render_subject_and_text_with_visible_missing_values() {
    let e = engine(
        r#"
version: 1
rules:
  - name: r
    filter_pattern: ERROR
    query_key: $.service
    severity: warning
    alert_subject: "{{ service }} failed ({{ count }}x): {{ reason }}\nsecond line ✓"
    alert_text: "{{ rule.name }}/{{ rule.severity }} {{ message }} user={{ user }} qk={{ query_key }} at {{ timestamp }}"
"#,
    );
    let store = MemoryStore::default();
    let line = r#"{"level":"ERROR","service":"api","message":"boom"}"#;
    let (p, _) = run(&e, &store, &[payload("/app", "s", &[("1", T0, line)])]);
    assert_eq!(
        p[0].subject,
        "api failed (1x): <missing: reason> second line ?"
    );
    // The alert keeps the subject as written; only SNS's Subject attribute is sanitised.
    assert_eq!(
        p[0].alert.subject.as_deref(),
        Some("api failed (1x): <missing: reason>\nsecond line ✓")
    );
    assert_eq!(
        p[0].alert.text.as_deref(),
        Some(
            format!("r/warning {line} user=<missing: user> qk=api at 2026-11-25T10:00:00.000Z")
                .as_str()
        )
    );
}

#[test]
fn subjects_are_sns_safe() {
    let e = engine(
        "version: 1\nrules:\n  - name: r\n    filter_pattern: ERROR\n    alert_subject: \"{{ message }}\"\n",
    );
    let store = MemoryStore::default();
    let line = format!("ERROR \u{7}\r\n인증실패 {}", "x".repeat(300));
    let (p, _) = run(&e, &store, &[payload("/app", "s", &[("1", T0, &line)])]);
    let s = &p[0].subject;
    assert!(
        s.len() <= 99 && s.is_ascii() && !s.chars().any(|c| c.is_control()),
        "{s:?}"
    );
    assert!(
        s.starts_with("ERROR ???? xxx") && s.ends_with("..."),
        "{s:?}"
    );
    assert_eq!(p[0].alert.subject.as_deref(), Some(line.as_str()));
}

#[test]
fn rule_metrics_are_recorded_per_match() {
    let e = engine(
        "version: 1\nrules:\n  - name: r\n    filter_pattern: latency\n    metric: {name: Latency, value: $.ms, unit: Milliseconds, dimensions: {Service: $.svc}}\n",
    );
    let store = MemoryStore::default();
    let (_, o) = run(
        &e,
        &store,
        &[payload(
            "/app",
            "s",
            &[
                ("1", T0, r#"{"latency":1,"ms":120,"svc":"api"}"#),
                ("2", T0 + 1, r#"{"latency":1,"ms":80,"svc":"api"}"#),
                ("3", T0 + 2, r#"{"latency":1,"ms":"n/a","svc":"api"}"#),
                ("4", T0 + 3, r#"{"latency":1,"ms":5}"#),
            ],
        )],
    );
    let lines = o.metrics.to_emf_lines("logalert", T0);
    let latency: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("Latency").is_some())
        .collect();
    assert_eq!(latency.len(), 2, "{lines:#?}");
    assert_eq!(latency[0]["Service"], "<missing>");
    assert_eq!(latency[0]["Latency"], 5.0);
    assert_eq!(latency[1]["Service"], "api");
    assert_eq!(latency[1]["Latency"], serde_json::json!([120.0, 80.0]));
}

#[test]
fn disabled_rules_do_not_run() {
    let e =
        engine("version: 1\nrules:\n  - name: r\n    filter_pattern: ERROR\n    enabled: false\n");
    let store = MemoryStore::default();
    let (p, o) = run(&e, &store, &[payload("/app", "s", &[("1", T0, "ERROR")])]);
    assert!(p.is_empty());
    assert!(o.metrics.per_rule.is_empty());
}

#[test]
fn every_state_item_has_a_ttl_after_the_event_time() {
    let e = engine(FREQ);
    let store = MemoryStore::default();
    run(&e, &store, &[mk(&[login("1", T0, "a")])]);
    // Items are live now, and expire by themselves: the key item a week after its last
    // activity, the payload marker after 15 days (beyond any redelivery: SQS keeps a dead letter
    // at most 14 days).
    assert_eq!(store.keys().len(), 2, "key item + batch marker");
    store.set_clock(T0 / 1000 + 8 * 86_400);
    assert_eq!(store.keys().len(), 1);
    assert!(store.keys()[0].starts_with("batch#"));
    store.set_clock(T0 / 1000 + 15 * 86_400);
    assert_eq!(store.len(), 0, "everything expired");
}

fn alert_schema() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/alert-message.schema.json"
        ))
        .unwrap(),
    )
    .unwrap()
}

/// Every property of `value` is declared in `schema` and every required one is there.
fn check(value: &serde_json::Value, schema: &serde_json::Value, path: &str) {
    let props = schema["properties"].as_object().unwrap();
    let obj = value
        .as_object()
        .unwrap_or_else(|| panic!("{path} is not an object"));
    for key in obj.keys() {
        assert!(props.contains_key(key), "{path}.{key} is not in the schema");
    }
    for req in schema["required"].as_array().unwrap() {
        assert!(
            obj.contains_key(req.as_str().unwrap()),
            "{path}.{req} is required but missing"
        );
    }
}

/// The published JSON Schema and the messages the engine builds agree: every property written is
/// declared, every required property is written, enums hold.
#[test]
fn alert_messages_match_the_published_json_schema() {
    let schema = alert_schema();
    let e = engine(
        "version: 1\nrules:\n  - name: r\n    description: d\n    filter_pattern: ERROR\n    query_key: $.svc\n    mention: [here, U024BE7LH]\n    alert_subject: s\n    alert_text: t\n",
    );
    let store = MemoryStore::default();
    let (p, _) = run(
        &e,
        &store,
        &[payload(
            "/app",
            "s",
            &[("1", T0, r#"{"m":"ERROR","svc":"api"}"#)],
        )],
    );
    let body: serde_json::Value = serde_json::from_str(&p[0].body).unwrap();

    check(&body, &schema, "alert");
    check(&body["rule"], &schema["properties"]["rule"], "alert.rule");
    check(
        &body["samples"][0],
        &schema["properties"]["samples"]["items"],
        "alert.samples[0]",
    );
    assert_eq!(body["version"], schema["properties"]["version"]["const"]);
    let kinds = schema["properties"]["kind"]["enum"].as_array().unwrap();
    assert_eq!(
        kinds,
        &[
            logalert::alert::KIND_LOG_MATCH,
            logalert::alert::KIND_SUMMARY,
            logalert::alert::KIND_RESOLVED
        ]
    );
    assert!(kinds.contains(&body["kind"]));
    let severities = schema["$defs"]["severity"]["enum"].as_array().unwrap();
    assert!(severities.contains(&body["rule"]["severity"]));
    assert_eq!(body["mention"], serde_json::json!(["here", "U024BE7LH"]));
    assert_eq!(
        (body["subject"].as_str(), body["text"].as_str()),
        (Some("s"), Some("t"))
    );
}

/// A digest (aggregation, summary table, top counts, include) through the driver and its tick:
/// one publication when the window ends, and every property it writes is in the JSON Schema.
#[test]
fn digests_go_out_at_the_tick_and_match_the_published_json_schema() {
    let schema = alert_schema();
    let e = engine(concat!(
        "version: 1\nrules:\n  - name: r\n    filter_pattern: '{ $.m = \"ERROR\" }'\n",
        "    aggregation: 5m\n    summary_table_fields: [$.svc, '@fingerprint']\n",
        "    top_count_keys: $.user\n    include: [$.user, $.missing]\n",
    ));
    let store = MemoryStore::default();
    let (p, _) = run(
        &e,
        &store,
        &[payload(
            "/app",
            "s",
            &[
                ("1", T0, r#"{"m":"ERROR","svc":"api","user":"al","n":1}"#),
                (
                    "2",
                    T0 + 1000,
                    r#"{"m":"ERROR","svc":"api","user":"al","n":2}"#,
                ),
            ],
        )],
    );
    assert!(p.is_empty(), "nothing before the window ends");
    let (p, _) = run(
        &e,
        &store,
        &[payload(
            "/app",
            "s",
            &[("3", T0 + MIN, r#"{"m":"ERROR","svc":"db","user":"bo"}"#)],
        )],
    );
    assert!(p.is_empty());
    let sink = CollectingSink::default();
    store.set_clock((T0 + 4 * MIN) / 1000);
    block_on(e.tick(&store, &sink, T0 + 4 * MIN));
    assert!(sink.take().is_empty(), "the window is still open");
    // The window runs 5 min from the first trigger (its last event, T0 + 1 s).
    store.set_clock((T0 + 6 * MIN) / 1000);
    block_on(e.tick(&store, &sink, T0 + 6 * MIN));
    let p = sink.take();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].subject, "[ERROR] r: digest of 3 matches in /app");
    let body: serde_json::Value = serde_json::from_str(&p[0].body).unwrap();
    assert_eq!(body["count"], 3);
    assert_eq!(body["digest"]["alerts"], 2, "one trigger per invocation");
    assert_eq!(
        body["digest"]["table"]["rows"][0],
        serde_json::json!({"values": ["api", r#"{"m":"ERROR","svc":"api","user":"al","n":<num>}"#], "count": 2})
    );
    assert_eq!(
        body["top_counts"][0]["values"][0],
        serde_json::json!({"value": "al", "count": 2})
    );
    assert_eq!(
        body["samples"][0]["fields"],
        serde_json::json!({"$.user": "al", "$.missing": "<missing>"})
    );

    let props = &schema["properties"];
    check(&body, &schema, "alert");
    check(
        &body["samples"][0],
        &props["samples"]["items"],
        "samples[0]",
    );
    check(&body["digest"], &props["digest"], "digest");
    check(
        &body["digest"]["table"],
        &props["digest"]["properties"]["table"],
        "digest.table",
    );
    check(
        &body["digest"]["table"]["rows"][0],
        &props["digest"]["properties"]["table"]["properties"]["rows"]["items"],
        "digest.table.rows[0]",
    );
    check(
        &body["top_counts"][0],
        &props["top_counts"]["items"],
        "top_counts[0]",
    );
    check(
        &body["top_counts"][0]["values"][0],
        &props["top_counts"]["items"]["properties"]["values"]["items"],
        "top_counts[0].values[0]",
    );
}

#[test]
fn templates_get_console_and_insights_links() {
    let e = engine(
        "version: 1\nrules:\n  - name: r\n    filter_pattern: ERROR\n    alert_text: \"{{ links.console }}\\n{{ links.insights }}\"\n",
    );
    let store = MemoryStore::default();
    let (p, _) = run(
        &e,
        &store,
        &[payload(
            "/aws/lambda/pay",
            "2026/11/25/[$LATEST]ab",
            &[("1", T0, "ERROR x")],
        )],
    );
    let text = p[0].alert.text.clone().unwrap();
    let (console, insights) = text.split_once('\n').unwrap();
    let expected = logalert::links::log_events_url(&logalert::links::LogEventsLink {
        region: "eu-west-1",
        log_group: "/aws/lambda/pay",
        log_stream: Some("2026/11/25/[$LATEST]ab"),
        start_ms: T0 - 60_000,
        end_ms: T0 + 60_000,
        filter_pattern: Some("ERROR"),
    });
    assert_eq!(console, expected);
    assert!(console.starts_with("https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Fpay/log-events/"), "{console}");
    assert!(insights.contains("#logsV2:logs-insights"), "{insights}");
}

/// Virtual fields read the event's own log group and stream through the whole driver:
/// `compare_key: "@logGroup"` (blacklist), `include` and `top_count_keys` of `@logStream`.
#[test]
fn virtual_fields_read_the_events_log_group_and_stream() {
    let e = engine(concat!(
        "version: 1\nrules:\n  - name: r\n    type: blacklist\n    compare_key: '@logGroup'\n",
        "    blacklist: [/aws/lambda/payments]\n    include: ['@logGroup', '@logStream']\n",
        "    top_count_keys: '@logStream'\n",
    ));
    let store = MemoryStore::default();
    let (p, _) = run(
        &e,
        &store,
        &[
            payload("/aws/lambda/search", "s1", &[("1", T0, "x")]),
            payload(
                "/aws/lambda/payments",
                "s2",
                &[("2", T0, "y"), ("3", T0 + 1, "z")],
            ),
        ],
    );
    let a = alerts(&p);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].count, 2);
    assert_eq!(a[0].log_group, "/aws/lambda/payments");
    assert_eq!(a[0].samples[0].fields["@logGroup"], "/aws/lambda/payments");
    assert_eq!(a[0].samples[0].fields["@logStream"], "s2");
    assert_eq!(a[0].top_counts[0].values[0].value, "s2");
    assert_eq!(a[0].top_counts[0].values[0].count, 2);
    assert_eq!(
        a[0].observation.as_ref().unwrap().text,
        "2 events with a blacklisted log group: /aws/lambda/payments ×2"
    );
}
