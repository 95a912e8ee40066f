//! State stays bounded: the worst case of every part of a key's state record, built through the
//! real decision code (`policy::decide`, the rule types' own `on_matches`) from adversarial input,
//! stays within `STATE_BODY_BUDGET` (DynamoDB's 400 KB item less 8 KB for the item's key and other
//! attributes) in the encoding the driver writes (`serde_json::to_value(&state)`, written as its
//! compact text) — and shedding never changes a count.
//!
//! Adversarial input: values of control characters (6 bytes each in JSON; as extracted fields, so
//! building a case walks no JSON), the most samples
//! (`max_samples: 100`), the most `include` values (10 of 1 KB), long keys and terms, a sink that
//! never accepts (so the outbox fills), the most summary-table fields and top-count keys, and as
//! many distinct values as each type keeps.
//!
//! `cargo test -p logalert --test state_budget -- --nocapture` prints the sizes (BENCHMARKS.md).

use logalert::engine::policy::{
    self, MAX_STORED_KEY_BYTES, OUTBOX_BUDGET, PENDING_MAX_BYTES, STATE_BODY_BUDGET, encoded_len,
};
use logalert::engine::types::{self, MatchView};
use logalert::engine::{EngineConfig, KeyState, MAX_OUTBOX_PENDING};
use logalert::pattern::Extracted;
use logalert::rules::Rule;

const MIN: i64 = 60_000;
/// 2026-12-01T00:00:00Z.
const T0: i64 = 1_796_083_200_000;

fn rule(yaml: &str) -> Rule {
    let file = format!("version: 1\nrules:\n  - name: worst\n{yaml}");
    logalert::rules::load(&file, "worst.yaml")
        .unwrap_or_else(|e| panic!("{e}"))
        .rules
        .remove(0)
}

/// `n` control characters as a JSON string's escaped text (`\u0001…`): decoded, 6 bytes each in
/// the state's JSON.
fn ctl(n: usize) -> String {
    "\\u0001".repeat(n)
}

/// `n` control characters (U+0001): 6 bytes each in the state's JSON.
fn raw(n: usize) -> String {
    "\u{1}".repeat(n)
}

/// Owned events (with the values a space-delimited pattern would have extracted), viewed as
/// matches. Adversarial values come as extracted fields and raw messages, so building the case
/// costs no JSON walk of megabytes of escapes.
#[derive(Default)]
struct Events {
    events: Vec<(String, i64, String, Extracted)>,
}

impl Events {
    fn push(&mut self, ts: i64, message: String, extracted: Extracted) {
        let id = format!(
            "{:056}",
            self.events.len() + 1_000_000 * (ts - T0).max(0) as usize
        );
        self.events.push((id, ts, message, extracted));
    }

    fn views(&self) -> Vec<MatchView<'_>> {
        let mut v: Vec<MatchView> = self
            .events
            .iter()
            .map(|(id, ts, m, x)| MatchView {
                id,
                timestamp: *ts,
                log_group: "/worst",
                log_stream: "stream",
                message: m,
                extracted: x,
            })
            .collect();
        v.sort_by(|a, b| (a.timestamp, a.id).cmp(&(b.timestamp, b.id)));
        v
    }
}

/// A message longer than a sample keeps, of control characters.
fn big_message() -> String {
    format!("ERROR {}", raw(2_100))
}

/// Ten `include` values (`$i0` … `$i9`) of more than 1 KiB of control characters, and `extra`.
fn big_fields(extra: &[(&str, String)]) -> Extracted {
    (0..10)
        .map(|i| (format!("$i{i}"), raw(1_030)))
        .chain(extra.iter().map(|(k, v)| (format!("${k}"), v.clone())))
        .collect()
}

const INCLUDE: &str =
    "    include: [$i0, $i1, $i2, $i3, $i4, $i5, $i6, $i7, $i8, $i9]\n    max_samples: 100\n";

/// The encoding the driver writes: the state as a JSON value, stored as its text.
fn driver_body_len(st: &KeyState) -> usize {
    serde_json::to_value(st).unwrap().to_string().len()
}

fn check(name: &str, st: &KeyState) -> usize {
    let size = driver_body_len(st);
    assert_eq!(
        size,
        encoded_len(st),
        "{name}: the budget measures what is written"
    );
    println!(
        "| {name} | {size} | {} | {} | {} |",
        encoded_len(&st.outbox),
        encoded_len(&st.type_state),
        st.sub.len()
    );
    assert!(
        size <= STATE_BODY_BUDGET,
        "{name}: {size} bytes > {STATE_BODY_BUDGET}"
    );
    assert!(
        encoded_len(&st.outbox) <= OUTBOX_BUDGET,
        "{name}: outbox {}",
        encoded_len(&st.outbox)
    );
    assert!(st.outbox.len() <= MAX_OUTBOX_PENDING);
    for p in &st.outbox {
        assert!(
            encoded_len(p) <= PENDING_MAX_BYTES,
            "{name}: one pending {}",
            encoded_len(p)
        );
    }
    if let Some(k) = &st.query_key {
        assert!(encoded_len(k) <= MAX_STORED_KEY_BYTES + 2);
    }
    for s in &st.sub {
        assert!(encoded_len(&s.key) <= MAX_STORED_KEY_BYTES + 2);
    }
    size
}

/// Σ suppressed held in windows + Σ count and suppressed in the outbox + the digest's count:
/// what the record still owes or has decided (shedding must not change it).
fn owed(st: &KeyState) -> u64 {
    let windows: u64 = st
        .window
        .iter()
        .chain(st.sub.iter().filter_map(|s| s.window.as_ref()))
        .map(|w| w.suppressed)
        .sum();
    let outbox: u64 = st
        .outbox
        .iter()
        .map(|p| p.alert.count + p.alert.suppressed)
        .sum();
    windows + outbox + st.digest.as_ref().map_or(0, |d| d.count)
}

fn decide(rule: &Rule, st: &mut KeyState, ev: &Events, now: i64) -> policy::Decided {
    let config = EngineConfig::new("us-east-1");
    let views = ev.views();
    let origin = policy::Origin {
        log_group: "/worst",
        account: "123456789012",
    };
    policy::decide(&config, rule, st, &views, Some(origin), now)
}

#[test]
fn new_term_with_every_sub_key_full_and_an_outbox_that_never_drains() {
    let r = rule(&format!(
        "    type: new_term\n    fields: [$code]\n    learning_period: 1h\n    realert: 1h\n    query_key: $q\n{INCLUDE}"
    ));
    let q = raw(3_000);
    let mut st = KeyState::new("worst", Some(&q), T0);
    // Learning: more terms than the type keeps (5,000), silently.
    let mut learn = Events::default();
    for i in 0..6_000 {
        learn.push(
            T0 + i,
            "x".into(),
            vec![
                ("$q".into(), q.clone()),
                ("$code".into(), format!("learned-{i}")),
            ],
        );
    }
    decide(&r, &mut st, &learn, T0 + 6_000);
    assert!(st.outbox.is_empty());
    let mut represented = 0;
    // Then 80 new long terms a round (more than the 64 sub-keys), each with 2 events, three rounds.
    for round in 0..3 {
        let mut ev = Events::default();
        for term in 0..80 {
            for k in 0..2 {
                let t = T0 + 2 * 3_600_000 + round * MIN + term * 10 + k;
                let code = format!("T{round}-{term}-{}", raw(2_000));
                ev.push(
                    t,
                    big_message(),
                    big_fields(&[("q", q.clone()), ("code", code)]),
                );
            }
        }
        represented += decide(&r, &mut st, &ev, T0 + 2 * 3_600_000 + round * MIN + MIN).represented;
    }
    assert_eq!(represented, 3 * 80 * 2);
    assert_eq!(st.sub.len(), 64);
    assert!(!st.outbox.is_empty());
    let size = check("new_term: 5,000 terms, 64 sub-keys, outbox full", &st);
    // Everything represented is still owed or decided (nothing was sent).
    assert_eq!(owed(&st), represented, "shedding kept every count");
    assert!(
        size > STATE_BODY_BUDGET / 2,
        "the case is a real worst case: {size}"
    );
    assert!(
        st.sub
            .iter()
            .filter_map(|s| s.window.as_ref())
            .any(|w| w.truncated),
        "samples were shed"
    );
}

#[test]
fn digest_with_the_largest_table_top_counts_samples_and_cardinality_state() {
    let fields = "[$f0, $f1, $f2, $f3, $f4]";
    let r = rule(&format!(
        "    type: cardinality\n    cardinality_field: $user\n    max_cardinality: 1\n    timeframe: 1d\n    aggregation: 10m\n    summary_table_fields: {fields}\n    summary_table_max_rows: 50\n    top_count_keys: {fields}\n    top_count_number: 50\n{INCLUDE}"
    ));
    let mut st = KeyState::new("worst", None, T0);
    let mut represented = 0;
    // Six digest windows: each one's digest is decided into an outbox that never drains.
    for w in 0..6i64 {
        let mut ev = Events::default();
        for i in 0..150i64 {
            let user = w * 150 + i;
            let f: Vec<(String, String)> = (0..5)
                .map(|k| (format!("f{k}"), format!("{}{}", raw(200), user * 5 + k)))
                .collect();
            let mut extra: Vec<(&str, String)> =
                f.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            extra.push(("user", format!("u{user}")));
            ev.push(T0 + w * 11 * MIN + i, big_message(), big_fields(&extra));
        }
        represented += decide(&r, &mut st, &ev, T0 + w * 11 * MIN + 150).represented;
    }
    assert!(st.digest.is_some());
    let size = check(
        "cardinality + aggregation: 900 users, 5×50 table and top rows",
        &st,
    );
    assert_eq!(owed(&st), represented, "shedding kept every count");
    let d = st.digest.as_ref().unwrap();
    assert_eq!(d.table.total(), d.count, "the table still adds up");
    for t in &d.top {
        assert_eq!(t.total(), d.count, "top counts still add up");
    }
    assert!(size > STATE_BODY_BUDGET / 2, "a real worst case: {size}");
}

#[test]
fn an_any_rule_holding_a_full_window_behind_a_full_outbox() {
    let r = rule(&format!(
        "    filter_pattern: ERROR\n    realert: 1h\n    query_key: $q\n{INCLUDE}"
    ));
    let q = raw(5_000);
    let mut st = KeyState::new("worst", Some(&q), T0);
    let mut represented = 0;
    for b in 0..6i64 {
        let mut ev = Events::default();
        for i in 0..110i64 {
            ev.push(T0 + b * 2 * 3_600_000 + i, big_message(), big_fields(&[]));
        }
        represented += decide(&r, &mut st, &ev, T0 + b * 2 * 3_600_000 + 110).represented;
    }
    check("any: outbox full, 100 samples of 60 KB waiting", &st);
    assert_eq!(owed(&st), represented);
}

#[test]
fn a_window_type_holding_every_open_windows_samples_behind_a_full_outbox() {
    let r = rule(&format!(
        "    filter_pattern: ERROR\n    type: percentage_match\n    match_bucket_filter: ERROR\n    max_percentage: 50\n    buffer_time: 5s\n    realert: 0\n    query_key: $q\n{INCLUDE}"
    ));
    let q = raw(5_000);
    let mut st = KeyState::new("worst", Some(&q), T0);
    let mut most_held = 0;
    // Batches of 8 windows × 6 events (the most windows a type keeps open, each with the most
    // held samples), every window over its maximum, into an outbox that never drains.
    for b in 0..6i64 {
        let mut ev = Events::default();
        for i in 0..48i64 {
            let fields = big_fields(&[("q", q.clone()), ("rest", raw(9_000))]);
            ev.push(
                T0 + b * 40_000 + (i / 6) * 5_000 + i % 6,
                big_message(),
                fields,
            );
        }
        decide(&r, &mut st, &ev, T0 + b * 40_000 + 40_000);
        most_held = most_held.max(st.held.len());
        check(
            "percentage_match: 8 windows' held samples, outbox full",
            &st,
        );
    }
    // Some are held, and some had to be shed (8 windows × 5 would not fit).
    assert!((1..40).contains(&most_held), "{most_held} held");
    for h in &st.held {
        assert!(h.message.len() <= policy::HELD_MESSAGE_BYTES);
        let extracted: usize = h.extracted.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(extracted <= policy::HELD_MESSAGE_BYTES && h.cut);
    }
}

/// The message of the i-th event of a case.
type MessageOf = Box<dyn Fn(i64) -> String>;

/// The rule types' own state at its largest (the part of the record that is never shed).
#[test]
fn every_rule_types_own_state_stays_within_its_stated_bound() {
    // (rule, events, the bound its module docs state in bytes)
    let cases: Vec<(&str, String, MessageOf, usize)> = vec![
        (
            "frequency",
            "    type: frequency\n    num_events: 2000\n    timeframe: 1d\n".into(),
            Box::new(|_| r#"{"a":1}"#.to_string()),
            40 * 1024,
        ),
        (
            "flatline",
            "    type: flatline\n    threshold: 1000\n    timeframe: 1d\n".into(),
            Box::new(|_| r#"{"a":1}"#.to_string()),
            40 * 1024,
        ),
        (
            "new_term",
            "    type: new_term\n    fields: [$.v]\n".into(),
            Box::new(|i| format!(r#"{{"v":"{}{i}"}}"#, ctl(50))),
            100 * 1024,
        ),
        (
            "cardinality",
            "    type: cardinality\n    cardinality_field: $.v\n    max_cardinality: 100000\n    timeframe: 1d\n".into(),
            Box::new(|i| format!(r#"{{"v":"{}{i}"}}"#, ctl(50))),
            100 * 1024,
        ),
        (
            "change",
            "    type: change\n    compare_key: [$.a, $.b, $.c]\n".into(),
            Box::new(|i| format!(r#"{{"a":"{0}{i}","b":"{0}","c":"{0}"}}"#, ctl(200))),
            8 * 1024,
        ),
        (
            "spike",
            "    type: spike\n    timeframe: 1h\n    spike_height: 1000\n    spike_type: both\n    query_key: $.k\n".into(),
            Box::new(|_| format!(r#"{{"k":"{}"}}"#, ctl(200))),
            12 * 1024,
        ),
        (
            "percentage_match",
            "    type: percentage_match\n    match_bucket_filter: '{ $.s >= 500 }'\n    max_percentage: 100\n    buffer_time: 1m\n    query_key: $.k\n".into(),
            Box::new(|i| format!(r#"{{"s":{},"k":"{}"}}"#, 400 + i % 200, ctl(200))),
            12 * 1024,
        ),
        (
            "metric_aggregation (percentiles)",
            "    type: metric_aggregation\n    metric_agg_key: $.v\n    metric_agg_type: percentiles\n    percentile_range: 99\n    max_threshold: 1e300\n    buffer_time: 1m\n".into(),
            Box::new(|i| format!(r#"{{"v":{}}}"#, 1.03f64.powi((i % 3_000) as i32))),
            160 * 1024,
        ),
        (
            "metric_aggregation (cardinality)",
            "    type: metric_aggregation\n    metric_agg_key: $.v\n    metric_agg_type: cardinality\n    max_threshold: 1e300\n    buffer_time: 1m\n".into(),
            Box::new(|i| format!(r#"{{"v":"{}{i}"}}"#, ctl(50))),
            160 * 1024,
        ),
        (
            "spike_aggregation (percentiles)",
            "    type: spike_aggregation\n    metric_agg_key: $.v\n    metric_agg_type: percentiles\n    percentile_range: 99\n    timeframe: 1m\n    spike_height: 1000\n    spike_type: both\n".into(),
            Box::new(|i| format!(r#"{{"v":{}}}"#, 1.03f64.powi((i % 3_000) as i32))),
            160 * 1024,
        ),
    ];
    println!("| rule type | largest own state (bytes) | stated bound |\n|---|---|---|");
    for (name, yaml, message, bound) in cases {
        let r = rule(&format!("    filter_pattern: ''\n{yaml}"));
        let mut state = serde_json::Value::Null;
        let mut largest = 0;
        // 6,000 events (more terms and values than the types keep exactly) over 4 minutes, in
        // batches of 500, out of order across the last 8 minutes (late events included).
        let mut i = 0i64;
        for batch in 0..12i64 {
            let mut ev = Events::default();
            for k in 0..500i64 {
                // Out of order across the last 8 minutes: windows stay open for late events.
                let t = T0 + batch * 13_500 + (k * 7_919) % (8 * MIN);
                ev.push(t, message(i), Vec::new());
                i += 1;
            }
            let views = ev.views();
            let now = views.last().unwrap().timestamp;
            types::on_matches(&r.kind, &mut state, &views, now);
            largest = largest.max(encoded_len(&state));
        }
        println!("| {name} | {largest} | {bound} |");
        assert!(largest <= bound, "{name}: {largest} > {bound}");
    }
}

/// `aggregation_key` with `query_key`: the digest item every query key adds to (a long
/// aggregation value, the largest table and top counts, 100 samples of 10 long `include` values,
/// an outbox that never drains) stays within the budget, and its counts are exact.
#[test]
fn a_digest_item_fed_by_many_query_keys_behind_a_full_outbox() {
    let fields = "[$f0, $f1, $f2, $f3, $f4]";
    let r = rule(&format!(
        "    filter_pattern: ''\n    query_key: $q\n    aggregation: 10m\n    aggregation_key: $svc\n    summary_table_fields: {fields}\n    summary_table_max_rows: 50\n    top_count_keys: {fields}\n    top_count_number: 50\n{INCLUDE}"
    ));
    let svc = raw(3_000);
    let config = EngineConfig::new("us-east-1");
    let mut digests = policy::SharedDigests::new();
    let mut represented = 0;
    for w in 0..6i64 {
        // 30 query keys, 5 events each, per window.
        for q in 0..30i64 {
            let mut st = KeyState::new("worst", Some(&format!("q{q}")), T0);
            let mut ev = Events::default();
            for i in 0..5i64 {
                let n = (w * 30 + q) * 5 + i;
                let mut extra: Vec<(&str, String)> = vec![("svc", svc.clone())];
                let f: Vec<(String, String)> = (0..5)
                    .map(|k| (format!("f{k}"), format!("{}{}", raw(200), n * 5 + k)))
                    .collect();
                extra.extend(f.iter().map(|(k, v)| (k.as_str(), v.clone())));
                ev.push(
                    T0 + w * 11 * MIN + q * 5 + i,
                    big_message(),
                    big_fields(&extra),
                );
            }
            let views = ev.views();
            let shared = policy::Shared {
                silence: None,
                digests: Some(&mut digests),
            };
            let now = T0 + w * 11 * MIN + q * 5 + 5;
            represented +=
                policy::decide_with(&config, &r, &mut st, &views, None, now, shared).represented;
            assert!(
                st.digest.is_none() && st.outbox.is_empty(),
                "the key holds none"
            );
        }
    }
    assert_eq!(digests.len(), 1, "one aggregation value");
    let item = digests.values().next().unwrap();
    assert!(item.digest_item && item.digest.is_some());
    let size = check(
        "digest item: 180 query keys, 5×50 table and top rows, outbox full",
        item,
    );
    assert_eq!(owed(item), represented, "shedding kept every count");
    let d = item.digest.as_ref().unwrap();
    assert_eq!(d.table.total(), d.count, "the table still adds up");
    assert!(size > STATE_BODY_BUDGET / 2, "a real worst case: {size}");
}
