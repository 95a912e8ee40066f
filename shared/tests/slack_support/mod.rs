//! Builders and invariant checks shared by the `slack_*` integration tests.
#![allow(dead_code)]

use logalert::alarm::{AlarmEnrichment, AlarmLogEvent, AlarmLogs, AlarmNotification};
use logalert::alert::{AlertMessage, AlertRule, Mention, Sample, Severity};
use logalert::slack::limits::slack_len;
use regex::Regex;
use serde_json::{Value, json};

pub const T0: i64 = 1_700_000_000_000;

pub fn sample(i: i64, stream: &str, message: &str) -> Sample {
    Sample {
        id: format!("{:056}", i),
        timestamp: T0 + i * 1_000,
        log_stream: stream.to_string(),
        message: message.to_string(),
        extracted: Default::default(),
        fields: Default::default(),
    }
}

pub fn alert(severity: Severity, samples: Vec<Sample>) -> AlertMessage {
    let count = samples.len() as u64;
    let last = samples.iter().map(|s| s.timestamp).max().unwrap_or(T0);
    AlertMessage {
        version: 1,
        kind: "log-match".into(),
        rule: AlertRule {
            name: "payments-auth-failures".into(),
            rule_type: "any".into(),
            severity,
            description: Some("Authentication failures in the payments API".into()),
            filter_pattern: Some(r#"{ $.logType = "ERROR" }"#.into()),
        },
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        log_group: "/aws/lambda/payments-api".into(),
        query_key: None,
        count,
        suppressed: 0,
        first_timestamp: T0,
        last_timestamp: last,
        samples,
        truncated: false,
        channel: "payments-oncall".into(),
        mention: vec![],
        subject: None,
        text: None,
        alert_id: String::new(),
        incident_id: String::new(),
        decided_at: 0,
        observation: None,
        incident_opened_at: None,
        incident_total: None,
        digest: None,
        top_counts: Vec::new(),
    }
}

pub fn basic_alert(severity: Severity) -> AlertMessage {
    alert(
        severity,
        vec![sample(
            0,
            "2023/11/14/[$LATEST]0a1b2c",
            r#"{"logType":"ERROR","errorCode":"E401","message":"token expired for user 42"}"#,
        )],
    )
}

pub fn alarm(state: &str, old: &str) -> AlarmNotification {
    serde_json::from_value(json!({
        "AlarmName": "payments-auth-failures-high",
        "AlarmDescription": "More than 5 auth failures a minute",
        "AWSAccountId": "123456789012",
        "AlarmConfigurationUpdatedTimestamp": "2023-11-01T10:00:00.000+0000",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 out of the last 1 datapoints [12.0 (14/11/23 22:12:00)] was greater than or equal to the threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition).",
        "StateChangeTime": "2023-11-14T22:13:20.000+0000",
        "Region": "EU (Ireland)",
        "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:payments-auth-failures-high",
        "OldStateValue": old,
        "OKActions": [],
        "AlarmActions": ["arn:aws:sns:eu-west-1:123456789012:alerts"],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "AuthFailures", "Namespace": "payments", "StatisticType": "Statistic",
            "Statistic": "SUM", "Unit": null, "Dimensions": [{"value": "prod", "name": "Stage"}],
            "Period": 60, "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Threshold": 5.0,
            "TreatMissingData": "missing", "EvaluateLowSampleCountPercentile": ""
        }
    }))
    .unwrap()
}

pub fn enrichment(messages: &[&str]) -> AlarmEnrichment {
    AlarmEnrichment {
        start_ms: T0 - 120_000,
        end_ms: T0,
        sources: vec![AlarmLogs {
            filter_name: "auth-failures".into(),
            log_group: "/aws/lambda/payments-api".into(),
            filter_pattern: "AUTH_FAILED".into(),
            events: messages
                .iter()
                .enumerate()
                .map(|(i, m)| AlarmLogEvent {
                    log_stream: "2023/11/14/[$LATEST]0a1b2c".into(),
                    timestamp: T0 - 60_000 + i as i64 * 1_000,
                    message: m.to_string(),
                })
                .collect(),
        }],
        failure: None,
    }
}

pub fn mentions() -> Vec<Mention> {
    vec![Mention::Here, Mention::Id("U024BE7LH".into())]
}

/// Every string in a JSON value, with its path.
pub fn strings(v: &Value, path: String, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((path, s.clone())),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| strings(x, format!("{path}[{i}]"), out)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| strings(x, format!("{path}.{k}"), out)),
        _ => {}
    }
}

/// Control sequences (`<…>`) allowed in a payload: links to the AWS console this crate built,
/// Slack date tokens, and the mentions the test configured (top-level `text` only).
pub fn assert_no_foreign_control_sequences(payload: &Value, allowed_mentions: &[&str]) {
    let console_link =
        Regex::new(r"^<https://[a-z0-9-]+\.console\.aws\.amazon\.com/cloudwatch/home\?region=[a-z0-9-]+#[^<>|\s]+\|[^<>]*>$").unwrap();
    let date =
        Regex::new(r"^<!date\^-?\d+\^\{date_short_pretty\} at \{time_secs\}\|[^<>|]*>$").unwrap();
    let seq = Regex::new(r"<[^>]*>?").unwrap();
    let mut all = Vec::new();
    strings(payload, String::new(), &mut all);
    for (path, s) in &all {
        if path.ends_with(".title_link") {
            assert!(
                s.starts_with("https://") && !s.contains(['<', '>', '|', ' ']),
                "{path}: {s}"
            );
            continue;
        }
        for m in seq.find_iter(s) {
            let m = m.as_str();
            let ok = console_link.is_match(m)
                || date.is_match(m)
                || (path == ".text" && allowed_mentions.contains(&m));
            assert!(
                ok,
                "foreign control sequence at {path}: {m:?}\nin: {s:.400}"
            );
        }
        assert!(
            !s.contains('>') || s.matches('>').count() == s.matches('<').count(),
            "stray '>' at {path}: {s:.400}"
        );
    }
}

/// Slack's size limits on a payload of either layout.
pub fn assert_within_limits(payload: &Value) {
    let text = payload["text"].as_str().expect("top-level text");
    assert!(slack_len(text) <= 40_000);
    let atts = payload["attachments"].as_array().expect("attachments");
    let link_markup = Regex::new(r"<[^|>]*\|([^>]*)>").unwrap();
    assert!(!atts.is_empty() && atts.len() <= 20);
    for a in atts {
        assert!(
            slack_len(a["fallback"].as_str().unwrap()) <= 300,
            "fallback"
        );
        if let Some(blocks) = a.get("blocks") {
            let blocks = blocks.as_array().unwrap();
            assert!(blocks.len() <= 50);
            let mut total = 0;
            for b in blocks {
                match b["type"].as_str().unwrap() {
                    "header" => {
                        let t = b["text"]["text"].as_str().unwrap();
                        assert!(slack_len(t) <= 150, "header {}", slack_len(t));
                        total += slack_len(t);
                    }
                    "section" => {
                        if let Some(t) = b["text"]["text"].as_str() {
                            assert!(slack_len(t) <= 3000, "section {}", slack_len(t));
                            assert_fences_balanced(t);
                            total += slack_len(t);
                        }
                        if let Some(f) = b["fields"].as_array() {
                            assert!(f.len() <= 10);
                            for x in f {
                                let t = x["text"].as_str().unwrap();
                                assert!(slack_len(t) <= 2000);
                                total += slack_len(t);
                            }
                        }
                    }
                    "context" => {
                        let e = b["elements"].as_array().unwrap();
                        assert!(e.len() <= 10);
                        for x in e {
                            total += slack_len(x["text"].as_str().unwrap());
                        }
                    }
                    other => panic!("unexpected block type {other}"),
                }
            }
            assert!(total <= 12_000, "cumulative block text {total}");
        } else {
            let t = a["text"].as_str().unwrap();
            assert!(slack_len(t) <= 8_000, "attachment text {}", slack_len(t));
            assert_fences_balanced(t);
            assert!(slack_len(a["title"].as_str().unwrap()) <= 150);
            let footer = a["footer"].as_str().unwrap();
            let visible = link_markup.replace_all(footer, "$1");
            assert!(slack_len(&visible) <= 300, "footer");
            for f in a["fields"].as_array().into_iter().flatten() {
                assert!(slack_len(f["value"].as_str().unwrap()) <= 2000);
                assert!(slack_len(f["title"].as_str().unwrap()) <= 150);
            }
        }
    }
}

pub fn assert_fences_balanced(s: &str) {
    assert_eq!(
        s.matches("```").count() % 2,
        0,
        "unbalanced code fences in {s:.300}"
    );
}

/// Hostile log lines: Slack and Teams control sequences, Markdown, links, controls, bidi overrides,
/// huge and repetitive text. Every destination is tested with each of them.
pub fn hostile_corpus() -> Vec<String> {
    let mut lines: Vec<String> = [
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@U123>",
        "<@W0ABC|alice>",
        "<#C024BE7LR|general>",
        "<!subteam^S012345|@oncall>",
        "<!date^1392734382^{date}|fallback>",
        "<https://evil.example|Reset your password>",
        "<mailto:ceo@example.com|CEO>",
        "<https://evil.example>",
        "< !channel >",
        "<<!channel>>",
        "<!channel",
        "!channel>",
        "&lt;!channel&gt;",
        "&#60;!channel&#62;",
        "*bold* _italic_ ~strike~ `code` > quote",
        "```\n<!channel>\n```",
        "````````",
        "text ``` <!here> ``` text",
        "\u{202E}<!channel>\u{202C}",
        "\u{0}\u{1}\u{7}\u{1b}[31m<!here>\u{1b}[0m",
        "line1\r\nline2\rline3",
        "@channel @here @everyone",
        "{\"msg\":\"<!channel>\",\"nested\":{\"a\":\"```\"}}",
        "2024-01-01T00:00:00Z\treq\tERROR\t{\"x\":\"<@U1>\"}",
        "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
        "password=<!channel> token=\"<@U1>\"",
        "한국어 로그 <!here> 🚨🔥👩‍👩‍👧‍👦",
        "<at>CEO</at> <at id=\"0\">Everyone</at>",
        "[Reset your password](https://evil.example) ![img](https://evil.example/x.png)",
        "www.evil.example and ceo@evil.example and javascript:alert(1)",
        "**bold** __u__ # heading\n- list\n1. item\n> quote | table |",
        "<b>html</b> <script>alert(1)</script> &amp; &#x3C;at&#x3E;",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    lines.push(format!("<!channel> {}", "A".repeat(300 * 1024)));
    lines.push("<!here>😀".repeat(300 * 1024 / 10));
    lines.push("`".repeat(10_000));
    lines.push("<".repeat(50_000));
    lines.push("&".repeat(50_000));
    lines.push("\n".repeat(5_000) + "<!channel>");
    lines
}
