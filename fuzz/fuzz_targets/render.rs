//! Every renderer (Slack layouts, Teams, PagerDuty, webhook), on any text in every place
//! log-derived text reaches: no panic, no Slack control sequence that logalert did not build (in
//! Slack payloads), and a secret planted between two arbitrary
//! texts (on its own line) never reaches the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logalert::alert::{AlertMessage, AlertRule, Sample, Severity};
use logalert::render::{Target, render_to};
use logalert::slack::{Incoming, RenderOptions, SlackFormat, render_alert, render_other};
use serde_json::Value;

const SECRET: &str = "ghp_Zq8Lm2Xv5Tn9Rb4Wc7Ky1Hd6Fs3Jp0Ga5Qe7";

/// Renderers: one line each (the destinations of `render::*` join here as they land).
fn renderers() -> Vec<(&'static str, Box<dyn Fn(&AlertMessage, &str) -> Value>)> {
    vec![
        (
            "slack-attachments",
            Box::new(|a, _| render_alert(a, &opts(SlackFormat::Attachments))),
        ),
        (
            "slack-blocks",
            Box::new(|a, _| render_alert(a, &opts(SlackFormat::Blocks))),
        ),
        (
            "slack-other",
            Box::new(|_, body| render_other(Some(body), body, &opts(SlackFormat::Blocks))),
        ),
        ("teams", Box::new(|a, _| to(&Target::Teams, a))),
        (
            "pagerduty",
            Box::new(|a, _| {
                to(
                    &Target::PagerDuty {
                        routing_key: "R0UTINGKEY".into(),
                    },
                    a,
                )
            }),
        ),
        ("webhook", Box::new(|a, _| to(&Target::Webhook, a))),
    ]
}

fn to(target: &Target, a: &AlertMessage) -> Value {
    let incoming = Incoming::Alert(Box::new(a.clone()));
    render_to(
        target,
        &incoming,
        None,
        None,
        &opts(SlackFormat::Attachments),
    )
}

fn opts(format: SlackFormat) -> RenderOptions {
    RenderOptions {
        format,
        ..RenderOptions::default()
    }
}

fn alert(text: &str) -> AlertMessage {
    AlertMessage {
        version: 1,
        kind: "log-match".into(),
        rule: AlertRule {
            name: text.into(),
            rule_type: "any".into(),
            severity: Severity::Error,
            description: Some(text.into()),
            // The rules file's pattern, the log group and stream are not log text: the console
            // links carry them as they are.
            filter_pattern: Some("ERROR".into()),
        },
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        log_group: "/app/api".into(),
        query_key: Some(text.into()),
        count: 2,
        suppressed: 0,
        first_timestamp: 1_700_000_000_000,
        last_timestamp: 1_700_000_001_000,
        samples: vec![
            Sample {
                id: "1".into(),
                timestamp: 1_700_000_000_000,
                log_stream: "s0".into(),
                message: text.into(),
                extracted: Default::default(),
            },
            Sample {
                id: "2".into(),
                timestamp: 1_700_000_001_000,
                log_stream: "s".into(),
                message: text.into(),
                extracted: Default::default(),
            },
        ],
        truncated: false,
        channel: "c".into(),
        mention: vec![],
        subject: Some(text.into()),
        text: Some(text.into()),
        alert_id: String::new(),
        incident_id: String::new(),
        decided_at: 0,
        observation: None,
        incident_opened_at: None,
        incident_total: None,
    }
}

fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        Value::Object(o) => o.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn check(name: &str, payload: &Value) {
    let mut all = Vec::new();
    strings(payload, &mut all);
    for s in all {
        assert!(
            !s.contains(SECRET),
            "{name}: planted secret survived: {s:.300}"
        );
        if !name.starts_with("slack") {
            continue; // Slack markup means nothing elsewhere (the webhook carries the text as data).
        }
        for (i, _) in s.match_indices("<!") {
            assert!(
                s[i..].starts_with("<!date^"),
                "{name}: foreign mention: {s:.300}"
            );
        }
        assert!(!s.contains("<@"), "{name}: foreign user mention: {s:.300}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = s.split_at(
        s.char_indices()
            .nth(s.chars().count() / 2)
            .map_or(s.len(), |(i, _)| i),
    );
    let planted = format!("{a}\n{SECRET}\n{b}");
    for text in [s, planted.as_str()] {
        let alert = alert(text);
        for (name, render) in renderers() {
            check(name, &render(&alert, text));
        }
    }
});
