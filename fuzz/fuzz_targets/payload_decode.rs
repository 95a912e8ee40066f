//! The payload decoder never panics: raw bytes as `awslogs.data`, as gzip, as (gzipped) JSON, and
//! as a whole invocation event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logalert::payload::{self, InvocationEvent};

fuzz_target!(|data: &[u8]| {
    let _ = payload::decode_gzip(data);
    let _ = payload::parse_json(data);
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
