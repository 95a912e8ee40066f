//! Matching throughput per pattern kind on realistic log lines, one core, beside its floor
//! measured in the same run:
//!
//! * terms — `memchr::memmem::Finder` searching the same needle over the same lines;
//! * JSON — `serde_json::from_str::<serde_json::Value>` of every message (no evaluation at all).
//!
//! Each iteration matches a fixed corpus of `LINES` (2000) lines; criterion reports bytes/s, and
//! events/s is 2000 / (time per iteration) — BENCHMARKS.md lists both.
//! Run: `cargo bench -p logalert --bench pattern_matching` (about a minute).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use logalert::pattern::FilterPattern;
use memchr::memmem::Finder;

const LINES: usize = 2000;

#[path = "support/lcg.rs"]
mod lcg;
use lcg::Lcg;

/// Plain-text application logs (Java/Lambda style), ~2% ERROR.
fn text_lines() -> Vec<String> {
    let mut r = Lcg(1);
    let services = [
        "OrderService",
        "PaymentGateway",
        "InventoryClient",
        "AuthFilter",
    ];
    let messages = [
        "Order processed successfully",
        "Cache miss for key product:catalog:v2",
        "Retrying request to upstream after 200 ms backoff",
        "GET /api/v1/orders/12345 completed",
        "healthcheck ok",
        "User session refreshed",
    ];
    (0..LINES)
        .map(|i| {
            let level = if r.next().is_multiple_of(50) { "ERROR" } else { r.pick(&["INFO", "DEBUG", "WARN", "INFO"]) };
            format!(
                "2024-05-01T12:{:02}:{:02}.{:03}Z {level} [pool-{}-thread-{}] c.example.{} - {} requestId={:08x}-{:04x} durationMs={}",
                (i / 60) % 60,
                i % 60,
                r.next() % 1000,
                r.next() % 8,
                r.next() % 32,
                r.pick(&services),
                r.pick(&messages),
                r.next() as u32,
                r.next() as u16,
                r.next() % 2000,
            )
        })
        .collect()
}

/// Structured JSON logs (~300–400 bytes), ~2% ERROR.
fn json_lines() -> Vec<String> {
    let mut r = Lcg(2);
    (0..LINES)
        .map(|i| {
            let level = if r.next().is_multiple_of(50) { "ERROR" } else { r.pick(&["INFO", "DEBUG", "WARN", "INFO"]) };
            format!(
                r#"{{"timestamp":"2024-05-01T12:{:02}:{:02}.{:03}Z","level":"{level}","service":"{}","requestId":"{:08x}-{:04x}-4{:03x}","latency":{},"user":{{"id":"u-{}","email":"user{}@example.com","roles":["reader","writer"]}},"http":{{"method":"{}","path":"/api/v1/orders/{}","status":{}}},"message":"{}","tags":["{}","{}"]}}"#,
                (i / 60) % 60,
                i % 60,
                r.next() % 1000,
                r.pick(&["payments", "orders", "inventory", "auth"]),
                r.next() as u32,
                r.next() as u16,
                r.next() % 0xfff,
                r.next() % 2000,
                r.next() % 1000,
                r.next() % 1000,
                r.pick(&["GET", "POST", "PUT"]),
                r.next() % 100000,
                r.pick(&["200", "201", "404", "500", "200"]),
                r.pick(&["Order processed", "Payment declined: card expired", "Cache miss", "Token refreshed"]),
                r.pick(&["blue", "green", "slow"]),
                r.pick(&["eu-west-1a", "eu-west-1b"]),
            )
        })
        .collect()
}

/// Apache common-log-format lines.
fn apache_lines() -> Vec<String> {
    let mut r = Lcg(3);
    (0..LINES)
        .map(|i| {
            format!(
                r#"10.0.{}.{} - {} [10/Oct/2000:13:{:02}:{:02} -0700] "{} /{} HTTP/1.1" {} {}"#,
                r.next() % 256,
                r.next() % 256,
                r.pick(&["-", "frank", "alice"]),
                (i / 60) % 60,
                i % 60,
                r.pick(&["GET", "POST"]),
                r.pick(&[
                    "index.html",
                    "apache_pb.gif",
                    "api/orders?id=42",
                    "favicon.ico"
                ]),
                r.pick(&["200", "200", "304", "404", "500"]),
                r.next() % 50000,
            )
        })
        .collect()
}

fn bytes(lines: &[String]) -> u64 {
    lines.iter().map(|l| l.len() as u64).sum()
}

fn bench_pattern(c: &mut Criterion, group: &str, pattern: &str, lines: &[String]) {
    let p = FilterPattern::parse(pattern).unwrap();
    let hits = lines.iter().filter(|l| p.is_match(l)).count();
    assert!(
        hits > 0 && hits < lines.len(),
        "{pattern}: {hits} of {} lines match",
        lines.len()
    );
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(bytes(lines)));
    g.bench_function(pattern, |b| {
        b.iter(|| lines.iter().filter(|l| p.is_match(black_box(l))).count())
    });
    g.finish();
}

fn terms(c: &mut Criterion) {
    let lines = text_lines();
    {
        let mut g = c.benchmark_group("terms");
        g.throughput(Throughput::Bytes(bytes(&lines)));
        let finder = Finder::new("ERROR");
        g.bench_function("floor: memmem ERROR", |b| {
            b.iter(|| {
                lines
                    .iter()
                    .filter(|l| finder.find(black_box(l.as_bytes())).is_some())
                    .count()
            })
        });
        g.finish();
    }
    bench_pattern(c, "terms", "ERROR", &lines);
    bench_pattern(c, "terms", "ERROR -healthcheck ?x", &lines);
    bench_pattern(c, "terms", "\"Retrying request\" -healthcheck", &lines);
    bench_pattern(c, "terms", "?ERROR ?WARN", &lines);
}

fn json(c: &mut Criterion) {
    let lines = json_lines();
    {
        let mut g = c.benchmark_group("json");
        g.throughput(Throughput::Bytes(bytes(&lines)));
        g.bench_function("floor: serde_json::from_str::<Value>", |b| {
            b.iter(|| {
                lines
                    .iter()
                    .filter(|l| serde_json::from_str::<serde_json::Value>(black_box(l)).is_ok())
                    .count()
            })
        });
        g.finish();
    }
    bench_pattern(c, "json", r#"{ $.level = "ERROR" }"#, &lines);
    bench_pattern(
        c,
        "json",
        r#"{ $.level = "ERROR" && $.latency > 100 }"#,
        &lines,
    );
    bench_pattern(
        c,
        "json",
        r#"{ ($.http.status >= 500 || $.message = "*declined*") && $.user.id != "u-1" }"#,
        &lines,
    );
    bench_pattern(
        c,
        "json",
        r#"{ $.tags[*] = "slow" && $.user.roles[0] = %^read% }"#,
        &lines,
    );
}

fn delimited(c: &mut Criterion) {
    let lines = apache_lines();
    bench_pattern(
        c,
        "delimited",
        "[ip, id, user, timestamp, request, status_code = 5*, bytes]",
        &lines,
    );
    bench_pattern(
        c,
        "delimited",
        "[..., status_code = 404 || status_code = 500, size > 1000]",
        &lines,
    );
}

fn regex(c: &mut Criterion) {
    let lines = text_lines();
    bench_pattern(c, "regex", "%ERROR|WARN%", &lines);
    bench_pattern(c, "regex", r"%durationMs=1[0-9]{3}$%", &lines);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = terms, json, delimited, regex
}
criterion_main!(benches);
