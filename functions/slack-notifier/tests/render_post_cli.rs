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
