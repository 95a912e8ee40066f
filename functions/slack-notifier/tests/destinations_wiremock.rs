//! Every destination type through the handler, against a real HTTP server (wiremock): success,
//! 429, 5xx, timeout (maybe delivered vs retried, by idempotence), permanent errors, and the Slack
//! app's thread sequence asserted request by request.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::{Context, LambdaEvent};
use logalert::render::webhook;
use logalert::state::{MemoryStore, StateRecord, StateStore};
use serde_json::{Value, json};
use slack_notifier::config::Config;
use slack_notifier::deliver::Deliverer;
use slack_notifier::destinations::slack_app::{Pacer, thread_key};
use slack_notifier::route::Webhooks;
use slack_notifier::{Notifier, handle};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn config() -> Config {
    let env: BTreeMap<&str, &str> = [("WEBHOOKS_SECRET_ID", "unused"), ("STATE_TABLE", "unused")]
        .into_iter()
        .collect();
    Config::from_env(|k| env.get(k).map(|v| v.to_string())).unwrap()
}

fn notifier(map: Value) -> Notifier<MemoryStore> {
    let mut deliverer = Deliverer::new(Duration::from_millis(500)).unwrap();
    deliverer.backoff = Duration::from_millis(10);
    deliverer.max_backoff = Duration::from_millis(40);
    Notifier {
        config: config(),
        state: MemoryStore::default(),
        webhooks: Webhooks::fixed_json(&map),
        deliverer,
        pacer: Pacer::with_spacing(Duration::from_millis(5)),
        logs: None,
    }
}

fn record(message_id: &str, message: &str) -> Value {
    json!({
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:alerts:sub",
        "Sns": {
            "Type": "Notification", "MessageId": message_id,
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
            "Subject": "subject", "Message": message,
            "Timestamp": "2023-11-14T22:14:03.000Z", "SignatureVersion": "1",
            "Signature": "EXAMPLE", "SigningCertUrl": "https://sns.example/cert.pem",
            "UnsubscribeUrl": "https://sns.example/unsub", "MessageAttributes": {}
        }
    })
}

fn event(records: Vec<Value>, request_id: &str) -> LambdaEvent<SnsEvent> {
    let payload: SnsEvent = serde_json::from_value(json!({ "Records": records })).unwrap();
    let mut ctx = Context::default();
    ctx.request_id = request_id.to_string();
    LambdaEvent::new(payload, ctx)
}

const T0: i64 = 1_700_000_000_000;

fn alert(kind: &str, alert_id: &str, count: u64, total: u64) -> String {
    json!({
        "version": 1, "kind": kind, "alert_id": alert_id, "incident_id": "inc-1",
        "decided_at": T0 + 60_000, "incident_opened_at": T0, "incident_total": total,
        "rule": {"name": "payments-auth-failures", "type": "any", "severity": "critical", "description": null},
        "account": "123456789012", "region": "us-east-1", "log_group": "/aws/lambda/payments",
        "query_key": null, "count": count, "suppressed": 0,
        "first_timestamp": T0, "last_timestamp": T0 + 30_000,
        "samples": if count > 0 { json!([{"id": "1", "timestamp": T0, "log_stream": "s",
            "message": "AUTH_FAILED password=hunter2", "extracted": {}}]) } else { json!([]) },
        "truncated": false, "channel": "default", "mention": ["here"]
    })
    .to_string()
}

async fn bodies(server: &MockServer, p: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// Responds from a list in order, then repeats the last.
struct Sequence(std::sync::Mutex<Vec<ResponseTemplate>>);

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut v = self.0.lock().unwrap();
        if v.len() > 1 {
            v.remove(0)
        } else {
            v[0].clone()
        }
    }
}

fn sequence(v: Vec<ResponseTemplate>) -> Sequence {
    Sequence(std::sync::Mutex::new(v))
}

async fn mount(server: &MockServer, p: &str, responses: Vec<ResponseTemplate>) {
    Mock::given(method("POST"))
        .and(path(p))
        .respond_with(sequence(responses))
        .mount(server)
        .await;
}

fn slow(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_delay(Duration::from_millis(1_500))
}

// ---------------------------------------------------------------- Teams

#[tokio::test]
async fn teams_posts_an_adaptive_card_and_survives_429_and_5xx() {
    let server = MockServer::start().await;
    mount(
        &server,
        "/workflows/teams",
        vec![
            ResponseTemplate::new(429).insert_header("Retry-After", "0"),
            ResponseTemplate::new(502),
            ResponseTemplate::new(202),
        ],
    )
    .await;
    let n = notifier(
        json!({"default": {"type": "teams", "url": format!("{}/workflows/teams", server.uri())}}),
    );
    let out = handle(
        &n,
        event(vec![record("m-1", &alert("log-match", "a-1", 1, 1))], "r"),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            out["delivered"].as_u64(),
            out["records"][0]["attempts"].as_u64()
        ),
        (Some(1), Some(3))
    );
    let posts = bodies(&server, "/workflows/teams").await;
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[2]["type"], "message");
    assert_eq!(
        posts[2]["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert!(!posts[2].to_string().contains("hunter2"));
}

#[tokio::test]
async fn teams_timeout_is_maybe_delivered_and_not_reposted() {
    let server = MockServer::start().await;
    mount(&server, "/workflows/teams", vec![slow(202)]).await;
    let n = notifier(
        json!({"default": {"type": "teams", "url": format!("{}/workflows/teams", server.uri())}}),
    );
    let body = alert("log-match", "a-1", 1, 1);
    let out = handle(&n, event(vec![record("m-1", &body)], "r"))
        .await
        .unwrap();
    assert_eq!(out["records"][0]["status"], "maybe-delivered");
    assert_eq!(out["maybe_delivered"], 1);
    assert_eq!(out["maybe_delivered_by_type"], json!({"teams": 1}));
    handle(&n, event(vec![record("m-2", &body)], "r2"))
        .await
        .unwrap();
    assert_eq!(bodies(&server, "/workflows/teams").await.len(), 1);
}

#[tokio::test]
async fn teams_permanent_error_fails_naming_the_channel_and_type() {
    let server = MockServer::start().await;
    mount(
        &server,
        "/workflows/teams",
        vec![ResponseTemplate::new(400).set_body_string("InvalidRequestContent")],
    )
    .await;
    let n = notifier(
        json!({"default": {"type": "teams", "url": format!("{}/workflows/teams", server.uri())}}),
    );
    let err = handle(
        &n,
        event(vec![record("m-1", &alert("log-match", "a-1", 1, 1))], "r"),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("\"default\"") && msg.contains("teams") && msg.contains("HTTP 400"),
        "{msg}"
    );
    assert!(!msg.contains("/workflows/"), "{msg}");
    assert_eq!(bodies(&server, "/workflows/teams").await.len(), 1);
}

// ---------------------------------------------------------------- PagerDuty

#[tokio::test]
async fn pagerduty_trigger_then_resolve_with_one_dedup_key_and_retried_timeouts() {
    let server = MockServer::start().await;
    mount(
        &server,
        "/v2/enqueue",
        vec![
            slow(202),
            ResponseTemplate::new(500),
            ResponseTemplate::new(202)
                .set_body_string(r#"{"status":"success","dedup_key":"inc-1"}"#),
        ],
    )
    .await;
    let n = notifier(
        json!({"default": {"type": "pagerduty", "routing_key": "R0UTINGKEY",
        "url": format!("{}/v2/enqueue", server.uri())}}),
    );
    let out = handle(
        &n,
        event(vec![record("m-1", &alert("log-match", "a-1", 1, 1))], "r"),
    )
    .await
    .unwrap();
    // Idempotent on dedup_key: the timeout was retried, not "maybe delivered".
    assert_eq!(
        (
            out["delivered"].as_u64(),
            out["records"][0]["attempts"].as_u64()
        ),
        (Some(1), Some(3))
    );
    handle(
        &n,
        event(vec![record("m-2", &alert("resolved", "a-2", 0, 1))], "r"),
    )
    .await
    .unwrap();
    let events = bodies(&server, "/v2/enqueue").await;
    assert_eq!(events.len(), 4);
    assert!(
        events
            .iter()
            .all(|e| e["routing_key"] == "R0UTINGKEY" && e["dedup_key"] == "inc-1")
    );
    assert_eq!(events[2]["event_action"], "trigger");
    assert_eq!(events[2]["payload"]["severity"], "critical");
    assert_eq!(events[3]["event_action"], "resolve");
}

#[tokio::test]
async fn pagerduty_invalid_event_is_permanent() {
    let server = MockServer::start().await;
    mount(&server, "/v2/enqueue", vec![ResponseTemplate::new(400).set_body_string(
        r#"{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect"]}"#)]).await;
    let n = notifier(
        json!({"oncall": {"type": "pagerduty", "routing_key": "SECRETKEY",
        "url": format!("{}/v2/enqueue", server.uri())}, "default": "https://hooks.slack.com/services/unused"}),
    );
    let mut a: Value = serde_json::from_str(&alert("log-match", "a-1", 1, 1)).unwrap();
    a["channel"] = json!("oncall");
    let err = handle(&n, event(vec![record("m-1", &a.to_string())], "r"))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("Event object is invalid") && msg.contains("\"oncall\""),
        "{msg}"
    );
    assert!(!msg.contains("SECRETKEY"), "{msg}");
    assert_eq!(
        n.state.get("alert#a-1").await.unwrap().unwrap().body["state"],
        "failed"
    );
}

// ---------------------------------------------------------------- signed webhook

#[tokio::test]
async fn webhook_is_signed_carries_the_alert_id_and_retries_timeouts() {
    let server = MockServer::start().await;
    mount(
        &server,
        "/hook",
        vec![slow(200), ResponseTemplate::new(204)],
    )
    .await;
    let n = notifier(
        json!({"default": {"type": "webhook", "url": format!("{}/hook", server.uri()),
        "secret": "whsec_test"}}),
    );
    let out = handle(
        &n,
        event(vec![record("m-1", &alert("log-match", "a-7", 1, 1))], "r"),
    )
    .await
    .unwrap();
    assert_eq!(out["records"][0]["attempts"], 2);
    let reqs: Vec<Request> = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        let h = |name: &str| r.headers.get(name).unwrap().to_str().unwrap().to_string();
        assert_eq!(h("logalert-alert-id"), "a-7");
        assert_eq!(h("idempotency-key"), "a-7");
        assert_eq!(h("content-type"), "application/json");
        let now = jiff::Timestamp::now().as_second();
        webhook::verify(
            b"whsec_test",
            &h("logalert-timestamp"),
            &r.body,
            &h("logalert-signature"),
            now,
            300,
        )
        .expect("signature verifies");
        assert!(
            webhook::verify(
                b"wrong",
                &h("logalert-timestamp"),
                &r.body,
                &h("logalert-signature"),
                now,
                300
            )
            .is_err()
        );
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            (body["alert_id"].as_str(), body["kind"].as_str()),
            (Some("a-7"), Some("log-match"))
        );
        assert!(!body.to_string().contains("hunter2"));
    }
}

#[tokio::test]
async fn webhook_without_alert_id_uses_the_message_id_and_4xx_is_permanent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .and(header("logalert-alert-id", "sns:m-9"))
        .respond_with(ResponseTemplate::new(410))
        .expect(1)
        .mount(&server)
        .await;
    let n = notifier(
        json!({"default": {"type": "webhook", "url": format!("{}/hook", server.uri()), "secret": "s"}}),
    );
    let err = handle(&n, event(vec![record("m-9", "deploy finished")], "r"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("HTTP 410"), "{err}");
}

// ---------------------------------------------------------------- Slack app

async fn slack_api(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(header("authorization", "Bearer xoxb-test-token"))
        .respond_with(|r: &Request| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            // Parent gets ts 1000.0001; replies count up.
            let ts = if body.get("thread_ts").is_some() {
                "1000.0002"
            } else {
                "1000.0001"
            };
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "channel": "C0123ABCD", "ts": ts}))
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.update"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "ts": "1000.0001"})),
        )
        .mount(server)
        .await;
}

fn slack_app(server: &MockServer) -> Value {
    json!({"default": {"type": "slack-app", "token": "xoxb-test-token", "channel": "C0123ABCD",
        "api_url": format!("{}/api", server.uri())}})
}

#[tokio::test]
async fn slack_app_threads_an_incident_and_updates_the_parent_on_resolve() {
    let server = MockServer::start().await;
    slack_api(&server).await;
    let n = notifier(slack_app(&server));
    for (i, (kind, id, count, total)) in [
        ("log-match", "a-1", 1, 1),
        ("log-match", "a-2", 4, 5),
        ("summary", "a-3", 0, 8),
        ("resolved", "a-4", 0, 8),
    ]
    .into_iter()
    .enumerate()
    {
        handle(
            &n,
            event(
                vec![record(&format!("m-{i}"), &alert(kind, id, count, total))],
                "r",
            ),
        )
        .await
        .unwrap();
    }
    let reqs = server.received_requests().await.unwrap();
    let seq: Vec<(String, Value)> = reqs
        .iter()
        .map(|r| {
            (
                r.url.path().to_string(),
                serde_json::from_slice(&r.body).unwrap(),
            )
        })
        .collect();
    let paths: Vec<&str> = seq.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/chat.postMessage", // a-1: the parent
            "/api/chat.postMessage", // a-2: reply in the thread
            "/api/chat.update",      //       parent's count line
            "/api/chat.postMessage", // a-3 (summary): reply
            "/api/chat.update",
            "/api/chat.postMessage", // a-4 (resolved): reply
            "/api/chat.update",      //       parent: ✅, duration, total
        ]
    );
    let (_, parent) = &seq[0];
    assert_eq!(parent["channel"], "C0123ABCD");
    assert!(parent.get("thread_ts").is_none());
    assert!(parent["text"].as_str().unwrap().starts_with("<!here> "));
    for i in [1, 3, 5] {
        assert_eq!(
            seq[i].1["thread_ts"], "1000.0001",
            "request {i} replies in the thread"
        );
    }
    for i in [2, 4, 6] {
        assert_eq!(seq[i].1["ts"], "1000.0001", "request {i} edits the parent");
        assert_eq!(seq[i].1["channel"], "C0123ABCD");
    }
    let status = |i: usize| {
        seq[i].1["attachments"].as_array().unwrap().last().unwrap()["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        status(2).contains("5 matches so far") && status(2).contains("1 update in the thread"),
        "{}",
        status(2)
    );
    assert!(
        status(4).contains("8 matches so far") && status(4).contains("2 updates"),
        "{}",
        status(4)
    );
    assert!(
        status(6).contains("Resolved") && status(6).contains("lasted 30 s, 8 matches in total"),
        "{}",
        status(6)
    );
    assert!(
        seq[6].1["text"]
            .as_str()
            .unwrap()
            .starts_with(":white_check_mark: *RESOLVED*")
    );
    assert_eq!(seq[6].1["attachments"][0]["color"], "#2eb886");
    // The resolved reply does not ping; the follow-up alert does.
    assert!(
        seq[3].1["text"].as_str().unwrap().contains("SUMMARY")
            && !seq[3].1["text"].as_str().unwrap().contains("<!here>")
    );
    assert!(seq[1].1["text"].as_str().unwrap().starts_with("<!here> "));
    let thread = n
        .state
        .get(&thread_key("C0123ABCD", "inc-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (thread.body["state"].as_str(), thread.body["ts"].as_str()),
        (Some("resolved"), Some("1000.0001"))
    );
}

#[tokio::test]
async fn slack_app_rate_limit_and_errors() {
    let server = MockServer::start().await;
    mount(
        &server,
        "/api/chat.postMessage",
        vec![
            ResponseTemplate::new(429).insert_header("Retry-After", "1"),
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "ts": "1.1"})),
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "channel_not_found"})),
        ],
    )
    .await;
    let n = notifier(slack_app(&server));
    let started = std::time::Instant::now();
    let out = handle(
        &n,
        event(vec![record("m-1", "plain text, no incident")], "r"),
    )
    .await
    .unwrap();
    assert_eq!(out["records"][0]["attempts"], 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    let err = handle(&n, event(vec![record("m-2", "another")], "r"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("channel_not_found"), "{err}");
}

#[tokio::test]
async fn slack_app_timeout_and_internal_error_are_maybe_delivered() {
    for response in [
        slow(200),
        ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "internal_error"})),
    ] {
        let server = MockServer::start().await;
        mount(&server, "/api/chat.postMessage", vec![response]).await;
        let n = notifier(slack_app(&server));
        let body = alert("log-match", "a-1", 1, 1);
        let out = handle(&n, event(vec![record("m-1", &body)], "r"))
            .await
            .unwrap();
        assert_eq!(out["records"][0]["status"], "maybe-delivered");
        assert_eq!(out["maybe_delivered_by_type"], json!({"slack-app": 1}));
        handle(&n, event(vec![record("m-1", &body)], "r"))
            .await
            .unwrap();
        assert_eq!(bodies(&server, "/api/chat.postMessage").await.len(), 1);
    }
}

#[tokio::test]
async fn slack_app_does_not_open_a_thread_another_invocation_is_opening() {
    let server = MockServer::start().await;
    slack_api(&server).await;
    let n = notifier(slack_app(&server));
    let claim = StateRecord {
        version: 1,
        expires_at: 4_000_000_000,
        body: json!({"state": "opening", "owner": "other", "until": 4_000_000_000_000i64}),
    };
    n.state
        .put(&thread_key("C0123ABCD", "inc-1"), &claim, None)
        .await
        .unwrap();
    let err = handle(
        &n,
        event(vec![record("m-1", &alert("log-match", "a-1", 1, 1))], "r"),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("opening this incident's thread"),
        "{err}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

// ---------------------------------------------------------------- more outcomes per destination

#[tokio::test]
async fn pagerduty_429_waits_then_succeeds() {
    let server = MockServer::start().await;
    mount(
        &server,
        "/v2/enqueue",
        vec![
            // PagerDuty's 429 carries no Retry-After: the notifier waits its default second.
            ResponseTemplate::new(429).set_body_string(r#"{"status":"throttle event"}"#),
            ResponseTemplate::new(202).set_body_string(r#"{"status":"success"}"#),
        ],
    )
    .await;
    let n = notifier(json!({"default": {"type": "pagerduty", "routing_key": "RK",
        "url": format!("{}/v2/enqueue", server.uri())}}));
    let started = std::time::Instant::now();
    let out = handle(
        &n,
        event(vec![record("m-1", &alert("log-match", "a-1", 1, 1))], "r"),
    )
    .await
    .unwrap();
    assert_eq!(out["records"][0]["attempts"], 2);
    assert!(started.elapsed() >= Duration::from_millis(950));
    let events = bodies(&server, "/v2/enqueue").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], events[1], "the retry is the same event");
}

#[tokio::test]
async fn webhook_5xx_and_429_are_retried_with_the_same_signed_request() {
    let server = MockServer::start().await;
    mount(
        &server,
        "/hook",
        vec![
            ResponseTemplate::new(503),
            ResponseTemplate::new(429).insert_header("Retry-After", "1"),
            ResponseTemplate::new(200),
        ],
    )
    .await;
    let n = notifier(json!({"default": {"type": "webhook",
        "url": format!("{}/hook", server.uri()), "secret": "whsec"}}));
    let started = std::time::Instant::now();
    let out = handle(
        &n,
        event(vec![record("m-1", &alert("summary", "a-9", 0, 3))], "r"),
    )
    .await
    .unwrap();
    assert_eq!(out["records"][0]["attempts"], 3);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1"
    );
    let reqs: Vec<Request> = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 3);
    let sig = |r: &Request, h: &str| r.headers.get(h).unwrap().to_str().unwrap().to_string();
    for r in &reqs[1..] {
        assert_eq!(r.body, reqs[0].body);
        for h in [
            "logalert-alert-id",
            "logalert-timestamp",
            "logalert-signature",
        ] {
            assert_eq!(sig(r, h), sig(&reqs[0], h), "{h} repeated on the retry");
        }
    }
    // Delivered once: the same alert published again is not sent again.
    handle(
        &n,
        event(vec![record("m-2", &alert("summary", "a-9", 0, 3))], "r2"),
    )
    .await
    .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn webhook_server_errors_exhaust_the_attempts_and_fail_for_lambda() {
    let server = MockServer::start().await;
    mount(&server, "/hook", vec![ResponseTemplate::new(500)]).await;
    let n = notifier(json!({"default": {"type": "webhook",
        "url": format!("{}/hook", server.uri()), "secret": "whsec"}}));
    let err = handle(
        &n,
        event(vec![record("m-1", &alert("log-match", "a-1", 1, 1))], "r"),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("webhook") && msg.contains("HTTP 500"), "{msg}");
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
    // Not delivered, released: Lambda's retry may try again.
    assert_eq!(
        n.state.get("alert#a-1").await.unwrap().unwrap().body["state"],
        "failed"
    );
}

#[tokio::test]
async fn slack_app_5xx_is_retried_and_a_failed_parent_update_does_not_repost() {
    let server = MockServer::start().await;
    let ts = std::sync::atomic::AtomicU32::new(0);
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(move |_: &Request| {
            match ts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                // The parent's first attempt: Slack's edge answers 503 (nothing was posted).
                0 => ResponseTemplate::new(503),
                n => ResponseTemplate::new(200)
                    .set_body_json(json!({"ok": true, "ts": format!("2000.000{n}")})),
            }
        })
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.update"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let n = notifier(slack_app(&server));
    let out = handle(
        &n,
        event(vec![record("m-1", &alert("log-match", "a-1", 1, 1))], "r"),
    )
    .await
    .unwrap();
    assert_eq!(out["records"][0]["attempts"], 2);
    // The follow-up: its reply is posted; the parent's edit fails on every attempt, which is
    // logged, not an invocation failure (a retry would post the reply twice).
    let out = handle(
        &n,
        event(vec![record("m-2", &alert("log-match", "a-2", 2, 3))], "r"),
    )
    .await
    .unwrap();
    assert_eq!(out["records"][0]["status"], "delivered");
    let posts = bodies(&server, "/api/chat.postMessage").await;
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[2]["thread_ts"], "2000.0001");
    assert_eq!(bodies(&server, "/api/chat.update").await.len(), 4);
    // And published twice, the follow-up is still one reply.
    handle(
        &n,
        event(vec![record("m-3", &alert("log-match", "a-2", 2, 3))], "r"),
    )
    .await
    .unwrap();
    assert_eq!(bodies(&server, "/api/chat.postMessage").await.len(), 3);
    let thread = n
        .state
        .get(&thread_key("C0123ABCD", "inc-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(thread.body["replies"], 1);
}

/// Requests to one channel are spaced by the pacer (Slack: about one message per second per
/// channel), the parent's edit included; another channel is not held up.
#[tokio::test]
async fn slack_app_posts_to_one_channel_are_paced() {
    let server = MockServer::start().await;
    slack_api(&server).await;
    let times = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let spacing = Duration::from_millis(300);
    let mut n = notifier(json!({
        "default": {"type": "slack-app", "token": "xoxb-test-token", "channel": "C0123ABCD",
            "api_url": format!("{}/api", server.uri())},
        "other": {"type": "slack-app", "token": "xoxb-test-token", "channel": "C0456EFGH",
            "api_url": format!("{}/api", server.uri())}}));
    n.pacer = Pacer::with_spacing(spacing);
    let mut other: Value = serde_json::from_str(&alert("log-match", "b-1", 1, 1)).unwrap();
    other["channel"] = json!("other");
    other["incident_id"] = json!("inc-2");
    for (id, body) in [
        ("m-1", alert("log-match", "a-1", 1, 1)),
        ("m-2", alert("log-match", "a-2", 2, 3)),
        ("m-3", other.to_string()),
    ] {
        let before = std::time::Instant::now();
        handle(&n, event(vec![record(id, &body)], "r"))
            .await
            .unwrap();
        times.lock().unwrap().push(before.elapsed());
    }
    let times = times.lock().unwrap();
    // m-2 waited for the channel's turn twice (reply after the parent, edit after the reply).
    assert!(
        times[1] >= spacing * 2 - Duration::from_millis(20),
        "{times:?}"
    );
    // The other channel's first post goes out at once.
    assert!(times[2] < spacing, "{times:?}");
}

/// A state table where another invocation replies in the same thread between our read and our
/// write, once (the first conditional write of a thread record with replies).
#[derive(Default)]
struct RacingStore {
    inner: MemoryStore,
    raced: std::sync::atomic::AtomicBool,
}

impl StateStore for RacingStore {
    async fn get(&self, key: &str) -> Result<Option<StateRecord>, logalert::state::StateError> {
        self.inner.get(key).await
    }

    async fn put(
        &self,
        key: &str,
        record: &StateRecord,
        expected: Option<u64>,
    ) -> Result<(), logalert::state::StateError> {
        if key.starts_with("slack-thread#")
            && record.body["replies"].as_u64().unwrap_or(0) > 0
            && !self.raced.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            let mut other = self.inner.get(key).await?.expect("the thread exists");
            other.body["replies"] = json!(other.body["replies"].as_u64().unwrap_or(0) + 1);
            other.version += 1;
            self.inner.put(key, &other, expected).await?;
        }
        self.inner.put(key, record, expected).await
    }
}

#[tokio::test]
async fn a_reply_racing_another_invocation_is_still_counted() {
    let server = MockServer::start().await;
    slack_api(&server).await;
    let base = notifier(slack_app(&server));
    let n = Notifier {
        config: base.config,
        state: RacingStore::default(),
        webhooks: base.webhooks,
        deliverer: base.deliverer,
        pacer: base.pacer,
        logs: None,
    };
    for (i, id) in ["a-1", "a-2"].iter().enumerate() {
        handle(
            &n,
            event(
                vec![record(&format!("m-{i}"), &alert("log-match", id, 1, 2))],
                "r",
            ),
        )
        .await
        .unwrap();
    }
    assert!(n.state.raced.load(std::sync::atomic::Ordering::SeqCst));
    let thread = n
        .state
        .get(&thread_key("C0123ABCD", "inc-1"))
        .await
        .unwrap()
        .unwrap();
    // Ours and the other invocation's.
    assert_eq!(thread.body["replies"], 2);
    assert_eq!(thread.body["ts"], "1000.0001");
}
