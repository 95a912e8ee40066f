//! The payload decoder never panics: raw bytes as `awslogs.data`, as gzip, as (gzipped) JSON, and
//! as a whole invocation event. And the envelope's fast path (`payload/envelope.rs`, hand-written)
//! never answers other than serde_json: whatever `parse_json` accepts, the same bytes parsed as a
//! `serde_json::Value` (where they can be) and decoded from it give the same payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logalert::payload::{self, InvocationEvent};

fuzz_target!(|data: &[u8]| {
    let _ = payload::decode_gzip(data);
    // Compared only where serde_json can build a `Value`: the typed parse (and so `parse_json`)
    // skips unknown fields without checking their strings' UTF-8, which a `Value` cannot hold.
    if let (Ok(fast), Ok(value)) = (
        payload::parse_json(data),
        serde_json::from_slice::<serde_json::Value>(data),
    ) {
        let slow = payload::from_value(value).expect("parse_json accepted an invalid payload");
        assert_eq!(fast, slow, "the fast path and serde_json disagree");
    }
    // Reach the JSON stage through the real path (base64 → gzip → JSON).
    let _ = payload::decode_awslogs_data(&payload::encode_awslogs_data(data));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = payload::decode_awslogs_data(text);
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            if let Ok(InvocationEvent::Kinesis(records)) = InvocationEvent::from_json(&value) {
                for r in records {
                    let _ = payload::decode_awslogs_data(&r.data);
                }
            }
            let _ = payload::from_value(value);
        }
    }
});
