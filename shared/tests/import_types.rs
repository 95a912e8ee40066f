//! `logalert import-elastalert` carries every rule type and the common options over: the
//! ElastAlert rules in fixtures/elastalert-types (one per type, equivalent to the hand-written
//! fixtures/types/rules.yaml, and a digest rule) convert to live rules that `logalert validate`
//! accepts, and `logalert replay` over fixtures/types/events.log decides what the hand-written
//! rules decide.

use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
/// 2026-11-25T10:00:00Z.
const T10: i64 = 1_795_600_800_000;
const MIN: i64 = 60_000;

fn logalert(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_logalert"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("logalert-import-types-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn converted() -> String {
    let (code, out, err) = logalert(
        &["import-elastalert", "."],
        &Path::new(FIXTURES).join("elastalert-types"),
    );
    assert_eq!(code, 0, "{err}");
    out
}

fn replay(rules: &Path) -> Vec<serde_json::Value> {
    let events = format!("{FIXTURES}/types/events.log");
    let (code, out, err) = logalert(
        &[
            "replay",
            "--quiet",
            "--output",
            "json",
            "--rules",
            rules.to_str().unwrap(),
            &events,
        ],
        Path::new(FIXTURES),
    );
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["message"].clone())
        .collect()
}

/// (rule, kind, query key, count + suppressed, decided at) of each publication.
fn decisions(
    msgs: &[serde_json::Value],
    skip: &[&str],
) -> Vec<(String, String, Option<String>, u64, i64)> {
    msgs.iter()
        .filter(|m| !skip.contains(&m["rule"]["name"].as_str().unwrap()))
        .map(|m| {
            (
                m["rule"]["name"].as_str().unwrap().to_string(),
                m["kind"].as_str().unwrap().to_string(),
                m["query_key"].as_str().map(str::to_string),
                m["count"].as_u64().unwrap() + m["suppressed"].as_u64().unwrap(),
                m["decided_at"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_type_converts_live_and_validates() {
    let out = converted();
    assert!(!out.contains("NOT ACTIVE"), "every rule is live:\n{out}");
    for t in [
        "blacklist",
        "whitelist",
        "change",
        "spike",
        "flatline",
        "new_term",
        "cardinality",
        "percentage_match",
        "metric_aggregation",
        "spike_aggregation",
    ] {
        assert!(out.contains(&format!("type: {t}\n")), "{t}:\n{out}");
    }
    let rules = tmp("converted.yaml", &out);
    let (code, _, err) = logalert(&["validate", rules.to_str().unwrap()], Path::new(FIXTURES));
    assert_eq!(code, 0, "{err}\n{out}");
    // What changes meaning is said on the rule.
    assert!(
        out.contains("learns the terms seen during `learning_period` (default 1d)"),
        "{out}"
    );
    assert!(out.contains("include: '@timestamp' dropped"), "{out}");
    assert!(
        !out.contains("realert_key"),
        "the rule's own realert_key is simply per rule"
    );
    assert!(!out.contains("hooks.slack.com"));
}

#[test]
fn converted_types_decide_what_the_hand_written_rules_decide() {
    let converted = tmp("types.yaml", &converted());
    let theirs = replay(&converted);
    let ours = replay(&Path::new(FIXTURES).join("types/rules.yaml"));
    // new_term differs on purpose (ElastAlert has no @fingerprint nor learning period: below).
    assert_eq!(
        decisions(&theirs, &["nt", "error digest"]),
        decisions(&ours, &["nt"]),
    );
    assert!(
        decisions(&theirs, &[]).iter().any(|d| d.0 == "fl"),
        "the tick decided flatline"
    );
    // The converted new_term learns for a day, as its comment says: silent over these 6 minutes.
    assert!(theirs.iter().all(|m| m["rule"]["name"] != "nt"));
}

#[test]
fn a_converted_new_term_alerts_once_its_learning_period_is_set() {
    let text = converted().replace(
        "    fields: [$.msg]\n",
        "    fields: [$.msg]\n    learning_period: 0\n",
    );
    assert!(text.contains("learning_period: 0"));
    let msgs = replay(&tmp("nt.yaml", &text));
    let terms: Vec<&str> = msgs
        .iter()
        .filter(|m| m["rule"]["name"] == "nt")
        .map(|m| m["query_key"].as_str().unwrap())
        .collect();
    // Ten `db timeout after Ns` (0–9 s) and a disk full: each new message one alert, realert 0,
    // and a term seen again (1 s, 2 s, 3 s) no alert.
    assert_eq!(terms.len(), 11, "{terms:?}");
    assert_eq!(terms[0], "db timeout after 1s");
    assert_eq!(terms[10], "disk full on /dev/sda1");
}

#[test]
fn a_converted_digest_publishes_one_alert_per_window_with_its_table() {
    let msgs = replay(&tmp("digest.yaml", &converted()));
    let digests: Vec<&serde_json::Value> = msgs
        .iter()
        .filter(|m| m["rule"]["name"] == "error digest")
        .collect();
    // 14 error events. The first window runs 2 min from 10:00:30. Replay delivers the plain log
    // in one-minute invocations, as CloudWatch Logs batches: 10:01:30–10:02:30 arrive together at
    // 10:02:30, when the first window has ended (the engine clock decides, as in the function: a
    // late batch joins the next digest). So: 1, then the other 13 in the window opened at
    // 10:02:30, published by the 10:05 tick. Nothing is lost or counted twice.
    let counts: Vec<(u64, i64)> = digests
        .iter()
        .map(|d| {
            (
                d["count"].as_u64().unwrap(),
                d["decided_at"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, [(1, T10 + 2 * MIN + 30_000), (13, T10 + 5 * MIN)]);
    for d in &digests {
        let table = &d["digest"]["table"];
        let listed: u64 = table["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["count"].as_u64().unwrap())
            .sum();
        assert_eq!(
            listed + table["other_count"].as_u64().unwrap(),
            d["count"].as_u64().unwrap()
        );
        assert!(
            table["rows"].as_array().unwrap().len() <= 3,
            "summary_table_max_rows"
        );
        assert!(d["top_counts"][0]["values"].as_array().unwrap().len() <= 2);
        assert_eq!(
            d["samples"][0]["fields"]["$.host"], "-",
            "alert_missing_value"
        );
        assert_eq!(d["channel"], "slack");
    }
    let second = &digests[1]["digest"]["table"];
    assert_eq!(second["fields"], serde_json::json!(["$.msg"]));
    assert_eq!(
        second["rows"][0]["count"], 2,
        "2 s (and 3 s) twice in this window"
    );
    assert_eq!(second["other_rows"], 8, "11 distinct messages, 3 listed");
}
