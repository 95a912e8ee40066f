//! `logalert test-pattern`, run as the real binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logalert"))
        .arg("test-pattern")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run logalert");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn messages_from_arguments() {
    let out = run(
        &[
            "--filter-pattern",
            "ERROR",
            "--log-event-messages",
            "[ERROR] 400 BAD REQUEST",
            "[INFO] 200 OK",
            "[ERROR] 500",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        json(&out),
        serde_json::json!({"matches": [
            {"eventNumber": 1, "eventMessage": "[ERROR] 400 BAD REQUEST", "extractedValues": {}},
            {"eventNumber": 3, "eventMessage": "[ERROR] 500", "extractedValues": {}},
        ]})
    );
}

#[test]
fn messages_from_stdin_one_per_line() {
    let out = run(
        &["--filter-pattern", "[..., status_code=4*, size]"],
        Some("a b 404 12\r\nnot matching 200 1\n\nc 400 7\n"),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        json(&out),
        serde_json::json!({"matches": [
            {"eventNumber": 1, "eventMessage": "a b 404 12",
             "extractedValues": {"$1": "a", "$2": "b", "$status_code": "404", "$size": "12"}},
            {"eventNumber": 4, "eventMessage": "c 400 7",
             "extractedValues": {"$1": "c", "$status_code": "400", "$size": "7"}},
        ]})
    );
}

#[test]
fn patterns_and_messages_may_start_with_a_hyphen() {
    let out = run(
        &[
            "--filter-pattern",
            "-DEBUG",
            "--log-event-messages",
            "-x",
            "DEBUG y",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["matches"][0]["eventMessage"], "-x");
    assert_eq!(json(&out)["matches"].as_array().unwrap().len(), 1);
}

#[test]
fn no_match_exits_zero_with_an_empty_list() {
    let out = run(&["--filter-pattern", "{ $.a = 1 }"], Some("not json\n"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out), serde_json::json!({"matches": []}));
}

#[test]
fn invalid_pattern_exits_two_with_position_and_caret() {
    let out = run(
        &[
            "--filter-pattern",
            "{ $.a == 1 }",
            "--log-event-messages",
            "x",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err,
        "logalert: invalid filter pattern: Invalid metric filter pattern: '==' is not an operator; use '=' to compare (at character 7)\n  { $.a == 1 }\n        ^\n"
    );
}

#[test]
fn help_has_examples() {
    let out = Command::new(env!("CARGO_BIN_EXE_logalert"))
        .args(["test-pattern", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("--filter-pattern <PATTERN>"), "{help}");
    assert!(help.contains("--log-event-messages <MSG>..."), "{help}");
    assert!(help.contains("Examples:"), "{help}");
}
