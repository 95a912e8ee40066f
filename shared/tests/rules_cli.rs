//! The `logalert validate` and `logalert replay` commands, run as the built binary.

use std::process::Command;

fn logalert(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_logalert"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn temp(name: &str, content: &str) -> String {
    let dir = std::env::temp_dir().join(format!("logalert-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_string_lossy().into_owned()
}

const RULES: &str = "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 1m\n  - name: payments\n    filter_pattern: declined\n    type: frequency\n    num_events: 2\n    timeframe: 1m\n    query_key: $.user\n";

#[test]
fn validate_prints_a_summary_or_every_error() {
    let good = temp("good.yaml", RULES);
    let (code, out, err) = logalert(&["validate", &good]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("{good}: OK, 2 rules (2 enabled: 1 any, 1 frequency)\n")
    );

    let bad = temp(
        "bad.yaml",
        "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    severty: error\n    realert: 5\n",
    );
    let (code, out, err) = logalert(&["validate", &bad]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!(
            "logalert: {bad}:5:5: unknown key `severty` in a rule (did you mean `severity`?)
    |
  5 |     severty: error
    |     ^
logalert: {bad}:6:14: `realert`: duration `5` has no unit: write `5s`, `5m`, `5h` or `5d`
    |
  6 |     realert: 5
    |              ^
"
        )
    );
    let (code, _, err) = logalert(&["validate", "/nonexistent/rules.yaml"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("logalert: /nonexistent/rules.yaml: cannot read:"),
        "{err}"
    );
}

fn temp_dir(name: &str, files: &[(&str, &str)]) -> String {
    let dir = std::env::temp_dir()
        .join(format!("logalert-cli-{}", std::process::id()))
        .join(name);
    for (file, content) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir.to_string_lossy().into_owned()
}

const ONE: &str = "version: 1\nrules:\n  - name: one\n    filter_pattern: ERROR\n";
const TWO: &str = "version: 1\nrules:\n  - name: two\n    filter_pattern: WARN\n    type: frequency\n    num_events: 3\n    timeframe: 1h30m\n";

#[test]
fn validate_reads_several_files_and_directories_as_one_rule_set() {
    let dir = temp_dir(
        "rules.d",
        &[
            ("a.yaml", ONE),
            ("sub/b.yml", TWO),
            ("notes.txt", "not a rules file"),
            (".hidden.yaml", "not: read"),
        ],
    );
    let extra = temp(
        "extra.yaml",
        "version: 1\nrules:\n  - name: three\n    filter_pattern: x\n",
    );
    let (code, out, err) = logalert(&["validate", &dir, &extra]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        out,
        "3 files: OK, 3 rules (3 enabled: 2 any, 1 frequency)\n"
    );

    // Names are unique across files; the error names the first definition.
    let dup = temp(
        "dup.yaml",
        "version: 1\nrules:\n  - name: x\n    filter_pattern: x\n  - name: one\n    filter_pattern: y\n",
    );
    let (code, out, err) = logalert(&["validate", &dir, &dup]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err.lines().next().unwrap(),
        format!(
            "logalert: {dup}:5:11: duplicate rule name `one` (first defined in {dir}/a.yaml:3:11)"
        )
    );

    let empty = temp_dir("empty.d", &[("readme.md", "x")]);
    let (code, _, err) = logalert(&["validate", &empty]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!("logalert: {empty}: no rules files (*.yaml, *.yml) in this directory\n")
    );

    let (code, _, err) = logalert(&["validate"]);
    assert_eq!(code, 2, "a path is required: {err}");
}

#[test]
fn validate_errors_in_every_file_with_the_line_and_a_caret() {
    let a = temp(
        "caret-a.yaml",
        "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    alert_text: 'Hits: {{ num_hits }}'\n",
    );
    let b = temp(
        "caret-b.yaml",
        "version: 1\nrules:\n  - name: b\n    query_key: @logStream\n    filter_pattern: x\n",
    );
    let (code, out, err) = logalert(&["validate", &a, &b]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        format!(
            "logalert: {a}:5:27: `alert_text`: `num_hits` is an ElastAlert variable; logalert's is `count` (an event field of that name is `event.num_hits`)
    |
  5 |     alert_text: 'Hits: {{{{ num_hits }}}}'
    |                           ^
logalert: {b}:4:16: invalid YAML: unexpected character: `@'; `@` is reserved in YAML and cannot start an unquoted value; quote it: `query_key: '@logStream'`
    |
  4 |     query_key: @logStream
    |                ^
"
        )
    );
}

#[test]
fn validate_colours_only_when_asked_and_honours_no_color() {
    let bad = temp(
        "colour.yaml",
        "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    severty: error\n",
    );
    let run = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_logalert"));
        cmd.args(["validate", &bad])
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        String::from_utf8(cmd.output().unwrap().stderr).unwrap()
    };
    assert!(!run(&[]).contains('\x1b'), "piped: plain");
    let forced = run(&[("CLICOLOR_FORCE", "1")]);
    assert!(
        forced.contains("\x1b["),
        "CLICOLOR_FORCE: coloured: {forced:?}"
    );
    let no_color = run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!no_color.contains('\x1b'), "NO_COLOR wins: {no_color:?}");
}

#[test]
fn replay_prints_one_json_line_per_publish() {
    let rules = temp("replay-rules.yaml", RULES);
    let log = temp(
        "app.log",
        "2026-11-25T10:00:00Z ERROR one\n2026-11-25T10:00:10Z ERROR two\n{\"time\":\"2026-11-25T10:00:20Z\",\"msg\":\"declined\",\"user\":\"ann\"}\n{\"time\":\"2026-11-25T10:00:30Z\",\"msg\":\"declined\",\"user\":\"ann\"}\n2026-11-25T10:01:05Z ERROR three (suppressed)\n2026-11-25T10:02:30Z ERROR four\n",
    );
    let (code, out, err) =
        logalert(&["replay", "--rules", &rules, "--log-group", "/app/web", &log]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(String, u64, u64)> = lines
        .iter()
        .map(|l| {
            (
                l["message"]["rule"]["name"].as_str().unwrap().to_string(),
                l["message"]["count"].as_u64().unwrap(),
                l["message"]["suppressed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("errors".to_string(), 2, 0),
            ("payments".to_string(), 2, 0),
            // v2: the 10:02 tick (event time) closes the realert window and summarises it.
            ("errors".to_string(), 0, 1),
            ("errors".to_string(), 1, 0)
        ],
        "{out}"
    );
    assert_eq!(lines[2]["message"]["kind"], "summary");
    assert_eq!(lines[2]["message"]["decided_at"], 1_795_600_920_000_i64);
    assert_eq!(
        lines[2]["message"]["incident_id"], lines[0]["message"]["incident_id"],
        "the summary belongs to the first alert's incident"
    );
    assert_ne!(
        lines[3]["message"]["incident_id"],
        lines[0]["message"]["incident_id"]
    );
    assert_eq!(lines[0]["subject"], "[ERROR] errors: 2 matches in /app/web");
    assert_eq!(
        lines[0]["attributes"],
        serde_json::json!({"severity": "error", "rule": "errors", "log_group": "/app/web", "channel": "default"})
    );
    assert_eq!(lines[0]["message"]["samples"][0]["log_stream"], "app.log");
    assert_eq!(lines[1]["message"]["query_key"], "ann");
}

#[test]
fn replay_reads_encoded_and_kinesis_payloads_and_reports_bad_inputs() {
    let rules = temp("replay-rules2.yaml", RULES);
    let json = r#"{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/g","logStream":"s","subscriptionFilters":[],"logEvents":[{"id":"1","timestamp":1795600800000,"message":"ERROR x"}]}"#;
    let data = logalert::payload::encode_awslogs_data(json.as_bytes());
    let direct = temp(
        "direct.json",
        &serde_json::json!({"awslogs": {"data": data}}).to_string(),
    );
    let kinesis = temp(
        "kinesis.json",
        &serde_json::json!({"Records": [{"kinesis": {"data": data, "sequenceNumber": "1"}}]})
            .to_string(),
    );
    let broken = temp("broken.json", r#"{"awslogs": {"data": "bm90IGd6aXA="}}"#);
    let (code, out, err) = logalert(&["replay", "--rules", &rules, &direct, &broken, &kinesis]);
    assert_eq!(code, 2, "a bad input is an error, the others still replay");
    let reason = "payload data is not gzip (it does not start with the gzip magic bytes 1f 8b)";
    assert_eq!(
        err,
        format!(
            "logalert: {direct}: 1 payload, 1 event\n\
             logalert: {broken}:1: unreadable: {reason}\n\
             logalert: {kinesis}: 1 payload, 1 event\n\
             logalert: 3 inputs: 2 payloads, 2 events; 1 unreadable: {broken}:1: {reason}\n"
        )
    );
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "the Kinesis copy is the same batch: not alerted twice\n{out}"
    );
    assert_eq!(lines[0]["message"]["account"], "111122223333");
}

#[test]
fn validate_prints_warnings_and_still_succeeds() {
    let file = temp(
        "warn.yaml",
        "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    alert_subject: '{{ mesage }}'\n",
    );
    let (code, out, err) = logalert(&["validate", &file]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("{file}: OK, 1 rule (1 enabled: 1 any, 0 frequency)\n")
    );
    assert_eq!(
        err,
        format!(
            "logalert: {file}:5:24: warning: `alert_subject`: `mesage` is not a logalert variable and renders only if the event has a top-level field `mesage` (did you mean `message`?)
    |
  5 |     alert_subject: '{{{{ mesage }}}}'
    |                        ^
"
        )
    );
}
