//! The handler in-process against a real moto server (run through `scripts/with-moto`):
//! SNS topic → SQS queue to read back exactly what was published, DynamoDB for state, SSM for rules.

mod support;
use std::time::Duration;
use support::{topic_with_queue, unique};

use base64::Engine as _;
use lambda_runtime::{Context, LambdaEvent};
use log_filter::publish::SnsSink;
use log_filter::{Config, Handler, handle, rules_source};
use logalert::alert::AlertMessage;
use logalert::engine::{Engine, EngineConfig};
use logalert_dynamodb::DynamoStateStore;
use serde_json::{Value, json};

/// The tests' event time: a whole minute an hour before now. State items expire on wall time
/// (DynamoDB TTL semantics in logalert-dynamodb), so a fixed date would make these tests fail a
/// week after it was written.
/// Computed once per test process, so every use in a test sees the same instant.
fn t0() -> i64 {
    static T0: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *T0.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis() as i64;
        now - now.rem_euclid(60_000) - 3_600_000
    })
}

const RULES: &str = r#"
version: 1
rules:
  - name: errors
    filter_pattern: ERROR
    severity: critical
    channel: oncall
    realert: 5m
  - name: brute-force
    filter_pattern: login_failed
    type: frequency
    num_events: 3
    timeframe: 1m
    query_key: $.user
    severity: warning
"#;

async fn aws() -> aws_config::SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run through scripts/with-moto or scripts/test"
    );
    aws_config::load_from_env().await
}

struct Stack {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    topic_arn: String,
    table: String,
    aws: aws_config::SdkConfig,
}

async fn create_table(aws: &aws_config::SdkConfig, name: &str) {
    logalert_dynamodb::table::create(&aws_sdk_dynamodb::Client::new(aws), name)
        .await
        .unwrap();
}

async fn stack() -> Stack {
    let aws = aws().await;
    let sns = aws_sdk_sns::Client::new(&aws);
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let (topic_arn, queue_url) = topic_with_queue(&sns, &sqs, "alerts").await;
    let table = unique("state");
    create_table(&aws, &table).await;
    Stack {
        sqs,
        queue_url,
        topic_arn,
        table,
        aws,
    }
}

fn handler(stack: &Stack, topic_arn: &str, table: &str) -> Handler<DynamoStateStore, SnsSink> {
    let rules = logalert::rules::load(RULES, "rules.yaml").unwrap();
    Handler::new(
        Engine::new(
            rules,
            EngineConfig::new("us-east-1").with_ignored_log_groups("/aws/lambda/logalert-*"),
        ),
        DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&stack.aws), table),
        SnsSink::new(aws_sdk_sns::Client::new(&stack.aws), topic_arn)
            .with_backoff(Duration::from_millis(10)),
        "logalert",
    )
}

/// What arrived in the queue: (Subject, attributes name → value, alert).
async fn received(
    stack: &Stack,
    expect: usize,
) -> Vec<(String, Vec<(String, String)>, AlertMessage)> {
    let mut out = Vec::new();
    for _ in 0..20 {
        if out.len() >= expect && expect > 0 {
            break;
        }
        let msgs = stack
            .sqs
            .receive_message()
            .queue_url(&stack.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        for m in &msgs {
            let envelope: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            let mut attrs: Vec<(String, String)> = envelope["MessageAttributes"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    assert_eq!(v["Type"], "String");
                    (k.clone(), v["Value"].as_str().unwrap().to_string())
                })
                .collect();
            attrs.sort();
            let alert: AlertMessage =
                serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
            out.push((
                envelope["Subject"].as_str().unwrap().to_string(),
                attrs,
                alert,
            ));
            stack
                .sqs
                .delete_message()
                .queue_url(&stack.queue_url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        if expect == 0 && msgs.is_empty() {
            break;
        }
    }
    out
}

fn payload_json(group: &str, events: &[(&str, i64, &str)]) -> Vec<u8> {
    let events: Vec<Value> = events
        .iter()
        .map(|(id, ts, m)| json!({"id": id, "timestamp": ts, "message": m}))
        .collect();
    json!({"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":group,"logStream":"stream-1",
           "subscriptionFilters":["logalert"],"logEvents":events})
    .to_string()
    .into_bytes()
}

/// Gzip + standard padded base64, built by hand (never through aws_lambda_events' serialiser).
fn encode(json: &[u8]) -> String {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(json).unwrap();
    base64::engine::general_purpose::STANDARD.encode(enc.finish().unwrap())
}

fn direct(json: &[u8]) -> Value {
    json!({"awslogs": {"data": encode(json)}})
}

fn kinesis(records: &[(&str, String)]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|(seq, data)| json!({"kinesis": {"kinesisSchemaVersion":"1.0","partitionKey":"p","sequenceNumber": seq,
            "data": data, "approximateArrivalTimestamp": 1.7e9}, "eventSource":"aws:kinesis","eventVersion":"1.0",
            "eventID": format!("shardId-000000000000:{seq}"), "eventName":"aws:kinesis:record","awsRegion":"us-east-1",
            "eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/logs"}))
        .collect();
    json!({"Records": records})
}

#[tokio::test]
async fn a_direct_delivery_publishes_the_alert_to_sns() {
    let s = stack().await;
    let h = handler(&s, &s.topic_arn, &s.table);
    let event = direct(&payload_json(
        "/app/api",
        &[
            ("1", t0(), "ERROR db down"),
            ("2", t0() + 5, "INFO ok"),
            ("3", t0() + 9, "ERROR again"),
        ],
    ));
    let response = handle(&h, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert_eq!(response, json!({"events": 3, "alerts": 1}));
    let got = received(&s, 1).await;
    assert_eq!(got.len(), 1);
    let (subject, attrs, alert) = &got[0];
    assert_eq!(subject, "[CRITICAL] errors: 2 matches in /app/api");
    assert_eq!(
        attrs,
        &[
            ("channel".to_string(), "oncall".to_string()),
            ("log_group".to_string(), "/app/api".to_string()),
            ("rule".to_string(), "errors".to_string()),
            ("severity".to_string(), "critical".to_string()),
        ]
    );
    assert_eq!(
        (alert.version, alert.kind.as_str(), alert.count),
        (1, "log-match", 2)
    );
    assert_eq!(
        alert
            .samples
            .iter()
            .map(|s| s.message.as_str())
            .collect::<Vec<_>>(),
        ["ERROR db down", "ERROR again"]
    );
    assert_eq!(alert.samples[0].log_stream, "stream-1");

    // The same delivery again (at-least-once): no second message.
    let event = direct(&payload_json(
        "/app/api",
        &[
            ("1", t0(), "ERROR db down"),
            ("2", t0() + 5, "INFO ok"),
            ("3", t0() + 9, "ERROR again"),
        ],
    ));
    let response = handle(&h, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert_eq!(response, json!({"events": 3, "alerts": 0}));
    assert!(received(&s, 0).await.is_empty());
}

#[tokio::test]
async fn frequency_state_lives_in_dynamodb_across_invocations() {
    let s = stack().await;
    let h = handler(&s, &s.topic_arn, &s.table);
    let line = r#"{"event":"login_failed","user":"alice"}"#;
    for (i, id) in ["a", "b"].iter().enumerate() {
        let ev = direct(&payload_json(
            "/auth",
            &[(id, t0() + i as i64 * 1000, line)],
        ));
        handle(&h, LambdaEvent::new(ev, Context::default()))
            .await
            .unwrap();
    }
    assert!(received(&s, 0).await.is_empty(), "2 < num_events");
    // A second handler (another container) sees the same window.
    let h2 = handler(&s, &s.topic_arn, &s.table);
    let ev = direct(&payload_json("/auth", &[("c", t0() + 2000, line)]));
    handle(&h2, LambdaEvent::new(ev, Context::default()))
        .await
        .unwrap();
    let got = received(&s, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].2.count, got[0].2.query_key.as_deref()),
        (3, Some("alice"))
    );
    assert_eq!(
        got[0].0,
        "[WARNING] brute-force [alice]: 3 matches in /auth"
    );
}

#[tokio::test]
async fn kinesis_batches_report_undecodable_records_as_item_failures() {
    let s = stack().await;
    let h = handler(&s, &s.topic_arn, &s.table);
    let good = encode(&payload_json("/svc", &[("k1", t0(), "ERROR from kinesis")]));
    let truncated = {
        let full = base64::engine::general_purpose::STANDARD
            .decode(encode(&payload_json("/svc", &[("k2", t0(), "x")])))
            .unwrap();
        base64::engine::general_purpose::STANDARD.encode(&full[..full.len() / 2])
    };
    let control = encode(br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}"#);
    let ev = kinesis(&[
        ("100", good),
        ("101", truncated),
        ("102", "%%%".into()),
        ("103", control),
    ]);
    let inv = h.process(&ev, t0()).await;
    assert_eq!(
        inv.response.unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "101"}, {"itemIdentifier": "102"}]})
    );
    assert_eq!(inv.metrics.decode_failures, 2);
    let got = received(&s, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].2.samples[0].message, "ERROR from kinesis");
}

#[tokio::test]
async fn an_undecodable_direct_payload_fails_the_invocation() {
    let s = stack().await;
    let h = handler(&s, &s.topic_arn, &s.table);
    let ev =
        json!({"awslogs": {"data": base64::engine::general_purpose::STANDARD.encode(b"not gzip")}});
    let err = handle(&h, LambdaEvent::new(ev.clone(), Context::default()))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "undecodable CloudWatch Logs payload: payload data is not gzip (it does not start with the gzip magic bytes 1f 8b)"
    );
    let inv = h.process(&ev, t0()).await;
    assert_eq!(inv.metrics.decode_failures, 1);
    let lines = inv.metrics.to_emf_lines("logalert", t0());
    let v: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(v["DecodeFailures"], 1.0);
    let err = handle(
        &h,
        LambdaEvent::new(json!({"hello": "world"}), Context::default()),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().starts_with("unrecognised invocation event"),
        "{err}"
    );
}

#[tokio::test]
async fn publish_failures_fail_the_invocation_and_the_retry_alerts() {
    let s = stack().await;
    let missing_topic = "arn:aws:sns:us-east-1:123456789012:does-not-exist";
    let broken = handler(&s, missing_topic, &s.table);
    let json = payload_json("/app", &[("p1", t0(), "ERROR lost?")]);
    let err = handle(&broken, LambdaEvent::new(direct(&json), Context::default()))
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "1 alert(s) could not be published: rule errors: SNS Publish failed after 3 attempts"
        ),
        "{err}"
    );
    let inv = broken
        .process(&kinesis(&[("200", encode(&json))]), t0())
        .await;
    assert_eq!(
        inv.response.unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "200"}]})
    );
    assert_eq!(inv.metrics.publish_failures, 1);
    // Lambda's retry reaches a working topic: the alert goes out once.
    let h = handler(&s, &s.topic_arn, &s.table);
    handle(&h, LambdaEvent::new(direct(&json), Context::default()))
        .await
        .unwrap();
    handle(&h, LambdaEvent::new(direct(&json), Context::default()))
        .await
        .unwrap();
    let got = received(&s, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].2.samples[0].message, "ERROR lost?");
}

#[tokio::test]
async fn a_missing_state_table_fails_open() {
    let s = stack().await;
    let h = handler(&s, &s.topic_arn, "no-such-table");
    let inv = h
        .process(
            &direct(&payload_json("/app", &[("f1", t0(), "ERROR x")])),
            t0(),
        )
        .await;
    assert!(inv.response.is_ok());
    assert!(inv.metrics.state_failures >= 2, "{:?}", inv.metrics);
    assert_eq!(received(&s, 1).await.len(), 1);
}

#[tokio::test]
async fn own_log_groups_are_skipped() {
    let s = stack().await;
    let h = handler(&s, &s.topic_arn, &s.table);
    let ev = direct(&payload_json(
        "/aws/lambda/logalert-log-filter",
        &[("o1", t0(), "ERROR about an ERROR")],
    ));
    let inv = h.process(&ev, t0()).await;
    assert_eq!(inv.response.unwrap(), json!({"events": 1, "alerts": 0}));
    assert_eq!(inv.metrics.events_processed, 0);
    assert!(received(&s, 0).await.is_empty());
}

#[tokio::test]
async fn rules_come_from_ssm_when_configured() {
    let aws = aws().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    // Bundled.
    let bundled = rules_source::load(&ssm, None).await.unwrap();
    assert_eq!(bundled.origin, "bundled rules.yaml");
    assert!(!bundled.rules.rules.is_empty());
    // Override.
    let name = format!("/{}", unique("logalert/rules"));
    ssm.put_parameter()
        .name(&name)
        .value(RULES)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let loaded = rules_source::load(&ssm, Some(&name)).await.unwrap();
    assert_eq!(loaded.origin, format!("ssm:{name}"));
    assert_eq!(
        loaded
            .rules
            .rules
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["errors", "brute-force"]
    );
    // Invalid rules fail the cold start with every error.
    let bad = format!("/{}", unique("logalert/bad"));
    ssm.put_parameter()
        .name(&bad)
        .value("version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    severity: loud\n    realert: 5\n")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let err = rules_source::load(&ssm, Some(&bad))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "invalid rules in ssm:{bad}:\nssm:{bad}:5:15: unknown severity `loud` (expected critical, error, warning or info)\nssm:{bad}:6:14: `realert`: duration `5` has no unit: write `5s`, `5m`, `5h` or `5d`"
        )
    );
    // A parameter that does not exist is an error, not a silent fallback.
    let err = rules_source::load(&ssm, Some("/logalert/none"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("cannot read rules from SSM parameter \"/logalert/none\""),
        "{err}"
    );
}

#[test]
fn config_comes_from_the_environment() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    let c = Config::from_lookup(env(&[
        ("ALERTS_TOPIC_ARN", "arn:t"),
        ("STATE_TABLE", "tbl"),
        ("AWS_REGION", "eu-west-1"),
    ]))
    .unwrap();
    assert_eq!(c.metrics_namespace, "logalert");
    assert_eq!(c.rules_ssm_parameter, None);
    assert_eq!(c.region, "eu-west-1");
    assert_eq!(
        Config::from_lookup(env(&[("STATE_TABLE", "tbl")])).unwrap_err(),
        "environment variable ALERTS_TOPIC_ARN is required"
    );
    let c = Config::from_lookup(env(&[
        ("ALERTS_TOPIC_ARN", "a"),
        ("STATE_TABLE", "t"),
        ("RULES_SSM_PARAMETER", "/p"),
        ("IGNORE_LOG_GROUPS", "/aws/lambda/x,/aws/lambda/y"),
        ("METRICS_NAMESPACE", "ns"),
    ]))
    .unwrap();
    assert_eq!(
        (
            c.rules_ssm_parameter.as_deref(),
            c.metrics_namespace.as_str()
        ),
        (Some("/p"), "ns")
    );
}

// ---------------------------------------------------------------- engine v2 behaviours

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The EventBridge scheduled event template.yaml sends every minute.
fn tick_event() -> Value {
    json!({"version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-12-01T09:00:00Z",
        "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:123456789012:rule/logalert-tick"],
        "detail": {}})
}

#[tokio::test]
async fn a_redelivery_after_1500_other_matches_is_not_counted_again() {
    let s = stack().await;
    let h = handler(&s, &s.topic_arn, &s.table);
    let t = wall_ms();
    let first = payload_json("/app/api", &[("first", t, "ERROR the first one")]);
    let inv = h.process(&direct(&first), t).await;
    assert_eq!(inv.response.unwrap()["alerts"], 1);
    // 1,500 more matches of the same rule and key, in 15 payloads: all suppressed (realert 5m).
    let mut matches = 0;
    for p in 0..15 {
        let events: Vec<(String, i64, &str)> = (0..100)
            .map(|i| (format!("e{p}-{i}"), t + 1 + p * 100 + i, "ERROR again"))
            .collect();
        let refs: Vec<(&str, i64, &str)> = events
            .iter()
            .map(|(a, b, c)| (a.as_str(), *b, *c))
            .collect();
        let inv = h
            .process(&direct(&payload_json("/app/api", &refs)), t + 2_000)
            .await;
        matches += inv.metrics.per_rule.get("errors").map_or(0, |m| m.0);
        assert!(inv.response.is_ok());
    }
    assert_eq!(
        matches, 1_500,
        "each match counted once in the Matches metric"
    );
    // The first payload again, from another container: recognised, nothing counted or published.
    let h2 = handler(&s, &s.topic_arn, &s.table);
    let inv = h2.process(&direct(&first), t + 3_000).await;
    let outcome = inv.outcome.unwrap();
    assert_eq!(outcome.duplicate_payloads, 1);
    assert!(
        inv.metrics.per_rule.get("errors").is_none_or(|m| m.0 == 0),
        "{:?}",
        inv.metrics.per_rule
    );
    let got = received(&s, 1).await;
    assert_eq!(got.len(), 1, "only the first alert so far");
    // When the window has closed, the tick's summary holds exactly the 1,500.
    let inv = h.process(&tick_event(), t + 5 * 60_000 + 5_000).await;
    assert_eq!(
        inv.response.as_ref().unwrap()["published"],
        1,
        "{:?}",
        inv.response
    );
    let got = received(&s, 1).await;
    assert_eq!(got.len(), 1);
    let summary = &got[0].2;
    assert_eq!(
        (summary.kind.as_str(), summary.count, summary.suppressed),
        ("summary", 0, 1_500)
    );
}

/// A sink that never answers: the function dies (times out) inside `publish`, after the commit.
struct Hang;
impl logalert::engine::AlertSink for Hang {
    async fn publish(&self, _: &[logalert::engine::Publication]) -> Vec<Result<(), String>> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_crash_after_the_commit_is_published_later_with_the_same_alert_id() {
    let s = stack().await;
    let t = wall_ms();
    let payload = direct(&payload_json("/app/web", &[("c1", t, "ERROR crash me")]));
    let dying = dying_handler(&s);
    let crashed =
        tokio::time::timeout(Duration::from_millis(1_500), dying.process(&payload, t)).await;
    assert!(crashed.is_err(), "the invocation died inside publish");
    assert!(received(&s, 0).await.is_empty(), "nothing reached SNS");
    // The next tick (another container) publishes what the commit left pending…
    let h = handler(&s, &s.topic_arn, &s.table);
    let inv = h.process(&tick_event(), t + 60_000).await;
    assert_eq!(inv.response.unwrap()["published"], 1);
    let got = received(&s, 1).await;
    assert_eq!(got.len(), 1);
    let alert = &got[0].2;
    assert_eq!((alert.kind.as_str(), alert.count), ("log-match", 1));
    assert!(!alert.alert_id.is_empty() && !alert.incident_id.is_empty());
    // …and Lambda's retry of the crashed invocation publishes nothing new.
    let inv = h.process(&payload, t + 61_000).await;
    assert_eq!(inv.outcome.unwrap().duplicate_payloads, 1);
    assert!(received(&s, 0).await.is_empty());
}

fn dying_handler(s: &Stack) -> Handler<DynamoStateStore, Hang> {
    Handler::new(
        Engine::new(
            logalert::rules::load(RULES, "rules.yaml").unwrap(),
            EngineConfig::new("us-east-1"),
        ),
        DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&s.aws), &s.table),
        Hang,
        "logalert",
    )
}

#[tokio::test]
async fn a_crash_after_the_commit_is_published_by_the_retry_once() {
    let s = stack().await;
    let t = wall_ms();
    let payload = direct(&payload_json("/app/db", &[("c2", t, "ERROR crash again")]));
    let crashed = tokio::time::timeout(
        Duration::from_millis(1_500),
        dying_handler(&s).process(&payload, t),
    )
    .await;
    assert!(crashed.is_err());
    // Lambda retries the payload: a duplicate, whose key's pending alert is published now.
    let h = handler(&s, &s.topic_arn, &s.table);
    let inv = h.process(&payload, t + 1_000).await;
    assert!(inv.response.is_ok());
    assert_eq!(inv.outcome.as_ref().unwrap().duplicate_payloads, 1);
    let got = received(&s, 1).await;
    assert_eq!(got.len(), 1, "the retry published the pending alert");
    assert_eq!((got[0].2.kind.as_str(), got[0].2.count), ("log-match", 1));
    // It was marked sent: neither a tick nor another retry publishes it again.
    let inv = h.process(&tick_event(), t + 2_000).await;
    assert_eq!(inv.response.unwrap()["published"], 0);
    assert!(h.process(&payload, t + 3_000).await.response.is_ok());
    assert!(received(&s, 0).await.is_empty());
}

#[tokio::test]
async fn the_tick_reports_a_realert_window_after_silence() {
    let s = stack().await;
    let h = handler(&s, &s.topic_arn, &s.table);
    let t = wall_ms();
    // ERROR at minutes 0, 1, 2 and 3, realert 5m: one alert, three suppressed.
    for m in 0..4 {
        let ev = direct(&payload_json(
            "/app/api",
            &[(&format!("m{m}"), t + m * 60_000, "ERROR periodic")],
        ));
        assert!(h.process(&ev, t + m * 60_000).await.response.is_ok());
    }
    let got = received(&s, 1).await;
    assert_eq!(got.len(), 1);
    let alert = got[0].2.clone();
    assert_eq!((alert.count, alert.suppressed), (1, 0));
    // Ticks before the window closes publish nothing; an idle tick is cheap and silent.
    for m in 1..5 {
        let inv = h.process(&tick_event(), t + m * 60_000 + 1).await;
        assert_eq!(inv.response.unwrap()["published"], 0, "minute {m}");
    }
    assert!(received(&s, 0).await.is_empty());
    // The window (5m after the alert) closes: the summary of exactly the three suppressed matches.
    let inv = h.process(&tick_event(), t + 5 * 60_000 + 1_000).await;
    assert_eq!(inv.response.unwrap()["published"], 1);
    let got = received(&s, 1).await;
    assert_eq!(got.len(), 1);
    let summary = &got[0].2;
    assert_eq!(
        (summary.kind.as_str(), summary.count, summary.suppressed),
        ("summary", 0, 3)
    );
    assert_eq!(summary.incident_id, alert.incident_id);
    assert_ne!(summary.alert_id, alert.alert_id);
    assert_eq!(
        summary
            .samples
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>(),
        ["m1", "m2", "m3"]
    );
    // Later ticks: nothing more (the summary was marked sent).
    let inv = h.process(&tick_event(), t + 7 * 60_000).await;
    assert_eq!(inv.response.unwrap()["published"], 0);
}

#[tokio::test]
async fn with_dynamodb_down_alerts_go_out_and_the_cache_keeps_suppression() {
    let s = stack().await;
    // A table that does not exist: every DynamoDB call fails (ResourceNotFoundException).
    let h = handler(&s, &s.topic_arn, &unique("no-such-table"));
    let t = wall_ms();
    let first = h
        .process(
            &direct(&payload_json("/app/api", &[("d1", t, "ERROR no state")])),
            t,
        )
        .await;
    assert_eq!(
        first.response.as_ref().unwrap()["alerts"],
        1,
        "fail open: the alert goes out"
    );
    assert!(first.metrics.state_failures >= 1, "{:?}", first.metrics);
    assert_eq!(received(&s, 1).await.len(), 1);
    let lines = first.metrics.to_emf_lines("logalert", t);
    let emf: Value = serde_json::from_str(&lines[0]).unwrap();
    assert!(emf["StateFailures"].as_f64().unwrap() >= 1.0);
    // More matches of the same rule and key in this container: suppressed from the cache, not one
    // post per invocation.
    for i in 0..3 {
        let inv = h
            .process(
                &direct(&payload_json(
                    "/app/api",
                    &[(&format!("d2-{i}"), t + 10_000 + i, "ERROR still")],
                )),
                t + 10_000 + i,
            )
            .await;
        assert!(inv.response.is_ok());
        assert!(inv.metrics.state_failures >= 1);
    }
    assert!(
        received(&s, 0).await.is_empty(),
        "suppressed during the outage"
    );
    // This container's tick finds the closed window through the cache's due times and fails open
    // like an invocation: the summary of exactly the three matches suppressed during the outage.
    let inv = h.process(&tick_event(), t + 5 * 60_000 + 1_000).await;
    assert_eq!(
        inv.response.as_ref().unwrap()["published"],
        1,
        "{:?}",
        inv.response
    );
    assert!(inv.metrics.state_failures >= 1);
    let got = received(&s, 1).await;
    assert_eq!(got.len(), 1);
    let summary = &got[0].2;
    assert_eq!(
        (summary.kind.as_str(), summary.count, summary.suppressed),
        ("summary", 0, 3)
    );
    // The cache learnt that the window closed: the next tick has nothing to publish again.
    let inv = h.process(&tick_event(), t + 6 * 60_000).await;
    assert_eq!(inv.response.as_ref().unwrap()["published"], 0);
    assert!(received(&s, 0).await.is_empty());
    // A fresh container knows nothing: its first match alerts (the cost of an outage).
    let cold = handler(&s, &s.topic_arn, &unique("no-such-table"));
    let inv = cold
        .process(
            &direct(&payload_json(
                "/app/api",
                &[("d3", t + 20_000, "ERROR cold")],
            )),
            t + 20_000,
        )
        .await;
    assert_eq!(inv.response.unwrap()["alerts"], 1);
}

#[tokio::test]
async fn ticks_and_other_eventbridge_events() {
    let s = stack().await;
    let h = handler(&s, &s.topic_arn, &s.table);
    // An idle tick: nothing due, nothing published, no failure.
    let inv = h.process(&tick_event(), wall_ms()).await;
    assert_eq!(inv.response.as_ref().unwrap()["published"], 0);
    assert_eq!(inv.metrics.state_failures, 0);
    assert_eq!(inv.metrics.decode_failures, 0);
    // Through the Lambda entry point too.
    let out = handle(&h, LambdaEvent::new(tick_event(), Context::default()))
        .await
        .unwrap();
    assert_eq!(out["published"], 0);
    // Some other EventBridge event is refused by name (it would otherwise be retried and
    // dead-lettered as an undecodable payload without saying why).
    let other = json!({"source": "aws.health", "detail-type": "AWS Health Event", "detail": {}});
    let err = handle(&h, LambdaEvent::new(other, Context::default()))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"aws.health\"") && err.contains("Scheduled Event"),
        "{err}"
    );
}

#[tokio::test]
async fn kinesis_records_behind_an_unpublished_alert_are_retried_and_the_retry_reuses_its_id() {
    let s = stack().await;
    let t = wall_ms();
    let missing_topic = "arn:aws:sns:us-east-1:123456789012:does-not-exist";
    let broken = handler(&s, missing_topic, &s.table);
    let ok = encode(&payload_json("/k/ok", &[("k-ok", t, "INFO fine")]));
    let bad = encode(&payload_json(
        "/k/err",
        &[("k-err", t, "ERROR behind a refused publish")],
    ));
    let inv = broken
        .process(&kinesis(&[("300", ok.clone()), ("301", bad.clone())]), t)
        .await;
    assert_eq!(
        inv.response.unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "301"}]})
    );
    assert_eq!(inv.outcome.as_ref().unwrap().pending, 1);
    // Lambda retries from record 301 on; SNS works again.
    let h = handler(&s, &s.topic_arn, &s.table);
    let inv = h.process(&kinesis(&[("301", bad)]), t + 1_000).await;
    assert_eq!(inv.response.unwrap(), json!({"batchItemFailures": []}));
    let got = received(&s, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].2.samples[0].id, "k-err");
    // The retry did not count the match again.
    assert!(inv.metrics.per_rule.get("errors").is_none_or(|m| m.0 == 0));
}

/// `REDACT_PATTERNS` (the template passes the notifier's patterns to log-filter too) redacts what
/// log-filter publishes, so every SNS subscriber gets the same redaction; an invalid pattern fails
/// the cold start naming the variable and the pattern's place.
#[tokio::test]
async fn redact_patterns_from_the_environment_apply_before_publishing() {
    let s = stack().await;
    let env = |redact: &'static str| {
        move |k: &str| match k {
            "ALERTS_TOPIC_ARN" => Some("arn:t".to_string()),
            "STATE_TABLE" => Some("tbl".to_string()),
            "REDACT_PATTERNS" => Some(redact.to_string()),
            _ => None,
        }
    };
    let config = Config::from_lookup(env(r#"["employee=(?P<secret>E\\d{6})"]"#)).unwrap();
    let rules = logalert::rules::load(RULES, "rules.yaml").unwrap();
    let h = Handler::new(
        Engine::new(rules, config.engine_config().unwrap()),
        DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&s.aws), &s.table),
        SnsSink::new(aws_sdk_sns::Client::new(&s.aws), &s.topic_arn),
        "logalert",
    );
    let event = direct(&payload_json(
        "/app/api",
        &[(
            "1",
            t0(),
            "ERROR payroll failed employee=E123456 password=hunter2",
        )],
    ));
    handle(&h, LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    let got = received(&s, 1).await;
    assert_eq!(got.len(), 1);
    let message = &got[0].2.samples[0].message;
    assert!(
        !message.contains("E123456"),
        "custom pattern not applied: {message}"
    );
    assert!(
        !message.contains("hunter2"),
        "default rules not applied: {message}"
    );
    assert!(
        message.contains("ERROR payroll failed employee="),
        "{message}"
    );

    let err = Config::from_lookup(env(r#"["ok", "(unclosed"]"#))
        .unwrap()
        .engine_config()
        .unwrap_err();
    assert!(err.starts_with("REDACT_PATTERNS[1]"), "{err}");
    // Unset or blank: the default rules.
    let blank = Config::from_lookup(env("  ")).unwrap();
    assert_eq!(blank.redact_patterns, None);
    assert!(blank.engine_config().is_ok());
}
