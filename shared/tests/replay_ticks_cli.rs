//! `logalert replay` runs the ticks over event time: summaries and resolutions come out between
//! and after the inputs (drain), or not after the last event with `--no-drain`. Issue 8's two
//! examples through the built binary.

use std::process::Command;

fn replay(args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_logalert"))
        .arg("replay")
        .args(["--quiet", "--output", "json"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn temp(name: &str, content: &str) -> String {
    let dir = std::env::temp_dir().join(format!("logalert-ticks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_string_lossy().into_owned()
}

fn summary(lines: &[serde_json::Value]) -> Vec<(String, u64, u64)> {
    lines
        .iter()
        .map(|l| {
            let m = &l["message"];
            (
                m["kind"].as_str().unwrap().to_string(),
                m["count"].as_u64().unwrap(),
                m["suppressed"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn owned(v: &[(&str, u64, u64)]) -> Vec<(String, u64, u64)> {
    v.iter().map(|(k, c, s)| (k.to_string(), *c, *s)).collect()
}

#[test]
fn minutes_0_2_4_6_with_realert_10m_give_one_alert_then_a_summary() {
    let rules = temp(
        "r10.yaml",
        "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 10m\n",
    );
    let log = temp(
        "m.log",
        "2026-11-25T10:00:00Z ERROR a\n2026-11-25T10:02:00Z ERROR b\n2026-11-25T10:04:00Z ERROR c\n2026-11-25T10:06:00Z ERROR d\n",
    );
    let lines = replay(&["--rules", &rules, &log]);
    assert_eq!(
        summary(&lines),
        owned(&[("log-match", 1, 0), ("summary", 0, 3)])
    );
    // Decided by the tick at 10:10 (event time), when the window closed.
    assert_eq!(
        lines[1]["message"]["decided_at"],
        1_795_600_800_000_i64 + 600_000
    );
    assert_eq!(
        lines[1]["message"]["incident_id"],
        lines[0]["message"]["incident_id"]
    );
    // --no-drain stops at the last event: the window has not closed yet.
    let lines = replay(&["--rules", &rules, "--no-drain", &log]);
    assert_eq!(summary(&lines), owned(&[("log-match", 1, 0)]));
}

#[test]
fn the_storm_through_replay() {
    let rules = temp(
        "r5.yaml",
        "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 5m\n",
    );
    // 10,000 matches in 60 s, in 10 payloads of 1,000 (one JSON line each).
    let mut text = String::new();
    for inv in 0..10 {
        let events: Vec<serde_json::Value> = (0..1000)
            .map(|i| {
                let n = inv * 1000 + i;
                serde_json::json!({"id": format!("e{n}"), "timestamp": 1_795_600_800_000_i64 + n * 6, "message": format!("ERROR {n}")})
            })
            .collect();
        let payload = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/g",
            "logStream": "s", "subscriptionFilters": [], "logEvents": events});
        text.push_str(&payload.to_string());
        text.push('\n');
    }
    let input = temp("storm.jsonl", &text);
    let lines = replay(&["--rules", &rules, &input]);
    assert_eq!(
        summary(&lines),
        owned(&[("log-match", 1000, 0), ("summary", 0, 9000)])
    );
}

#[test]
fn resolved_comes_out_of_the_drain() {
    let rules = temp(
        "rr.yaml",
        "version: 1\nrules:\n  - name: errors\n    filter_pattern: ERROR\n    realert: 1m\n    resolve_after: 15m\n",
    );
    let log = temp(
        "r.log",
        "2026-11-25T10:00:00Z ERROR a\n2026-11-25T10:00:30Z ERROR b\n",
    );
    let lines = replay(&["--rules", &rules, &log]);
    assert_eq!(
        summary(&lines),
        owned(&[("log-match", 2, 0), ("resolved", 0, 0)])
    );
    assert_eq!(
        lines[1]["message"]["decided_at"],
        1_795_600_830_000_i64 + 15 * 60_000 + 30_000,
        "the first whole-minute tick at or after 10:15:30"
    );
    assert_eq!(
        lines[1]["subject"],
        "[RESOLVED] errors: quiet in /logalert/replay"
    );
}
