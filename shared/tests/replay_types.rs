//! Every rule type through `logalert replay` (the real engine v2 over event time, ticks included):
//! fixtures/types/rules.yaml has one rule per type, fixtures/types/events.log one JSON event per
//! line (10:00–10:06 event time). Each alert's one-line observation and when it was decided.

use std::process::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/types");
/// 2026-11-25T10:00:00Z.
const T10: i64 = 1_795_600_800_000;
const MIN: i64 = 60_000;

fn replay(extra: &[&str]) -> Vec<serde_json::Value> {
    replay_files(
        format!("{FIXTURES}/rules.yaml").as_ref(),
        format!("{FIXTURES}/events.log").as_ref(),
        extra,
    )
}

/// The alerts `logalert replay` prints for `rules` over `events`.
fn replay_files(
    rules: &std::path::Path,
    events: &std::path::Path,
    extra: &[&str],
) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_logalert"))
        .args(["replay", "--quiet", "--output", "json", "--rules"])
        .arg(rules)
        .args(extra)
        .arg(events)
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
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["message"].clone())
        .collect()
}

fn seen(msgs: &[serde_json::Value]) -> Vec<(String, String, i64)> {
    msgs.iter()
        .map(|m| {
            (
                m["rule"]["name"].as_str().unwrap().to_string(),
                m["observation"]["text"].as_str().unwrap_or("").to_string(),
                m["decided_at"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_type_alerts_in_words_at_the_right_event_time() {
    let msgs = replay(&[]);
    let got = seen(&msgs);
    let fp_timeout = r#"new kind of message: {"timestamp": "<ts>", "level": "error", "msg": "db timeout after <dur>"}"#;
    let fp_disk = r#"new kind of message: {"timestamp": "<ts>", "level": "error", "msg": "disk full on /dev/<id>"}"#;
    let want: Vec<(&str, &str, i64)> = vec![
        ("bl", "user mallory is blacklisted", T10 + MIN),
        ("wl", "caller scraper is not in the whitelist", T10 + MIN),
        ("ch", "status up → down on host a", T10 + MIN),
        ("nt", fp_timeout, T10 + MIN),
        ("ca", "3 distinct users in 10 min (max 2)", T10 + MIN),
        (
            "sp",
            "3 in 1 min, 3× the previous 1 min (1)",
            T10 + 3 * MIN + 30_000,
        ),
        ("nt", fp_disk, T10 + 3 * MIN + 30_000),
        // Decided by ticks: nothing arrives to trigger these.
        (
            "sp",
            "0 in 1 min, down from 10 in the previous 1 min",
            T10 + 5 * MIN,
        ),
        ("fl", "no events for 5 min (expected ≥ 1)", T10 + 6 * MIN),
        (
            "ma",
            "avg latency 903 ms over 5 min (max 500 ms) — 10 events",
            T10 + 6 * MIN,
        ),
        (
            "pm",
            "30 % of 10 events match `{ $.code >= 500 }` over 5 min (max 10 %)",
            T10 + 6 * MIN,
        ),
        (
            "ma",
            "avg latency 3,000 ms over 5 min (max 500 ms) — 4 events",
            T10 + 11 * MIN,
        ),
        (
            "sa",
            "avg latency 3,000 ms over 5 min, 3.32× the previous 5 min (903 ms)",
            T10 + 11 * MIN,
        ),
    ];
    let want: Vec<(String, String, i64)> = want
        .into_iter()
        .map(|(r, t, at)| (r.to_string(), t.to_string(), at))
        .collect();
    assert_eq!(got, want);
    // new_term reports the term as the alert's query key; change the rule's key.
    assert_eq!(
        msgs[3]["query_key"],
        fp_timeout.trim_start_matches("new kind of message: ")
    );
    assert_eq!(msgs[2]["query_key"], "a");
    // Sparklines where counts matter.
    assert_eq!(msgs[5]["observation"]["sparkline"], "▂█");
    assert_eq!(msgs[8]["observation"]["sparkline"], "▁▁▁▁▁");
    // Samples are the events behind the alert.
    assert_eq!(msgs[0]["samples"].as_array().unwrap().len(), 1);
    assert!(
        msgs[0]["samples"][0]["message"]
            .as_str()
            .unwrap()
            .contains("mallory")
    );
    // Window alerts decided by a tick show the events of their window, held in the state.
    let latencies = |m: &serde_json::Value| -> Vec<i64> {
        m["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let line: serde_json::Value =
                    serde_json::from_str(s["message"].as_str().unwrap()).unwrap();
                line["latency"].as_i64().unwrap()
            })
            .collect()
    };
    let (ma, sa) = (&msgs[11], &msgs[12]);
    assert_eq!((latencies(ma).len(), latencies(sa).len()), (4, 4));
    assert!(
        latencies(ma)
            .iter()
            .chain(&latencies(sa))
            .all(|&l| l >= 1_000),
        "the slow window's events only"
    );
    assert_eq!(
        msgs[10]["samples"].as_array().unwrap().len(),
        3,
        "the 3 of 10 events matching code >= 500"
    );
}

#[test]
fn without_the_drain_the_tick_decisions_after_the_last_event_are_not_made() {
    let msgs = replay(&["--no-drain"]);
    let rules: Vec<&str> = msgs
        .iter()
        .map(|m| m["rule"]["name"].as_str().unwrap())
        .collect();
    // The last event is at 10:06:03; flatline (10:06:00) and the first windows close before it.
    assert!(rules.contains(&"fl"), "{rules:?}");
    assert!(
        !rules.contains(&"sa"),
        "the second window closes at 10:11, after the input: {rules:?}"
    );
}

/// `realert_key` over event time: two rules share one silence per query key; the silenced rule's
/// summary comes from a tick when the silence ends (the drain runs it after the last event).
#[test]
fn rules_sharing_a_realert_key_replay_one_alert_and_the_others_summary() {
    let dir = std::env::temp_dir().join(format!("logalert-replay-rk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.yaml");
    std::fs::write(
        &rules,
        "version: 1\nrules:\n  - name: db-errors\n    filter_pattern: '{ $.level = \"error\" }'\n    query_key: $.db\n    realert: 10m\n    realert_key: db\n  - name: db-slow\n    filter_pattern: '{ $.ms > 1000 }'\n    query_key: $.db\n    realert: 1m\n    realert_key: db\n",
    )
    .unwrap();
    let events = dir.join("events.log");
    std::fs::write(
        &events,
        concat!(
            r#"{"timestamp": "2026-11-25T10:00:00Z", "level": "error", "db": "orders", "ms": 5000}"#,
            "\n",
            r#"{"timestamp": "2026-11-25T10:02:00Z", "level": "info", "db": "orders", "ms": 3000}"#,
            "\n",
        ),
    )
    .unwrap();
    let msgs = replay_files(&rules, &events, &[]);
    let got: Vec<(String, String, u64, u64, i64)> = msgs
        .iter()
        .map(|m| {
            (
                m["rule"]["name"].as_str().unwrap().to_string(),
                m["kind"].as_str().unwrap().to_string(),
                m["count"].as_u64().unwrap(),
                m["suppressed"].as_u64().unwrap(),
                m["decided_at"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("db-errors".to_string(), "log-match".to_string(), 1, 0, T10),
            (
                "db-slow".to_string(),
                "summary".to_string(),
                0,
                2,
                T10 + 10 * MIN
            ),
        ]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `aggregation_key` with `query_key` over event time: decided per host, one digest per service
/// across hosts, published by the tick when its window ends (the drain runs it).
#[test]
fn digests_across_query_keys_replay_one_per_aggregation_value() {
    let dir = std::env::temp_dir().join(format!("logalert-replay-ak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.yaml");
    std::fs::write(
        &rules,
        "version: 1\nrules:\n  - name: per-service\n    filter_pattern: '{ $.level = \"error\" }'\n    query_key: $.host\n    aggregation: 10m\n    aggregation_key: $.svc\n    summary_table_fields: $.host\n",
    )
    .unwrap();
    let events = dir.join("events.log");
    let line = |t: &str, host: &str, svc: &str| {
        format!(
            r#"{{"timestamp": "2026-11-25T{t}Z", "level": "error", "host": "{host}", "svc": "{svc}"}}"#
        )
    };
    let log = [
        line("10:00:00", "a", "pay"),
        line("10:01:00", "b", "pay"),
        line("10:02:00", "a", "auth"),
        line("10:03:00", "c", "pay"),
    ]
    .join("\n");
    std::fs::write(&events, log).unwrap();
    let msgs = replay_files(&rules, &events, &[]);
    let got: Vec<(String, u64, i64, usize)> = msgs
        .iter()
        .map(|m| {
            (
                m["query_key"].as_str().unwrap().to_string(),
                m["count"].as_u64().unwrap(),
                m["decided_at"].as_i64().unwrap(),
                m["digest"]["table"]["rows"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("pay".to_string(), 3, T10 + 10 * MIN, 3),
            ("auth".to_string(), 1, T10 + 12 * MIN, 1),
        ]
    );
    std::fs::remove_dir_all(&dir).ok();
}
