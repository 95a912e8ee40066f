//! The whole log-filter core on a large batch, beside its floor.
//!
//! * `floor_decode` — base64 + gunzip + envelope parse alone (what any consumer must do);
//! * `core` — decode, match 20 rules, group, decide against the in-memory state store, build and
//!   size-check the alert messages (the function does exactly this, plus network calls).
//!
//! `cargo bench -p logalert --bench handler_core`; figures go to BENCHMARKS.md ("Handler core").

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use logalert::engine::{CollectingSink, Engine, EngineConfig};
use logalert::payload;
use logalert::state::{MemoryStore, block_on};
use std::hint::black_box;

#[path = "support/handler_core_data.rs"]
mod data;

fn handler_core(c: &mut Criterion) {
    let json = data::payload_json();
    let encoded = payload::encode_awslogs_data(json.as_bytes());
    eprintln!(
        "batch: {} events, {} bytes of JSON, {} bytes encoded",
        data::EVENTS,
        json.len(),
        encoded.len()
    );
    let rules = logalert::rules::load(data::RULES, "bench-rules.yaml").expect("bench rules load");
    assert_eq!(rules.rules.len(), 20);
    let engine = Engine::new(rules, EngineConfig::new("us-east-1"));

    // Sanity: the core really alerts on this batch.
    let store = MemoryStore::default();
    let sink = CollectingSink::default();
    let p = payload::decode_awslogs_data(&encoded).unwrap();
    block_on(engine.process(&[p], &store, &sink, data::T0));
    let published = sink.take();
    eprintln!("alerts per batch: {}", published.len());
    assert!(published.len() >= 5);

    let mut g = c.benchmark_group("handler_core");
    g.throughput(Throughput::Elements(data::EVENTS as u64));
    g.sample_size(30);
    g.bench_function("floor_decode", |b| {
        b.iter(|| payload::decode_awslogs_data(black_box(&encoded)).unwrap())
    });
    g.bench_function("core", |b| {
        b.iter_batched(
            MemoryStore::default,
            |store| {
                let p = payload::decode_awslogs_data(black_box(&encoded)).unwrap();
                let sink = CollectingSink::default();
                block_on(engine.process(std::slice::from_ref(&p), &store, &sink, data::T0));
                sink.take()
            },
            BatchSize::LargeInput,
        )
    });
    // The same batch with JSON/delimited/regex rules (only with the real pattern engine).
    match logalert::rules::load(data::RULES_JSON, "bench-rules-json.yaml") {
        Ok(rules) => {
            let engine = Engine::new(rules, EngineConfig::new("us-east-1"));
            g.bench_function("core_json_rules", |b| {
                b.iter_batched(
                    MemoryStore::default,
                    |store| {
                        let p = payload::decode_awslogs_data(black_box(&encoded)).unwrap();
                        let sink = CollectingSink::default();
                        block_on(engine.process(std::slice::from_ref(&p), &store, &sink, data::T0));
                        sink.take()
                    },
                    BatchSize::LargeInput,
                )
            });
        }
        Err(e) => eprintln!("skipping core_json_rules (pattern engine cannot load them):\n{e}"),
    }
    g.finish();
}

criterion_group!(benches, handler_core);
criterion_main!(benches);
