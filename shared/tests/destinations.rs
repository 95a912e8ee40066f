//! Every destination × every kind of message: snapshots (first alert, follow-up, summary,
//! resolved, alarm), the hostile corpus through every destination, subjects kept as written, and
//! property tests that no renderer exceeds its destination's limits.

mod slack_support;

use logalert::alert::{AlertMessage, KIND_RESOLVED, KIND_SUMMARY, Observation, Severity};
use logalert::render::{pagerduty, teams, webhook};
use logalert::slack::{Incoming, RenderOptions, SlackFormat, render_incoming};
use proptest::prelude::*;
use serde_json::Value;
use slack_support::*;

fn with_incident(mut a: AlertMessage, alert_id: &str, total: u64, opened: i64) -> AlertMessage {
    a.alert_id = alert_id.into();
    a.incident_id = "inc-7f3a9c2e5b1d".into();
    a.incident_opened_at = Some(opened);
    a.incident_total = Some(total);
    a.decided_at = a.last_timestamp + 5_000;
    a
}

fn first() -> AlertMessage {
    let mut a = with_incident(basic_alert(Severity::Error), "a-1", 1, T0);
    a.mention = mentions();
    a
}

fn follow_up() -> AlertMessage {
    let mut a = alert(
        Severity::Critical,
        vec![
            sample(
                600,
                "2023/11/14/[$LATEST]0a1b2c",
                "AUTH_FAILED user=42 password=hunter2",
            ),
            sample(601, "2023/11/14/[$LATEST]9f8e7d", "AUTH_FAILED user=43"),
        ],
    );
    a.first_timestamp = T0 + 600_000;
    a.suppressed = 3;
    a.observation = Some(Observation {
        text: "2 in 1 min, 4× the previous 5 min".into(),
        sparkline: Some("▁▂▅█".into()),
        details: Default::default(),
    });
    a.mention = mentions();
    with_incident(a, "a-2", 9, T0)
}

fn summary() -> AlertMessage {
    let mut a = alert(
        Severity::Warning,
        vec![sample(900, "s-1", "AUTH_FAILED user=44")],
    );
    a.kind = KIND_SUMMARY.into();
    a.count = 0;
    a.suppressed = 12;
    a.first_timestamp = T0 + 700_000;
    a.mention = mentions();
    with_incident(a, "a-3", 21, T0)
}

fn resolved() -> AlertMessage {
    let mut a = alert(Severity::Error, vec![]);
    a.kind = KIND_RESOLVED.into();
    a.count = 0;
    a.first_timestamp = T0 + 900_000;
    a.last_timestamp = T0 + 900_000;
    a.mention = mentions();
    with_incident(a, "a-4", 21, T0)
}

fn kinds() -> Vec<(&'static str, Incoming)> {
    let alarm = alarm("ALARM", "OK");
    vec![
        ("first", Incoming::Alert(Box::new(first()))),
        ("follow_up", Incoming::Alert(Box::new(follow_up()))),
        ("summary", Incoming::Alert(Box::new(summary()))),
        ("resolved", Incoming::Alert(Box::new(resolved()))),
        ("alarm", Incoming::Alarm(Box::new(alarm))),
    ]
}

fn enrichment_for(incoming: &Incoming) -> Option<logalert::alarm::AlarmEnrichment> {
    matches!(incoming, Incoming::Alarm(_))
        .then(|| enrichment(&["AUTH_FAILED user=1 token=abc123", "AUTH_FAILED user=2"]))
}

/// Every destination's body for one message.
fn everywhere(incoming: &Incoming, subject: Option<&str>) -> Vec<(&'static str, Value)> {
    let e = enrichment_for(incoming);
    let opts = RenderOptions::default();
    let blocks = RenderOptions {
        format: SlackFormat::Blocks,
        ..RenderOptions::default()
    };
    vec![
        (
            "slack_attachments",
            render_incoming(incoming, subject, e.as_ref(), &opts),
        ),
        (
            "slack_blocks",
            render_incoming(incoming, subject, e.as_ref(), &blocks),
        ),
        ("teams", teams::render(incoming, subject, e.as_ref(), &opts)),
        (
            "pagerduty",
            pagerduty::render(incoming, subject, e.as_ref(), "R0UTINGKEY", &opts),
        ),
        (
            "webhook",
            webhook::render(incoming, subject, e.as_ref(), &opts),
        ),
    ]
}

#[test]
fn snapshots_per_destination_and_kind() {
    for (kind, incoming) in kinds() {
        for (dest, body) in everywhere(&incoming, None) {
            check_limits(dest, &body);
            insta::assert_json_snapshot!(format!("{dest}_{kind}"), body);
        }
    }
}

#[test]
fn slack_kinds_read_as_what_they_are() {
    let render = |a: AlertMessage| {
        render_incoming(
            &Incoming::Alert(Box::new(a)),
            None,
            None,
            &RenderOptions::default(),
        )
    };
    let f = render(first());
    assert!(
        f["text"]
            .as_str()
            .unwrap()
            .starts_with("<!here> <@U024BE7LH> :red_circle: *ERROR*"),
        "{f}"
    );
    let u = render(follow_up());
    let text = u.to_string();
    assert!(text.contains("(follow-up): 2 more matches"), "{text}");
    assert!(
        text.contains("open since 2023-11-14 22:13:20Z") && text.contains("9 matches so far"),
        "{text}"
    );
    assert!(
        text.contains("2 in 1 min, 4× the previous 5 min") && text.contains("`▁▂▅█`"),
        "{text}"
    );
    let s = render(summary());
    assert!(
        !s["text"].as_str().unwrap().contains("<!here>"),
        "summaries do not ping: {s}"
    );
    assert!(
        s["attachments"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("Summary: ")
    );
    assert!(
        s.to_string()
            .contains("12 matches while alerts were suppressed")
    );
    let r = render(resolved());
    assert_eq!(r["attachments"][0]["color"], "#2eb886");
    assert!(!r["text"].as_str().unwrap().contains("<!here>"));
    assert!(
        r.to_string().contains("lasted 15 min, 21 matches in total"),
        "{r}"
    );
}

#[test]
fn pagerduty_dedups_on_the_incident_and_resolves_it() {
    let opts = RenderOptions::default();
    let keys: Vec<(String, String)> = kinds()
        .into_iter()
        .filter(|(k, _)| *k != "alarm")
        .map(|(_, i)| {
            let e = pagerduty::render(&i, None, None, "RK", &opts);
            assert_eq!(e["routing_key"], "RK");
            (
                e["event_action"].as_str().unwrap().to_string(),
                e["dedup_key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        keys.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(),
        ["trigger", "trigger", "trigger", "resolve"]
    );
    assert!(keys.iter().all(|(_, k)| k == "inc-7f3a9c2e5b1d"));
    // Severity mapped; alert without an incident falls back to its alert id.
    let mut a = first();
    a.incident_id.clear();
    let e = pagerduty::render(&Incoming::Alert(Box::new(a)), None, None, "RK", &opts);
    assert_eq!(
        (e["dedup_key"].as_str(), e["payload"]["severity"].as_str()),
        (Some("a-1"), Some("error"))
    );
    // Alarms: trigger on ALARM, resolve on OK, one key per alarm.
    let fire = pagerduty::render(
        &Incoming::Alarm(Box::new(alarm("ALARM", "OK"))),
        None,
        None,
        "RK",
        &opts,
    );
    let ok = pagerduty::render(
        &Incoming::Alarm(Box::new(alarm("OK", "ALARM"))),
        None,
        None,
        "RK",
        &opts,
    );
    assert_eq!(
        (fire["event_action"].as_str(), ok["event_action"].as_str()),
        (Some("trigger"), Some("resolve"))
    );
    assert_eq!(fire["dedup_key"], ok["dedup_key"]);
}

#[test]
fn subjects_are_kept_as_written_everywhere() {
    let subject = "결제 인증실패 🚨 (1건)";
    let mut a = first();
    a.subject = Some(subject.into());
    let incoming = Incoming::Alert(Box::new(a));
    for (dest, body) in everywhere(&incoming, None) {
        let text = body.to_string();
        assert!(
            text.contains(subject),
            "{dest} lost the subject: {text:.400}"
        );
        assert!(!text.contains("?? ????"), "{dest}");
    }
    // Long ones are cut on a character boundary within each limit, never mangled.
    let mut long = first();
    long.subject = Some("결제 인증실패 🚨 ".repeat(200));
    let incoming = Incoming::Alert(Box::new(long));
    for (dest, body) in everywhere(&incoming, None) {
        check_limits(dest, &body);
        assert!(body.to_string().contains("결제 인증실패 🚨 결제"), "{dest}");
    }
}

#[test]
fn webhook_body_is_the_alert_redacted() {
    let a = follow_up();
    let body = webhook::render(
        &Incoming::Alert(Box::new(a.clone())),
        None,
        None,
        &RenderOptions::default(),
    );
    let back: AlertMessage = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(
        (
            back.alert_id.as_str(),
            back.incident_id.as_str(),
            back.count
        ),
        ("a-2", "inc-7f3a9c2e5b1d", 2)
    );
    assert!(!body.to_string().contains("hunter2"), "{body}");
    assert!(back.samples[0].message.contains("AUTH_FAILED user=42"));
}

/// Any other JSON published to the topic reaches a webhook with its structure kept and every string
/// at any depth redacted and cleaned.
#[test]
fn webhook_body_of_other_json_keeps_its_shape_and_redacts_every_string() {
    let message = serde_json::json!({
        "event": "deploy",
        "n": 3,
        "ok": true,
        "env": {"token": "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", "note": "x\u{1b}[31my"},
        "hosts": ["a", {"dsn": "postgres://app:hunter2pass@db.internal:5432/app"}]
    })
    .to_string();
    let incoming = Incoming::classify(&message);
    assert!(matches!(incoming, Incoming::Json { .. }));
    let body = webhook::render(&incoming, Some("deploy"), None, &RenderOptions::default());
    assert_eq!(
        (&body["kind"], &body["subject"]),
        (&Value::from("message"), &Value::from("deploy"))
    );
    let m = &body["message"];
    assert_eq!(
        (&m["event"], &m["n"], &m["ok"]),
        (&Value::from("deploy"), &Value::from(3), &Value::from(true))
    );
    assert_eq!(m["hosts"][0], "a");
    let text = body.to_string();
    assert!(!text.contains("ghp_0123456789"), "{text}");
    assert!(!text.contains("hunter2pass"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(
        m["env"]["token"].as_str().unwrap().contains("REDACTED"),
        "{text}"
    );
    assert!(
        m["hosts"][1]["dsn"].as_str().unwrap().contains("REDACTED"),
        "{text}"
    );
}

/// Strings a log line must never turn into on a Teams card.
fn assert_teams_inert(body: &Value) {
    let mut all = Vec::new();
    strings(body, String::new(), &mut all);
    for (path, s) in &all {
        if path.ends_with(".$schema") {
            continue;
        }
        if path.ends_with(".url") {
            assert!(
                s.starts_with("https://") && s.contains(".console.aws.amazon.com/"),
                "{path}: {s:.200}"
            );
            continue;
        }
        let lower = s.to_lowercase();
        assert!(!lower.contains("<at"), "{path}: mention survives: {s:.200}");
        assert!(!s.contains("://"), "{path}: link survives: {s:.200}");
        assert!(!lower.contains("www."), "{path}: link survives: {s:.200}");
        assert!(!s.contains("@e"), "{path}: e-mail link survives: {s:.200}");
        assert!(
            !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{path}: control character"
        );
        assert!(!s.contains('\u{202E}'), "{path}: bidi override");
    }
    // Facts are Markdown: every Markdown special is escaped there.
    for (path, s) in all.iter().filter(|(p, _)| p.ends_with(".value")) {
        let mut prev = ' ';
        for c in s.chars() {
            if matches!(c, '*' | '_' | '[' | ']' | '`' | '~') {
                assert_eq!(prev, '\\', "{path}: unescaped {c:?} in {s:.200}");
            }
            prev = if prev == '\\' && c == '\\' { ' ' } else { c };
        }
    }
}

fn check_limits(dest: &str, body: &Value) {
    match dest {
        "slack_attachments" | "slack_blocks" => {
            assert_within_limits(body);
            assert_no_foreign_control_sequences(body, &["<!here>", "<@U024BE7LH>"]);
        }
        "teams" => {
            assert!(
                body.to_string().len() <= teams::MAX_BYTES,
                "teams: {} bytes",
                body.to_string().len()
            );
            assert_eq!(body["attachments"][0]["content"]["version"], "1.5");
            assert_teams_inert(body);
        }
        "pagerduty" => {
            assert!(body.to_string().len() <= pagerduty::MAX_BYTES);
            if let Some(s) = body["payload"]["summary"].as_str() {
                assert!(
                    s.chars().count() <= pagerduty::SUMMARY_MAX,
                    "{} chars",
                    s.chars().count()
                );
                assert!(!s.is_empty());
            }
            let action = body["event_action"].as_str().unwrap();
            assert!(action == "trigger" || action == "resolve");
            if action == "trigger" {
                let sev = body["payload"]["severity"].as_str().unwrap();
                assert!(
                    ["critical", "error", "warning", "info"].contains(&sev),
                    "{sev}"
                );
            }
            for l in body["links"].as_array().into_iter().flatten() {
                assert!(
                    l["href"]
                        .as_str()
                        .unwrap()
                        .contains(".console.aws.amazon.com/")
                );
            }
        }
        "webhook" => {
            assert!(body.is_object());
        }
        other => panic!("unknown destination {other}"),
    }
}

#[test]
fn hostile_corpus_through_every_destination() {
    for line in hostile_corpus() {
        let mut a = follow_up();
        a.samples = vec![sample(0, &line, &line), sample(1, "s", &line)];
        a.log_group = line.clone();
        a.query_key = Some(line.clone());
        a.subject = Some(line.clone());
        a.text = Some(line.clone());
        a.rule.name = line.clone();
        a.rule.description = Some(line.clone());
        a.observation = Some(Observation {
            text: line.clone(),
            sparkline: Some(line.clone()),
            details: Default::default(),
        });
        with_digest_fields(&mut a, &line);
        let mut al = alarm("ALARM", "OK");
        al.alarm_name = line.clone();
        al.new_state_reason = Some(line.clone());
        let mut e = enrichment(&[&line]);
        e.sources[0].log_group = line.clone();
        e.sources[0].filter_name = line.clone();
        let opts = RenderOptions::default();
        for incoming in [
            Incoming::Alert(Box::new(a)),
            Incoming::Alarm(Box::new(al)),
            Incoming::classify(&line),
        ] {
            let en = matches!(incoming, Incoming::Alarm(_)).then_some(&e);
            check_limits("teams", &teams::render(&incoming, Some(&line), en, &opts));
            check_limits(
                "pagerduty",
                &pagerduty::render(&incoming, Some(&line), en, "RK", &opts),
            );
            check_limits(
                "webhook",
                &webhook::render(&incoming, Some(&line), en, &opts),
            );
            for format in [SlackFormat::Attachments, SlackFormat::Blocks] {
                let o = RenderOptions {
                    format,
                    ..RenderOptions::default()
                };
                check_limits(
                    "slack_attachments",
                    &render_incoming(&incoming, Some(&line), en, &o),
                );
            }
        }
    }
}

/// Log text in a digest's summary table, the top counts and the samples' `include` fields.
fn with_digest_fields(a: &mut AlertMessage, line: &str) {
    use logalert::alert::{Digest, SummaryTable, TableRow, TopCount, TopValue};
    for s in &mut a.samples {
        s.fields
            .insert(line.to_string(), Value::String(line.to_string()));
    }
    a.digest = Some(Digest {
        window_ms: 600_000,
        alerts: 2,
        table: Some(SummaryTable {
            fields: vec![line.to_string()],
            rows: vec![TableRow {
                values: vec![line.to_string()],
                count: 2,
            }],
            other_rows: 0,
            other_count: 0,
        }),
    });
    a.top_counts = vec![TopCount {
        key: line.to_string(),
        values: vec![TopValue {
            value: line.to_string(),
            count: 2,
        }],
        other_count: 1,
    }];
}

#[test]
fn secrets_in_logs_reach_no_destination() {
    let mut a = follow_up();
    a.samples = vec![sample(
        0,
        "s",
        "login password=hunter2 via https://hooks.slack.com/services/T000/B000/XXXXXXXX",
    )];
    a.text = Some("password=hunter2".into());
    with_digest_fields(&mut a, "password=hunter2");
    let incoming = Incoming::Alert(Box::new(a));
    for (dest, body) in everywhere(&incoming, None) {
        let text = body.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("XXXXXXXX"),
            "{dest}: {text:.300}"
        );
    }
}

fn text_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<at>".to_string()),
        Just("https://x.example".to_string()),
        Just("www.".to_string()),
        Just("*_[]()`~\\".to_string()),
        Just("\n".to_string()),
        Just("😀".to_string()),
        Just("결제".to_string()),
        "\\PC{0,8}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn kind_strategy() -> impl Strategy<Value = AlertMessage> {
    prop_oneof![
        Just(first()),
        Just(follow_up()),
        Just(summary()),
        Just(resolved())
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn no_renderer_exceeds_its_limits(base in kind_strategy(), unit in text_strategy(), repeat in 1usize..3000, n in 0usize..8) {
        let line = unit.repeat(repeat.min(40_000 / unit.len().max(1)).max(1));
        let mut a = base;
        a.samples = (0..n as i64).map(|i| sample(i, &line, &line)).collect();
        a.subject = Some(line.clone());
        a.text = Some(line.clone());
        a.query_key = Some(line.clone());
        let incoming = Incoming::Alert(Box::new(a));
        for (dest, body) in everywhere(&incoming, Some(&line)) {
            check_limits(dest, &body);
        }
    }
}
