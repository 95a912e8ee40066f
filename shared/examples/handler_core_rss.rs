//! Peak memory of the log-filter core on the benchmark batch (5,000 events, ~1 MB, 20 rules).
//!
//! `cargo run --release -p logalert --example handler_core_rss` prints the process's resident set
//! before and after, and its peak (Linux `VmHWM`); `/usr/bin/time -v` gives the same peak.
//! With `floor` as argument it runs only the decode (base64 + gunzip + parse) for comparison; with
//! `json`, the JSON-pattern variant of the rules (needs the real pattern engine).

use logalert::engine::{CollectingSink, Engine, EngineConfig};
use logalert::payload;
use logalert::state::{MemoryStore, block_on};

#[path = "../benches/support/handler_core_data.rs"]
mod data;

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let mode = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "core".to_string());
    let floor_only = mode == "floor";
    let encoded = payload::encode_awslogs_data(data::payload_json().as_bytes());
    let rules_text = if mode == "json" {
        data::RULES_JSON
    } else {
        data::RULES
    };
    let rules =
        logalert::rules::load(rules_text, "bench-rules.yaml").unwrap_or_else(|e| panic!("{e}"));
    let engine = Engine::new(rules, EngineConfig::new("us-east-1"));
    let before = status_kib("VmRSS:");
    let mut alerts = 0;
    for _ in 0..3 {
        let p = payload::decode_awslogs_data(&encoded).unwrap();
        if !floor_only {
            let store = MemoryStore::default();
            let sink = CollectingSink::default();
            block_on(engine.process(std::slice::from_ref(&p), &store, &sink, data::T0));
            alerts = sink.take().len();
        }
        drop(p);
    }
    println!(
        "{{\"mode\":\"{}\",\"events\":{},\"encoded_bytes\":{},\"alerts\":{alerts},\"rss_before_kib\":{before},\"rss_after_kib\":{},\"peak_rss_kib\":{}}}",
        mode,
        data::EVENTS,
        encoded.len(),
        status_kib("VmRSS:"),
        status_kib("VmHWM:")
    );
}
