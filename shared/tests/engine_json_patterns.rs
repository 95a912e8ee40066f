//! Engine and rules tests that need the real pattern engine (JSON, space-delimited, `?` terms).
//! They fail against the placeholder pattern engine (terms only) and pass once the pattern stream
//! is merged.

use logalert::cli::replay::{Replay, read_input};
use logalert::engine::{Engine, EngineConfig, Publication};
use logalert::payload::{LogEvent, LogsPayload, MessageType};

const T0: i64 = 1_795_600_800_000;

fn root(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

fn engine(yaml: &str) -> Engine {
    let rules = logalert::rules::load(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
    Engine::new(rules, EngineConfig::new("us-east-1"))
}

fn payload(group: &str, events: &[(&str, i64, &str)]) -> LogsPayload {
    LogsPayload {
        message_type: MessageType::Data,
        owner: "123456789012".into(),
        log_group: group.into(),
        log_stream: "s".into(),
        subscription_filters: vec![],
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

/// `logalert replay --rules examples/rules.yaml examples/payloads/*`, in-process.
#[test]
fn the_shipped_examples_replay_to_meaningful_alerts() {
    let rules_path = root("examples/rules.yaml");
    let rules = logalert::rules::load(
        &std::fs::read_to_string(&rules_path).unwrap(),
        "examples/rules.yaml",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut replay = Replay::new(Engine::new(rules, EngineConfig::new("us-east-1")));
    let mut inputs: Vec<_> = std::fs::read_dir(root("examples/payloads"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    let mut out: Vec<Publication> = Vec::new();
    for path in &inputs {
        for inv in read_input(path, "/logalert/replay", None, "123456789012").unwrap() {
            out.extend(replay.invoke(&inv));
        }
    }
    let summary: Vec<(String, Option<String>, u64)> = out
        .iter()
        .map(|p| {
            (
                p.alert.rule.name.clone(),
                p.alert.query_key.clone(),
                p.alert.count,
            )
        })
        .collect();
    let s = |r: &str, k: Option<&str>, n: u64| (r.to_string(), k.map(str::to_string), n);
    assert_eq!(
        summary[..7],
        [
            s("payments-errors", Some("CARD_DECLINED"), 4),
            s("payments-errors", Some("GATEWAY_TIMEOUT"), 1),
            s("lambda-timeouts", None, 1),
            s("auth-brute-force", Some("alice"), 6),
            s("orders-worker-errors", Some("orders-worker/app/7f1e"), 1),
            s("orders-worker-errors", Some("orders-worker/app/9c2a"), 1),
            s("out-of-memory", None, 1),
        ],
        "{summary:#?}"
    );
    // The access log: 5xx per request line.
    let checkout: Vec<(String, u64)> = out[7..]
        .iter()
        .map(|p| (p.alert.query_key.clone().unwrap_or_default(), p.alert.count))
        .collect();
    assert_eq!(checkout.len(), 2, "{checkout:?}");
    assert!(
        checkout[0].0.contains("POST /checkout") && checkout[0].1 == 2,
        "{checkout:?}"
    );
    assert!(
        checkout[1].0.contains("GET /cart") && checkout[1].1 == 1,
        "{checkout:?}"
    );
    assert_eq!(out[7].alert.samples[0].extracted["$status_code"], "502");

    let first = &out[0];
    assert_eq!(
        first.subject,
        "payments CARD_DECLINED: 4 error(s) in /aws/lambda/payments-api"
    );
    assert_eq!(
        first.alert.text.as_deref(),
        Some("charge failed: card_declined (user u-102, request req-0002)")
    );
    assert_eq!(first.alert.channel, "payments-oncall");
    assert_eq!(first.alert.samples.len(), 3, "max_samples from defaults");
    assert_eq!(out[3].subject, "6 failed logins for alice");
}

#[test]
fn json_pattern_with_query_key_and_dotted_template_fields() {
    let e = engine(
        r#"
version: 1
rules:
  - name: r
    filter_pattern: '{ $.log.level = "ERROR" && $.http.status >= 500 }'
    query_key: $.http.route
    alert_subject: "{{ event['http']['route'] }} {{ http.status }} {{ event.nope }}"
"#,
    );
    let store = logalert::state::MemoryStore::default();
    let sink = logalert::engine::CollectingSink::default();
    let p = payload(
        "/app",
        &[
            (
                "1",
                T0,
                r#"{"log":{"level":"ERROR"},"http":{"status":503,"route":"/pay"}}"#,
            ),
            (
                "2",
                T0 + 1,
                r#"{"log":{"level":"ERROR"},"http":{"status":404,"route":"/pay"}}"#,
            ),
            (
                "3",
                T0 + 2,
                r#"{"log":{"level":"INFO"},"http":{"status":500,"route":"/pay"}}"#,
            ),
            (
                "4",
                T0 + 3,
                r#"{"log":{"level":"ERROR"},"http":{"status":500,"route":"/refund"}}"#,
            ),
        ],
    );
    logalert::state::block_on(e.process(&[p], &store, &sink, T0));
    let got: Vec<(Option<String>, u64, String)> = sink
        .take()
        .into_iter()
        .map(|p| (p.alert.query_key, p.alert.count, p.subject))
        .collect();
    assert_eq!(
        got,
        [
            (
                Some("/pay".into()),
                1,
                "/pay 503 <missing: event.nope>".into()
            ),
            (
                Some("/refund".into()),
                1,
                "/refund 500 <missing: event.nope>".into()
            ),
        ]
    );
}

#[test]
fn delimited_extracted_values_reach_samples_query_keys_and_metrics() {
    let e = engine(
        r#"
version: 1
rules:
  - name: r
    filter_pattern: '[ip, user, username, timestamp, request, status_code = 4*, bytes]'
    query_key: $status_code
    metric: {name: Bytes4xx, value: $bytes, unit: Bytes}
"#,
    );
    let store = logalert::state::MemoryStore::default();
    let sink = logalert::engine::CollectingSink::default();
    let line =
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
    let o = logalert::state::block_on(e.process(
        &[payload("/web", &[("1", T0, line)])],
        &store,
        &sink,
        T0,
    ));
    let p = sink.take();
    assert_eq!(p[0].alert.query_key.as_deref(), Some("404"));
    assert_eq!(p[0].alert.samples[0].extracted["$status_code"], "404");
    assert_eq!(p[0].alert.samples[0].extracted["$bytes"], "1534");
    let values: Vec<f64> = o.metrics.rule_metrics.values().flatten().copied().collect();
    assert_eq!(values, [1534.0]);
}

#[test]
fn json_pattern_errors_point_inside_the_yaml_string() {
    let yaml = "version: 1\nrules:\n  - name: a\n    filter_pattern: '{ $.level = }'\n";
    let e = logalert::rules::load(yaml, "r.yaml").unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    let err = &e.0[0];
    assert_eq!(err.line, 4);
    // The pattern starts at column 22 (after the quote); the error is inside it, past `{ $.level =`.
    assert!(err.column > 22 + 8, "{err}");
    assert!(err.message.starts_with("invalid filter pattern: "), "{err}");
}

#[test]
fn examples_rules_file_validates() {
    let text = std::fs::read_to_string(root("examples/rules.yaml")).unwrap();
    let set = logalert::rules::load(&text, "examples/rules.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.summary(), "7 rules (6 enabled: 5 any, 1 frequency)");
}
