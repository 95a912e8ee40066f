//! The batch and rules the handler-core benchmark and `examples/handler_core_rss.rs` run:
//! 5,000 events (mixed JSON and text, ~1 MB uncompressed) from one log group, 20 rules.
//! Shared by `#[path]` so both measure exactly the same work.

/// Event time of the first event.
pub const T0: i64 = 1_795_600_800_000;
/// Events in the batch.
pub const EVENTS: usize = 5_000;

/// 20 rules of the kinds a real deployment has. Term patterns (the placeholder pattern engine
/// accepts only terms); frequency, query keys, templates and a metric are all exercised.
pub const RULES: &str = r#"
version: 1
defaults:
  realert: 5m
rules:
  - {name: errors, filter_pattern: ERROR, query_key: $.service}
  - {name: fatal, filter_pattern: FATAL, severity: critical}
  - {name: timeouts, filter_pattern: '"Task timed out"'}
  - {name: oom, filter_pattern: OutOfMemoryError, severity: critical}
  - {name: panics, filter_pattern: panicked}
  - {name: db-reset, filter_pattern: '"connection reset"', query_key: $.db}
  - {name: http-5xx, filter_pattern: '" 503 "'}
  - {name: auth-failed, filter_pattern: login_failed, type: frequency, num_events: 5, timeframe: 1m, query_key: $.user}
  - {name: slow, filter_pattern: slow_query, metric: {name: SlowQueryMs, value: $.ms, unit: Milliseconds, dimensions: {Db: $.db}}}
  - {name: throttled, filter_pattern: ThrottlingException}
  - {name: denied, filter_pattern: AccessDenied, severity: warning}
  - {name: segfault, filter_pattern: SIGSEGV, severity: critical}
  - {name: disk-full, filter_pattern: '"No space left"'}
  - {name: cert, filter_pattern: certificate expired}
  - {name: deadlock, filter_pattern: Deadlock}
  - {name: retries-exhausted, filter_pattern: retries exhausted}
  - {name: payment-declined, filter_pattern: CARD_DECLINED, query_key: $.user, alert_subject: "declined for {{ user }}"}
  - {name: queue-full, filter_pattern: QueueFull}
  - {name: killed, filter_pattern: '"signal: killed"'}
  - {name: warnings, filter_pattern: WARN, severity: info, log_groups: ["/other/*"]}
"#;

/// The same 20 rules with the JSON-log rules written as JSON patterns, as users would (needs the
/// real pattern engine; the benchmark skips this variant while the placeholder engine is in place).
pub const RULES_JSON: &str = r#"
version: 1
defaults:
  realert: 5m
rules:
  - {name: errors, filter_pattern: '{ $.level = "ERROR" }', query_key: $.service}
  - {name: fatal, filter_pattern: '{ $.level = "FATAL" }', severity: critical}
  - {name: timeouts, filter_pattern: '"Task timed out"'}
  - {name: oom, filter_pattern: OutOfMemoryError, severity: critical}
  - {name: panics, filter_pattern: panicked}
  - {name: db-reset, filter_pattern: '"connection reset"', query_key: $.db}
  - {name: http-5xx, filter_pattern: '[ip, id, user, ts, request, status = 5*, bytes]'}
  - {name: auth-failed, filter_pattern: '{ $.event = "login_failed" }', type: frequency, num_events: 5, timeframe: 1m, query_key: $.user}
  - {name: slow, filter_pattern: '{ $.event = "slow_query" && $.ms > 1000 }', metric: {name: SlowQueryMs, value: $.ms, unit: Milliseconds, dimensions: {Db: $.db}}}
  - {name: throttled, filter_pattern: ThrottlingException}
  - {name: denied, filter_pattern: '{ $.errorCode = "AccessDenied*" }', severity: warning}
  - {name: segfault, filter_pattern: SIGSEGV, severity: critical}
  - {name: disk-full, filter_pattern: '"No space left"'}
  - {name: cert, filter_pattern: certificate expired}
  - {name: deadlock, filter_pattern: '%[Dd]eadlock%'}
  - {name: retries-exhausted, filter_pattern: '?"retries exhausted" ?"giving up"'}
  - {name: payment-declined, filter_pattern: '{ $.error = "CARD_DECLINED" }', query_key: $.user, alert_subject: "declined for {{ user }}"}
  - {name: queue-full, filter_pattern: QueueFull}
  - {name: killed, filter_pattern: '"signal: killed"'}
  - {name: warnings, filter_pattern: '{ $.level = "WARN" }', severity: info, log_groups: ["/other/*"]}
"#;

/// The decoded payload JSON of the batch.
pub fn payload_json() -> String {
    let services = ["api", "worker", "billing", "search", "auth"];
    let mut events = Vec::with_capacity(EVENTS);
    for i in 0..EVENTS {
        let svc = services[i % services.len()];
        let message = match i % 10 {
            // JSON application logs, mostly INFO.
            0..=4 => {
                let level = match i % 97 {
                    0 => "ERROR",
                    1 => "WARN",
                    _ => "INFO",
                };
                let extra = match i % 211 {
                    0 => r#","event":"login_failed","user":"alice""#.to_string(),
                    1 => r#","error":"CARD_DECLINED","user":"bob""#.to_string(),
                    2 => r#","event":"slow_query","ms":2300,"db":"orders""#.to_string(),
                    _ => String::new(),
                };
                format!(
                    r#"{{"timestamp":"2026-11-25T10:00:{:02}.{:03}Z","level":"{level}","service":"{svc}","requestId":"req-{i:08x}","path":"/v1/orders/{i}","latencyMs":{},"message":"handled request for customer {} with {} items"{extra}}}"#,
                    (i / 100) % 60,
                    i % 1000,
                    20 + i % 300,
                    i * 7 % 10_000,
                    i % 13
                )
            }
            // Lambda platform and runtime text lines.
            5 => format!("START RequestId: 6234bffe-149a-b642-81ff-{i:012} Version: $LATEST"),
            6 => format!(
                "REPORT RequestId: 6234bffe-149a-b642-81ff-{i:012}\tDuration: {}.84 ms\tBilled Duration: 47 ms\tMemory Size: 192 MB\tMax Memory Used: 72 MB\t",
                i % 900
            ),
            // Text logs from a worker, with an occasional problem.
            7 => match i % 331 {
                7 => format!(
                    "2026-11-25 10:00:01 ERROR job {i} failed: connection reset by peer (db=orders)"
                ),
                17 => "Task timed out after 6.00 seconds".to_string(),
                _ => format!(
                    "2026-11-25 10:00:01 INFO job {i} done in {} ms; queue depth {}",
                    i % 500,
                    i % 40
                ),
            },
            // Access log lines.
            8 => format!(
                r#"10.0.{}.{} - - [25/Nov/2026:10:00:01 +0000] "GET /v1/items/{i} HTTP/1.1" {} {}"#,
                i % 255,
                i % 200,
                if i % 257 == 8 { 503 } else { 200 },
                512 + i % 4096
            ),
            _ => format!(
                "{{\"level\":\"DEBUG\",\"service\":\"{svc}\",\"cache\":{{\"hits\":{},\"misses\":{}}},\"note\":\"cache stats for shard {}\"}}",
                i % 1000,
                i % 17,
                i % 64
            ),
        };
        events.push(serde_json::json!({
            "id": format!("{:056}", 36_000_000_000u64 + i as u64),
            "timestamp": T0 + (i as i64) * 10,
            "message": message,
        }));
    }
    serde_json::json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/bench-service",
        "logStream": "2026/11/25/[$LATEST]0123456789abcdef",
        "subscriptionFilters": ["logalert"],
        "logEvents": events,
    })
    .to_string()
}
