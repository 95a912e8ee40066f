//! `logalert replay --rules RULES.yaml INPUT...`: run the real log-filter logic locally.
//!
//! Each INPUT is one of (detected from its content):
//!
//! * a direct subscription delivery `{"awslogs":{"data":"…"}}` → one invocation;
//! * a Kinesis event `{"Records":[{"kinesis":{"data":"…",…}}…]}` → one invocation of all its records;
//! * a decoded payload `{"messageType":"DATA_MESSAGE","logEvents":[…],…}` → one invocation;
//! * a gzip file (a Firehose/S3 object, a Kinesis record) holding such a payload;
//! * a file of JSON lines, each one of the above → one invocation per line;
//! * anything else is a plain log file: one event per line, in log group `--log-group` and stream
//!   `--log-stream` (default: the file name). A line's time is taken from a leading RFC 3339
//!   timestamp, or from a JSON line's `timestamp` / `@timestamp` / `time` field (RFC 3339 or epoch
//!   ms); a line without one gets the previous line's time. Lines are cut into invocations of at
//!   most one minute of event time (and 10,000 events), like CloudWatch Logs batches them.
//!
//! State lives in memory with event time as the clock, so frequency windows and `realert` behave as
//! in the deployed function. Every SNS publish the function would make is printed as one JSON line:
//! `{"subject":"…","message":{…alert v1…},"attributes":{"severity":"…","rule":"…",…}}`.
//! With `--slack`, each line is instead what slack-notifier would post for that alert:
//! `{"channel":"…","payload":{…Slack webhook payload…}}` (`--format blocks` for Block Kit).
//!
//! Exit status: 0, or 2 when the rules file is invalid or an input cannot be read or decoded (the
//! other inputs are still replayed).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::engine::{CollectingSink, Engine, EngineConfig, Publication};
use crate::payload::{self, InvocationEvent, LogEvent, LogsPayload, MessageType};
use crate::slack::{RenderOptions, SlackFormat};
use crate::state::{MemoryStore, block_on};

/// Longest stretch of event time one plain-log invocation covers.
pub const PLAIN_LOG_BATCH_MS: i64 = 60_000;
/// Most events in one plain-log invocation.
pub const PLAIN_LOG_BATCH_EVENTS: usize = 10_000;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rules file.
    #[arg(long)]
    pub rules: PathBuf,
    /// Subscription payloads (encoded or decoded), Kinesis events, or plain log files.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Log group of plain log files.
    #[arg(long, default_value = "/logalert/replay")]
    pub log_group: String,
    /// Log stream of plain log files (default: the file name).
    #[arg(long)]
    pub log_stream: Option<String>,
    /// Region reported in alerts.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Account id of plain log files.
    #[arg(long, default_value = "123456789012")]
    pub account: String,
    /// Log groups to skip, comma-separated (like the function's IGNORE_LOG_GROUPS).
    #[arg(long, default_value = "")]
    pub ignore_log_groups: String,
    /// Print the Slack payload each alert would produce (as slack-notifier renders it) instead of
    /// the SNS publish.
    #[arg(long)]
    pub slack: bool,
    /// With `--slack`: `attachments` (default) or `blocks` (Block Kit).
    #[arg(long, default_value = "attachments", value_parser = parse_format, requires = "slack")]
    pub format: SlackFormat,
}

fn parse_format(s: &str) -> Result<SlackFormat, String> {
    SlackFormat::parse(s).ok_or_else(|| format!("unknown format {s:?}: use attachments or blocks"))
}

/// How a publication is printed.
#[derive(Debug)]
enum Output {
    /// The SNS publish log-filter would make.
    Sns,
    /// The Slack payload slack-notifier would post for it.
    Slack(RenderOptions),
}

impl Output {
    fn line(&self, p: &Publication) -> String {
        match self {
            Output::Sns => p.to_replay_json().to_string(),
            Output::Slack(opts) => serde_json::json!({
                "channel": p.alert.channel,
                "payload": crate::slack::render_alert(&p.alert, opts),
            })
            .to_string(),
        }
    }
}

pub fn run(args: Args) -> ExitCode {
    let origin = args.rules.display().to_string();
    let rules = match std::fs::read_to_string(&args.rules) {
        Ok(s) => match crate::rules::load(&s, &origin) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
        Err(e) => {
            eprintln!("{origin}: cannot read: {e}");
            return ExitCode::from(2);
        }
    };
    let config = EngineConfig::new(&args.region).with_ignored_log_groups(&args.ignore_log_groups);
    let engine = Engine::new(rules, config);
    let mut replay = Replay::new(engine);
    let output = if args.slack {
        Output::Slack(RenderOptions {
            format: args.format,
            ..RenderOptions::default()
        })
    } else {
        Output::Sns
    };
    let mut status = ExitCode::SUCCESS;
    let stdout = std::io::stdout();
    for path in &args.inputs {
        let invocations = match read_input(
            path,
            &args.log_group,
            args.log_stream.as_deref(),
            &args.account,
        ) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                status = ExitCode::from(2);
                continue;
            }
        };
        for inv in invocations {
            let mut out = stdout.lock();
            for p in replay.invoke(&inv) {
                if writeln!(out, "{}", output.line(&p)).is_err() {
                    return ExitCode::from(2); // stdout closed (e.g. `| head`)
                }
            }
        }
    }
    status
}

/// The engine with in-memory state and an event-time clock: feed it invocations in order.
#[derive(Debug)]
pub struct Replay {
    engine: Engine,
    store: MemoryStore,
    clock_ms: i64,
}

impl Replay {
    pub fn new(engine: Engine) -> Replay {
        Replay {
            engine,
            store: MemoryStore::default(),
            clock_ms: i64::MIN,
        }
    }

    /// Run one invocation; returns what would be published.
    pub fn invoke(&mut self, payloads: &[LogsPayload]) -> Vec<Publication> {
        let latest = payloads
            .iter()
            .flat_map(|p| p.log_events.iter().map(|e| e.timestamp))
            .max();
        if let Some(t) = latest {
            self.clock_ms = self.clock_ms.max(t);
        }
        let now = if self.clock_ms == i64::MIN {
            0
        } else {
            self.clock_ms
        };
        self.store.set_clock(now.div_euclid(1000));
        let sink = CollectingSink::default();
        block_on(self.engine.process(payloads, &self.store, &sink, now));
        sink.take()
    }
}

/// Read one input file into invocations (each a list of payloads).
pub fn read_input(
    path: &Path,
    log_group: &str,
    log_stream: Option<&str>,
    account: &str,
) -> Result<Vec<Vec<LogsPayload>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let stream = log_stream.map(str::to_string).unwrap_or_else(|| {
        path.file_name().map_or_else(
            || "replay".to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    });
    parse_input(
        &bytes,
        log_group,
        &stream,
        account,
        &path.display().to_string(),
    )
}

/// [`read_input`] on bytes; `origin` makes plain-log event ids unique.
pub fn parse_input(
    bytes: &[u8],
    log_group: &str,
    log_stream: &str,
    account: &str,
    origin: &str,
) -> Result<Vec<Vec<LogsPayload>>, String> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(vec![vec![
            payload::decode_gzip(bytes).map_err(|e| e.to_string())?,
        ]]);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text)
        && is_invocation(&value)
    {
        return invocation(value).map(|i| vec![i]);
    }
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if serde_json::from_str::<serde_json::Value>(first).is_ok_and(|v| is_invocation(&v)) {
        let mut out = Vec::new();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let value: serde_json::Value =
                serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
            out.push(invocation(value).map_err(|e| format!("line {}: {e}", n + 1))?);
        }
        return Ok(out);
    }
    Ok(plain_log(text, log_group, log_stream, account, origin))
}

fn is_invocation(v: &serde_json::Value) -> bool {
    v.get("awslogs").is_some() || v.get("Records").is_some() || v.get("messageType").is_some()
}

fn invocation(value: serde_json::Value) -> Result<Vec<LogsPayload>, String> {
    if value.get("messageType").is_some() {
        return payload::from_value(value)
            .map(|p| vec![p])
            .map_err(|e| e.to_string());
    }
    match InvocationEvent::from_json(&value).map_err(|e| e.to_string())? {
        InvocationEvent::Direct(data) => Ok(vec![
            payload::decode_awslogs_data(&data).map_err(|e| e.to_string())?,
        ]),
        InvocationEvent::Kinesis(records) => records
            .iter()
            .map(|r| {
                payload::decode_awslogs_data(&r.data)
                    .map_err(|e| format!("Kinesis record {}: {e}", r.sequence_number))
            })
            .collect(),
    }
}

/// The event time of a plain log line, if it carries one.
pub fn line_timestamp(line: &str) -> Option<i64> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('{')
        && let Ok(serde_json::Value::Object(map)) = serde_json::from_str(trimmed)
    {
        for key in ["timestamp", "@timestamp", "time", "ts"] {
            match map.get(key) {
                Some(serde_json::Value::String(s)) => {
                    if let Ok(t) = s.parse::<jiff::Timestamp>() {
                        return Some(t.as_millisecond());
                    }
                }
                Some(serde_json::Value::Number(n)) => {
                    if let Some(ms) = n.as_i64() {
                        // Epoch seconds are < 10^11 until the year 5138; anything larger is ms.
                        return Some(if ms < 100_000_000_000 { ms * 1000 } else { ms });
                    }
                }
                _ => {}
            }
        }
        return None;
    }
    let token = trimmed.split([' ', '\t']).next()?;
    token
        .trim_matches(['[', ']'])
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

fn plain_log(
    text: &str,
    log_group: &str,
    log_stream: &str,
    account: &str,
    origin: &str,
) -> Vec<Vec<LogsPayload>> {
    let new_payload = || LogsPayload {
        message_type: MessageType::Data,
        owner: account.to_string(),
        log_group: log_group.to_string(),
        log_stream: log_stream.to_string(),
        subscription_filters: vec!["logalert-replay".to_string()],
        policy_level: None,
        log_events: Vec::new(),
    };
    let fallback = text
        .lines()
        .find_map(line_timestamp)
        .unwrap_or_else(|| jiff::Timestamp::now().as_millisecond());
    let mut out = Vec::new();
    let mut current = new_payload();
    let mut batch_start = fallback;
    let mut last = fallback;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let ts = line_timestamp(line).unwrap_or(last);
        last = ts;
        if !current.log_events.is_empty()
            && (ts - batch_start > PLAIN_LOG_BATCH_MS
                || ts < batch_start
                || current.log_events.len() >= PLAIN_LOG_BATCH_EVENTS)
        {
            out.push(vec![std::mem::replace(&mut current, new_payload())]);
        }
        if current.log_events.is_empty() {
            batch_start = ts;
        }
        current.log_events.push(LogEvent {
            id: format!("{origin}:{}", n + 1),
            timestamp: ts,
            message: line.to_string(),
        });
    }
    if !current.log_events.is_empty() {
        out.push(vec![current]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_of_lines() {
        assert_eq!(
            line_timestamp("2024-01-01T00:00:01Z ERROR x"),
            Some(1_704_067_201_000)
        );
        assert_eq!(
            line_timestamp("[2024-01-01T00:00:01.5Z] x"),
            Some(1_704_067_201_500)
        );
        assert_eq!(
            line_timestamp(r#"{"time":"2024-01-01T00:00:01Z"}"#),
            Some(1_704_067_201_000)
        );
        assert_eq!(
            line_timestamp(r#"{"ts":1704067201}"#),
            Some(1_704_067_201_000)
        );
        assert_eq!(
            line_timestamp(r#"{"timestamp":1704067201000}"#),
            Some(1_704_067_201_000)
        );
        assert_eq!(line_timestamp("ERROR no time"), None);
    }

    #[test]
    fn plain_logs_are_batched_by_minute() {
        let text =
            "2024-01-01T00:00:00Z a\nno time\n2024-01-01T00:00:59Z b\n2024-01-01T00:01:01Z c\n";
        let inv = parse_input(text.as_bytes(), "/g", "s", "1", "f").unwrap();
        assert_eq!(inv.len(), 2);
        assert_eq!(inv[0][0].log_events.len(), 3);
        assert_eq!(inv[0][0].log_events[1].timestamp, 1_704_067_200_000);
        assert_eq!(inv[1][0].log_events[0].message, "2024-01-01T00:01:01Z c");
        assert_eq!(inv[1][0].log_events[0].id, "f:4");
    }
}
