//! AWS against a real moto server (run through `scripts/with-moto` or `scripts/test`): the webhook
//! map in Secrets Manager and SSM, alarm enrichment through CloudWatch Logs (DescribeMetricFilters +
//! FilterLogEvents), and the whole handler with DynamoDB de-duplication.
//!
//! moto's FilterLogEvents understands plain terms only, so the metric filters here use a plain term
//! (`AUTH_FAILED`); the events that must not match lack that term.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_lambda_events::event::sns::SnsEvent;
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, MetricTransformation};
use lambda_runtime::{Context, LambdaEvent};
use logalert::alarm::AlarmNotification;
use logalert::state::StateStore;
use serde_json::{Value, json};
use slack_notifier::config::Config;
use slack_notifier::deliver::Deliverer;
use slack_notifier::route::{RouteError, WebhookSource, Webhooks};
use slack_notifier::{Notifier, enrich, handle};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn aws() -> SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run through scripts/with-moto or scripts/test"
    );
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// A name unique to this test process and call (tests share one moto server).
fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn alarm_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

#[tokio::test]
async fn webhooks_from_secrets_manager_are_read_once() {
    let sdk = aws().await;
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let id = unique("hooks");
    let map = json!({"default": "https://hooks.example/d", "ops": "https://hooks.example/o"});
    sm.create_secret()
        .name(&id)
        .secret_string(map.to_string())
        .send()
        .await
        .unwrap();
    let hooks = Webhooks::new(
        WebhookSource::SecretsManager(id.clone()),
        Some(sm.clone()),
        None,
    );
    assert_eq!(
        hooks.resolve("ops").await.unwrap().1.url().expose(),
        "https://hooks.example/o"
    );
    assert_eq!(hooks.resolve("nope").await.unwrap().0, "default");
    // Changed in AWS: this container keeps its cached copy.
    sm.put_secret_value()
        .secret_id(&id)
        .secret_string(json!({"default": "https://hooks.example/new"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        hooks.resolve("ops").await.unwrap().1.url().expose(),
        "https://hooks.example/o"
    );
    // A new container reads the new map.
    let fresh = Webhooks::new(WebhookSource::SecretsManager(id), Some(sm), None);
    assert_eq!(
        fresh.resolve("ops").await.unwrap().1.url().expose(),
        "https://hooks.example/new"
    );
}

#[tokio::test]
async fn webhooks_from_an_ssm_secure_string() {
    let sdk = aws().await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let name = format!("/{}", unique("logalert/hooks"));
    ssm.put_parameter()
        .name(&name)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .value(json!({"default": "https://hooks.example/ssm"}).to_string())
        .send()
        .await
        .unwrap();
    let hooks = Webhooks::new(WebhookSource::Ssm(name), None, Some(ssm));
    assert_eq!(
        hooks.resolve("x").await.unwrap().1.url().expose(),
        "https://hooks.example/ssm"
    );
}

#[tokio::test]
async fn webhook_map_errors_are_clear_and_never_contain_urls() {
    let sdk = aws().await;
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let missing = Webhooks::new(
        WebhookSource::SecretsManager(unique("absent")),
        Some(sm.clone()),
        None,
    );
    let err = missing.resolve("default").await.unwrap_err();
    assert!(
        err.is_transient() && err.to_string().contains("cannot read the webhook map"),
        "{err}"
    );
    let id = unique("bad-hooks");
    sm.create_secret()
        .name(&id)
        .secret_string(r#"{"default":"https://hooks.slack.com/services/SECRET","ops":42}"#)
        .send()
        .await
        .unwrap();
    let bad = Webhooks::new(WebhookSource::SecretsManager(id), Some(sm), None);
    let err = bad.resolve("default").await.unwrap_err();
    assert!(matches!(err, RouteError::BadMap { .. }) && !err.is_transient());
    assert!(
        err.to_string().contains("\"ops\"") && !err.to_string().contains("SECRET"),
        "{err}"
    );
}

/// A log group with a metric filter on `AUTH_FAILED` and three events, two of them matching.
async fn log_metric(sdk: &SdkConfig) -> (String, String, String, i64) {
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
    let group = format!("/aws/lambda/{}", unique("payments"));
    let (namespace, metric) = (unique("ns"), unique("AuthFailures"));
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name(&group)
        .log_stream_name("2023/11/14/[$LATEST]abc")
        .send()
        .await
        .unwrap();
    let t = now_ms() - 30_000;
    let events = [
        (t, "AUTH_FAILED user=1 password=hunter2 <!channel>"),
        (t + 1_000, "GET /health 200"),
        (t + 2_000, r#"{"event":"AUTH_FAILED","user":2}"#),
    ];
    let mut req = logs
        .put_log_events()
        .log_group_name(&group)
        .log_stream_name("2023/11/14/[$LATEST]abc");
    for (ts, msg) in events {
        req = req.log_events(
            InputLogEvent::builder()
                .timestamp(ts)
                .message(msg)
                .build()
                .unwrap(),
        );
    }
    req.send().await.unwrap();
    logs.put_metric_filter()
        .log_group_name(&group)
        .filter_name(unique("auth-failures"))
        .filter_pattern("AUTH_FAILED")
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name(&metric)
                .metric_namespace(&namespace)
                .metric_value("1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (group, namespace, metric, t)
}

fn alarm_json(namespace: &str, metric: &str, state: &str, old: &str) -> Value {
    json!({
        "AlarmName": "auth-failures-high", "AWSAccountId": "123456789012",
        "NewStateValue": state, "OldStateValue": old,
        "NewStateReason": "Threshold Crossed: 1 datapoint [2.0] was >= 1.0",
        "StateChangeTime": alarm_time(now_ms()),
        "Region": "US East (N. Virginia)",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:auth-failures-high",
        "Trigger": {"MetricName": metric, "Namespace": namespace, "Statistic": "SUM", "Period": 60,
                    "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "Threshold": 1.0, "Dimensions": []}
    })
}

#[tokio::test]
async fn enrichment_finds_the_log_lines_behind_an_alarm() {
    let sdk = aws().await;
    let (group, namespace, metric, t) = log_metric(&sdk).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let alarm: AlarmNotification =
        serde_json::from_value(alarm_json(&namespace, &metric, "ALARM", "OK")).unwrap();
    let found = enrich::alarm_logs(&logs, &alarm, 5)
        .await
        .expect("a metric to look up");
    assert_eq!(found.failure, None);
    assert_eq!(found.sources.len(), 1);
    let source = &found.sources[0];
    assert_eq!(
        (source.log_group.as_str(), source.filter_pattern.as_str()),
        (group.as_str(), "AUTH_FAILED")
    );
    let messages: Vec<&str> = source.events.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages.iter().all(|m| m.contains("AUTH_FAILED")));
    assert_eq!(source.events[0].timestamp, t);
    assert_eq!(source.events[0].log_stream, "2023/11/14/[$LATEST]abc");
    // At most `max_events`.
    let one = enrich::alarm_logs(&logs, &alarm, 1).await.unwrap();
    assert_eq!(one.sources[0].events.len(), 1);
}

#[tokio::test]
async fn alarm_on_a_metric_without_a_filter_has_no_sources_and_no_failure() {
    let sdk = aws().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let alarm: AlarmNotification =
        serde_json::from_value(alarm_json("AWS/Lambda", &unique("Errors"), "ALARM", "OK")).unwrap();
    let found = enrich::alarm_logs(&logs, &alarm, 5).await.unwrap();
    assert!(
        found.sources.is_empty() && found.failure.is_none(),
        "{found:?}"
    );
}

fn sns_event(message_id: &str, message: &str) -> LambdaEvent<SnsEvent> {
    let payload: SnsEvent = serde_json::from_value(json!({"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:alerts:s",
        "Sns": {"Type": "Notification", "MessageId": message_id, "TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
                "Subject": "ALARM: \"auth-failures-high\"", "Message": message, "Timestamp": "2023-11-14T22:14:03.000Z",
                "SignatureVersion": "1", "Signature": "x", "SigningCertUrl": "https://sns.example/c",
                "UnsubscribeUrl": "https://sns.example/u", "MessageAttributes": {}}
    }]}))
    .unwrap();
    let mut ctx = Context::default();
    ctx.request_id = unique("req");
    LambdaEvent::new(payload, ctx)
}

async fn notifier(
    sdk: &SdkConfig,
    slack: &MockServer,
    logs: aws_sdk_cloudwatchlogs::Client,
) -> Notifier<logalert_dynamodb::DynamoStateStore> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let table = unique("logalert-state");
    ddb.create_table()
        .table_name(&table)
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let sm = aws_sdk_secretsmanager::Client::new(sdk);
    let secret = unique("hooks");
    sm.create_secret()
        .name(&secret)
        .secret_string(json!({"default": format!("{}/hooks/default", slack.uri())}).to_string())
        .send()
        .await
        .unwrap();
    let env = BTreeMap::from([
        ("WEBHOOKS_SECRET_ID", secret.clone()),
        ("STATE_TABLE", table.clone()),
    ]);
    let config = Config::from_env(|k| env.get(k).cloned()).unwrap();
    Notifier {
        state: logalert_dynamodb::DynamoStateStore::new(ddb, table),
        webhooks: Webhooks::new(config.webhook_source.clone(), Some(sm), None),
        deliverer: Deliverer::new(Duration::from_secs(2)).unwrap(),
        pacer: Default::default(),
        logs: Some(logs),
        config,
    }
}

async fn posts(slack: &MockServer) -> Vec<Value> {
    slack
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn handler_enriches_an_alarm_and_posts_it_once() {
    let sdk = aws().await;
    let (_group, namespace, metric, _) = log_metric(&sdk).await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&slack)
        .await;
    let n = notifier(&sdk, &slack, aws_sdk_cloudwatchlogs::Client::new(&sdk)).await;
    let message = alarm_json(&namespace, &metric, "ALARM", "OK").to_string();
    let out = handle(&n, sns_event("alarm-1", &message)).await.unwrap();
    assert_eq!(out["delivered"], 1);
    // SNS delivers it again (another request id): DynamoDB remembers.
    let out = handle(&n, sns_event("alarm-1", &message)).await.unwrap();
    assert_eq!(out["duplicates"], 1);
    let posts = posts(&slack).await;
    assert_eq!(posts.len(), 1);
    let text = posts[0]["attachments"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("AUTH_FAILED user=1 password=[REDACTED] &lt;!channel&gt;"),
        "{text}"
    );
    assert!(text.contains("\"event\": \"AUTH_FAILED\""), "{text}");
    assert!(!text.contains("GET /health"));
    assert!(
        posts[0]["attachments"][0]["footer"]
            .as_str()
            .unwrap()
            .contains("logs-insights")
    );
    // Resolved: posted green, no enrichment needed.
    let ok = alarm_json(&namespace, &metric, "OK", "ALARM").to_string();
    handle(&n, sns_event("alarm-2", &ok)).await.unwrap();
    let posts = self::posts(&slack).await;
    assert_eq!(posts[1]["attachments"][0]["color"], "#2eb886");
}

#[tokio::test]
async fn enrichment_failure_degrades_to_the_plain_alarm() {
    let sdk = aws().await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&slack)
        .await;
    // CloudWatch Logs that cannot be reached: a loopback port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = aws_sdk_cloudwatchlogs::Client::from_conf(
        aws_sdk_cloudwatchlogs::config::Builder::from(&sdk)
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .build(),
    );
    let n = notifier(&sdk, &slack, dead).await;
    let message = alarm_json("payments", &unique("AuthFailures"), "ALARM", "OK").to_string();
    handle(&n, sns_event(&unique("alarm"), &message))
        .await
        .unwrap();
    let posts = posts(&slack).await;
    assert_eq!(posts.len(), 1, "posted despite the enrichment failure");
    let att = &posts[0]["attachments"][0];
    assert_eq!(att["title"], "ALARM: auth-failures-high");
    assert!(
        att["text"]
            .as_str()
            .unwrap()
            .contains("Could not fetch the log lines behind this alarm")
    );
}

fn alert_with_id(alert_id: &str) -> String {
    json!({
        "version": 1, "kind": "log-match", "alert_id": alert_id, "incident_id": "inc-1",
        "rule": {"name": "auth", "type": "any", "severity": "error", "description": null},
        "account": "123456789012", "region": "us-east-1", "log_group": "/app", "query_key": null,
        "count": 1, "suppressed": 0, "first_timestamp": 1700000000000i64, "last_timestamp": 1700000000000i64,
        "samples": [], "truncated": false, "channel": "default", "mention": []
    })
    .to_string()
}

#[tokio::test]
async fn one_alert_published_twice_is_one_post_through_dynamodb() {
    let sdk = aws().await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&slack)
        .await;
    let n = notifier(&sdk, &slack, aws_sdk_cloudwatchlogs::Client::new(&sdk)).await;
    let id = unique("alert");
    let body = alert_with_id(&id);
    // Two SNS messages (log-filter republished from its outbox), one alert id.
    let first = handle(&n, sns_event(&unique("m"), &body)).await.unwrap();
    let second = handle(&n, sns_event(&unique("m"), &body)).await.unwrap();
    assert_eq!(
        (first["delivered"].as_u64(), second["duplicates"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(posts(&slack).await.len(), 1);
    let item = n.state.get(&format!("alert#{id}")).await.unwrap().unwrap();
    assert_eq!(item.body["state"], "delivered");
}

#[tokio::test]
async fn maybe_delivered_is_remembered_in_dynamodb() {
    let sdk = aws().await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(3_000)))
        .mount(&slack)
        .await;
    let n = notifier(&sdk, &slack, aws_sdk_cloudwatchlogs::Client::new(&sdk)).await;
    let id = unique("alert");
    let body = alert_with_id(&id);
    let out = handle(&n, sns_event(&unique("m"), &body)).await.unwrap();
    assert_eq!(out["maybe_delivered"], 1);
    let again = handle(&n, sns_event(&unique("m"), &body)).await.unwrap();
    assert_eq!(again["duplicates"], 1);
    assert_eq!(slack.received_requests().await.unwrap().len(), 1);
    let item = n.state.get(&format!("alert#{id}")).await.unwrap().unwrap();
    assert_eq!(item.body["state"], "maybe-delivered");
}
