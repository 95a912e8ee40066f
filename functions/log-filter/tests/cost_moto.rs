//! What log-filter asks of DynamoDB, per kind of invocation, against moto: requests per operation
//! and capacity units (estimated from item sizes by `logalert_dynamodb::usage`; moto's own
//! `ReturnConsumedCapacity` answers are printed beside them, and are not faithful — it reports
//! nothing for TransactWriteItems and fixed numbers for reads).
//!
//! The assertions are the cost contract the docs state (an idle tick reads the due index and
//! nothing else; a redelivery is one read; one new match is one read and two transactions); the
//! printed table is what BENCHMARKS.md and docs/log-filter.md quote (`-- --nocapture`).

use std::time::Duration;

use log_filter::Handler;
use log_filter::publish::SnsSink;
use logalert::engine::{Engine, EngineConfig};
use logalert_dynamodb::{DynamoStateStore, Usage};
use serde_json::{Value, json};

const RULES: &str = r#"
version: 1
rules:
  - name: errors
    filter_pattern: '{ $.level = "ERROR" }'
    query_key: $.svc
    realert: 5m
  - name: slow
    filter_pattern: '{ $.ms > 1000 }'
    type: frequency
    num_events: 50
    timeframe: 5m
"#;

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn payload(stream: &str, events: &[(String, i64, String)]) -> Value {
    use base64::Engine as _;
    use std::io::Write as _;
    let decoded = json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/cost/api",
        "logStream": stream, "subscriptionFilters": ["logalert"],
        "logEvents": events.iter().map(|(id, ts, m)| json!({"id": id, "timestamp": ts, "message": m})).collect::<Vec<_>>()});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(decoded.to_string().as_bytes()).unwrap();
    json!({"awslogs": {"data": base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap())}})
}

fn events(prefix: &str, n: usize, t: i64, svcs: &[&str], ms: u32) -> Vec<(String, i64, String)> {
    (0..n)
        .map(|i| {
            let svc = svcs[i % svcs.len()];
            (
                format!("{prefix}-{i}"),
                t + i as i64,
                json!({"level": "ERROR", "svc": svc, "ms": ms, "msg": "upstream timed out after retries"})
                    .to_string(),
            )
        })
        .collect()
}

fn tick() -> Value {
    json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
}

fn row(name: &str, u: &Usage) -> String {
    let requests: Vec<String> = u
        .requests
        .iter()
        .map(|(op, n)| format!("{n} {op}"))
        .collect();
    format!(
        "| {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
        requests.join(", "),
        u.read_units,
        u.write_units,
        u.index_write_units,
        u.reported_units
    )
}

#[tokio::test]
async fn dynamodb_cost_per_invocation_and_per_idle_tick() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run through scripts/with-moto or scripts/test"
    );
    let aws = aws_config::load_from_env().await;
    let ddb = aws_sdk_dynamodb::Client::new(&aws);
    let sns = aws_sdk_sns::Client::new(&aws);
    let table = format!("cost-{}-{}", std::process::id(), wall_ms());
    logalert_dynamodb::table::create(&ddb, &table)
        .await
        .unwrap();
    let topic = sns
        .create_topic()
        .name(format!("cost-{}", std::process::id()))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let h = Handler::new(
        Engine::new(
            logalert::rules::load(RULES, "rules.yaml").unwrap(),
            EngineConfig::new("us-east-1"),
        ),
        DynamoStateStore::new(ddb.clone(), &table),
        SnsSink::new(sns, topic).with_backoff(Duration::from_millis(10)),
        "logalert",
    );
    let store = || h.store.inner();
    let t = wall_ms();
    let mut rows = Vec::new();
    let mut measure = |name: &str, u: Usage| {
        rows.push(row(name, &u));
        u
    };

    let u = {
        store().take_usage();
        assert!(h.process(&tick(), t).await.response.is_ok());
        measure("idle tick (empty table)", store().take_usage())
    };
    assert_eq!(u.requests.keys().copied().collect::<Vec<_>>(), ["Query"]);
    assert_eq!(
        u.requests["Query"],
        u64::from(logalert_dynamodb::item::DUE_SHARDS)
    );
    assert_eq!(u.write_units, 0.0);
    assert_eq!(
        u.read_units,
        0.5 * f64::from(logalert_dynamodb::item::DUE_SHARDS)
    );

    let first = payload("s1", &events("a", 1, t, &["api"], 10));
    let u = {
        let inv = h.process(&first, t).await;
        assert_eq!(inv.response.unwrap()["alerts"], 1);
        measure("1 event, 1 new key, alert published", store().take_usage())
    };
    assert_eq!(u.requests["BatchGetItem"], 1);
    assert_eq!(
        u.requests["TransactWriteItems"], 2,
        "commit, then mark sent"
    );

    let u = {
        let inv = h.process(&first, t + 1_000).await;
        assert_eq!(inv.outcome.unwrap().duplicate_payloads, 1);
        measure("the same payload redelivered", store().take_usage())
    };
    assert_eq!(
        u.requests.get("TransactWriteItems"),
        None,
        "a redelivery writes nothing"
    );
    assert_eq!(u.total_requests(), 1);

    let u = {
        let inv = h
            .process(
                &payload("s1", &events("b", 100, t + 2_000, &["api"], 10)),
                t + 2_000,
            )
            .await;
        assert_eq!(inv.response.unwrap()["alerts"], 0);
        measure("100 events, 1 key, suppressed", store().take_usage())
    };
    assert_eq!(u.requests["TransactWriteItems"], 1);

    let u = {
        let inv = h
            .process(
                &payload(
                    "s2",
                    &events(
                        "c",
                        100,
                        t + 3_000,
                        &["api", "db", "web", "auth", "queue"],
                        2_000,
                    ),
                ),
                t + 3_000,
            )
            .await;
        assert!(inv.response.is_ok());
        measure(
            "100 events, 5 keys + a frequency rule, 4 alerts",
            store().take_usage(),
        )
    };
    assert_eq!(u.requests["BatchGetItem"], 1);

    let u = {
        let inv = h.process(&tick(), t + 4_000).await;
        assert_eq!(inv.response.unwrap()["published"], 0);
        measure(
            "tick, keys in the index, none due yet",
            store().take_usage(),
        )
    };
    assert_eq!(u.write_units, 0.0);

    let u = {
        let inv = h.process(&tick(), t + 5 * 60_000 + 10_000).await;
        assert!(inv.response.unwrap()["published"].as_u64().unwrap() >= 1);
        measure(
            "tick closing windows (summaries published)",
            store().take_usage(),
        )
    };
    assert!(u.requests["BatchGetItem"] >= 1);

    let table_rows = rows.join("\n");
    println!(
        "| invocation | DynamoDB requests | read units (est.) | write units (est.) | index write units (est.) | moto reported |\n|---|---|---|---|---|---|\n{table_rows}"
    );
}
