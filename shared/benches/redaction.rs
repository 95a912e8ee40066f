//! Redaction as log-filter runs it on every published sample, beside its floor.
//!
//! * `floor_copy` — copying each line into a new `String` (what any redaction that returns the
//!   text must at least do);
//! * `redact/<corpus>` — `Redactor::default().redact` on each line;
//! * `pipeline_code/<corpus>` — what a renderer does per sample: visible text, JSON pretty-printed,
//!   redacted (`render::text::code`), beside `floor_readable` (the same without redaction).
//!
//! Corpora (deterministic, 1000 lines each): plain application logs with nothing secret, JSON logs
//! with nothing secret, and lines where one in ten carries a secret of some kind.
//!
//! `cargo bench -p logalert --bench redaction`; figures go to BENCHMARKS.md ("Redaction").

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use logalert::render::text::{self, Redactor};
use std::hint::black_box;

const LINES: usize = 1000;

fn plain(i: usize) -> String {
    let level = ["INFO", "DEBUG", "WARN", "ERROR"][i % 4];
    format!(
        "2026-11-30T12:{:02}:{:02}.{:03}Z {level} [req-{i:08x}] GET /api/v2/orders/{} status=200 latency_ms={} user_id=u-{} region=eu-west-1 cache=hit",
        i % 60,
        (i * 7) % 60,
        i % 1000,
        i * 31,
        i % 250,
        i % 977
    )
}

fn json(i: usize) -> String {
    format!(
        r#"{{"timestamp":"2026-11-30T12:00:{:02}.000Z","level":"{}","requestId":"{:08x}-aaaa-bbbb-cccc-{:012x}","message":"order {} processed in {} ms","http":{{"method":"POST","path":"/v1/payments/{}","status":{}}},"user":{{"id":"u-{}","roles":["reader","billing"]}}}}"#,
        i % 60,
        ["info", "warn", "error"][i % 3],
        i,
        i * 13,
        i,
        i % 400,
        i * 3,
        [200, 201, 404, 500][i % 4],
        i % 977
    )
}

fn with_secrets(i: usize) -> String {
    if !i.is_multiple_of(10) {
        return plain(i);
    }
    match (i / 10) % 6 {
        0 => format!("{} password=hunter{i}", plain(i)),
        1 => format!("auth ok token ghp_{:036}", i),
        2 => format!("connect postgres://app:s3cret{i}@db.internal:5432/orders failed"),
        3 => format!(r#"{{"headers":{{"Authorization":"Bearer abc.def{i}"}},"msg":"retry"}}"#),
        4 => format!("key AKIAIOSFODNN7EXAMPL{} used", i % 10),
        _ => format!("charge card 4111 1111 1111 1111 ref={i}"),
    }
}

fn corpus(f: fn(usize) -> String) -> Vec<String> {
    (0..LINES).map(f).collect()
}

fn redaction(c: &mut Criterion) {
    let redactor = Redactor::default();
    let corpora = [
        ("plain", corpus(plain)),
        ("json", corpus(json)),
        ("secrets_1_in_10", corpus(with_secrets)),
    ];
    // Sanity: the secrets corpus really is redacted, the others untouched.
    let changed = |lines: &[String]| lines.iter().filter(|l| redactor.redact(l) != **l).count();
    assert_eq!(changed(&corpora[0].1), 0);
    assert_eq!(changed(&corpora[1].1), 0);
    assert_eq!(changed(&corpora[2].1), LINES / 10);

    for (name, lines) in &corpora {
        let bytes: usize = lines.iter().map(String::len).sum();
        let mut g = c.benchmark_group(format!("redaction/{name}"));
        g.throughput(Throughput::Bytes(bytes as u64));
        g.sample_size(20);
        g.bench_function("floor_copy", |b| {
            b.iter(|| {
                lines
                    .iter()
                    .map(|l| black_box(l.as_str()).to_string())
                    .collect::<Vec<_>>()
            })
        });
        g.bench_function("redact", |b| {
            b.iter(|| {
                lines
                    .iter()
                    .map(|l| redactor.redact(black_box(l)))
                    .collect::<Vec<_>>()
            })
        });
        g.bench_function("floor_readable", |b| {
            b.iter(|| {
                lines
                    .iter()
                    .map(|l| text::code(black_box(l), &Redactor::none()))
                    .collect::<Vec<_>>()
            })
        });
        g.bench_function("pipeline_code", |b| {
            b.iter(|| {
                lines
                    .iter()
                    .map(|l| text::code(black_box(l), &redactor))
                    .collect::<Vec<_>>()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, redaction);
criterion_main!(benches);
