//! `logalert import-elastalert` and `logalert import-metric-filters` on the real binary, over
//! ElastAlert rule files of each kind (tests/fixtures/elastalert: a config.yaml and frequency, any
//! with query_string, blacklist and spike rules with Slack, Teams, PagerDuty and webhook
//! alerters). The converted filters are run over events and must match exactly what the
//! ElastAlert filter matches in Elasticsearch — the expected matches below are written per event
//! from Elasticsearch's semantics (keyword fields compare exactly, `NOT` matches a missing field, a
//! range on a missing field does not match).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use logalert::pattern::FilterPattern;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/elastalert");

struct Run {
    code: i32,
    out: String,
    err: String,
}

fn logalert(args: &[&str], stdin: Option<&str>, cwd: &Path) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logalert"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        let _ = pipe.write_all(s.as_bytes());
    }
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8(out.stdout).unwrap(),
        err: String::from_utf8(out.stderr).unwrap(),
    }
}

fn tmp() -> PathBuf {
    let d = std::env::temp_dir().join(format!("logalert-import-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(name: &str, text: &str) -> String {
    let p = tmp().join(name);
    let t = tmp().join(format!("{name}.{:?}", std::thread::current().id()));
    std::fs::write(&t, text).unwrap();
    std::fs::rename(&t, &p).unwrap();
    p.display().to_string()
}

/// The events every rule is checked against (one JSON document each, as indexed in ES and as the
/// application logs them to CloudWatch), except the last, a plain-text line.
const EVENTS: &[&str] = &[
    r#"{"level":"ERROR","service":"payments","user":{"id":"u1"},"message":"card declined"}"#,
    r#"{"level":"ERROR","service":"payments","user":{"id":"u1"},"message":"upstream health check failed"}"#,
    r#"{"level":"INFO","service":"payments","user":{"id":"u2"},"message":"ok"}"#,
    r#"{"level":"ERROR","service":"search","message":"Task timed out after 3.00 seconds"}"#,
    r#"{"level":"ERROR","service":"payments","message":"db down"}"#,
    r#"{"event":{"action":"login"},"user":{"name":"root"},"message":"login"}"#,
    r#"{"event":{"action":"sudo"},"user":{"name":"ann"}}"#,
    r#"{"event":{"action":"logout"},"user":{"name":"root"}}"#,
    r#"{"status":503,"path":"/api/pay","service":"payments"}"#,
    r#"{"status":500,"path":"/health/live","service":"payments"}"#,
    r#"{"status":404,"path":"/api/x"}"#,
    r#"{"status":599,"path":"/api"}"#,
    r#"{"job":"nightly-export","status":"failed","host":"b1"}"#,
    r#"{"job":"nightly-export","exit_code":2}"#,
    r#"{"job":"hourly","status":"failed","host":"b1"}"#,
    "Runtime exited with error: signal: killed",
];

/// Rule file → the events (1-based) its ElastAlert filter matches in Elasticsearch.
fn expected() -> Vec<(&'static str, &'static str, Vec<usize>)> {
    vec![
        // term level:ERROR AND service:payments AND NOT message:"health check" (a phrase in an
        // analysed field: #2 contains it; #5 has no user, still matches the filter).
        (
            "rules/frequency_payments.yaml",
            "Payment errors per user",
            vec![1, 5],
        ),
        // Phrases anywhere: #4's message and the plain-text #16.
        (
            "rules/any_timeouts.yaml",
            "Lambda timeouts and crashes",
            vec![4, 16],
        ),
        // terms event.action ∈ {login, sudo}.
        (
            "rules/security/blacklist_users.yaml",
            "Privileged login",
            vec![6, 7],
        ),
        // 500 ≤ status < 600 and path not /health*. (A string "599" would match in ES, which
        // coerces it; CloudWatch compares only JSON numbers — the conversion notes it.)
        ("rules/spike_5xx.yaml", "5xx spike", vec![9, 12]),
        // job:nightly-* AND (status:failed OR exit_code:>0) AND _exists_:host: #14 has no host.
        (
            "rules/disabled_email.yaml",
            "Nightly batch failures",
            vec![13],
        ),
    ]
}

/// The `filter_pattern` of rule `name` in a converted file, live or commented out.
fn pattern_of(yaml: &str, name: &str) -> String {
    let lines: Vec<String> = yaml
        .lines()
        .map(|l| {
            let t = l.trim_start();
            let t = t.strip_prefix("# ").unwrap_or(t).trim_start();
            t.to_string()
        })
        .collect();
    let at = lines
        .iter()
        .position(|l| {
            l.strip_prefix("- name: ").is_some_and(|n| {
                logalert::import::yaml::load(&format!("k: {n}")).unwrap()[0]["k"] == name
            })
        })
        .unwrap_or_else(|| panic!("no rule {name} in\n{yaml}"));
    let line = lines[at..]
        .iter()
        .find_map(|l| l.strip_prefix("filter_pattern: "))
        .unwrap();
    let doc = logalert::import::yaml::load(&format!("k: {line}")).unwrap();
    doc[0]["k"].as_str().unwrap().to_string()
}

#[test]
fn a_rules_folder_converts_to_a_file_validate_accepts() {
    let fixtures = Path::new(FIXTURES);
    let r = logalert(
        &["import-elastalert", "--config", "config.yaml"],
        None,
        fixtures,
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let out = write("converted.yaml", &r.out);
    let v = logalert(&["validate", &out], None, fixtures);
    assert_eq!(v.code, 0, "{}\n{}", v.err, r.out);

    // Credentials never reach the rules file (it is committed and bundled into the function).
    for secret in [
        "hooks.slack.com",
        "webhook.office.com",
        "0123456789abcdef",
        "hooks.internal",
    ] {
        assert!(!r.out.contains(secret), "{secret} leaked into\n{}", r.out);
    }
    // What cannot be carried over is a comment on the rule and a warning naming file and rule.
    assert!(r.err.contains(
        "logalert: rules/disabled_email.yaml: warning: rule `Nightly batch failures`: not carried over: alert `email`"
    ), "{}", r.err);
    assert!(
        r.out
            .contains("#   alert `email`: logalert delivers to Slack"),
        "{}",
        r.out
    );
    assert!(
        r.err
            .contains("rule `5xx spike`: not carried over: alerters slack, webhook"),
        "{}",
        r.err
    );
    assert!(
        r.err.lines().last().unwrap().starts_with("logalert: "),
        "{}",
        r.err
    );

    // Global config.yaml options apply to every rule; a rule's own value wins.
    assert!(r.out.contains("query_key: $.user.id"), "{}", r.out);
    assert!(r.out.contains("query_key: $.service"), "{}", r.out);
    assert!(r.out.contains("realert: 10m"), "{}", r.out);
    assert!(r.out.contains("realert: 0\n"), "{}", r.out);
    assert!(!r.out.contains("es_host") && !r.out.contains("elasticsearch.internal"));

    // Alerters → channels, and the secret map written (private) for the channels.
    assert!(r.out.contains("channel: payments-oncall"));
    assert!(r.out.contains("channel: teams"));
    assert!(
        r.out.contains("severity: critical"),
        "pagerduty_v2_payload_severity"
    );
    assert!(r.out.contains("enabled: false"));
    assert!(
        r.out
            .contains("alert_subject: 'Payment errors for {{ event.user.id }}'"),
        "{}",
        r.out
    );
    assert!(
        r.out
            .contains("alert_text: '{{ count }} errors on {{ service }}, last: {{ message }}'"),
        "{}",
        r.out
    );
}

#[test]
fn converted_filters_match_what_elasticsearch_matched() {
    let fixtures = Path::new(FIXTURES);
    let r = logalert(
        &["import-elastalert", "--config", "config.yaml"],
        None,
        fixtures,
    );
    assert_eq!(r.code, 0, "{}", r.err);
    for (file, name, want) in expected() {
        let pattern = pattern_of(&r.out, name);
        let p = FilterPattern::parse(&pattern).unwrap_or_else(|e| panic!("{file}: {e}"));
        let got: Vec<usize> = EVENTS
            .iter()
            .enumerate()
            .filter(|(_, e)| p.matches(e).is_some())
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(got, want, "{file}: `{pattern}`");
    }
}

#[test]
fn converted_any_and_frequency_rules_alert_on_replay_as_elastalert_would() {
    let fixtures = Path::new(FIXTURES);
    let r = logalert(
        &[
            "import-elastalert",
            "rules/frequency_payments.yaml",
            "rules/any_timeouts.yaml",
            "--config",
            "config.yaml",
        ],
        None,
        fixtures,
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let rules = write("replay-rules.yaml", &r.out);
    // u1 errors three times within 5 minutes (ElastAlert: one frequency alert for u1), u2 twice
    // (none), a timeout and a crash (two `any` alerts with realert 0).
    let t = |s: u32| format!("2026-11-25T10:{:02}:{:02}Z", s / 60, s % 60);
    let log: String = [
        (0, r#""level":"ERROR","service":"payments","user":{"id":"u1"},"message":"card declined""#),
        (30, r#""level":"ERROR","service":"payments","user":{"id":"u2"},"message":"card declined""#),
        (60, r#""level":"ERROR","service":"payments","user":{"id":"u1"},"message":"health check failed""#),
        (90, r#""level":"ERROR","service":"payments","user":{"id":"u1"},"message":"card declined""#),
        (120, r#""level":"ERROR","service":"payments","user":{"id":"u2"},"message":"card declined""#),
        (150, r#""level":"ERROR","service":"payments","user":{"id":"u1"},"message":"timeout""#),
        (200, r#""level":"ERROR","service":"search","message":"Task timed out after 3.00 seconds""#),
        (260, r#""level":"ERROR","service":"api","message":"Runtime exited with error""#),
    ]
    .iter()
    .map(|(s, body)| format!("{{\"time\":\"{}\",{body}}}\n", t(*s)))
    .collect();
    let log = write("payments.log", &log);
    let rep = logalert(&["replay", "--rules", &rules, "-q", &log], None, fixtures);
    assert_eq!(rep.code, 0, "{}", rep.err);
    let alerts: Vec<(String, Option<String>, u64)> = rep
        .out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["message"]["rule"]["name"].as_str().unwrap().to_string(),
                v["message"]["query_key"].as_str().map(str::to_string),
                v["message"]["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        alerts,
        [
            (
                "Payment errors per user".to_string(),
                Some("u1".to_string()),
                3
            ),
            (
                "Lambda timeouts and crashes".to_string(),
                Some("search".to_string()),
                1
            ),
            (
                "Lambda timeouts and crashes".to_string(),
                Some("api".to_string()),
                1
            ),
        ],
        "{}",
        rep.out
    );
    let first: serde_json::Value = serde_json::from_str(rep.out.lines().next().unwrap()).unwrap();
    assert_eq!(first["message"]["subject"], "Payment errors for u1");
    assert_eq!(first["message"]["channel"], "payments-oncall");
}

#[test]
fn channels_file_holds_the_destinations_and_is_private() {
    let fixtures = Path::new(FIXTURES);
    let channels = tmp().join("channels.json");
    let _ = std::fs::remove_file(&channels);
    let r = logalert(
        &[
            "import-elastalert",
            "rules",
            "--channels-file",
            channels.to_str().unwrap(),
        ],
        None,
        fixtures,
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let map: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&channels).unwrap()).unwrap();
    assert_eq!(
        map["payments-oncall"],
        serde_json::json!({"type": "slack-webhook", "url": "https://hooks.slack.com/services/T0000/B1111/XXXXXXXXXXXXXXXX"})
    );
    assert_eq!(map["teams"]["type"], "teams");
    assert_eq!(
        map["pagerduty"]["routing_key"],
        "0123456789abcdef0123456789abcdef"
    );
    assert_eq!(map["webhook"]["url"], "https://hooks.internal/alerts");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&channels).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn nothing_usable_exits_two_and_partial_input_still_converts() {
    let fixtures = Path::new(FIXTURES);
    let broken = write("broken.yaml", "name: x\nfilter: [\n");
    let custom = write(
        "custom.yaml",
        "name: custom\ntype: elastalert_modules.my_rules.AwesomeRule\nfilter: []\nalert: [debug]\n",
    );
    let r = logalert(&["import-elastalert", &broken], None, fixtures);
    assert_eq!(r.code, 2);
    assert!(
        r.err
            .contains(&format!("logalert: {broken}:3:1: invalid YAML: ")),
        "{}",
        r.err
    );
    assert!(
        r.err
            .contains("0 rules converted from 1 file; 0 warnings, 1 unreadable"),
        "{}",
        r.err
    );
    assert!(r.err.contains("nothing usable"), "{}", r.err);
    assert!(r.out.contains("rules: []"), "{}", r.out);

    let r = logalert(&["import-elastalert", &custom], None, fixtures);
    assert_eq!(r.code, 2, "{}", r.out);
    assert!(r.err.contains("custom ElastAlert rule type"), "{}", r.err);

    // A filter that cannot be expressed never becomes a live rule matching everything.
    let dated = write(
        "dated.yaml",
        "name: recent\ntype: any\nfilter:\n- query:\n    query_string:\n      query: \"level:ERROR AND @timestamp:[now-1h TO now]\"\n",
    );
    let r = logalert(&["import-elastalert", &dated], None, fixtures);
    assert_eq!(r.code, 2, "{}", r.out);
    assert!(
        r.out.contains(
            "# NOT ACTIVE (its filter did not carry over (range bound `now-1h` is not a number"
        ),
        "{}",
        r.out
    );
    assert!(r.out.contains("rules: []"), "{}", r.out);

    let r = logalert(
        &["import-elastalert", &broken, "rules/any_timeouts.yaml"],
        None,
        fixtures,
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("Lambda timeouts and crashes"));

    let r = logalert(
        &["import-elastalert", "/nonexistent/rule.yaml"],
        None,
        fixtures,
    );
    assert_eq!(r.code, 2);
    assert!(
        r.err
            .starts_with("logalert: /nonexistent/rule.yaml: cannot read:"),
        "{}",
        r.err
    );

    let r = logalert(&["import-elastalert"], None, fixtures);
    assert_eq!(r.code, 2);
}

const FILTERS: &str = r#"{
  "metricFilters": [
    {"filterName": "PaymentErrors", "logGroupName": "/aws/lambda/payments",
     "filterPattern": "{ $.level = \"ERROR\" }", "creationTime": 1700000000000,
     "metricTransformations": [{"metricName": "PaymentErrors", "metricNamespace": "App", "metricValue": "1", "defaultValue": 0.0}]},
    {"filterName": "Timeouts", "logGroupName": "/aws/lambda/search",
     "filterPattern": "\"Task timed out\"", "creationTime": 1700000000000,
     "metricTransformations": [{"metricName": "Timeouts", "metricNamespace": "App", "metricValue": "1"}]},
    {"filterName": "Latency", "logGroupName": "/aws/lambda/api",
     "filterPattern": "{ $.latency > 0 }", "creationTime": 1700000000000,
     "metricTransformations": [{"metricName": "Latency", "metricNamespace": "App", "metricValue": "$.latency",
       "dimensions": {"Service": "$.service"}}]}
  ]
}"#;

const ALARMS: &str = r#"{
  "MetricAlarms": [
    {"AlarmName": "payment-errors", "AlarmDescription": "More than 4 payment errors in 5 minutes",
     "MetricName": "PaymentErrors", "Namespace": "App", "Statistic": "Sum", "Period": 300,
     "EvaluationPeriods": 1, "DatapointsToAlarm": 1, "Threshold": 4.0,
     "ComparisonOperator": "GreaterThanThreshold", "ActionsEnabled": true},
    {"AlarmName": "latency-high", "MetricName": "Latency", "Namespace": "App", "Statistic": "Average",
     "Period": 60, "EvaluationPeriods": 3, "Threshold": 500.0,
     "ComparisonOperator": "GreaterThanThreshold"}
  ],
  "CompositeAlarms": []
}"#;

#[test]
fn metric_filters_and_alarms_become_rules() {
    let dir = tmp();
    let filters = write("filters.json", FILTERS);
    let alarms = write("alarms.json", ALARMS);
    let r = logalert(
        &["import-metric-filters", &filters, "--alarms", &alarms],
        None,
        &dir,
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let out = write("mf.yaml", &r.out);
    let v = logalert(&["validate", &out], None, &dir);
    assert_eq!(v.code, 0, "{}\n{}", v.err, r.out);
    assert!(r.out.contains(
        "  - name: PaymentErrors\n    log_groups: [/aws/lambda/payments]\n    filter_pattern: '{ $.level = \"ERROR\" }'\n    description: 'More than 4 payment errors in 5 minutes'\n    type: frequency\n    num_events: 5\n    timeframe: 5m\n"
    ), "{}", r.out);
    assert!(r.out.contains("  - name: Timeouts\n    log_groups: [/aws/lambda/search]\n    filter_pattern: '\"Task timed out\"'\n"), "{}", r.out);
    assert!(r.out.contains("query_key: [$.service]"), "{}", r.out);
    assert!(
        r.err
            .contains("alarm latency-high is not carried over: its statistic \"Average\""),
        "{}",
        r.err
    );

    // The converted frequency rule alerts on the fifth error within five minutes, as the alarm
    // (Sum > 4 over 300 s) would.
    let events: Vec<serde_json::Value> = (0..5)
        .map(|i| serde_json::json!({"id": format!("{i}"), "timestamp": 1_795_600_800_000i64 + i * 30_000, "message": "{\"level\":\"ERROR\"}"}))
        .collect();
    let payload = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/aws/lambda/payments",
        "logStream": "s", "subscriptionFilters": [], "logEvents": events});
    let four = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/aws/lambda/payments",
        "logStream": "s", "subscriptionFilters": [], "logEvents": events[..4]});
    let rep = logalert(
        &["replay", "--rules", &out, "-q", "-"],
        Some(&payload.to_string()),
        &dir,
    );
    assert_eq!(rep.code, 0, "{}", rep.err);
    assert_eq!(rep.out.lines().count(), 1, "{}", rep.out);
    let rep = logalert(
        &["replay", "--rules", &out, "-q", "-"],
        Some(&four.to_string()),
        &dir,
    );
    assert_eq!(
        rep.out.lines().count(),
        0,
        "four errors do not breach > 4: {}",
        rep.out
    );

    // stdin, and inputs that are not the AWS JSON.
    let r = logalert(&["import-metric-filters", "-"], Some(FILTERS), &dir);
    assert_eq!(r.code, 0, "{}", r.err);
    let r = logalert(&["import-metric-filters", &alarms], None, &dir);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("describe-metric-filters"), "{}", r.err);
    let r = logalert(
        &["import-metric-filters", "-"],
        Some(r#"{"metricFilters": []}"#),
        &dir,
    );
    assert_eq!(r.code, 2);
    assert!(r.err.contains("nothing usable"), "{}", r.err);
}

#[test]
fn every_kind_of_rule_is_in_the_fixtures() {
    // The proof names these kinds: keep the fixtures honest.
    let kinds: BTreeSet<String> = expected()
        .iter()
        .map(|(file, _, _)| {
            let text = std::fs::read_to_string(Path::new(FIXTURES).join(file)).unwrap();
            let doc = &logalert::import::yaml::load(&text).unwrap()[0];
            doc["type"].as_str().unwrap_or("any").to_string()
        })
        .collect();
    for k in ["frequency", "any", "blacklist", "spike"] {
        assert!(kinds.contains(k), "{k}");
    }
}
