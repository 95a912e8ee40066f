//! The handler in-process: MemoryStore for state, a fixed webhook map, Slack = wiremock.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_lambda_events::event::sns::SnsEvent;
use lambda_runtime::{Context, LambdaEvent};
use logalert::state::{MemoryStore, StateRecord, StateStore};
use serde_json::{Value, json};
use slack_notifier::config::Config;
use slack_notifier::deliver::Deliverer;
use slack_notifier::route::Webhooks;
use slack_notifier::{Notifier, handle};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn config(extra: &[(&str, &str)]) -> Config {
    let mut env: BTreeMap<String, String> =
        [("WEBHOOKS_SECRET_ID", "unused"), ("STATE_TABLE", "unused")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_env(|k| env.get(k).cloned()).unwrap()
}

fn notifier(server: &MockServer, extra: &[(&str, &str)]) -> Notifier<MemoryStore> {
    let mut deliverer = Deliverer::new(Duration::from_millis(500)).unwrap();
    deliverer.backoff = Duration::from_millis(10);
    Notifier {
        config: config(extra),
        state: MemoryStore::default(),
        webhooks: Webhooks::fixed(BTreeMap::from([
            (
                "default".to_string(),
                format!("{}/hooks/default", server.uri()),
            ),
            (
                "payments-oncall".to_string(),
                format!("{}/hooks/payments", server.uri()),
            ),
            (
                "archived".to_string(),
                format!("{}/hooks/archived", server.uri()),
            ),
        ])),
        deliverer,
        pacer: Default::default(),
        logs: None,
    }
}

fn record(message_id: &str, message: &str, channel_attr: Option<&str>) -> Value {
    let mut attrs = json!({});
    if let Some(c) = channel_attr {
        attrs = json!({"channel": {"Type": "String", "Value": c}});
    }
    json!({
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:alerts:sub",
        "Sns": {
            "Type": "Notification", "MessageId": message_id,
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
            "Subject": "subject", "Message": message,
            "Timestamp": "2023-11-14T22:14:03.000Z", "SignatureVersion": "1",
            "Signature": "EXAMPLE", "SigningCertUrl": "https://sns.example/cert.pem",
            "UnsubscribeUrl": "https://sns.example/unsub", "MessageAttributes": attrs
        }
    })
}

fn event(records: Vec<Value>, request_id: &str) -> LambdaEvent<SnsEvent> {
    let payload: SnsEvent = serde_json::from_value(json!({ "Records": records })).unwrap();
    let mut ctx = Context::default();
    ctx.request_id = request_id.to_string();
    LambdaEvent::new(payload, ctx)
}

fn alert_json(channel: &str) -> String {
    json!({
        "version": 1, "kind": "log-match",
        "rule": {"name": "payments-auth-failures", "type": "any", "severity": "error", "description": null,
                 "filter_pattern": "AUTH_FAILED"},
        "account": "123456789012", "region": "us-east-1", "log_group": "/aws/lambda/payments",
        "query_key": null, "count": 1, "suppressed": 0,
        "first_timestamp": 1700000000000i64, "last_timestamp": 1700000000000i64,
        "samples": [{"id": "1", "timestamp": 1700000000000i64, "log_stream": "s",
                     "message": "AUTH_FAILED user=1 password=hunter2 <!channel>", "extracted": {}}],
        "truncated": false, "channel": channel, "mention": ["here"]
    })
    .to_string()
}

async fn received(server: &MockServer, p: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

async fn ok_on(server: &MockServer, p: &str) {
    Mock::given(method("POST"))
        .and(path(p))
        .respond_with(ResponseTemplate::new(200))
        .mount(server)
        .await;
}

#[tokio::test]
async fn alert_goes_to_its_channel_redacted_and_escaped() {
    let server = MockServer::start().await;
    ok_on(&server, "/hooks/payments").await;
    let n = notifier(&server, &[]);
    let out = handle(
        &n,
        event(
            vec![record("m-1", &alert_json("payments-oncall"), None)],
            "r1",
        ),
    )
    .await
    .unwrap();
    assert_eq!(out["delivered"], 1);
    assert_eq!(out["records"][0]["channel"], "payments-oncall");
    let posts = received(&server, "/hooks/payments").await;
    assert_eq!(posts.len(), 1);
    let body = posts[0].to_string();
    assert!(posts[0]["text"].as_str().unwrap().starts_with("<!here> "));
    assert!(!body.contains("hunter2") && body.contains("&lt;!channel&gt;"));
    assert!(
        posts[0]["attachments"][0]["title_link"]
            .as_str()
            .unwrap()
            .contains("filterPattern$3DAUTH_FAILED")
    );
}

#[tokio::test]
async fn unknown_channel_goes_to_default_and_attribute_routes_other_messages() {
    let server = MockServer::start().await;
    ok_on(&server, "/hooks/default").await;
    ok_on(&server, "/hooks/payments").await;
    let n = notifier(&server, &[]);
    let out = handle(
        &n,
        event(
            vec![
                record("m-1", &alert_json("nobody-knows"), None),
                record("m-2", "deploy finished", Some("payments-oncall")),
                record("m-3", r#"{"some":"json"}"#, None),
            ],
            "r1",
        ),
    )
    .await
    .unwrap();
    assert_eq!(out["delivered"], 3);
    assert_eq!(received(&server, "/hooks/default").await.len(), 2);
    let text = received(&server, "/hooks/payments").await;
    assert_eq!(text[0]["attachments"][0]["text"], "deploy finished");
}

#[tokio::test]
async fn redelivered_message_posts_once() {
    let server = MockServer::start().await;
    ok_on(&server, "/hooks/default").await;
    let n = notifier(&server, &[]);
    let rec = record("same-id", &alert_json("default"), None);
    handle(&n, event(vec![rec.clone()], "r1")).await.unwrap();
    let out = handle(&n, event(vec![rec.clone()], "r2")).await.unwrap();
    assert_eq!(out["duplicates"], 1);
    assert_eq!(out["delivered"], 0);
    // Even the same request id (a Lambda retry) does not repost once delivered.
    handle(&n, event(vec![rec], "r1")).await.unwrap();
    assert_eq!(received(&server, "/hooks/default").await.len(), 1);
    assert_eq!(
        n.state.get("sns#same-id").await.unwrap().unwrap().body["state"],
        "delivered"
    );
}

#[tokio::test]
async fn concurrent_delivery_by_another_invocation_fails_for_a_later_retry() {
    let server = MockServer::start().await;
    ok_on(&server, "/hooks/default").await;
    let n = notifier(&server, &[]);
    let far = 4_000_000_000_000i64;
    let claim = StateRecord {
        version: 1,
        expires_at: 4_000_000_000,
        body: json!({"state": "claimed", "owner": "other-request", "until": far}),
    };
    n.state.put("sns#busy", &claim, None).await.unwrap();
    let err = handle(&n, event(vec![record("busy", "x", None)], "me"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another invocation"), "{err}");
    assert!(received(&server, "/hooks/default").await.is_empty());
    // Our own crashed attempt (same request id) is taken over and posted: a duplicate over a loss.
    let mine = StateRecord {
        body: json!({"state": "claimed", "owner": "me", "until": far}),
        ..claim
    };
    n.state.put("sns#crashed", &mine, None).await.unwrap();
    handle(&n, event(vec![record("crashed", "x", None)], "me"))
        .await
        .unwrap();
    assert_eq!(received(&server, "/hooks/default").await.len(), 1);
}

#[tokio::test]
async fn permanent_failure_fails_the_invocation_naming_the_channel_not_the_url() {
    let server = MockServer::start().await;
    ok_on(&server, "/hooks/default").await;
    Mock::given(method("POST"))
        .and(path("/hooks/archived"))
        .respond_with(ResponseTemplate::new(410).set_body_string("channel_is_archived"))
        .expect(2)
        .mount(&server)
        .await;
    let n = notifier(&server, &[]);
    let records = vec![
        record("good", "fine", None),
        record("bad", &alert_json("archived"), None),
    ];
    let err = handle(&n, event(records.clone(), "r1")).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("1 of 2")
            && msg.contains("\"archived\"")
            && msg.contains("channel_is_archived"),
        "{msg}"
    );
    assert!(
        !msg.contains(&server.uri()) && !msg.contains("/hooks/"),
        "{msg}"
    );
    // Lambda retries the invocation: the good record is not posted again, the bad one is retried.
    let err = handle(&n, event(records, "r1")).await.unwrap_err();
    assert!(err.to_string().contains("1 of 2"));
    assert_eq!(received(&server, "/hooks/default").await.len(), 1);
    assert_eq!(
        n.state.get("sns#bad").await.unwrap().unwrap().body["state"],
        "failed"
    );
}

#[tokio::test]
async fn missing_default_webhook_is_an_error_not_silence() {
    let server = MockServer::start().await;
    let mut n = notifier(&server, &[]);
    n.webhooks = Webhooks::fixed(BTreeMap::from([(
        "ops".into(),
        format!("{}/hooks/ops", server.uri()),
    )]));
    let err = handle(&n, event(vec![record("m", "hello", None)], "r"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no webhook for channel \"default\""),
        "{err}"
    );
}

#[tokio::test]
async fn block_kit_per_channel() {
    let server = MockServer::start().await;
    ok_on(&server, "/hooks/default").await;
    ok_on(&server, "/hooks/payments").await;
    let n = notifier(&server, &[("SLACK_BLOCKS_CHANNELS", "payments-oncall")]);
    handle(
        &n,
        event(
            vec![
                record("a", &alert_json("payments-oncall"), None),
                record("b", &alert_json("default"), None),
            ],
            "r",
        ),
    )
    .await
    .unwrap();
    assert!(received(&server, "/hooks/payments").await[0]["attachments"][0]["blocks"].is_array());
    assert!(received(&server, "/hooks/default").await[0]["attachments"][0]["blocks"].is_null());
}

#[tokio::test]
async fn alarms_are_posted_without_a_logs_client() {
    let server = MockServer::start().await;
    ok_on(&server, "/hooks/default").await;
    let n = notifier(&server, &[]);
    let alarm = json!({"AlarmName": "api-5xx", "NewStateValue": "OK", "OldStateValue": "ALARM",
        "StateChangeTime": "2023-11-14T22:13:20.000+0000",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-5xx",
        "Trigger": {"MetricName": "Errors", "Namespace": "app", "Period": 60, "EvaluationPeriods": 1}});
    handle(&n, event(vec![record("al", &alarm.to_string(), None)], "r"))
        .await
        .unwrap();
    let posts = received(&server, "/hooks/default").await;
    assert_eq!(posts[0]["attachments"][0]["color"], "#2eb886");
    assert_eq!(posts[0]["attachments"][0]["title"], "Resolved: api-5xx");
}

#[tokio::test]
async fn rate_limited_past_the_deadline_fails_so_lambda_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "120"))
        .expect(1)
        .mount(&server)
        .await;
    let n = notifier(&server, &[]);
    let mut ev = event(vec![record("rl", "x", None)], "r");
    ev.context.deadline = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 5_000) as u64;
    let err = handle(&n, ev).await.unwrap_err();
    assert!(err.to_string().contains("rate limit"), "{err}");
    // Not permanent: released for the retry, not counted as a permanent failure.
    assert_eq!(
        n.state.get("sns#rl").await.unwrap().unwrap().body["state"],
        "failed"
    );
}

fn alert_with_id(channel: &str, alert_id: &str) -> String {
    let mut v: Value = serde_json::from_str(&alert_json(channel)).unwrap();
    v["alert_id"] = json!(alert_id);
    v["incident_id"] = json!("inc-1");
    v.to_string()
}

#[tokio::test]
async fn one_alert_published_twice_posts_once() {
    // log-filter crashed after SNS accepted the alert and published it again from its outbox: two
    // SNS messages (two MessageIds), one alert_id.
    let server = MockServer::start().await;
    ok_on(&server, "/hooks/default").await;
    let n = notifier(&server, &[]);
    let body = alert_with_id("default", "a-42");
    let first = handle(&n, event(vec![record("m-1", &body, None)], "r1"))
        .await
        .unwrap();
    assert_eq!(first["delivered"], 1);
    let second = handle(&n, event(vec![record("m-2", &body, None)], "r2"))
        .await
        .unwrap();
    assert_eq!(
        (second["delivered"].as_u64(), second["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    // Both in one batch, too.
    let n2 = notifier(&server, &[]);
    let out = handle(
        &n2,
        event(
            vec![
                record("m-3", &alert_with_id("default", "a-43"), None),
                record("m-4", &alert_with_id("default", "a-43"), None),
            ],
            "r3",
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        (out["delivered"].as_u64(), out["duplicates"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(received(&server, "/hooks/default").await.len(), 2);
    assert_eq!(
        n.state.get("alert#a-42").await.unwrap().unwrap().body["state"],
        "delivered"
    );
    assert!(
        n.state.get("sns#m-1").await.unwrap().is_none(),
        "keyed on the alert id, not the MessageId"
    );
}

#[tokio::test]
async fn distinct_alert_ids_of_one_incident_each_post() {
    let server = MockServer::start().await;
    ok_on(&server, "/hooks/default").await;
    let n = notifier(&server, &[]);
    let out = handle(
        &n,
        event(
            vec![
                record("m-1", &alert_with_id("default", "a-1"), None),
                record("m-2", &alert_with_id("default", "a-2"), None),
            ],
            "r",
        ),
    )
    .await
    .unwrap();
    assert_eq!(out["delivered"], 2);
}

#[tokio::test]
async fn a_timeout_after_sending_is_counted_recorded_and_never_reposted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/default"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(2_000)))
        .mount(&server)
        .await;
    let n = notifier(&server, &[]);
    let body = alert_with_id("default", "a-slow");
    let out = handle(&n, event(vec![record("m-1", &body, None)], "r1"))
        .await
        .unwrap();
    // Not an invocation failure (a Lambda retry would post it again).
    assert_eq!(out["records"][0]["status"], "maybe-delivered");
    assert_eq!(
        (out["delivered"].as_u64(), out["maybe_delivered"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(
        n.state.get("alert#a-slow").await.unwrap().unwrap().body["state"],
        "maybe-delivered"
    );
    // The republished alert and a Lambda retry of the same invocation both leave it alone.
    handle(&n, event(vec![record("m-2", &body, None)], "r2"))
        .await
        .unwrap();
    handle(&n, event(vec![record("m-1", &body, None)], "r1"))
        .await
        .unwrap();
    assert_eq!(received(&server, "/hooks/default").await.len(), 1);
}

#[tokio::test]
async fn connect_failures_are_retried_and_fail_the_invocation_for_lambda() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = MockServer::start().await;
    let mut n = notifier(&server, &[]);
    n.webhooks = Webhooks::fixed(BTreeMap::from([(
        "default".into(),
        format!("http://127.0.0.1:{port}/hooks/down"),
    )]));
    let body = alert_with_id("default", "a-down");
    let err = handle(&n, event(vec![record("m-1", &body, None)], "r1"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
    assert_eq!(
        n.state.get("alert#a-down").await.unwrap().unwrap().body["state"],
        "failed",
        "released: the retry posts it"
    );
}

#[tokio::test]
async fn a_lambda_alarm_action_is_posted_as_an_alarm_once() {
    let server = MockServer::start().await;
    ok_on(&server, "/hooks/default").await;
    let n = notifier(&server, &[]);
    let payload: Value = serde_json::from_str(include_str!(
        "../../../shared/tests/fixtures/alarm-events/example-cloudwatch-alarm-metric.json"
    ))
    .unwrap();
    let ev = || LambdaEvent::new(payload.clone(), Context::default());
    let out = slack_notifier::handle_any(&n, ev()).await.unwrap();
    assert_eq!(out["delivered"], 1);
    // The same state change again (Lambda retries an async invocation): skipped.
    let again = slack_notifier::handle_any(&n, ev()).await.unwrap();
    assert_eq!(again["duplicates"], 1);
    let posts = received(&server, "/hooks/default").await;
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0]["attachments"][0]["title"],
        "ALARM: lambda-demo-metric-alarm"
    );
    // Not shown as raw JSON.
    assert!(!posts[0].to_string().contains("alarmData"));
    // Something else entirely fails the invocation (dead-lettered, not dropped).
    let err = slack_notifier::handle_any(
        &n,
        LambdaEvent::new(json!({"hello": 1}), Context::default()),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("neither an SNS event"), "{err}");
}

#[tokio::test]
async fn alarms_of_another_account_are_ignored() {
    let server = MockServer::start().await;
    ok_on(&server, "/hooks/default").await;
    let n = notifier(&server, &[]);
    let alarm = |account: &str| {
        json!({"AlarmName": "api-5xx", "NewStateValue": "ALARM", "OldStateValue": "OK",
            "AWSAccountId": account,
            "AlarmArn": format!("arn:aws:cloudwatch:us-east-1:{account}:alarm:api-5xx")})
        .to_string()
    };
    let mut ev = event(
        vec![
            record("theirs", &alarm("444455556666"), None),
            record("ours", &alarm("123456789012"), None),
        ],
        "r",
    );
    ev.context.invoked_function_arn =
        "arn:aws:lambda:us-east-1:123456789012:function:slack-notifier".into();
    let out = handle(&n, ev).await.unwrap();
    assert_eq!(out["records"][0]["status"], "ignored");
    assert_eq!(out["records"][1]["status"], "delivered");
    assert_eq!(received(&server, "/hooks/default").await.len(), 1);
}

/// A CloudWatch alarm state change delivered by an EventBridge rule targeting the function is
/// posted as an alarm (not raw JSON), once per event id; a composite alarm's Lambda action too.
#[tokio::test]
async fn eventbridge_and_composite_alarm_events_are_posted_as_alarms_once() {
    let server = MockServer::start().await;
    ok_on(&server, "/hooks/default").await;
    let n = notifier(&server, &[]);
    // As AWS documents "CloudWatch Alarm State Change" events.
    let eventbridge = json!({
        "version": "0", "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
        "account": "123456789012", "time": "2019-10-02T17:04:40Z", "region": "us-east-1",
        "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"],
        "detail": {
            "alarmName": "ServerCpuTooHigh",
            "configuration": {"description": "Goes into alarm when server CPU utilization is too high!",
                "metrics": [{"id": "30b6c6b2", "metricStat": {"metric": {
                    "dimensions": {"InstanceId": "i-12345678901234567"},
                    "name": "CPUUtilization", "namespace": "AWS/EC2"}, "period": 300, "stat": "Average"},
                    "returnData": true}]},
            "previousState": {"reason": "Threshold Crossed", "timestamp": "2019-10-02T17:04:40.985+0000", "value": "OK"},
            "state": {"reason": "Threshold Crossed: 1 out of the last 1 datapoints was greater than the threshold (0.0)",
                "timestamp": "2019-10-02T17:04:40.989+0000", "value": "ALARM"}
        }
    });
    let composite: Value = serde_json::from_str(include_str!(
        "../../../shared/tests/fixtures/alarm-events/example-cloudwatch-alarm-composite.json"
    ))
    .unwrap();
    for payload in [&eventbridge, &eventbridge, &composite, &composite] {
        slack_notifier::handle_any(&n, LambdaEvent::new(payload.clone(), Context::default()))
            .await
            .unwrap();
    }
    let posts = received(&server, "/hooks/default").await;
    assert_eq!(posts.len(), 2, "one post per state change");
    assert_eq!(
        posts[0]["attachments"][0]["title"],
        "ALARM: ServerCpuTooHigh"
    );
    let composite_name = composite["alarmData"]["alarmName"].as_str().unwrap();
    assert!(
        posts[1]["attachments"][0]["title"]
            .as_str()
            .unwrap()
            .contains(composite_name),
        "{}",
        posts[1]
    );
    for p in &posts {
        let text = p.to_string();
        assert!(
            !text.contains("alarmData") && !text.contains("\"detail\""),
            "{text}"
        );
    }
}
