//! A realistic 20-rule set matched one rule at a time (`FilterPattern::matches` per rule per
//! event, as the engine did) beside `PatternSet` (one pass per event for all rules), in the same
//! run, over the event mix of `../shared/bench/make_batches.py` (two in three JSON application
//! logs with `\u`-escaped Korean text in a third of them, the rest Lambda text lines).
//!
//! With one rule the set is that rule matched on its own (`1_rule/pattern_set` must cost what
//! `1_rule/one_by_one` does); with 20 the shared search, walk and split must pay off.
//!
//! `cargo bench -p logalert --bench rule_set`; figures go to BENCHMARKS.md ("Rule set").

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use logalert::pattern::{FilterPattern, PatternSet};

/// The filter patterns of `make_batches.py`'s `rules-20.yaml`, in order.
const RULES_20: [&str; 20] = [
    r#"{ $.level = "ERROR" && $.errorCode = "DA0001*" }"#,
    r#"{ $.level = "WARN" }"#,
    "{ $.status >= 500 }",
    r#"{ $.errorMessage = "*인증실패*" }"#,
    "{ $.latency > 450 }",
    r#"{ $.user.tier = "platinum" }"#,
    r#"{ $.path = "/v1/refunds" }"#,
    "ERROR",
    r#""Task timed out""#,
    r#"?OutOfMemoryError ?"signal: killed""#,
    "Exception -Retryable",
    r#""card declined""#,
    "[ts, req, level = ERROR, ...]",
    "[ts, req, level, method, path, status = 5*, ...]",
    "%timeout|deadline%",
    r#"{ $.service = "orders" }"#,
    "panic",
    r#"{ $.level = "ERROR" && $.latency > 100 }"#,
    r#""connection reset""#,
    r#"{ $.errorCode = "XX1" }"#,
];

const EVENTS: usize = 5000;

#[path = "support/lcg.rs"]
mod lcg;
use lcg::Lcg;

/// The same shapes as make_batches.py's `event(i)` (Python's `json.dumps` escapes non-ASCII).
fn events() -> Vec<String> {
    let mut r = Lcg(7);
    (0..EVENTS)
        .map(|i| {
            if i % 3 == 0 {
                return format!(
                    "2026-11-22T01:02:{:02}.123Z\t7f1c2a9e-55b1-4c1e-9d0e-{i:012}\tINFO\tGET /v1/charges 200 {}ms user={}",
                    i % 60,
                    5 + r.next() % 896,
                    1 + r.next() % 99999
                );
            }
            let level = r.pick(&["INFO", "INFO", "INFO", "WARN", "ERROR"]);
            let code = r.pick(&["DA00012", "DA00013", "XX1"]);
            let message = r.pick(&[
                "\\uc778\\uc99d\\uc2e4\\ud328: token expired",
                "card declined",
                "ok",
            ]);
            format!(
                "{{\"timestamp\": \"2026-11-22T01:02:03.456Z\", \"level\": \"{level}\", \"service\": \"payments-api\", \"requestId\": \"7f1c2a9e-55b1-4c1e-9d0e-{i:012}\", \"user\": {{\"id\": {}, \"tier\": \"gold\"}}, \"latency\": {}.{:06}, \"errorCode\": \"{code}\", \"errorMessage\": \"{message}\", \"path\": \"/v1/charges\", \"status\": 401}}",
                1 + r.next() % 99999,
                r.next() % 500,
                r.next() % 1_000_000
            )
        })
        .collect()
}

fn rule_set(c: &mut Criterion) {
    let events = events();
    let mut g = c.benchmark_group("rule_set");
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.sample_size(30);
    for (name, sources) in [("1_rule", &RULES_20[..1]), ("20_rules", &RULES_20[..])] {
        let patterns: Vec<FilterPattern> = sources
            .iter()
            .map(|s| FilterPattern::parse(s).expect("bench pattern"))
            .collect();
        let set = PatternSet::new(&patterns);
        // Same answers, or the comparison means nothing.
        let mut scratch = set.scratch();
        let (mut one, mut all) = (0usize, 0usize);
        for e in &events {
            one += patterns.iter().filter(|p| p.matches(e).is_some()).count();
            set.for_each_match(e, &mut scratch, |_, _| all += 1);
        }
        assert_eq!(one, all);
        eprintln!("{name}: {all} matches over {EVENTS} events");
        g.bench_function(format!("{name}/one_by_one"), |b| {
            b.iter(|| {
                let mut n = 0usize;
                for e in &events {
                    for p in &patterns {
                        if let Some(m) = p.matches(black_box(e)) {
                            n += 1 + m.extracted.len();
                        }
                    }
                }
                n
            })
        });
        g.bench_function(format!("{name}/pattern_set"), |b| {
            let mut scratch = set.scratch();
            b.iter(|| {
                let mut n = 0usize;
                for e in &events {
                    set.for_each_match(black_box(e), &mut scratch, |_, m| {
                        n += 1 + m.extracted.len()
                    });
                }
                n
            })
        });
    }
    g.finish();
}

criterion_group!(benches, rule_set);
criterion_main!(benches);
