//! `logalert-slack render --to D --post …`: the real binary renders exactly what `logalert render`
//! prints and delivers it to each destination type (a real HTTP server: wiremock), with the
//! notifier's client; a rejected delivery exits 1 without printing the URL or the credential.

use std::process::{Command, Output};

use logalert::render::webhook;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/tests/fixtures/slack/alert-v1.json"
);

async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_logalert-slack"))
            .arg("render")
            .args(&args)
            .arg("--compact")
            .arg(FIXTURE)
            .env_remove("LOGALERT_SLACK_WEBHOOK")
            .env_remove("LOGALERT_PAGERDUTY_ROUTING_KEY")
            .env_remove("LOGALERT_WEBHOOK_SECRET")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

async fn server(p: &str, status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(p))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

fn printed(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn only_request(server: &MockServer) -> Request {
    let mut reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 1);
    reqs.remove(0)
}

#[tokio::test]
async fn posts_to_slack_teams_and_a_signed_webhook_what_it_prints() {
    for to in ["slack", "teams", "webhook"] {
        let server = server("/in", 200).await;
        let url = format!("{}/in", server.uri());
        let mut args = vec!["--to".to_string(), to.into(), "--post".into(), url];
        if to == "webhook" {
            args.extend(["--secret".to_string(), "whsec_cli".into()]);
        }
        let out = run(args).await;
        let printed = printed(&out);
        let req = only_request(&server).await;
        let sent: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(sent, printed, "{to}: sent what it printed");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("posted"), "{stderr}");
        if to == "webhook" {
            let h = |n: &str| req.headers.get(n).unwrap().to_str().unwrap().to_string();
            webhook::verify(
                b"whsec_cli",
                &h("logalert-timestamp"),
                &req.body,
                &h("logalert-signature"),
                jiff::Timestamp::now().as_second(),
                300,
            )
            .expect("signed with --secret");
            // The fixture is a v1 alert (no alert_id): the key falls back to the message id.
            let id = sent["alert_id"]
                .as_str()
                .filter(|s| !s.is_empty())
                .unwrap_or("sns:cli");
            assert_eq!(h("logalert-alert-id"), id);
        }
        if to == "teams" {
            assert_eq!(sent["attachments"][0]["content"]["type"], "AdaptiveCard");
        }
    }
}

#[tokio::test]
async fn posts_to_pagerduty_with_the_routing_key_it_never_prints() {
    let server = server("/v2/enqueue", 202).await;
    let out = run(vec![
        "--to".into(),
        "pagerduty".into(),
        "--routing-key".into(),
        "RKEY-SECRET-123".into(),
        "--post".into(),
        format!("{}/v2/enqueue", server.uri()),
    ])
    .await;
    let printed = printed(&out);
    assert_eq!(printed["routing_key"], "<routing key>");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("RKEY-SECRET-123"));
    let sent: Value = serde_json::from_slice(&only_request(&server).await.body).unwrap();
    assert_eq!(sent["routing_key"], "RKEY-SECRET-123");
    let mut without_key = sent.clone();
    without_key["routing_key"] = printed["routing_key"].clone();
    assert_eq!(without_key, printed);
    assert_eq!(sent["event_action"], "trigger");
    // The v1 fixture has no incident: a fallback key, printed as sent.
    assert_eq!(sent["dedup_key"], "sns:cli");
}

#[tokio::test]
async fn a_rejected_post_exits_1_without_the_url() {
    let server = server("/services/T000/B000/SECRETPATH", 404).await;
    let out = run(vec![
        "--post".into(),
        format!("{}/services/T000/B000/SECRETPATH", server.uri()),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not posted") && stderr.contains("HTTP 404"),
        "{stderr}"
    );
    assert!(!stderr.contains("SECRETPATH"), "{stderr}");
}

#[tokio::test]
async fn missing_credentials_and_plain_http_are_usage_errors() {
    for (args, expect) in [
        (
            vec!["--to", "webhook", "--post", "https://example.com/h"],
            "--secret",
        ),
        (
            vec!["--to", "pagerduty", "--post", "https://example.com/e"],
            "--routing-key",
        ),
        (
            vec!["--to", "teams", "--post", "http://example.com/w"],
            "https://",
        ),
    ] {
        let out = run(args.into_iter().map(String::from).collect()).await;
        assert_eq!(out.status.code(), Some(2), "{expect}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expect), "{stderr}");
    }
}

/// `--token`/`--channel-id`: posts as the Slack app does — an SNS event holding one incident's
/// alerts becomes a parent, a reply in its thread with the parent edited, and on `resolved` a reply
/// and the parent edited again.
#[tokio::test]
async fn posts_as_the_slack_app_with_threads() {
    let server = MockServer::start().await;
    let n = std::sync::atomic::AtomicU32::new(0);
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer xoxb-cli-token",
        ))
        .respond_with(move |_: &Request| {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"ok": true, "ts": format!("10.{i}")}))
        })
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.update"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .mount(&server)
        .await;
    let alert = |kind: &str, id: &str, count: u64| {
        serde_json::json!({
            "version": 1, "kind": kind, "alert_id": id, "incident_id": "inc-cli",
            "decided_at": 1_700_000_060_000i64, "incident_opened_at": 1_700_000_000_000i64,
            "incident_total": 3,
            "rule": {"name": "cli-rule", "type": "any", "severity": "error", "description": null},
            "account": "123456789012", "region": "us-east-1", "log_group": "/aws/lambda/x",
            "query_key": null, "count": count, "suppressed": 0,
            "first_timestamp": 1_700_000_000_000i64, "last_timestamp": 1_700_000_030_000i64,
            "samples": [], "truncated": false, "channel": "default", "mention": []
        })
        .to_string()
    };
    let records: Vec<Value> = [
        ("log-match", "c-1", 1),
        ("log-match", "c-2", 2),
        ("resolved", "c-3", 0),
    ]
    .iter()
    .map(|(kind, id, count)| {
        serde_json::json!({"EventSource": "aws:sns", "Sns": {"MessageId": id,
                "Message": alert(kind, id, *count), "MessageAttributes": {}}})
    })
    .collect();
    let input =
        std::env::temp_dir().join(format!("logalert-slack-app-{}.json", std::process::id()));
    std::fs::write(&input, serde_json::json!({"Records": records}).to_string()).unwrap();
    let api = format!("{}/api", server.uri());
    let input_arg = input.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_logalert-slack"))
            .args([
                "render",
                "--compact",
                "--token",
                "xoxb-cli-token",
                "--channel-id",
                "C0CLITEST",
            ])
            .args(["--post", &api])
            .arg(&input_arg)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let _ = std::fs::remove_file(&input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("xoxb-cli-token"));
    let reqs = server.received_requests().await.unwrap();
    let calls: Vec<(String, Value)> = reqs
        .iter()
        .map(|r| {
            (
                r.url.path().to_string(),
                serde_json::from_slice(&r.body).unwrap(),
            )
        })
        .collect();
    let paths: Vec<&str> = calls.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/chat.postMessage",
            "/api/chat.postMessage",
            "/api/chat.update",
            "/api/chat.postMessage",
            "/api/chat.update"
        ]
    );
    assert!(calls.iter().all(|(_, b)| b["channel"] == "C0CLITEST"));
    assert_eq!(calls[1].1["thread_ts"], "10.0");
    assert_eq!(calls[3].1["thread_ts"], "10.0");
    assert_eq!(calls[4].1["ts"], "10.0");
}

#[tokio::test]
async fn slack_app_flags_are_checked_like_the_secret() {
    for (args, expect) in [
        (
            vec!["--token", "xoxp-user-token", "--channel-id", "C0CLITEST"],
            "xoxb",
        ),
        (
            vec!["--token", "xoxb-t", "--channel-id", "#general"],
            "channel id",
        ),
        (
            vec![
                "--to",
                "teams",
                "--token",
                "xoxb-t",
                "--channel-id",
                "C0CLITEST",
            ],
            "--to slack",
        ),
    ] {
        let out = run(args.into_iter().map(String::from).collect()).await;
        assert_eq!(out.status.code(), Some(2), "{expect}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expect), "{stderr}");
        assert!(!stderr.contains("xoxp-user-token"), "{stderr}");
    }
}
