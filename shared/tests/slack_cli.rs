//! `logalert render`: the real binary on fixture files and stdin.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

fn logalert(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logalert"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .spawn()
        .unwrap();
    // The child may exit (e.g. on a usage error) before reading stdin: a broken pipe here is fine,
    // the exit status and stderr below are what the tests judge.
    let written = child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or("").as_bytes());
    if let Err(e) = written {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "writing stdin: {e}"
        );
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn renders_a_message_body_file() {
    let (code, out, err) = logalert(&["render", "tests/fixtures/slack/alert-v1.json"], None);
    assert_eq!(code, 0, "{err}");
    let payload: Value = serde_json::from_str(&out).unwrap();
    assert!(
        payload["text"]
            .as_str()
            .unwrap()
            .starts_with("<!here> :red_circle: *ERROR*")
    );
    assert_eq!(payload["attachments"][0]["title"], "payments-auth-failures");
    let text = payload["attachments"][0]["text"].as_str().unwrap();
    assert!(text.contains("[REDACTED]") && !text.contains("hunter2"));
}

#[test]
fn renders_every_record_of_an_sns_event_compactly() {
    let (code, out, err) = logalert(
        &[
            "render",
            "--compact",
            "--format",
            "blocks",
            "tests/fixtures/slack/sns-event.json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let payloads: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(payloads.len(), 3);
    assert!(
        payloads
            .iter()
            .all(|p| p["attachments"][0]["blocks"].is_array())
    );
    assert_eq!(
        payloads[1]["attachments"][0]["color"], "#2eb886",
        "OK after ALARM is resolved"
    );
    let text = payloads[2]["attachments"][0]["blocks"].to_string();
    assert!(text.contains("&lt;!channel&gt;") && !text.contains("<!channel>"));
}

#[test]
fn reads_stdin_and_plain_text() {
    let (code, out, _) = logalert(&["render", "-"], Some("disk full on db-1\n"));
    assert_eq!(code, 0);
    let payload: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(payload["attachments"][0]["text"], "disk full on db-1");
    assert_eq!(
        payload["attachments"][0]["mrkdwn_in"],
        serde_json::json!([])
    );
}

#[test]
fn redaction_flags() {
    let body = "login password=hunter2 pin=1234";
    let (_, out, _) = logalert(&["render", "--redact-pattern", r"pin=\d+"], Some(body));
    assert!(!out.contains("hunter2") && !out.contains("1234"), "{out}");
    let (_, out, _) = logalert(&["render", "--no-redact"], Some(body));
    assert!(out.contains("hunter2"));
    let (code, _, err) = logalert(&["render", "--redact-pattern", "(bad"], Some(body));
    assert_eq!(code, 2);
    assert!(err.contains("(bad"), "{err}");
}

#[test]
fn errors_are_clear() {
    let (code, _, err) = logalert(&["render", "tests/fixtures/slack/missing.json"], None);
    assert_eq!(code, 2);
    assert!(err.contains("missing.json: cannot read"), "{err}");
    let (code, _, err) = logalert(&["render"], Some("  \n"));
    assert_eq!(code, 2);
    assert!(err.contains("empty input"), "{err}");
    let (code, _, err) = logalert(
        &["render", "--post", "https://hooks.slack.com/x"],
        Some("x"),
    );
    assert_eq!(code, 2);
    assert!(err.contains("logalert-slack"), "{err}");
    assert!(
        !err.contains("hooks.slack.com"),
        "the webhook URL is never echoed"
    );
    let (code, _, err) = logalert(&["render", "--format", "fancy"], Some("x"));
    assert_eq!(code, 2);
    assert!(err.contains("attachments or blocks"), "{err}");
}

#[test]
fn renders_for_every_destination() {
    let input = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/slack/alert-v1.json"
    ))
    .unwrap();
    let body = |to: &str| {
        let (code, out, err) = logalert(&["render", "--to", to], Some(&input));
        assert_eq!(code, 0, "{to}: {err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    assert!(body("slack")["attachments"].is_array());
    let teams = body("teams");
    assert_eq!(teams["type"], "message");
    assert_eq!(teams["attachments"][0]["content"]["version"], "1.5");
    let pd = body("pagerduty");
    assert_eq!(pd["event_action"], "trigger");
    assert_eq!(pd["routing_key"], "<routing key>");
    assert_eq!(body("webhook")["kind"], "log-match");
    let (code, _, err) = logalert(&["render", "--to", "fax"], Some(&input));
    assert_eq!(code, 2);
    assert!(err.contains("teams") && err.contains("pagerduty"), "{err}");
}
