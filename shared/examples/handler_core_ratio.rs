//! The handler-core benchmark's ratios to its floor, measured interleaved.
//!
//! `cargo run --release -p logalert --example handler_core_ratio [rounds]` runs, round after
//! round, one iteration each of the floor (decode), the core with 20 term rules and the core
//! with the 20 JSON/delimited/regex rules — exactly the work of `benches/handler_core.rs` — and
//! prints each one's median time and the median of the per-round ratios to the floor.
//!
//! Criterion measures one function for seconds, then the next: on a machine whose speed drifts
//! (a shared VM), the floor and the core can be measured at different speeds. Here each round
//! measures all three within milliseconds of each other, so the ratio of a round is taken at one
//! speed; its median over the rounds is what `BENCHMARKS.md` compares with the 2× target.

use logalert::engine::{CollectingSink, Engine, EngineConfig};
use logalert::payload;
use logalert::state::{MemoryStore, block_on};
use std::hint::black_box;
use std::time::Instant;

#[path = "../benches/support/handler_core_data.rs"]
mod data;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("rounds: a number"))
        .unwrap_or(300);
    let encoded = payload::encode_awslogs_data(data::payload_json().as_bytes());
    let engine = |text: &str| {
        let rules =
            logalert::rules::load(text, "bench-rules.yaml").unwrap_or_else(|e| panic!("{e}"));
        Engine::new(rules, EngineConfig::new("us-east-1"))
    };
    let engines = [engine(data::RULES), engine(data::RULES_JSON)];
    // The state store is made outside the timed part, as the benchmark's `iter_batched` does.
    let core = |engine: &Engine, store: &MemoryStore| {
        let p = payload::decode_awslogs_data(black_box(&encoded)).unwrap();
        let sink = CollectingSink::default();
        block_on(engine.process(std::slice::from_ref(&p), store, &sink, data::T0));
        sink.take()
    };
    // Warm up: compile what is compiled on first use (redaction rules, rule-set caches).
    for e in &engines {
        assert!(
            core(e, &MemoryStore::default()).len() >= 5,
            "the core alerts on this batch"
        );
    }
    let mut times: [Vec<f64>; 3] = Default::default();
    let mut ratios: [Vec<f64>; 2] = Default::default();
    for _ in 0..rounds {
        let t = Instant::now();
        black_box(payload::decode_awslogs_data(black_box(&encoded)).unwrap());
        let floor = t.elapsed().as_secs_f64();
        times[0].push(floor);
        for (k, e) in engines.iter().enumerate() {
            let store = MemoryStore::default();
            let t = Instant::now();
            black_box(core(e, &store));
            let took = t.elapsed().as_secs_f64();
            times[k + 1].push(took);
            ratios[k].push(took / floor);
        }
    }
    let names = ["floor_decode", "core", "core_json_rules"];
    for (name, t) in names.iter().zip(&mut times) {
        println!("{name:<16} median {:8.3} ms", median(t) * 1e3);
    }
    for (name, r) in names[1..].iter().zip(&mut ratios) {
        println!(
            "{name:<16} median ratio to the floor {:.2}x ({rounds} rounds)",
            median(r)
        );
    }
}
