//! `logalert replay --slack` / `--to DESTINATION`: the real binary prints, for every publication
//! `replay` would make, exactly the body the shared renderer (and so slack-notifier) makes of the SNS
//! message for that destination.

use std::process::Command;

use logalert::alert::AlertMessage;
use logalert::render::{Target, render_to};
use logalert::slack::{Incoming, RenderOptions, SlackFormat, render_alert};
use serde_json::Value;

fn replay(extra: &[&str]) -> Vec<Value> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut args = vec!["replay", "--rules", "examples/rules.yaml"];
    args.extend_from_slice(extra);
    let payloads: Vec<String> = std::fs::read_dir(format!("{root}/examples/payloads"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    let mut payloads = payloads;
    payloads.sort();
    let out = Command::new(env!("CARGO_BIN_EXE_logalert"))
        .args(&args)
        .args(&payloads)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn check(format: SlackFormat, extra: &[&str]) {
    let published = replay(&[]);
    let slack = replay(extra);
    assert!(!published.is_empty(), "the examples produce alerts");
    assert_eq!(published.len(), slack.len(), "one Slack payload per alert");
    let opts = RenderOptions {
        format,
        ..RenderOptions::default()
    };
    for (p, s) in published.iter().zip(&slack) {
        let alert: AlertMessage = serde_json::from_value(p["message"].clone()).unwrap();
        assert_eq!(s["channel"], Value::String(alert.channel.clone()));
        assert_eq!(
            s["payload"],
            render_alert(&alert, &opts),
            "payload for {}",
            alert.rule.name
        );
    }
}

#[test]
fn slack_output_is_the_rendered_alerts() {
    check(SlackFormat::Attachments, &["--slack"]);
}

#[test]
fn slack_blocks_output_is_the_rendered_alerts() {
    check(SlackFormat::Blocks, &["--slack", "--format", "blocks"]);
}

/// `--to D`: one line per publication, `{"channel","to","payload"}`, the payload exactly what
/// `render_to` makes of the SNS message (body and Subject) replay would publish.
fn check_to(to: &str) -> Vec<Value> {
    let published = replay(&[]);
    let lines = replay(&["--to", to]);
    assert_eq!(
        published.len(),
        lines.len(),
        "one {to} body per publication"
    );
    let target = Target::parse(to, SlackFormat::Attachments).unwrap();
    let opts = RenderOptions::default();
    for (p, line) in published.iter().zip(&lines) {
        let body = p["message"].to_string();
        let incoming = Incoming::classify(&body);
        let expected = render_to(&target, &incoming, p["subject"].as_str(), None, &opts);
        assert_eq!(
            line["payload"], expected,
            "{to} body for {}",
            p["message"]["rule"]["name"]
        );
        assert_eq!(line["channel"], p["message"]["channel"]);
        if to != "slack" {
            assert_eq!(line["to"], to);
        }
    }
    lines
}

#[test]
fn to_slack_is_the_same_as_slack() {
    assert_eq!(replay(&["--to", "slack"]), replay(&["--slack"]));
    assert_eq!(
        replay(&["--to", "slack", "--format", "blocks"]),
        replay(&["--slack", "--format", "blocks"])
    );
}

#[test]
fn to_teams_prints_adaptive_cards() {
    for line in check_to("teams") {
        let p = &line["payload"];
        assert_eq!(p["type"], "message");
        assert_eq!(
            p["attachments"][0]["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(p["attachments"][0]["content"]["version"], "1.5");
    }
}

#[test]
fn to_pagerduty_prints_events_keyed_by_incident() {
    let published = replay(&[]);
    for (p, line) in published.iter().zip(check_to("pagerduty")) {
        let e = &line["payload"];
        let action = if p["message"]["kind"] == "resolved" {
            "resolve"
        } else {
            "trigger"
        };
        assert_eq!(e["event_action"], action, "{e}");
        assert_eq!(e["dedup_key"], p["message"]["incident_id"], "{e}");
        assert_eq!(e["routing_key"], "<routing key>");
        if action == "trigger" {
            assert!(e["payload"]["summary"].as_str().unwrap().chars().count() <= 1024);
        }
    }
}

#[test]
fn to_webhook_prints_the_alert_json() {
    let published = replay(&[]);
    for (p, line) in published.iter().zip(check_to("webhook")) {
        assert_eq!(line["payload"]["alert_id"], p["message"]["alert_id"]);
        assert_eq!(line["payload"]["kind"], p["message"]["kind"]);
    }
}

#[test]
fn format_with_another_destination_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_logalert"))
        .args([
            "replay", "--rules", "x.yaml", "--to", "teams", "--format", "blocks", "in.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--to slack"));
    let out = Command::new(env!("CARGO_BIN_EXE_logalert"))
        .args(["replay", "--rules", "x.yaml", "--to", "fax", "in.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("teams"));
}

#[test]
fn format_without_slack_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_logalert"))
        .args([
            "replay", "--rules", "x.yaml", "--format", "blocks", "in.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--slack"));
}

/// An incident through the real binary with `--to pagerduty`: trigger(s), then `resolve` after
/// `resolve_after` of silence, all with the incident's id as `dedup_key`.
#[test]
fn to_pagerduty_triggers_then_resolves_one_incident() {
    let dir = std::env::temp_dir().join(format!("logalert-replay-to-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.yaml");
    std::fs::write(
        &rules,
        "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 5m\n    resolve_after: 10m\n    severity: warning\n",
    )
    .unwrap();
    let log = dir.join("app.log");
    std::fs::write(
        &log,
        "2026-11-25T10:00:00Z ERROR first\n2026-11-25T10:01:00Z ERROR second\n2026-11-25T10:07:00Z ERROR third\n",
    )
    .unwrap();
    let run = |to: &str| -> Vec<Value> {
        let out = Command::new(env!("CARGO_BIN_EXE_logalert"))
            .args(["replay", "-q", "--rules"])
            .arg(&rules)
            .args(["--to", to])
            .arg(&log)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let events: Vec<Value> = run("pagerduty")
        .into_iter()
        .map(|l| l["payload"].clone())
        .collect();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["event_action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.first(), Some(&"trigger"), "{events:?}");
    assert_eq!(actions.last(), Some(&"resolve"), "{events:?}");
    assert_eq!(
        actions.iter().filter(|a| **a == "resolve").count(),
        1,
        "{events:?}"
    );
    let key = &events[0]["dedup_key"];
    assert!(key.as_str().is_some_and(|k| !k.is_empty()));
    assert!(events.iter().all(|e| &e["dedup_key"] == key), "{events:?}");
    assert_eq!(events[0]["payload"]["severity"], "warning");
    // The same publications, for a webhook: the alert JSON, ending in `resolved`.
    let bodies = run("webhook");
    assert_eq!(bodies.len(), events.len());
    assert_eq!(bodies.last().unwrap()["payload"]["kind"], "resolved");
    let _ = std::fs::remove_dir_all(&dir);
}
