//! `logalert replay --slack`: the real binary prints, for every alert `replay` would publish, exactly
//! the Slack payload the shared renderer (and so slack-notifier) makes of it.

use std::process::Command;

use logalert::alert::AlertMessage;
use logalert::slack::{RenderOptions, SlackFormat, render_alert};
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
