//! A corpus of hostile log lines, and property tests over arbitrary text: whatever a log line
//! contains, no Slack control sequence survives into the payload (no ping, no fake link), code
//! fences stay balanced, every size limit holds and the title link is always there.

mod slack_support;

use logalert::alarm::AlarmEnrichment;
use logalert::alert::{Digest, Severity, SummaryTable, TableRow, TopCount, TopValue};
use logalert::slack::{RenderOptions, SlackFormat, render_alarm, render_alert, render_other};
use proptest::prelude::*;
use serde_json::Value;
use slack_support::*;

fn check(payload: &Value) {
    assert_within_limits(payload);
    assert_no_foreign_control_sequences(payload, &[]);
}

fn render_everywhere(line: &str) {
    for format in [SlackFormat::Attachments, SlackFormat::Blocks] {
        let opts = RenderOptions {
            format,
            ..RenderOptions::default()
        };
        // The line as a sample message, and in every other place log-derived text can reach.
        let mut a = alert(
            Severity::Error,
            vec![sample(0, line, line), sample(1, "s", line)],
        );
        a.log_group = line.to_string();
        a.query_key = Some(line.to_string());
        a.subject = Some(line.to_string());
        a.text = Some(line.to_string());
        a.rule.name = line.to_string();
        a.rule.description = Some(line.to_string());
        a.rule.filter_pattern = Some(line.to_string());
        a.region = line.to_string();
        a.account = line.to_string();
        // A digest's summary table, top counts and `include` fields carry log values too.
        a.samples[0]
            .fields
            .insert(line.to_string(), Value::String(line.to_string()));
        a.digest = Some(Digest {
            window_ms: 600_000,
            alerts: 2,
            table: Some(SummaryTable {
                fields: vec![line.to_string(), "$.b".into()],
                rows: vec![TableRow {
                    values: vec![line.to_string(), line.to_string()],
                    count: 2,
                }],
                other_rows: 1,
                other_count: 1,
            }),
        });
        a.top_counts = vec![TopCount {
            key: line.to_string(),
            values: vec![TopValue {
                value: line.to_string(),
                count: 3,
            }],
            other_count: 0,
        }];
        let p = render_alert(&a, &opts);
        check(&p);
        let att = &p["attachments"][0];
        if format == SlackFormat::Attachments {
            let link = att["title_link"]
                .as_str()
                .expect("title link always present");
            assert!(
                link.starts_with("https://us-east-1.console.aws.amazon.com/"),
                "{link:.200}"
            );
        } else {
            assert!(
                att["blocks"][1]["text"]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with("<https://")
            );
        }

        let mut al = alarm("ALARM", "OK");
        al.alarm_name = line.to_string();
        al.new_state_reason = Some(line.to_string());
        al.alarm_description = Some(line.to_string());
        let mut e = enrichment(&[line, line]);
        e.sources[0].filter_name = line.to_string();
        e.sources[0].filter_pattern = line.to_string();
        e.sources[0].log_group = line.to_string();
        check(&render_alarm(&al, Some(&e), &opts));
        let failed = AlarmEnrichment {
            failure: Some(line.to_string()),
            ..Default::default()
        };
        check(&render_alarm(&al, Some(&failed), &opts));

        check(&render_other(Some(line), line, &opts));
        check(&render_other(
            None,
            &serde_json::json!({ "m": line }).to_string(),
            &opts,
        ));
    }
}

#[test]
fn hostile_corpus_is_inert_everywhere() {
    for line in hostile_corpus() {
        render_everywhere(&line);
    }
}

#[test]
fn webhook_urls_in_logs_are_redacted() {
    let a = alert(
        Severity::Error,
        vec![sample(
            0,
            "s",
            "POST https://hooks.slack.com/services/T000/B000/XXXXXXXX failed",
        )],
    );
    let p = render_alert(&a, &RenderOptions::default()).to_string();
    assert!(!p.contains("hooks.slack.com"), "{p}");
}

fn hostile_text() -> impl Strategy<Value = String> {
    // Bias towards Slack's special characters, plus arbitrary Unicode.
    let piece = prop_oneof![
        Just("<".to_string()),
        Just(">".to_string()),
        Just("&".to_string()),
        Just("|".to_string()),
        Just("`".to_string()),
        Just("!channel".to_string()),
        Just("@U1".to_string()),
        Just("https://x".to_string()),
        Just("\n".to_string()),
        Just("😀".to_string()),
        Just("가".to_string()),
        "\\PC{0,8}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_text_never_escapes(line in hostile_text(), blocks in any::<bool>()) {
        let format = if blocks { SlackFormat::Blocks } else { SlackFormat::Attachments };
        let opts = RenderOptions { format, ..RenderOptions::default() };
        let mut a = alert(Severity::Warning, vec![sample(0, &line, &line)]);
        a.query_key = Some(line.clone());
        a.subject = Some(line.clone());
        a.text = Some(line.clone());
        check(&render_alert(&a, &opts));
        check(&render_other(Some(&line), &line, &opts));
    }

    #[test]
    fn long_text_respects_limits(unit in hostile_text(), repeat in 1usize..4000) {
        let line = unit.repeat(repeat.min(60_000 / unit.len().max(1)).max(1));
        let opts = RenderOptions::default();
        let a = alert(Severity::Error, (0..6).map(|i| sample(i, "s", &line)).collect());
        check(&render_alert(&a, &opts));
        check(&render_alert(&a, &RenderOptions { format: SlackFormat::Blocks, ..opts }));
    }
}
