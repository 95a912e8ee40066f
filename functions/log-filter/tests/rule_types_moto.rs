//! Every rule type through the real handler (`log_filter::Handler::process`), with its state in
//! DynamoDB and its alerts on SNS (moto, through `scripts/with-moto`; an SQS queue subscribed to
//! the topic reads back exactly what was published). One realistic scenario per type, ticks
//! included where the type needs them (flatline, spike down to zero, aggregation windows,
//! realert summaries, `resolve_after`). Each test asserts:
//!
//! * the publications, in order: kind, count, suppressed, query key, the one-line observation,
//!   and the incident ids they share (or not);
//! * the accounting invariant: the sum of `count + suppressed` over the publications of a
//!   (rule, key) equals the events the type represents (for the types that list events: the
//!   distinct events that met the condition — blacklisted, unlisted, changed, new, over the
//!   limit; for window types: the events of the windows that alerted);
//! * a redelivered payload changes nothing: no publication, and every DynamoDB item (body and
//!   version) as it was.
//!
//! Event time is a whole 10 minutes over an hour before now (windows aligned to the epoch start
//! on it; state expires on wall time, a week after its latest decision). The engine clock passed
//! with a payload is its newest event's time: delivery in real time.

mod support;
use std::collections::BTreeMap;
use std::time::Duration;
use support::{topic_with_queue, unique};

use base64::Engine as _;
use log_filter::publish::SnsSink;
use log_filter::{Handler, Invocation};
use logalert::alert::AlertMessage;
use logalert::engine::{Engine, EngineConfig};
use logalert_dynamodb::DynamoStateStore;
use serde_json::{Value, json};

const MIN: i64 = 60_000;

/// The scenarios' time zero (see the module docs), the same for every test of the process.
fn t0() -> i64 {
    static T0: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *T0.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis() as i64;
        now - now.rem_euclid(10 * MIN) - 70 * MIN
    })
}

/// One rule's world: a state table, a topic with a queue behind it, and the handler.
struct World {
    handler: Handler<DynamoStateStore, SnsSink>,
    ddb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    table: String,
    queue_url: String,
    /// Every payload sent, by name (for redeliveries).
    sent: std::sync::Mutex<BTreeMap<String, (Value, i64)>>,
    /// Event ids handed out so far.
    next_id: std::sync::atomic::AtomicU64,
}

impl World {
    async fn new(rules: &str) -> World {
        assert!(
            std::env::var("AWS_ENDPOINT_URL").is_ok(),
            "AWS_ENDPOINT_URL is not set: run through scripts/with-moto or scripts/test"
        );
        let aws = aws_config::load_from_env().await;
        let ddb = aws_sdk_dynamodb::Client::new(&aws);
        let sns = aws_sdk_sns::Client::new(&aws);
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let table = unique("types");
        logalert_dynamodb::table::create(&ddb, &table)
            .await
            .unwrap();
        let (topic_arn, queue_url) = topic_with_queue(&sns, &sqs, "types").await;
        let rules = logalert::rules::load(rules, "rules.yaml").unwrap();
        let handler = Handler::new(
            Engine::new(rules, EngineConfig::new("us-east-1")),
            DynamoStateStore::new(ddb.clone(), &table),
            SnsSink::new(sns, topic_arn).with_backoff(Duration::from_millis(10)),
            "logalert",
        );
        World {
            handler,
            ddb,
            sqs,
            table,
            queue_url,
            sent: Default::default(),
            next_id: Default::default(),
        }
    }

    /// Deliver one payload of `events` (offset from [`t0`] in ms, JSON message) under `name`, at
    /// the time of its newest event. Each event gets a fresh CloudWatch-style id.
    async fn send(&self, name: &str, events: &[(i64, Value)]) -> Invocation {
        let log_events: Vec<Value> = events
            .iter()
            .map(|(dt, msg)| {
                let n = self
                    .next_id
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                json!({"id": format!("{:056}", n), "timestamp": t0() + dt, "message": msg.to_string()})
            })
            .collect();
        let decoded = json!({"messageType": "DATA_MESSAGE", "owner": "123456789012",
            "logGroup": "/app/shop", "logStream": "web-1", "subscriptionFilters": ["logalert"],
            "logEvents": log_events});
        let payload = json!({"awslogs": {"data": gzip_base64(decoded.to_string().as_bytes())}});
        let now = t0() + events.iter().map(|e| e.0).max().unwrap_or(0);
        self.sent
            .lock()
            .unwrap()
            .insert(name.to_string(), (payload.clone(), now));
        let inv = self.handler.process(&payload, now).await;
        assert!(inv.response.is_ok(), "{name}: {:?}", inv.response);
        inv
    }

    /// The scheduled tick at `t0() + dt`; returns how many publications it sent.
    async fn tick(&self, dt: i64) -> u64 {
        let event = json!({"version": "0", "id": "tick", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012", "time": "2026-12-01T09:00:00Z",
            "region": "us-east-1", "resources": [], "detail": {}});
        let inv = self.handler.process(&event, t0() + dt).await;
        let response = inv.response.expect("a tick never fails");
        assert_eq!(response["unpublished"], 0, "{response}");
        response["published"].as_u64().unwrap()
    }

    /// What reached the topic since the last call, in publication order (`decided_at`, then the
    /// sequence number in the alert id's record). Waits for `expect` messages (0: one short poll).
    async fn published(&self, expect: usize) -> Vec<AlertMessage> {
        let mut out: Vec<AlertMessage> = Vec::new();
        for _ in 0..20 {
            if expect > 0 && out.len() >= expect {
                break;
            }
            let msgs = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap()
                .messages
                .unwrap_or_default();
            for m in &msgs {
                let envelope: Value = serde_json::from_str(m.body().unwrap()).unwrap();
                out.push(serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
            if expect == 0 && msgs.is_empty() {
                break;
            }
        }
        assert_eq!(
            out.len(),
            expect,
            "publications: {:#?}",
            out.iter().map(brief).collect::<Vec<_>>()
        );
        out.sort_by(|a, b| {
            (a.decided_at, &a.first_timestamp).cmp(&(b.decided_at, &b.first_timestamp))
        });
        out
    }

    /// Every item of the state table: key → (version, body).
    async fn items(&self) -> BTreeMap<String, (String, String)> {
        let scan = self
            .ddb
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        scan.items()
            .iter()
            .map(|item| {
                let s = |k: &str| match item.get(k) {
                    Some(aws_sdk_dynamodb::types::AttributeValue::S(s)) => s.clone(),
                    Some(aws_sdk_dynamodb::types::AttributeValue::N(n)) => n.clone(),
                    Some(other) => format!("{other:?}"),
                    None => String::new(),
                };
                (s("pk"), (s("version"), s("body")))
            })
            .collect()
    }

    /// Deliver the payload sent as `name` again (Lambda's retry, another container's
    /// redelivery), later: it is recognised, nothing is published and no item changes.
    async fn redeliver_changes_nothing(&self, name: &str) {
        let before = self.items().await;
        assert!(!before.is_empty());
        let (payload, now) = self.sent.lock().unwrap()[name].clone();
        let inv = self.handler.process(&payload, now + 1_000).await;
        assert!(inv.response.is_ok(), "{:?}", inv.response);
        let outcome = inv.outcome.expect("payloads were processed");
        assert_eq!(outcome.duplicate_payloads, 1, "{name} is recognised");
        assert_eq!(outcome.published, 0);
        assert_eq!(
            self.items().await,
            before,
            "{name}'s redelivery changed state"
        );
        self.published(0).await;
    }
}

fn gzip_base64(json: &[u8]) -> String {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(json).unwrap();
    base64::engine::general_purpose::STANDARD.encode(enc.finish().unwrap())
}

/// (kind, count, suppressed, query key, observation) — what a person is told.
fn brief(a: &AlertMessage) -> (String, u64, u64, Option<String>, String) {
    (
        a.kind.clone(),
        a.count,
        a.suppressed,
        a.query_key.clone(),
        a.observation
            .as_ref()
            .map(|o| o.text.clone())
            .unwrap_or_default(),
    )
}

fn briefs(all: &[AlertMessage]) -> Vec<(String, u64, u64, Option<String>, String)> {
    all.iter().map(brief).collect()
}

fn row(
    kind: &str,
    count: u64,
    suppressed: u64,
    key: Option<&str>,
    text: &str,
) -> (String, u64, u64, Option<String>, String) {
    (
        kind.to_string(),
        count,
        suppressed,
        key.map(str::to_string),
        text.to_string(),
    )
}

/// Σ count + suppressed over the publications reporting `key`.
fn accounted(all: &[AlertMessage], key: Option<&str>) -> u64 {
    all.iter()
        .filter(|a| a.query_key.as_deref() == key)
        .map(|a| a.count + a.suppressed)
        .sum()
}

/// Every publication has its own alert id and names an incident.
fn assert_ids(all: &[AlertMessage]) {
    let mut ids: Vec<&str> = all.iter().map(|a| a.alert_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "alert ids are unique");
    assert!(
        all.iter()
            .all(|a| !a.incident_id.is_empty() && !a.alert_id.is_empty())
    );
}

#[tokio::test]
async fn any_alerts_suppresses_summarises_and_resolves() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: checkout-errors
    filter_pattern: '{ $.level = "error" }'
    query_key: $.svc
    realert: 5m
    resolve_after: 10m
"#,
    )
    .await;
    let err = |svc: &str| json!({"level": "error", "svc": svc, "msg": "payment declined"});
    w.send(
        "first",
        &[
            (0, err("pay")),
            (1_000, json!({"level": "info", "svc": "pay"})),
            (2_000, err("pay")),
            (3_000, err("pay")),
        ],
    )
    .await;
    let first = w.published(1).await;
    assert_eq!(
        briefs(&first),
        [row("log-match", 3, 0, Some("pay"), "")],
        "`any` says nothing beyond the count"
    );
    w.redeliver_changes_nothing("first").await;
    // Two more inside the realert window (5 min after the alert's last event): suppressed.
    w.send("more", &[(MIN, err("pay")), (2 * MIN, err("pay"))])
        .await;
    w.published(0).await;
    w.redeliver_changes_nothing("more").await;
    // The ticks: nothing before the window ends at 5m 3s; then the summary of exactly the two;
    // then, 10 min after the last match, the resolution of the incident.
    assert_eq!(w.tick(5 * MIN).await, 0);
    assert_eq!(w.tick(5 * MIN + 3_000).await, 1);
    let summary = w.published(1).await;
    assert_eq!(w.tick(11 * MIN).await, 0);
    assert_eq!(w.tick(12 * MIN).await, 1);
    let resolved = w.published(1).await;
    assert_eq!(
        briefs(&[summary.clone(), resolved.clone()].concat()),
        [
            row(
                "summary",
                0,
                2,
                Some("pay"),
                "2 more matches while alerts were paused (realert 5m)"
            ),
            row(
                "resolved",
                0,
                0,
                Some("pay"),
                "No match for 10m; 5 matches in this incident"
            ),
        ]
    );
    let all = [first, summary, resolved].concat();
    assert_ids(&all);
    assert!(
        all.iter().all(|a| a.incident_id == all[0].incident_id),
        "one incident"
    );
    assert_eq!(all[2].incident_total, Some(5));
    assert_eq!(accounted(&all, Some("pay")), 5, "five error events");
    assert_eq!(w.tick(20 * MIN).await, 0, "nothing left to do");
}

#[tokio::test]
async fn any_with_aggregation_publishes_one_digest_per_window_from_the_tick() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: error-digest
    filter_pattern: '{ $.level = "error" }'
    aggregation: 10m
    summary_table_fields: [$.code]
    top_count_keys: $.user
    top_count_number: 2
"#,
    )
    .await;
    let err = |code: &str, user: &str| json!({"level": "error", "code": code, "user": user});
    w.send("a", &[(0, err("E1", "ann")), (1_000, err("E2", "bob"))])
        .await;
    w.send(
        "b",
        &[
            (3 * MIN, err("E1", "ann")),
            (3 * MIN + 1, err("E1", "cy")),
            (3 * MIN + 2, json!({"level": "debug", "code": "E9"})),
        ],
    )
    .await;
    w.published(0).await;
    w.redeliver_changes_nothing("b").await;
    assert_eq!(
        w.tick(10 * MIN).await,
        0,
        "the window ends 10 min after its first alert's last event (1 s)"
    );
    assert_eq!(w.tick(10 * MIN + 1_000).await, 1);
    let digest = w.published(1).await;
    let d = &digest[0];
    assert_eq!(
        brief(d),
        row("log-match", 4, 0, None, "4 events in 10 min (2 alerts)")
    );
    let table = d.digest.as_ref().unwrap().table.as_ref().unwrap();
    let rows: Vec<(Vec<String>, u64)> = table
        .rows
        .iter()
        .map(|r| (r.values.clone(), r.count))
        .collect();
    assert_eq!(
        rows,
        [(vec!["E1".to_string()], 3), (vec!["E2".to_string()], 1)]
    );
    let top: Vec<(&str, u64)> = d.top_counts[0]
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.count))
        .collect();
    assert_eq!(top, [("ann", 2), ("bob", 1)]);
    assert_eq!(d.top_counts[0].other_count, 1);
    assert_eq!(accounted(&digest, None), 4);
    assert_ids(&digest);
    assert_eq!(w.tick(30 * MIN).await, 0);
}

#[tokio::test]
async fn realert_key_shares_one_silence_per_query_key_between_rules() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: db-errors
    filter_pattern: '{ $.level = "error" }'
    query_key: $.db
    realert: 10m
    realert_key: db
  - name: db-slow
    filter_pattern: '{ $.latency_ms > 1000 }'
    query_key: $.db
    realert: 1m
    realert_key: db
"#,
    )
    .await;
    let ev = |level: &str, db: &str, ms: u64| json!({"level": level, "db": db, "latency_ms": ms});
    // One event matches both rules: one alert (the first rule's), the other rule silenced.
    w.send("both", &[(0, ev("error", "orders", 5_000))]).await;
    let first = w.published(1).await;
    assert_eq!(briefs(&first), [row("log-match", 1, 0, Some("orders"), "")]);
    assert_eq!(first[0].rule.name, "db-errors");
    w.redeliver_changes_nothing("both").await;
    let items = w.items().await;
    assert!(
        items.contains_key("silence#db#orders"),
        "{:?}",
        items.keys()
    );
    // db-slow alone, inside db-errors' 10 minutes (not its own 1 minute): silenced; another
    // database has its own silence.
    w.send(
        "slow",
        &[
            (2 * MIN, ev("info", "orders", 3_000)),
            (2 * MIN + 1, ev("info", "users", 3_000)),
        ],
    )
    .await;
    let users = w.published(1).await;
    assert_eq!(briefs(&users), [row("log-match", 1, 0, Some("users"), "")]);
    assert_eq!(users[0].rule.name, "db-slow");
    w.redeliver_changes_nothing("slow").await;
    // db-slow's own tick summarises what the shared silence held, when it ends.
    assert_eq!(w.tick(10 * MIN - 1).await, 0);
    assert_eq!(w.tick(10 * MIN).await, 1);
    let summary = w.published(1).await;
    assert_eq!(
        briefs(&summary),
        [row(
            "summary",
            0,
            2,
            Some("orders"),
            "2 more matches while alerts were paused (silenced by an alert of rule db-errors, realert_key db)"
        )]
    );
    assert_eq!(summary[0].rule.name, "db-slow");
    let all = [first, users, summary].concat();
    assert_ids(&all);
    // Every event is accounted per rule and database: db-errors 1, db-slow 2 (orders) + 1 (users).
    let per = |rule: &str, key: &str| -> u64 {
        all.iter()
            .filter(|a| a.rule.name == rule && a.query_key.as_deref() == Some(key))
            .map(|a| a.count + a.suppressed)
            .sum()
    };
    assert_eq!(
        (
            per("db-errors", "orders"),
            per("db-slow", "orders"),
            per("db-slow", "users")
        ),
        (1, 2, 1)
    );
    // After the silence, an event of both: db-errors alerts again and silences db-slow.
    w.send("after", &[(11 * MIN, ev("error", "orders", 2_000))])
        .await;
    let after = w.published(1).await;
    assert_eq!(briefs(&after), [row("log-match", 1, 0, Some("orders"), "")]);
    assert_eq!(
        after[0].rule.name, "db-errors",
        "rule order decides within one payload"
    );
    assert_eq!(
        w.tick(40 * MIN).await,
        1,
        "db-slow's summary of the last event"
    );
    w.published(1).await;
}

#[tokio::test]
async fn aggregation_key_digests_across_query_keys_from_the_tick() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: checkout-digest
    filter_pattern: '{ $.level = "error" }'
    query_key: $.host
    aggregation: 10m
    aggregation_key: $.svc
    summary_table_fields: [$.host]
"#,
    )
    .await;
    let err = |host: &str, svc: &str| json!({"level": "error", "host": host, "svc": svc});
    w.send(
        "a",
        &[(0, err("web-1", "pay")), (1_000, err("web-2", "pay"))],
    )
    .await;
    w.send(
        "b",
        &[
            (2 * MIN, err("web-3", "pay")),
            (2 * MIN + 1, err("web-1", "auth")),
        ],
    )
    .await;
    w.published(0).await;
    w.redeliver_changes_nothing("a").await;
    w.redeliver_changes_nothing("b").await;
    let items = w.items().await;
    assert!(
        items.contains_key("digest#checkout-digest#pay")
            && items.contains_key("digest#checkout-digest#auth"),
        "{:?}",
        items.keys()
    );
    // One digest per service, across the hosts, when its window ends (from its first alert).
    assert_eq!(w.tick(10 * MIN - 1).await, 0);
    assert_eq!(w.tick(10 * MIN).await, 1);
    let pay = w.published(1).await;
    assert_eq!(
        briefs(&pay),
        [row(
            "log-match",
            3,
            0,
            Some("pay"),
            "3 events in 10 min (3 alerts)"
        )],
        "one alert per host, one digest per service"
    );
    let table = pay[0].digest.as_ref().unwrap().table.as_ref().unwrap();
    let rows: Vec<(Vec<String>, u64)> = table
        .rows
        .iter()
        .map(|r| (r.values.clone(), r.count))
        .collect();
    assert_eq!(
        rows,
        [
            (vec!["web-1".to_string()], 1),
            (vec!["web-2".to_string()], 1),
            (vec!["web-3".to_string()], 1)
        ]
    );
    assert_eq!(w.tick(12 * MIN + 1).await, 1);
    let auth = w.published(1).await;
    assert_eq!(
        briefs(&auth),
        [row(
            "log-match",
            1,
            0,
            Some("auth"),
            "1 event in 10 min (1 alert)"
        )]
    );
    let all = [pay, auth].concat();
    assert_ids(&all);
    assert_eq!(
        accounted(&all, Some("pay")) + accounted(&all, Some("auth")),
        4
    );
    assert_eq!(w.tick(40 * MIN).await, 0, "published once");
}

#[tokio::test]
async fn frequency_alerts_at_the_threshold_within_the_timeframe() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: brute-force
    type: frequency
    filter_pattern: '{ $.event = "login_failed" }'
    num_events: 3
    timeframe: 1m
    query_key: $.user
    realert: 5m
"#,
    )
    .await;
    let fail = |user: &str| json!({"event": "login_failed", "user": user});
    // Two for alice, then one two minutes later: never three within a minute.
    w.send("slow", &[(0, fail("alice")), (10_000, fail("alice"))])
        .await;
    w.send("late", &[(2 * MIN, fail("alice"))]).await;
    w.published(0).await;
    // Two more within the minute: three in 20 s.
    w.send(
        "burst",
        &[
            (2 * MIN + 10_000, fail("alice")),
            (2 * MIN + 20_000, fail("alice")),
            (2 * MIN + 21_000, fail("bob")),
        ],
    )
    .await;
    let alert = w.published(1).await;
    assert_eq!(
        briefs(&alert),
        [row(
            "log-match",
            3,
            0,
            Some("alice"),
            "3 matches in 20s (threshold 3 within 1m)"
        )]
    );
    w.redeliver_changes_nothing("burst").await;
    // Three more for alice inside the realert window: a second trigger, suppressed.
    w.send(
        "again",
        &[
            (3 * MIN, fail("alice")),
            (3 * MIN + 1, fail("alice")),
            (3 * MIN + 2, fail("alice")),
        ],
    )
    .await;
    w.published(0).await;
    assert_eq!(w.tick(7 * MIN + 21_000).await, 1);
    let summary = w.published(1).await;
    assert_eq!(
        briefs(&summary),
        [row(
            "summary",
            0,
            3,
            Some("alice"),
            "3 more matches while alerts were paused (realert 5m)"
        )]
    );
    let all = [alert, summary].concat();
    assert_ids(&all);
    assert_eq!(all[0].incident_id, all[1].incident_id);
    // The two early ones never made three within a minute: not represented.
    assert_eq!(accounted(&all, Some("alice")), 6);
}

#[tokio::test]
async fn blacklist_alerts_on_listed_values_and_counts_every_one() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: banned-users
    type: blacklist
    compare_key: $.user
    blacklist: [mallory, eve]
    realert: 5m
"#,
    )
    .await;
    let u = |user: &str| json!({"user": user, "path": "/cart"});
    w.send(
        "first",
        &[
            (0, u("mallory")),
            (1, u("bob")),
            (2, u("eve")),
            (3, u("mallory")),
            (4, json!({"path": "/"})),
        ],
    )
    .await;
    let alert = w.published(1).await;
    assert_eq!(
        briefs(&alert),
        [row(
            "log-match",
            3,
            0,
            None,
            "3 events with a blacklisted user: mallory ×2, eve"
        )]
    );
    assert_eq!(alert[0].samples.len(), 3);
    assert!(alert[0].samples.iter().all(|s| !s.message.contains("bob")));
    w.redeliver_changes_nothing("first").await;
    w.send("second", &[(MIN, u("eve")), (MIN + 1, u("alice"))])
        .await;
    w.published(0).await;
    assert_eq!(w.tick(5 * MIN + 3).await, 1);
    let summary = w.published(1).await;
    assert_eq!(summary[0].kind, "summary");
    assert_eq!((summary[0].suppressed, summary[0].samples.len()), (1, 1));
    let all = [alert, summary].concat();
    assert_ids(&all);
    assert_eq!(accounted(&all, None), 4, "four blacklisted events");
}

#[tokio::test]
async fn whitelist_alerts_on_unlisted_values() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: unexpected-callers
    type: whitelist
    filter_pattern: '{ $.path = "/internal/*" }'
    compare_key: $.caller
    whitelist: [billing, checkout]
    ignore_null: true
    realert: 0
"#,
    )
    .await;
    let call = |caller: &str| json!({"path": "/internal/refund", "caller": caller});
    w.send(
        "first",
        &[
            (0, call("billing")),
            (1, call("scraper")),
            (2, json!({"path": "/internal/refund"})),
            (3, call("scraper")),
            (4, json!({"path": "/public", "caller": "anyone"})),
        ],
    )
    .await;
    w.send(
        "second",
        &[(MIN, call("checkout")), (MIN + 1, call("cron"))],
    )
    .await;
    let all = w.published(2).await;
    assert_eq!(
        briefs(&all),
        [
            row(
                "log-match",
                2,
                0,
                None,
                "2 events with an unlisted caller: scraper ×2"
            ),
            row(
                "log-match",
                1,
                0,
                None,
                "caller cron is not in the whitelist"
            ),
        ]
    );
    w.redeliver_changes_nothing("second").await;
    assert_ids(&all);
    assert_ne!(
        all[0].incident_id, all[1].incident_id,
        "realert 0: every alert its own incident"
    );
    assert_eq!(accounted(&all, None), 3);
}

#[tokio::test]
async fn change_alerts_old_to_new_per_query_key() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: host-status-flip
    type: change
    compare_key: $.status
    query_key: $.host
    ignore_null: true
    realert: 0
"#,
    )
    .await;
    let st = |host: &str, status: &str| json!({"host": host, "status": status});
    // The first value of each host is not a change.
    w.send(
        "first",
        &[(0, st("a", "up")), (1, st("b", "up")), (2, st("a", "up"))],
    )
    .await;
    w.published(0).await;
    w.send(
        "flip",
        &[
            (MIN, st("a", "down")),
            (MIN + 1, json!({"host": "a"})),
            (MIN + 2, st("b", "up")),
        ],
    )
    .await;
    let flip = w.published(1).await;
    assert_eq!(
        briefs(&flip),
        [row(
            "log-match",
            1,
            0,
            Some("a"),
            "status up → down on host a"
        )]
    );
    let details = &flip[0].observation.as_ref().unwrap().details;
    assert_eq!(
        (&details["old"], &details["new"]),
        (&json!(["up"]), &json!(["down"]))
    );
    w.redeliver_changes_nothing("flip").await;
    w.send(
        "back",
        &[(2 * MIN, st("a", "up")), (2 * MIN + 1, st("b", "down"))],
    )
    .await;
    let back = w.published(2).await;
    let mut got = briefs(&back);
    got.sort_by(|x, y| x.3.cmp(&y.3));
    assert_eq!(
        got,
        [
            row("log-match", 1, 0, Some("a"), "status down → up on host a"),
            row("log-match", 1, 0, Some("b"), "status up → down on host b"),
        ]
    );
    let all = [flip, back].concat();
    assert_ids(&all);
    assert_eq!(accounted(&all, Some("a")), 2, "two changes on host a");
    assert_eq!(accounted(&all, Some("b")), 1);
}

#[tokio::test]
async fn spike_up_from_events_and_down_to_zero_from_the_tick() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: error-spike
    type: spike
    filter_pattern: '{ $.level = "error" }'
    timeframe: 1m
    spike_height: 3
    spike_type: both
    realert: 0
"#,
    )
    .await;
    let err = || json!({"level": "error", "msg": "upstream timeout"});
    // Two a minute for two minutes: no spike (and not alerting on new data).
    w.send(
        "base",
        &[
            (0, err()),
            (30_000, err()),
            (MIN, err()),
            (MIN + 30_000, err()),
        ],
    )
    .await;
    w.published(0).await;
    // Then six in ten seconds (2m20s–2m30s). Judged after each event's second: at 2m28s the
    // last minute holds 6 (1m30s and five of the burst) against 2 the minute before (30s, 1m).
    let burst: Vec<(i64, Value)> = (0..6)
        .map(|i| (2 * MIN + 20_000 + i * 2_000, err()))
        .collect();
    w.send("burst", &burst).await;
    let up = w.published(1).await;
    assert_eq!(
        briefs(&up),
        [row(
            "log-match",
            6,
            0,
            None,
            "6 in 1 min, 3× the previous 1 min (2)"
        )]
    );
    assert!(up[0].observation.as_ref().unwrap().sparkline.is_some());
    w.redeliver_changes_nothing("burst").await;
    // Then nothing: the tick finds the down-spike (no event arrives to trigger it). At 3m20s the
    // last minute still holds 5 of the burst; by 3m30s none, against 6 the minute before.
    assert_eq!(w.tick(3 * MIN).await, 0);
    assert_eq!(w.tick(3 * MIN + 20_000).await, 0);
    assert_eq!(w.tick(3 * MIN + 30_000).await, 1);
    let down = w.published(1).await;
    assert_eq!(
        briefs(&down),
        [row(
            "log-match",
            0,
            0,
            None,
            "0 in 1 min, down from 6 in the previous 1 min"
        )]
    );
    assert_eq!(w.tick(6 * MIN).await, 0, "one down-spike, not one per tick");
    let all = [up, down].concat();
    assert_ids(&all);
    assert_ne!(all[0].incident_id, all[1].incident_id);
    assert_eq!(accounted(&all, None), 6, "the spiking window's events");
}

#[tokio::test]
async fn flatline_alerts_from_the_tick_when_a_key_goes_quiet() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: orders-stopped
    type: flatline
    filter_pattern: '{ $.event = "order_placed" }'
    threshold: 1
    timeframe: 5m
    query_key: $.service
    realert: 0
"#,
    )
    .await;
    let order = |svc: &str| json!({"event": "order_placed", "service": svc});
    w.send("start", &[(0, order("web")), (1, order("app"))])
        .await;
    w.send("web", &[(3 * MIN, order("web"))]).await;
    w.published(0).await;
    w.redeliver_changes_nothing("web").await;
    // app's last order was at 1 ms: its window holds none from 5 min 1 ms on.
    assert_eq!(w.tick(5 * MIN).await, 0);
    assert_eq!(w.tick(5 * MIN + 1).await, 1);
    let flat = w.published(1).await;
    assert_eq!(
        briefs(&flat),
        [row(
            "log-match",
            0,
            0,
            Some("app"),
            "no events from service app for 5 min (expected ≥ 1)"
        )]
    );
    let sparkline = flat[0].observation.as_ref().unwrap().sparkline.clone();
    assert!(
        sparkline
            .as_deref()
            .is_some_and(|s| s.chars().all(|c| c == '▁')),
        "{sparkline:?}"
    );
    // Still flat: no repeat while nothing arrives. web keeps going.
    for m in [6, 9] {
        w.send(&format!("web-{m}"), &[(m * MIN, order("web"))])
            .await;
    }
    assert_eq!(w.tick(10 * MIN).await, 0);
    // app comes back at 11m, then stops again: a new flat period alerts again, when the window
    // (now − 5 min, now] no longer holds 11m.
    w.send(
        "app-back",
        &[(11 * MIN, order("app")), (12 * MIN, order("web"))],
    )
    .await;
    w.send("web-15", &[(15 * MIN, order("web"))]).await;
    assert_eq!(w.tick(16 * MIN - 1).await, 0);
    assert_eq!(w.tick(16 * MIN).await, 1);
    let again = w.published(1).await;
    assert_eq!(again[0].query_key.as_deref(), Some("app"));
    assert_ne!(again[0].incident_id, flat[0].incident_id);
    assert_ids(&[flat, again].concat());
}

#[tokio::test]
async fn new_term_learns_then_alerts_once_per_new_term() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: new-error-codes
    type: new_term
    filter_pattern: '{ $.level = "error" }'
    fields: [$.errorCode]
    learning_period: 10m
    realert: 5m
"#,
    )
    .await;
    let err = |code: &str| json!({"level": "error", "errorCode": code});
    w.send("learn", &[(0, err("E1")), (MIN, err("E2"))]).await;
    w.published(0).await;
    w.send(
        "new",
        &[
            (11 * MIN, err("E1")),
            (11 * MIN + 1, err("E3")),
            (11 * MIN + 2, err("E4")),
            (11 * MIN + 3, err("E3")),
        ],
    )
    .await;
    let mut new = w.published(2).await;
    new.sort_by(|a, b| a.query_key.cmp(&b.query_key));
    assert_eq!(
        briefs(&new),
        [
            row(
                "log-match",
                2,
                0,
                Some("E3"),
                "new errorCode E3 (2 in this batch)"
            ),
            row("log-match", 1, 0, Some("E4"), "new errorCode E4"),
        ]
    );
    assert_ne!(
        new[0].incident_id, new[1].incident_id,
        "one incident per term"
    );
    w.redeliver_changes_nothing("new").await;
    // E3 again, E2 (learned in the learning period): known terms, nothing to say.
    w.send(
        "repeat",
        &[(12 * MIN, err("E3")), (12 * MIN + 1, err("E2"))],
    )
    .await;
    w.published(0).await;
    w.redeliver_changes_nothing("repeat").await;
    // Their realert windows close with nothing suppressed: no summary.
    assert_eq!(w.tick(17 * MIN).await, 0);
    w.published(0).await;
    assert_ids(&new);
    assert_eq!(
        accounted(&new, Some("E3")),
        2,
        "both E3 events of the batch"
    );
    assert_eq!(accounted(&new, Some("E4")), 1);
}

#[tokio::test]
async fn cardinality_alerts_when_distinct_values_exceed_the_maximum() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: credential-stuffing
    type: cardinality
    filter_pattern: '{ $.event = "login_failed" }'
    cardinality_field: $.user
    max_cardinality: 3
    timeframe: 10m
    query_key: $.ip
    realert: 0
"#,
    )
    .await;
    let fail = |ip: &str, user: &str| json!({"event": "login_failed", "ip": ip, "user": user});
    w.send(
        "three",
        &[
            (0, fail("10.0.0.9", "ann")),
            (1_000, fail("10.0.0.9", "bob")),
            (2_000, fail("10.0.0.9", "ann")),
            (3_000, fail("10.0.0.9", "cy")),
            (4_000, fail("10.0.0.1", "ann")),
        ],
    )
    .await;
    w.published(0).await;
    w.send(
        "more",
        &[
            (MIN, fail("10.0.0.9", "dan")),
            (MIN + 1, fail("10.0.0.9", "eve")),
            (MIN + 2, fail("10.0.0.9", "bob")),
        ],
    )
    .await;
    let alert = w.published(1).await;
    assert_eq!(
        briefs(&alert),
        [row(
            "log-match",
            2,
            0,
            Some("10.0.0.9"),
            "4 distinct users from ip 10.0.0.9 in 10 min (max 3)"
        )]
    );
    w.redeliver_changes_nothing("more").await;
    // Outside the timeframe the old users have left: 2 distinct, no alert.
    w.send(
        "later",
        &[
            (12 * MIN, fail("10.0.0.9", "fay")),
            (12 * MIN + 1, fail("10.0.0.9", "ann")),
        ],
    )
    .await;
    w.published(0).await;
    assert_ids(&alert);
    assert_eq!(
        accounted(&alert, Some("10.0.0.9")),
        2,
        "the values over the maximum"
    );
}

#[tokio::test]
async fn percentage_match_decides_each_window_from_the_tick() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: error-rate
    type: percentage_match
    filter_pattern: '{ $.type = "request" }'
    match_bucket_filter: '{ $.status >= 500 }'
    max_percentage: 10
    buffer_time: 5m
    realert: 0
"#,
    )
    .await;
    let req = |status: u32| json!({"type": "request", "status": status});
    let window: Vec<(i64, Value)> = (0..10)
        .map(|i| (i * 20_000, req(if i % 3 == 0 && i < 9 { 503 } else { 200 })))
        .chain([(30_000, json!({"type": "health", "status": 500}))])
        .collect();
    w.send("window", &window).await;
    // The next window: 1 in 20, below the maximum.
    let next: Vec<(i64, Value)> = (0..20)
        .map(|i| (5 * MIN + i * 1_000, req(if i == 0 { 500 } else { 200 })))
        .collect();
    w.send("next", &next).await;
    w.published(0).await;
    w.redeliver_changes_nothing("window").await;
    // Decided when the window ends plus a minute's grace.
    assert_eq!(w.tick(6 * MIN - 1).await, 0);
    assert_eq!(w.tick(6 * MIN).await, 1);
    let alert = w.published(1).await;
    assert_eq!(
        briefs(&alert),
        [row(
            "log-match",
            3,
            0,
            None,
            "30 % of 10 events match `{ $.status >= 500 }` over 5 min (max 10 %)"
        )]
    );
    assert_eq!(w.tick(11 * MIN).await, 0, "5 % is not above 10 %");
    // Decided by the tick, the alert still shows the numerator's log lines (held in the state).
    let lines: Vec<Value> = alert[0]
        .samples
        .iter()
        .map(|s| serde_json::from_str(&s.message).unwrap())
        .collect();
    assert_eq!(lines, [req(503), req(503), req(503)]);
    assert_ids(&alert);
    assert_eq!(accounted(&alert, None), 3, "the numerator's events");
}

#[tokio::test]
async fn metric_aggregation_compares_each_window_with_the_threshold() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: slow-checkout
    type: metric_aggregation
    filter_pattern: '{ $.route = "/checkout" }'
    metric_agg_key: $.latency
    metric_agg_type: avg
    max_threshold: 500
    metric_unit: ms
    buffer_time: 5m
    query_key: $.region
    realert: 0
"#,
    )
    .await;
    let req = |region: &str, latency: u32| json!({"route": "/checkout", "region": region, "latency": latency});
    let events: Vec<(i64, Value)> = (0..10)
        .map(|i| (i * 1_000, req("eu", if i % 2 == 0 { 1006 } else { 800 })))
        .chain((0..4).map(|i| (20_000 + i, req("us", 100))))
        .chain([(
            30_000,
            json!({"route": "/checkout", "region": "eu", "latency": "n/a"}),
        )])
        .collect();
    w.send("window", &events).await;
    w.published(0).await;
    w.redeliver_changes_nothing("window").await;
    assert_eq!(w.tick(6 * MIN).await, 1, "eu over, us under");
    let alert = w.published(1).await;
    assert_eq!(
        briefs(&alert),
        [row(
            "log-match",
            10,
            0,
            Some("eu"),
            "avg latency from region eu 903 ms over 5 min (max 500 ms) — 10 events"
        )]
    );
    assert_eq!(w.tick(12 * MIN).await, 0);
    let lines: Vec<Value> = alert[0]
        .samples
        .iter()
        .map(|s| serde_json::from_str(&s.message).unwrap())
        .collect();
    let first_eu: Vec<Value> = (0..5)
        .map(|i| req("eu", if i % 2 == 0 { 1006 } else { 800 }))
        .collect();
    assert_eq!(
        lines, first_eu,
        "the window's first 5 events, from the state"
    );
    assert_ids(&alert);
    assert_eq!(
        accounted(&alert, Some("eu")),
        10,
        "the window's numeric events"
    );
}

#[tokio::test]
async fn spike_aggregation_compares_a_window_with_the_one_before() {
    let w = World::new(
        r#"
version: 1
rules:
  - name: latency-spike
    type: spike_aggregation
    filter_pattern: '{ $.route = "/checkout" }'
    metric_agg_key: $.latency
    metric_agg_type: avg
    metric_unit: ms
    timeframe: 5m
    spike_height: 3
    spike_type: up
    realert: 0
"#,
    )
    .await;
    let req = |latency: u32| json!({"route": "/checkout", "latency": latency});
    w.send("before", &[(0, req(500)), (MIN, req(700))]).await;
    assert_eq!(
        w.tick(6 * MIN).await,
        0,
        "the first window has nothing to compare with"
    );
    w.send(
        "after",
        &[
            (6 * MIN, req(2_000)),
            (7 * MIN, req(2_800)),
            (8 * MIN, req(2_400)),
        ],
    )
    .await;
    w.published(0).await;
    w.redeliver_changes_nothing("after").await;
    assert_eq!(w.tick(11 * MIN - 1).await, 0);
    assert_eq!(w.tick(11 * MIN).await, 1);
    let alert = w.published(1).await;
    assert_eq!(
        briefs(&alert),
        [row(
            "log-match",
            3,
            0,
            None,
            "avg latency 2,400 ms over 5 min, 4× the previous 5 min (600 ms)"
        )]
    );
    let lines: Vec<Value> = alert[0]
        .samples
        .iter()
        .map(|s| serde_json::from_str(&s.message).unwrap())
        .collect();
    assert_eq!(
        lines,
        [req(2_000), req(2_800), req(2_400)],
        "the spiking window's events only"
    );
    assert_ids(&alert);
    assert_eq!(accounted(&alert, None), 3, "the spiking window's events");
}

/// State stays bounded in DynamoDB itself: a new_term rule with the most samples and `include`
/// values, fed terms of control characters (6 bytes each in JSON) while SNS is down (the topic
/// does not exist: every publication stays in its key's outbox), writes every item within
/// DynamoDB's 400 KB — measured as DynamoDB bills it, on the items as stored — and its commits
/// never fail (moto refuses items over the limit, which would show as state failures).
#[tokio::test]
async fn state_items_stay_within_dynamodb_limit_while_sns_is_down() {
    let aws = aws_config::load_from_env().await;
    let ddb = aws_sdk_dynamodb::Client::new(&aws);
    let table = unique("bound");
    logalert_dynamodb::table::create(&ddb, &table)
        .await
        .unwrap();
    let rules = logalert::rules::load(
        r#"
version: 1
rules:
  - name: new-codes
    type: new_term
    fields: [$.code]
    learning_period: 0
    realert: 1h
    max_samples: 100
    include: [$.i0, $.i1, $.i2, $.i3, $.i4, $.i5, $.i6, $.i7, $.i8, $.i9]
"#,
        "rules.yaml",
    )
    .unwrap();
    let h = Handler::new(
        Engine::new(rules, EngineConfig::new("us-east-1")),
        DynamoStateStore::new(ddb.clone(), &table),
        SnsSink::new(
            aws_sdk_sns::Client::new(&aws),
            "arn:aws:sns:us-east-1:123456789012:no-such-topic",
        )
        .with_backoff(Duration::from_millis(1)),
        "logalert",
    );
    let ctl = |n: usize| "\u{1}".repeat(n);
    let mut largest = 0;
    for round in 0..3i64 {
        let events: Vec<Value> = (0..70)
            .map(|term| {
                let mut m = serde_json::Map::new();
                m.insert("code".into(), format!("T{term}-{}", ctl(1_500)).into());
                for i in 0..10 {
                    m.insert(format!("i{i}"), ctl(1_100).into());
                }
                m.insert("pad".into(), "\"".repeat(3_000).into());
                json!({"id": format!("{:056}", round * 1_000 + term), "timestamp": t0() + round * MIN + term,
                       "message": Value::Object(m).to_string()})
            })
            .collect();
        let decoded = json!({"messageType": "DATA_MESSAGE", "owner": "123456789012",
            "logGroup": "/app/shop", "logStream": "web-1", "subscriptionFilters": ["logalert"],
            "logEvents": events});
        let payload = json!({"awslogs": {"data": gzip_base64(decoded.to_string().as_bytes())}});
        let inv = h.process(&payload, t0() + round * MIN + 100).await;
        assert!(
            inv.response.is_err(),
            "SNS is down: the invocation fails for its retry"
        );
        assert_eq!(inv.metrics.state_failures, 0, "every commit was accepted");
        let scan = ddb
            .scan()
            .table_name(&table)
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        for item in scan.items() {
            let size = logalert_dynamodb::item::billed_size(item);
            assert!(size < 400 * 1024, "an item of {size} bytes");
            largest = largest.max(size);
        }
    }
    println!("largest state item: {largest} bytes (DynamoDB's billed size)");
    assert!(
        largest > 100 * 1024,
        "the case reached a large item: {largest}"
    );
}
