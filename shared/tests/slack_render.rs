//! Snapshot tests of rendered Slack payloads: every message kind, every severity, both layouts, and
//! long, multi-line, JSON, Unicode and hostile content. Each payload is also checked against Slack's
//! limits and for foreign control sequences, so a snapshot cannot bless an unsafe payload.

mod slack_support;

use logalert::alarm::AlarmEnrichment;
use logalert::alert::{Mention, Severity};
use logalert::slack::{
    RenderOptions, SlackFormat, redact::Redactor, render_alarm, render_alert, render_other,
};
use serde_json::Value;
use slack_support::*;

fn opts(format: SlackFormat) -> RenderOptions {
    RenderOptions {
        format,
        ..RenderOptions::default()
    }
}

fn checked(payload: Value, mentions: &[&str]) -> Value {
    assert_within_limits(&payload);
    assert_no_foreign_control_sequences(&payload, mentions);
    payload
}

#[test]
fn alert_every_severity_both_layouts() {
    for severity in Severity::ALL {
        for format in [SlackFormat::Attachments, SlackFormat::Blocks] {
            let payload = checked(render_alert(&basic_alert(severity), &opts(format)), &[]);
            insta::assert_json_snapshot!(
                format!("alert_{}_{}", severity, format.as_str()),
                payload
            );
        }
    }
}

#[test]
fn colours_follow_severity() {
    let colour = |s| {
        render_alert(&basic_alert(s), &RenderOptions::default())["attachments"][0]["color"].clone()
    };
    assert_eq!(colour(Severity::Critical), "#8b0000");
    assert_eq!(colour(Severity::Error), "#d50200");
    assert_eq!(colour(Severity::Warning), "#daa038");
    assert_eq!(colour(Severity::Info), "#9e9e9e");
}

#[test]
fn alert_with_mentions_query_key_subject_and_counts() {
    let mut a = alert(
        Severity::Critical,
        vec![
            sample(0, "stream-a", "ERROR db timeout after 30s"),
            sample(1, "stream-b", "ERROR db timeout after 31s"),
        ],
    );
    a.mention = mentions();
    a.query_key = Some("tenant-7".into());
    a.count = 214;
    a.suppressed = 37;
    a.subject = Some("DB timeouts for tenant-7".into());
    a.text = Some("*214* timeouts in 42s — see the runbook".into());
    for format in [SlackFormat::Attachments, SlackFormat::Blocks] {
        let payload = checked(
            render_alert(&a, &opts(format)),
            &["<!here>", "<@U024BE7LH>"],
        );
        let text = payload["text"].as_str().unwrap();
        assert!(text.starts_with("<!here> <@U024BE7LH> "), "{text}");
        let body = serde_json::to_string(&payload["attachments"]).unwrap();
        assert!(
            body.contains("212 more matches, 37 suppressed since the last alert"),
            "{body}"
        );
        assert!(
            !body.contains("<!here>"),
            "mentions only in the top-level text"
        );
        insta::assert_json_snapshot!(
            format!("alert_mentions_counts_{}", format.as_str()),
            payload
        );
    }
}

#[test]
fn alert_json_multiline_unicode() {
    let a = alert(
        Severity::Error,
        vec![
            sample(
                0,
                "s",
                r#"{"level":"ERROR","msg":"결제 인증실패 🚨🔥","user":{"id":42,"name":"김철수"},"tags":["a","b"]}"#,
            ),
            sample(
                1,
                "s",
                "2023-11-14T22:13:21.000Z\t8f0c-req\tERROR\t{\"errorType\":\"TypeError\",\"errorMessage\":\"x is undefined\"}",
            ),
            sample(
                2,
                "s",
                "Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\n    main()\nValueError: 잘못된 값 👎",
            ),
        ],
    );
    let payload = checked(render_alert(&a, &RenderOptions::default()), &[]);
    let text = payload["attachments"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("\"msg\": \"결제 인증실패 🚨🔥\""),
        "pretty-printed JSON keeps Unicode"
    );
    assert!(
        text.contains("8f0c-req\tERROR\n{\n  \"errorMessage\""),
        "Lambda text format prefix kept"
    );
    assert!(text.contains("in &lt;module&gt;"));
    insta::assert_json_snapshot!("alert_json_multiline_unicode", payload);
}

#[test]
fn alert_long_messages_are_trimmed_with_title_link_kept() {
    let long_json = serde_json::json!({
        "items": (0..400).map(|i| serde_json::json!({"i": i, "v": "x".repeat(20)})).collect::<Vec<_>>()
    })
    .to_string();
    let huge = "가나다라마바사😀".repeat(40_000); // ~300 KB of multi-byte text on one line
    let mut a = alert(
        Severity::Warning,
        (0..12)
            .map(|i| sample(i, "s", if i % 2 == 0 { &long_json } else { &huge }))
            .collect(),
    );
    a.count = 5000;
    a.truncated = true;
    for format in [SlackFormat::Attachments, SlackFormat::Blocks] {
        let payload = checked(render_alert(&a, &opts(format)), &[]);
        let att = &payload["attachments"][0];
        let link = serde_json::to_string(att).unwrap();
        assert!(
            link.contains("console.aws.amazon.com"),
            "title link survives"
        );
        if format == SlackFormat::Attachments {
            assert!(
                att["title_link"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://eu-west-1.")
            );
            let text = att["text"].as_str().unwrap();
            assert!(text.contains("more lines)"), "line cut is reported");
            assert!(text.contains("samples were cut to fit size limits"));
        }
        insta::assert_json_snapshot!(format!("alert_long_{}", format.as_str()), payload);
    }
}

#[test]
fn alert_without_samples_or_description() {
    let mut a = alert(Severity::Info, vec![]);
    a.count = 3;
    a.rule.description = None;
    a.rule.filter_pattern = None;
    let payload = checked(render_alert(&a, &RenderOptions::default()), &[]);
    assert_eq!(payload["attachments"][0]["text"], "_3 more matches_");
    insta::assert_json_snapshot!("alert_no_samples", payload);
}

#[test]
fn hostile_alert_is_inert() {
    let hostile = "user=<!channel> <!here> <!everyone> <@U123> <#C999|general> <!subteam^S1> \
                   <https://evil.example|Reset your password> *bold* _it_ ~strike~ `tick` ``` fence \
                   &lt;!channel&gt; \u{202E}txet desrever \u{0007}bell \u{1b}[31mred\u{1b}[0m";
    let mut a = alert(
        Severity::Critical,
        vec![sample(0, "<!channel>/stream", hostile)],
    );
    a.rule.name = "rule <!here>".into();
    a.rule.description = Some("desc <@U999> & more".into());
    a.log_group = "/aws/<!channel>".into();
    a.query_key = Some("<https://evil|x>".into());
    a.subject = Some("subject <!channel>".into());
    a.text = Some("text <!here> ```".into());
    a.mention = vec![Mention::Id("U1>|<!everyone".into())];
    for format in [SlackFormat::Attachments, SlackFormat::Blocks] {
        let payload = checked(render_alert(&a, &opts(format)), &[]);
        insta::assert_json_snapshot!(format!("alert_hostile_{}", format.as_str()), payload);
    }
}

#[test]
fn secrets_are_redacted_everywhere() {
    let mut a = alert(
        Severity::Error,
        vec![sample(
            0,
            "s",
            r#"{"msg":"login","password":"hunter2","auth":"Bearer abcdef123456","card":"4111 1111 1111 1111","key":"AKIAIOSFODNN7EXAMPLE"}"#,
        )],
    );
    a.query_key = Some("AKIAIOSFODNN7EXAMPLE".into());
    a.text = Some("token=s3cr3t-value".into());
    let payload = render_alert(&a, &RenderOptions::default());
    let s = payload.to_string();
    for secret in [
        "hunter2",
        "abcdef123456",
        "4111 1111 1111 1111",
        "AKIAIOSFODNN7EXAMPLE",
        "s3cr3t-value",
    ] {
        assert!(!s.contains(secret), "{secret} leaked");
    }
    let custom = RenderOptions {
        redactor: Redactor::with_patterns(&["login"]).unwrap(),
        ..RenderOptions::default()
    };
    assert!(!render_alert(&a, &custom).to_string().contains("login"));
    let none = RenderOptions {
        redactor: Redactor::none(),
        ..RenderOptions::default()
    };
    assert!(render_alert(&a, &none).to_string().contains("hunter2"));
}

#[test]
fn alarm_states_with_and_without_enrichment() {
    let enriched = enrichment(&[
        r#"{"level":"ERROR","msg":"AUTH_FAILED user=42 password=hunter2"}"#,
        "AUTH_FAILED user=43 <!channel>",
    ]);
    let failed = AlarmEnrichment {
        failure: Some("DescribeMetricFilters: AccessDeniedException".into()),
        ..Default::default()
    };
    let none_found = enrichment(&[]);
    let cases: Vec<(
        &str,
        logalert::alarm::AlarmNotification,
        Option<&AlarmEnrichment>,
    )> = vec![
        ("alarm_enriched", alarm("ALARM", "OK"), Some(&enriched)),
        (
            "alarm_enrichment_failed",
            alarm("ALARM", "OK"),
            Some(&failed),
        ),
        (
            "alarm_no_events_found",
            alarm("ALARM", "OK"),
            Some(&none_found),
        ),
        ("alarm_plain", alarm("ALARM", "OK"), None),
        ("alarm_resolved", alarm("OK", "ALARM"), None),
        (
            "alarm_ok_from_insufficient",
            alarm("OK", "INSUFFICIENT_DATA"),
            None,
        ),
        (
            "alarm_insufficient_data",
            alarm("INSUFFICIENT_DATA", "OK"),
            None,
        ),
    ];
    for (name, a, e) in cases {
        for format in [SlackFormat::Attachments, SlackFormat::Blocks] {
            let payload = checked(render_alarm(&a, e, &opts(format)), &[]);
            insta::assert_json_snapshot!(format!("{name}_{}", format.as_str()), payload);
        }
    }
    let resolved = render_alarm(&alarm("OK", "ALARM"), None, &RenderOptions::default());
    assert_eq!(resolved["attachments"][0]["color"], "#2eb886");
    assert!(
        resolved["attachments"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("Resolved: ")
    );
    let firing = render_alarm(
        &alarm("ALARM", "OK"),
        Some(&enriched),
        &RenderOptions::default(),
    );
    let text = firing["attachments"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("AUTH_FAILED user=42 password=[REDACTED]"),
        "{text}"
    );
    assert!(text.contains("AUTH_FAILED user=43 &lt;!channel&gt;"));
    assert!(
        firing["attachments"][0]["footer"]
            .as_str()
            .unwrap()
            .contains("logs-insights")
    );
    let failed = render_alarm(
        &alarm("ALARM", "OK"),
        Some(&failed),
        &RenderOptions::default(),
    );
    assert!(
        failed["attachments"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Could not fetch the log lines")
    );
}

#[test]
fn alarm_metric_math_and_composite() {
    let math: logalert::alarm::AlarmNotification = serde_json::from_value(serde_json::json!({
        "AlarmName": "error-rate", "NewStateValue": "ALARM", "OldStateValue": "OK",
        "StateChangeTime": "2023-11-14T22:13:20.000+0000",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:error-rate",
        "Trigger": {"Metrics": [
            {"Id": "e1", "Expression": "100*m1/m2", "Label": "rate"},
            {"Id": "m1", "MetricStat": {"Metric": {"MetricName": "Errors", "Namespace": "app"}, "Period": 60, "Stat": "Sum"}},
            {"Id": "m2", "MetricStat": {"Metric": {"MetricName": "Requests", "Namespace": "app"}, "Period": 60, "Stat": "Sum"}}
        ], "ComparisonOperator": "GreaterThanThreshold", "Threshold": 5.0, "EvaluationPeriods": 3}
    })).unwrap();
    let composite: logalert::alarm::AlarmNotification = serde_json::from_value(serde_json::json!({
        "AlarmName": "checkout-degraded", "NewStateValue": "ALARM", "OldStateValue": "OK",
        "StateChangeTime": "2023-11-14T22:13:20.000+0000",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-degraded",
        "AlarmRule": "ALARM(error-rate) AND ALARM(latency-p99)"
    }))
    .unwrap();
    for (name, a) in [("alarm_metric_math", math), ("alarm_composite", composite)] {
        let payload = checked(render_alarm(&a, None, &RenderOptions::default()), &[]);
        insta::assert_json_snapshot!(name, payload);
    }
}

#[test]
fn other_messages_are_never_dropped() {
    let cases = [
        (
            "text_plain",
            Some("Deploy finished"),
            "Deployed payments-api v1.42 to prod <!channel> *now*",
        ),
        (
            "text_no_subject",
            None,
            "disk /dev/xvda1 at 91%\nsecond line\tpassword=hunter2",
        ),
        (
            "json_unknown",
            Some("Custom event"),
            r#"{"source":"aws.health","detail":{"eventTypeCode":"AWS_EC2_MAINTENANCE","token":"abc"}}"#,
        ),
        (
            "json_bad_alert_version",
            None,
            r#"{"version":7,"kind":"log-match","rule":{"name":"x"}}"#,
        ),
        (
            "json_malformed_alert",
            None,
            r#"{"version":1,"kind":"log-match","rule":{"name":"x"}}"#,
        ),
        ("text_empty", None, ""),
    ];
    for (name, subject, message) in cases {
        for format in [SlackFormat::Attachments, SlackFormat::Blocks] {
            let payload = checked(render_other(subject, message, &opts(format)), &[]);
            assert!(!payload.to_string().contains("hunter2"));
            insta::assert_json_snapshot!(format!("{name}_{}", format.as_str()), payload);
        }
    }
}

/// `aggregation`: the digest's summary table (aligned, in a code block), its top counts and the
/// samples' `include` fields.
#[test]
fn digest_with_summary_table_top_counts_and_included_fields() {
    use logalert::alert::{Digest, SummaryTable, TableRow, TopCount, TopValue};
    let mut a = alert(
        Severity::Error,
        vec![
            sample(
                0,
                "stream-a",
                r#"{"errorCode":"CARD_DECLINED","user":"u-17"}"#,
            ),
            sample(1, "stream-a", r#"{"errorCode":"TIMEOUT","user":"u-3"}"#),
        ],
    );
    a.samples[0].fields.insert("$.user".into(), "u-17".into());
    a.samples[1].fields.insert("$.user".into(), "u-3".into());
    a.count = 42;
    a.digest = Some(Digest {
        window_ms: 600_000,
        alerts: 9,
        table: Some(SummaryTable {
            fields: vec!["$.errorCode".into(), "$.region".into()],
            rows: vec![
                TableRow {
                    values: vec!["CARD_DECLINED".into(), "eu-west-1".into()],
                    count: 30,
                },
                TableRow {
                    values: vec!["TIMEOUT".into(), "<missing>".into()],
                    count: 10,
                },
            ],
            other_rows: 1,
            other_count: 2,
        }),
    });
    a.top_counts = vec![TopCount {
        key: "$.user".into(),
        values: vec![
            TopValue {
                value: "u-17".into(),
                count: 12,
            },
            TopValue {
                value: "u-3".into(),
                count: 5,
            },
        ],
        other_count: 25,
    }];
    for format in [SlackFormat::Attachments, SlackFormat::Blocks] {
        let payload = checked(render_alert(&a, &opts(format)), &[]);
        let body = serde_json::to_string(&payload).unwrap();
        assert!(
            body.contains("*Summary* by `$.errorCode`, `$.region`"),
            "{body}"
        );
        assert!(
            body.contains("count  $.errorCode    $.region\\n   30  CARD_DECLINED  eu-west-1\\n   10  TIMEOUT        &lt;missing&gt;\\n    2  (1 other row)"),
            "{body}"
        );
        assert!(
            body.contains("*Top* `$.user`: u-17 (12), u-3 (5), 25 other"),
            "{body}"
        );
        assert!(body.contains(" · $.user `u-17`"), "{body}");
        insta::assert_json_snapshot!(format!("alert_digest_{}", format.as_str()), payload);
    }
}
