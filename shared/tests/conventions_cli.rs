//! The conventions every `logalert` subcommand follows, and replay's inputs and outputs, on the
//! real binary: region from the environment, exit codes in --help, one error style without colour
//! when piped, every input accounted for, text output for people.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use logalert::payload;

struct Run {
    code: i32,
    out: String,
    err: String,
}

fn run_with(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logalert"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        // The child may exit before reading stdin (usage errors): a broken pipe is fine here.
        let _ = pipe.write_all(input);
    }
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8(out.stdout).unwrap(),
        err: String::from_utf8(out.stderr).unwrap(),
    }
}

fn run(args: &[&str]) -> Run {
    run_with(args, None, &[])
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("logalert-conv-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Write a file atomically (tests run in parallel and may share a name).
fn temp(name: &str, content: &[u8]) -> String {
    let path = dir().join(name);
    let tmp = dir().join(format!("{name}.{:?}.tmp", std::thread::current().id()));
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path.to_string_lossy().into_owned()
}

const RULES: &str = "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 1m\n    query_key: \"@logGroup\"\n";

fn rules() -> String {
    temp("rules.yaml", RULES.as_bytes())
}

/// A decoded payload of `n` events, every other one an ERROR, starting at `t0`.
fn payload_json(group: &str, t0: i64, n: usize) -> String {
    let events: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "id": format!("{group}-{t0}-{i}"),
                "timestamp": t0 + i as i64 * 1000,
                "message": if i % 2 == 0 { format!("ERROR number {i}") } else { format!("ok {i}") },
            })
        })
        .collect();
    serde_json::json!({
        "messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": group,
        "logStream": "s1", "subscriptionFilters": ["f"], "logEvents": events,
    })
    .to_string()
}

const CONTROL: &str = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1795600800000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;
const T0: i64 = 1_795_600_800_000; // 2026-11-25T10:00:00Z

fn publishes(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

// ------------------------------------------------------------------------------ region

#[test]
fn region_comes_from_the_flag_then_aws_region_then_aws_default_region() {
    let rules = rules();
    let input = temp("region.json", payload_json("/app", T0, 1).as_bytes());
    let region = |flag: Option<&str>, env: &[(&str, &str)]| {
        let mut args = vec!["replay", "--rules", &rules, "-q", &input];
        if let Some(f) = flag {
            args.extend(["--region", f]);
        }
        let r = run_with(&args, None, env);
        assert_eq!(r.code, 0, "{}", r.err);
        let p = publishes(&r.out);
        p[0]["message"]["region"].as_str().unwrap().to_string()
    };
    assert_eq!(region(None, &[]), "us-east-1");
    assert_eq!(region(None, &[("AWS_REGION", "eu-west-1")]), "eu-west-1");
    assert_eq!(
        region(None, &[("AWS_DEFAULT_REGION", "ap-south-1")]),
        "ap-south-1"
    );
    assert_eq!(
        region(
            None,
            &[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_DEFAULT_REGION", "ap-south-1")
            ]
        ),
        "eu-west-1"
    );
    assert_eq!(
        region(Some("us-west-2"), &[("AWS_REGION", "eu-west-1")]),
        "us-west-2"
    );
}

#[test]
fn links_follow_the_region_from_the_environment() {
    let rules = rules();
    let input = temp("links.json", payload_json("/app", T0, 1).as_bytes());
    let r = run_with(
        &["replay", "--rules", &rules, "-q", "--slack", &input],
        None,
        &[("AWS_REGION", "eu-west-1")],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out.contains("eu-west-1.console.aws.amazon.com"),
        "{}",
        r.out
    );
    assert!(!r.out.contains("us-east-1"), "{}", r.out);
}

// ------------------------------------------------------------------------- exit codes

#[test]
fn every_help_documents_exit_codes() {
    for sub in [
        vec!["--help"],
        vec!["test-pattern", "--help"],
        vec!["validate", "--help"],
        vec!["replay", "--help"],
        vec!["render", "--help"],
        vec!["completions", "--help"],
    ] {
        let r = run(&sub);
        assert_eq!(r.code, 0, "{sub:?}");
        assert!(r.out.contains("Exit status"), "{sub:?}: {}", r.out);
        assert!(r.out.contains("  0  "), "{sub:?}");
        assert!(r.out.contains("  2  "), "{sub:?}");
        assert!(r.out.contains("Examples:"), "{sub:?}: {}", r.out);
    }
    assert!(
        run(&["replay", "--help"])
            .out
            .contains("  1  with --fail-on-alert")
    );
}

#[test]
fn usage_errors_exit_two() {
    let r = run(&["replay", "--rules"]);
    assert_eq!(r.code, 2);
    let r = run(&["nosuchcommand"]);
    assert_eq!(r.code, 2);
    let r = run(&["test-pattern", "--log-event-messages", "x"]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("--filter-pattern"), "{}", r.err);
}

#[test]
fn fail_on_alert_exits_one_when_something_would_be_published() {
    let rules = rules();
    let alerting = temp("alerting.json", payload_json("/app", T0, 2).as_bytes());
    let quiet_log = temp("quiet.log", b"2026-11-25T10:00:00Z all good\n");
    let r = run(&["replay", "--rules", &rules, "--fail-on-alert", &alerting]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert_eq!(publishes(&r.out).len(), 1);
    let r = run(&["replay", "--rules", &rules, "--fail-on-alert", &quiet_log]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out, "");
}

// ----------------------------------------------------------------------- error style

#[test]
fn errors_are_plain_when_piped_and_name_the_place() {
    let bad_rules = temp(
        "bad-rules.yaml",
        b"version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    severty: error\n",
    );
    let input = temp("any.json", payload_json("/app", T0, 1).as_bytes());
    let r = run(&["replay", "--rules", &bad_rules, &input]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.err,
        format!(
            "logalert: {bad_rules}:5:5: unknown key `severty` in a rule (did you mean `severity`?)\n"
        )
    );
    assert!(
        !r.err.contains('\x1b'),
        "no colour when stderr is not a terminal"
    );

    let r = run_with(
        &["replay", "--rules", &bad_rules, &input],
        None,
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(r.err.contains('\x1b'), "colour can be forced: {:?}", r.err);
    let r = run_with(
        &["replay", "--rules", &bad_rules, &input],
        None,
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(!r.err.contains('\x1b'), "NO_COLOR wins: {:?}", r.err);

    let r = run(&["replay", "--rules", "/nonexistent/rules.yaml", &input]);
    assert_eq!(r.code, 2);
    assert!(
        r.err
            .starts_with("logalert: /nonexistent/rules.yaml: cannot read:"),
        "{}",
        r.err
    );
}

// ------------------------------------------------------------------------------ inputs

#[test]
fn unreadable_inputs_are_reported_with_a_reason_and_exit_two() {
    let rules = rules();
    let good = temp("good.json", payload_json("/app", T0, 3).as_bytes());
    let empty = temp("empty.json", b"");
    let full = payload_json("/app", T0, 3);
    let truncated = temp("truncated.json", &full.as_bytes()[..full.len() / 2]);
    let hello = temp("hello.json", br#"{"hello":"world"}"#);
    let r = run(&[
        "replay", "--rules", &rules, &good, &empty, &truncated, &hello,
    ]);
    assert_eq!(r.code, 2, "{}", r.err);
    assert_eq!(
        publishes(&r.out).len(),
        1,
        "the readable input still replays"
    );
    let lines: Vec<&str> = r.err.lines().collect();
    assert_eq!(lines[0], format!("logalert: {good}: 1 payload, 3 events"));
    assert_eq!(
        lines[1],
        format!("logalert: {empty}: unreadable: empty: no payload and no log line")
    );
    assert!(
        lines[2].starts_with(&format!("logalert: {truncated}:1:"))
            && lines[2]
                .ends_with("unreadable: the JSON ends before the value is complete (truncated?)"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with(&format!(
            "logalert: {hello}: unreadable: JSON, but not a CloudWatch Logs"
        )) && lines[3].contains("an object with keys `hello`"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].starts_with("logalert: 4 inputs: 1 payload, 3 events; 3 unreadable: "),
        "{}",
        lines[4]
    );
    assert_eq!(lines.len(), 5, "{}", r.err);
}

#[test]
fn arrays_concatenated_gzip_members_and_stdin_are_read() {
    let rules = rules();
    let array = format!(
        "[{}, {}, {CONTROL}]",
        payload_json("/a", T0, 2),
        payload_json("/b", T0, 4)
    );
    let array_file = temp("array.json", array.as_bytes());
    let mut firehose = payload::gzip(payload_json("/c", T0, 2).as_bytes());
    firehose.extend(payload::gzip(payload_json("/d", T0, 2).as_bytes()));
    firehose.extend(payload::gzip(CONTROL.as_bytes()));
    let firehose_file = temp("firehose-object", &firehose);

    let r = run(&["replay", "--rules", &rules, &array_file, &firehose_file]);
    assert_eq!(r.code, 0, "{}", r.err);
    let groups: Vec<String> = publishes(&r.out)
        .iter()
        .map(|p| p["message"]["log_group"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(groups, ["/a", "/b", "/c", "/d"]);
    assert!(r.err.contains(&format!(
        "logalert: {array_file}: 2 payloads, 6 events, 1 control message\n"
    )));
    assert!(r.err.contains(&format!(
        "logalert: {firehose_file}: 2 payloads, 4 events, 1 control message\n"
    )));
    assert!(
        r.err
            .ends_with("logalert: 2 inputs: 4 payloads, 10 events, 2 control messages\n"),
        "{}",
        r.err
    );

    // `-` reads stdin (here: gzip, as `aws s3 cp s3://… -` gives it).
    let r = run_with(&["replay", "--rules", &rules, "-"], Some(&firehose), &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(publishes(&r.out).len(), 2);
    assert_eq!(
        r.err,
        "logalert: <stdin>: 2 payloads, 4 events, 1 control message\n"
    );

    let r = run_with(&["replay", "--rules", &rules, "-"], Some(b""), &[]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.err.lines().next().unwrap(),
        "logalert: <stdin>: unreadable: empty: no payload and no log line"
    );

    let r = run(&["replay", "--rules", &rules, "-", "-"]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("more than once"), "{}", r.err);
}

#[test]
fn a_directory_is_its_files_and_plain_logs_go_to_the_given_group() {
    let rules = rules();
    let d = dir().join("logs-dir");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("a.log"), "2026-11-25T10:00:00Z ERROR one\n").unwrap();
    std::fs::write(d.join("b.log"), "2026-11-25T10:05:00Z ERROR two\n").unwrap();
    std::fs::write(d.join(".hidden"), "ERROR never\n").unwrap();
    let r = run(&[
        "replay",
        "--rules",
        &rules,
        "--log-group",
        "/app/web",
        d.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    let p = publishes(&r.out);
    assert_eq!(p.len(), 2, "{}", r.out);
    assert_eq!(p[0]["message"]["log_group"], "/app/web");
    assert_eq!(p[1]["message"]["samples"][0]["log_stream"], "b.log");
}

#[test]
fn input_format_log_forces_json_lines_to_be_log_lines() {
    let rules = rules();
    let hello = temp("hello-log.json", br#"{"msg":"ERROR in json"}"#);
    let r = run(&["replay", "--rules", &rules, "-q", &hello]);
    assert_eq!(r.code, 2);
    let r = run(&[
        "replay",
        "--rules",
        &rules,
        "-q",
        "--input-format",
        "log",
        &hello,
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(publishes(&r.out).len(), 1);
    assert_eq!(r.err, "");
}

// ------------------------------------------------------------------------------ output

#[test]
fn replay_text_output_for_people() {
    let rules = temp(
        "text-rules.yaml",
        b"version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 1m\n    query_key: $.user\n    alert_subject: \"{{ count }} errors for {{ user }}\"\n",
    );
    let log = temp(
        "text.log",
        "{\"time\":\"2026-11-25T10:00:00Z\",\"msg\":\"ERROR \\u001b[31mdb down\",\"user\":\"ann\"}\n\
         {\"time\":\"2026-11-25T10:00:30Z\",\"msg\":\"ERROR again\",\"user\":\"ann\"}\n\
         {\"time\":\"2026-11-25T10:00:40Z\",\"msg\":\"ERROR x\",\"user\":\"bob\"}\n\
         {\"time\":\"2026-11-25T10:02:00Z\",\"msg\":\"ERROR later\",\"user\":\"ann\"}\n"
            .as_bytes(),
    );
    let r = run(&[
        "replay",
        "--rules",
        &rules,
        "--log-group",
        "/app/web",
        "--log-stream",
        "web-1",
        "--output",
        "text",
        "-q",
        &log,
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        !r.out.contains('\x1b'),
        "log text cannot drive the terminal"
    );
    insta::assert_snapshot!("replay_text", r.out);

    let r = run(&["replay", "--rules", &rules, "--pretty", "-q", &log]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out.starts_with("{\n  \"") && r.out.contains("\n  \"subject\": "),
        "{}",
        r.out
    );
    let values: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&r.out)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(values.len(), 3);
}

#[test]
fn test_pattern_takes_options_in_any_order_and_prints_text() {
    let r = run(&[
        "test-pattern",
        "--log-event-messages",
        "ERROR a",
        "ok",
        "--filter-pattern",
        "ERROR",
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["matches"].as_array().unwrap().len(), 1);
    assert_eq!(v["matches"][0]["eventMessage"], "ERROR a");

    let r = run(&[
        "test-pattern",
        "--log-event-messages",
        "a b 404 12",
        "c d 200 1",
        "--output",
        "text",
        "--filter-pattern",
        "[w1, w2, status=4*, size]",
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    insta::assert_snapshot!("test_pattern_text", r.out);

    let r = run(&[
        "test-pattern",
        "--filter-pattern",
        "x",
        "--log-event-messages",
        "a",
        "--filter-pattern",
        "y",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("more than once"), "{}", r.err);
}

#[test]
fn render_text_output_and_completions() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/slack/alert-v1.json"
    );
    let r = run(&["render", "--output", "text", fixture]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.starts_with('#'), "{}", r.out);
    assert!(r.out.contains("payments-auth-failures"), "{}", r.out);
    assert!(
        !r.out.contains("hunter2"),
        "redacted as in Slack: {}",
        r.out
    );

    for shell in ["bash", "zsh", "fish"] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.err);
        assert!(r.out.contains("test-pattern"), "{shell}");
        assert!(r.out.contains("filter-pattern"), "{shell}");
    }
    assert_eq!(run(&["completions", "tcsh"]).code, 2);
}
