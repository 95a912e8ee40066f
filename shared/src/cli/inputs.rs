//! The inputs of `logalert replay`: files (or `-` for stdin), each read into invocations, and every
//! one accounted for — what was read, and why anything could not be.
//!
//! ```
//! use logalert::cli::inputs::{parse, InputOptions};
//! let opts = InputOptions::default();
//! let log = b"2026-11-25T10:00:00Z ERROR db down\n2026-11-25T10:00:05Z ok\n";
//! let read = parse(log, "app.log", &opts);
//! assert!(read.problems.is_empty());
//! assert_eq!(read.invocations[0][0].log_events.len(), 2);
//!
//! let read = parse(br#"{"hello":"world"}"#, "odd.json", &opts);
//! assert!(read.invocations.is_empty());
//! assert!(read.problems[0].reason.contains("not a CloudWatch Logs"));
//! ```
//!
//! What an input can be (detected from its content, or forced with [`InputFormat`]):
//!
//! * a direct subscription delivery `{"awslogs":{"data":"…"}}` → one invocation;
//! * a Kinesis event `{"Records":[{"kinesis":{"data":"…",…}}…]}` → one invocation of all its records
//!   (a record that does not decode is reported; the others run, as batch item failures do);
//! * a decoded payload `{"messageType":"DATA_MESSAGE","logEvents":[…],…}` → one invocation;
//! * a JSON array of any of these → one invocation per element;
//! * several of these one after another (JSON lines, or concatenated) → one invocation each;
//! * gzip of any of the above or of a plain log, including concatenated gzip members (a Firehose
//!   object in S3 is one gzip member per record, each a payload);
//! * anything else is a plain log: one event per line (see [`plain_log`]).
//!
//! An empty input, JSON that ends early, a payload whose data does not decode, or a JSON document
//! that is none of the shapes above (`{"hello":"world"}`) is *unreadable*, with the reason and, for
//! JSON, the line and column. Nothing is skipped silently.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::payload::{self, InvocationEvent, LogEvent, LogsPayload, MessageType};

use super::report::{plural, thousands};

/// Longest stretch of event time one plain-log invocation covers.
pub const PLAIN_LOG_BATCH_MS: i64 = 60_000;
/// Most events in one plain-log invocation.
pub const PLAIN_LOG_BATCH_EVENTS: usize = 10_000;
/// Largest input read (stdin or a file), before decompression.
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

/// One invocation of log-filter: the payloads it receives.
pub type Invocation = Vec<LogsPayload>;

/// How to read an input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// Detect from the content (payloads, events, gzip, plain log).
    #[default]
    Auto,
    /// Subscription payloads or Lambda events only (JSON, optionally gzip).
    Payload,
    /// A plain log: one event per line, even when the lines are JSON.
    Log,
}

/// Where plain-log events are said to come from.
#[derive(Debug, Clone)]
pub struct InputOptions {
    pub log_group: String,
    /// Log stream of plain-log events (default: the input's file name).
    pub log_stream: Option<String>,
    pub account: String,
    pub format: InputFormat,
}

impl Default for InputOptions {
    fn default() -> InputOptions {
        InputOptions {
            log_group: "/logalert/replay".to_string(),
            log_stream: None,
            account: "123456789012".to_string(),
            format: InputFormat::Auto,
        }
    }
}

/// An input as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    /// `-` is stdin; anything else a path.
    pub fn from_arg(arg: &Path) -> Source {
        if arg.as_os_str() == "-" {
            Source::Stdin
        } else {
            Source::File(arg.to_path_buf())
        }
    }

    /// How messages name this input.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".to_string(),
            Source::File(p) => p.display().to_string(),
        }
    }

    /// The log stream plain-log events get by default.
    fn stream_name(&self) -> String {
        match self {
            Source::Stdin => "stdin".to_string(),
            Source::File(p) => p.file_name().map_or_else(
                || "replay".to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
        }
    }
}

/// Expand command-line inputs: directories become their files (sorted, not recursive, hidden
/// files skipped). A directory that cannot be listed is a problem of its own.
pub fn expand(args: &[PathBuf]) -> (Vec<Source>, Vec<Problem>) {
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for arg in args {
        let source = Source::from_arg(arg);
        match &source {
            Source::File(p) if p.is_dir() => match std::fs::read_dir(p) {
                Ok(entries) => {
                    let mut files: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| {
                            p.is_file()
                                && !p
                                    .file_name()
                                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                        })
                        .collect();
                    files.sort();
                    if files.is_empty() {
                        problems.push(Problem::whole(source.name(), "a directory with no files"));
                    }
                    sources.extend(files.into_iter().map(Source::File));
                }
                Err(e) => problems.push(Problem::whole(source.name(), format!("cannot read: {e}"))),
            },
            _ => sources.push(source),
        }
    }
    (sources, problems)
}

/// Why (part of) an input could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The input's name.
    pub input: String,
    /// 1-based line and column in the (decompressed) text, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub reason: String,
}

impl Problem {
    fn whole(input: String, reason: impl Into<String>) -> Problem {
        Problem {
            input,
            line: None,
            column: None,
            reason: reason.into(),
        }
    }
}

/// What one input yielded.
#[derive(Debug, Clone, Default)]
pub struct Contents {
    pub invocations: Vec<Invocation>,
    /// Parts that could not be read (the whole input when `invocations` is empty).
    pub problems: Vec<Problem>,
    /// The input was read as a plain log.
    pub plain_log: bool,
}

impl Contents {
    fn failed(problem: Problem) -> Contents {
        Contents {
            problems: vec![problem],
            ..Contents::default()
        }
    }
}

/// Contents one input (file or stdin) into invocations.
pub fn read(source: &Source, opts: &InputOptions) -> Contents {
    let name = source.name();
    let mut bytes = Vec::new();
    let result = match source {
        Source::Stdin => std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes),
        Source::File(p) => {
            std::fs::File::open(p).and_then(|f| f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes))
        }
    };
    if let Err(e) = result {
        return Contents::failed(Problem::whole(name, format!("cannot read: {e}")));
    }
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Contents::failed(Problem::whole(
            name,
            format!("larger than {MAX_INPUT_BYTES} bytes"),
        ));
    }
    let opts = InputOptions {
        log_stream: Some(
            opts.log_stream
                .clone()
                .unwrap_or_else(|| source.stream_name()),
        ),
        ..opts.clone()
    };
    parse(&bytes, &name, &opts)
}

/// [`read`] on bytes already in memory; `name` names the input in problems and event ids.
pub fn parse(bytes: &[u8], name: &str, opts: &InputOptions) -> Contents {
    let fail = |reason: String| Contents::failed(Problem::whole(name.to_string(), reason));
    if bytes.is_empty() {
        return fail("empty: no payload and no log line".to_string());
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return match payload::gunzip(bytes) {
            Ok(inner) if inner.is_empty() => fail("gzip of nothing: no payload".to_string()),
            Ok(inner) => parse(&inner, name, opts),
            Err(e) => fail(e.to_string()),
        };
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return fail(format!(
                "not UTF-8 text (invalid byte at offset {}) and not gzip",
                e.valid_up_to()
            ));
        }
    };
    if text.trim().is_empty() {
        return fail("only whitespace: no payload and no log line".to_string());
    }
    let stream = opts.log_stream.as_deref().unwrap_or("replay");
    let log = |text: &str| Contents {
        invocations: plain_log(text, &opts.log_group, stream, &opts.account, name),
        problems: Vec::new(),
        plain_log: true,
    };
    match opts.format {
        InputFormat::Log => log(text),
        InputFormat::Payload => json_payloads(text, name),
        InputFormat::Auto => match sniff(text) {
            Sniffed::Payloads => json_payloads(text, name),
            Sniffed::Log => log(text),
            Sniffed::NotAPayload(reason) => fail(reason),
        },
    }
}

enum Sniffed {
    Payloads,
    Log,
    NotAPayload(String),
}

/// Keys that say "this JSON is meant as a payload or a Lambda event".
const PAYLOAD_KEYS: &[&str] = &["awslogs", "Records", "messageType", "logEvents"];

fn is_invocation(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(m) => PAYLOAD_KEYS.iter().any(|k| m.contains_key(*k)),
        serde_json::Value::Array(items) => items.first().is_some_and(is_invocation),
        _ => false,
    }
}

/// Decide how to read text in `auto` mode.
fn sniff(text: &str) -> Sniffed {
    let start = text.trim_start();
    if !start.starts_with(['{', '[']) {
        return Sniffed::Log;
    }
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    match values.next() {
        Some(Ok(first)) if is_invocation(&first) => Sniffed::Payloads,
        Some(Ok(first)) => {
            // JSON log lines (one object per line, with a time we can read) are a plain log.
            let first_line = start.lines().next().unwrap_or("");
            let one_per_line = serde_json::from_str::<serde_json::Value>(first_line).is_ok();
            let timed = text.lines().any(|l| line_timestamp(l).is_some());
            if first.is_object() && one_per_line && timed {
                return Sniffed::Log;
            }
            Sniffed::NotAPayload(format!(
                "JSON, but not a CloudWatch Logs subscription payload, direct delivery or Kinesis \
                 event (none of {}); found {}. To replay JSON log lines without timestamps, give \
                 --input-format log",
                PAYLOAD_KEYS
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                describe_json(&first)
            ))
        }
        // Invalid JSON: a payload cut short (or broken) if it names payload keys; otherwise a
        // log whose lines happen to start with a bracket (`[2026-11-25T10:00:00Z] …`).
        Some(Err(_)) => {
            let head = &text[..text.len().min(4096)];
            if PAYLOAD_KEYS
                .iter()
                .any(|k| head.contains(&format!("\"{k}\"")))
            {
                Sniffed::Payloads
            } else {
                Sniffed::Log
            }
        }
        None => Sniffed::Log,
    }
}

fn describe_json(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) if m.is_empty() => "an empty object".to_string(),
        serde_json::Value::Object(m) => {
            let keys: Vec<String> = m.keys().take(5).map(|k| format!("`{k}`")).collect();
            let more = if m.len() > 5 { ", …" } else { "" };
            format!("an object with keys {}{more}", keys.join(", "))
        }
        serde_json::Value::Array(a) if a.is_empty() => "an empty list".to_string(),
        serde_json::Value::Array(_) => "a list of something else".to_string(),
        serde_json::Value::String(_) => "a string".to_string(),
        serde_json::Value::Number(_) => "a number".to_string(),
        serde_json::Value::Bool(_) => "a boolean".to_string(),
        serde_json::Value::Null => "null".to_string(),
    }
}

/// Every JSON value in `text` (one, JSON lines or concatenated) as invocations. A value that does
/// not parse is a problem at its line and column; reading resumes on the next line.
fn json_payloads(text: &str, name: &str) -> Contents {
    let mut out = Contents::default();
    let mut offset = 0;
    let mut line_base = 0; // lines before `offset`
    'resync: while offset < text.len() {
        let rest = &text[offset..];
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
        loop {
            let start = values.byte_offset();
            match values.next() {
                None => break 'resync,
                Some(Ok(value)) => {
                    let line = line_base + line_of(rest, start);
                    decode_value(value, name, line, &mut out);
                }
                Some(Err(e)) => {
                    let line = line_base + e.line();
                    let reason = if e.is_eof() {
                        "the JSON ends before the value is complete (truncated?)".to_string()
                    } else {
                        format!("invalid JSON: {}", strip_position(&e.to_string()))
                    };
                    out.problems.push(Problem {
                        input: name.to_string(),
                        line: Some(line),
                        column: Some(e.column()),
                        reason,
                    });
                    if e.is_eof() {
                        break 'resync;
                    }
                    // Resume at the line after the error.
                    let skip = nth_line_start(rest, e.line());
                    match skip {
                        Some(s) => {
                            line_base += e.line();
                            offset += s;
                            continue 'resync;
                        }
                        None => break 'resync,
                    }
                }
            }
        }
    }
    if out.invocations.is_empty() && out.problems.is_empty() {
        out.problems.push(Problem::whole(
            name.to_string(),
            "no payload in it".to_string(),
        ));
    }
    out
}

/// serde_json appends ` at line L column C`; we print the place in front instead.
fn strip_position(msg: &str) -> &str {
    msg.rfind(" at line ").map_or(msg, |i| &msg[..i])
}

/// 1-based line of byte `offset` in `text`, skipping whitespace at `offset` (where a value starts).
fn line_of(text: &str, offset: usize) -> usize {
    let value_start = text[offset..]
        .find(|c: char| !c.is_whitespace())
        .map_or(offset, |i| offset + i);
    text[..value_start].matches('\n').count() + 1
}

/// Byte offset where line `n + 1` (1-based) starts, i.e. just after the `n`-th newline.
fn nth_line_start(text: &str, n: usize) -> Option<usize> {
    text.match_indices('\n').nth(n - 1).map(|(i, _)| i + 1)
}

/// One JSON value: an invocation, or a list of them.
fn decode_value(value: serde_json::Value, name: &str, line: usize, out: &mut Contents) {
    let problem = |reason: String| Problem {
        input: name.to_string(),
        line: Some(line),
        column: None,
        reason,
    };
    match value {
        serde_json::Value::Array(items) => {
            if items.is_empty() {
                out.problems
                    .push(problem("an empty list: no payload in it".to_string()));
            }
            for (i, item) in items.into_iter().enumerate() {
                match invocation(item) {
                    Ok((inv, bad)) => {
                        out.problems.extend(
                            bad.into_iter()
                                .map(|b| problem(format!("element {}: {b}", i + 1))),
                        );
                        if !inv.is_empty() {
                            out.invocations.push(inv);
                        }
                    }
                    Err(e) => out
                        .problems
                        .push(problem(format!("element {}: {e}", i + 1))),
                }
            }
        }
        value => match invocation(value) {
            Ok((inv, bad)) => {
                out.problems.extend(bad.into_iter().map(problem));
                if !inv.is_empty() {
                    out.invocations.push(inv);
                }
            }
            Err(e) => out.problems.push(problem(e)),
        },
    }
}

/// One invocation from a JSON value, with the reasons any Kinesis records could not be decoded.
fn invocation(value: serde_json::Value) -> Result<(Invocation, Vec<String>), String> {
    if !is_invocation(&value) {
        return Err(format!(
            "not a CloudWatch Logs subscription payload, direct delivery or Kinesis event; found {}",
            describe_json(&value)
        ));
    }
    if value.get("messageType").is_some() || value.get("logEvents").is_some() {
        return payload::from_value(value)
            .map(|p| (vec![p], Vec::new()))
            .map_err(|e| e.to_string());
    }
    match InvocationEvent::from_json(&value).map_err(|e| e.to_string())? {
        InvocationEvent::Direct(data) => payload::decode_awslogs_data(&data)
            .map(|p| (vec![p], Vec::new()))
            .map_err(|e| e.to_string()),
        InvocationEvent::Kinesis(records) => {
            if records.is_empty() {
                return Err("a Kinesis event with no records".to_string());
            }
            let mut inv = Vec::new();
            let mut bad = Vec::new();
            for r in &records {
                match payload::decode_awslogs_data(&r.data) {
                    Ok(p) => inv.push(p),
                    Err(e) => bad.push(format!("Kinesis record {}: {e}", r.sequence_number)),
                }
            }
            Ok((inv, bad))
        }
    }
}

/// The event time of a plain log line, if it carries one: a leading RFC 3339 timestamp (optionally
/// in brackets), or a JSON line's `timestamp` / `@timestamp` / `time` / `ts` (RFC 3339 or epoch
/// seconds/milliseconds).
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

/// A plain log as invocations: one event per non-empty line, in `log_group` / `log_stream`. A
/// line's time comes from [`line_timestamp`]; a line without one gets the previous line's time
/// (the first lines: the first time in the file, or now). Lines are cut into invocations of at
/// most one minute of event time and 10,000 events, like CloudWatch Logs batches them. Event ids
/// are `NAME:LINE`.
pub fn plain_log(
    text: &str,
    log_group: &str,
    log_stream: &str,
    account: &str,
    name: &str,
) -> Vec<Invocation> {
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
            id: format!("{name}:{}", n + 1),
            timestamp: ts,
            message: line.to_string(),
        });
    }
    if !current.log_events.is_empty() {
        out.push(vec![current]);
    }
    out
}

/// What a set of inputs amounted to: the counts of the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub inputs: u64,
    pub payloads: u64,
    pub events: u64,
    pub control_messages: u64,
    pub problems: Vec<Problem>,
}

impl Tally {
    /// The tally of one read.
    pub fn of(read: &Contents) -> Tally {
        let mut t = Tally {
            inputs: 1,
            problems: read.problems.clone(),
            ..Tally::default()
        };
        for p in read.invocations.iter().flatten() {
            if p.is_control() {
                t.control_messages += 1;
            } else {
                t.payloads += 1;
                t.events += p.log_events.len() as u64;
            }
        }
        t
    }

    /// Inputs (or parts of them) that could not be read.
    pub fn unreadable(&self) -> usize {
        self.problems.len()
    }

    pub fn add(&mut self, other: &Tally) {
        self.inputs += other.inputs;
        self.payloads += other.payloads;
        self.events += other.events;
        self.control_messages += other.control_messages;
        self.problems.extend(other.problems.iter().cloned());
    }

    /// `3 payloads, 12,044 events, 1 control message; 1 unreadable: FILE: reason`.
    pub fn summary(&self) -> String {
        let mut s = self.counts();
        match self.problems.as_slice() {
            [] => {}
            [one] => s.push_str(&format!("; 1 unreadable: {}: {}", place(one), one.reason)),
            many => {
                let names: Vec<String> = many.iter().map(place).collect();
                s.push_str(&format!(
                    "; {} unreadable: {}",
                    thousands(many.len() as u64),
                    names.join(", ")
                ));
            }
        }
        s
    }

    /// `3 payloads, 12,044 events, 1 control message` (control messages only when there are some).
    pub fn counts(&self) -> String {
        let mut s = format!(
            "{}, {}",
            plural(self.payloads, "payload", "payloads"),
            plural(self.events, "event", "events")
        );
        if self.control_messages > 0 {
            s.push_str(&format!(
                ", {}",
                plural(self.control_messages, "control message", "control messages")
            ));
        }
        s
    }
}

/// `FILE`, `FILE:LINE` or `FILE:LINE:COL`.
pub fn place(p: &Problem) -> String {
    super::report::Place {
        file: &p.input,
        line: p.line,
        column: p.column,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYLOAD: &str = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/g","logStream":"s","subscriptionFilters":[],"logEvents":[{"id":"1","timestamp":1795600800000,"message":"ERROR x"},{"id":"2","timestamp":1795600800001,"message":"ok"}]}"#;
    const CONTROL: &str = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;

    fn read(bytes: &[u8]) -> Contents {
        parse(bytes, "in", &InputOptions::default())
    }

    fn one_problem(bytes: &[u8]) -> Problem {
        let r = read(bytes);
        assert!(r.invocations.is_empty(), "{:?}", r.invocations);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        r.problems[0].clone()
    }

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
        let inv = plain_log(text, "/g", "s", "1", "f");
        assert_eq!(inv.len(), 2);
        assert_eq!(inv[0][0].log_events.len(), 3);
        assert_eq!(inv[0][0].log_events[1].timestamp, 1_704_067_200_000);
        assert_eq!(inv[1][0].log_events[0].message, "2024-01-01T00:01:01Z c");
        assert_eq!(inv[1][0].log_events[0].id, "f:4");
    }

    #[test]
    fn empty_and_blank_inputs_are_unreadable() {
        assert!(one_problem(b"").reason.starts_with("empty"));
        assert!(
            one_problem(b" \n\t\n")
                .reason
                .starts_with("only whitespace")
        );
        assert!(
            one_problem(&payload::gzip(b""))
                .reason
                .contains("gzip of nothing")
        );
    }

    #[test]
    fn json_that_is_not_a_payload_is_unreadable() {
        let p = one_problem(br#"{"hello":"world"}"#);
        assert!(p.reason.contains("an object with keys `hello`"), "{p:?}");
        assert!(p.reason.contains("--input-format log"), "{p:?}");
        assert!(
            one_problem(b"[]").reason.contains("an empty list"),
            "an empty list is not a payload"
        );
        assert!(
            one_problem(b"[1, 2]")
                .reason
                .contains("a list of something else"),
            "a list of non-payloads"
        );
    }

    #[test]
    fn truncated_payloads_are_unreadable_with_a_position() {
        let p = one_problem(&PAYLOAD.as_bytes()[..60]);
        assert_eq!((p.line, p.column), (Some(1), Some(60)));
        assert!(p.reason.contains("truncated"), "{p:?}");

        let data = payload::encode_awslogs_data(PAYLOAD.as_bytes());
        let half = data.len() / 2 / 4 * 4; // whole base64 quanta: the gzip stream is what is cut
        let cut = format!(r#"{{"awslogs":{{"data":"{}"}}}}"#, &data[..half]);
        let p = one_problem(cut.as_bytes());
        assert!(p.reason.contains("gzip"), "{p:?}");

        let gz = payload::gzip(PAYLOAD.as_bytes());
        let p = one_problem(&gz[..gz.len() - 12]);
        assert!(p.reason.contains("truncated gzip"), "{p:?}");
    }

    #[test]
    fn arrays_lines_and_concatenated_gzip_members() {
        let array = format!("[{PAYLOAD},{CONTROL}]");
        let r = read(array.as_bytes());
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.invocations.len(), 2);
        let t = Tally::of(&r);
        assert_eq!((t.payloads, t.events, t.control_messages), (1, 2, 1));

        let lines = format!("{PAYLOAD}\n{PAYLOAD}\n");
        assert_eq!(read(lines.as_bytes()).invocations.len(), 2);
        let concatenated = format!("{PAYLOAD}{CONTROL}");
        assert_eq!(read(concatenated.as_bytes()).invocations.len(), 2);

        // A Firehose object: one gzip member per record, each a payload.
        let mut firehose = payload::gzip(PAYLOAD.as_bytes());
        firehose.extend(payload::gzip(PAYLOAD.as_bytes()));
        firehose.extend(payload::gzip(CONTROL.as_bytes()));
        let r = read(&firehose);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(
            Tally::of(&r).summary(),
            "2 payloads, 4 events, 1 control message"
        );

        // A gzipped plain log.
        let r = read(&payload::gzip(b"2026-11-25T10:00:00Z ERROR a\n"));
        assert!(r.plain_log && r.problems.is_empty());
    }

    #[test]
    fn a_bad_line_is_reported_and_the_others_read() {
        let text = format!("{PAYLOAD}\n{{\"messageType\": nope}}\n{PAYLOAD}\n");
        let r = read(text.as_bytes());
        assert_eq!(r.invocations.len(), 2);
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.problems[0].line, Some(2));
        assert!(
            r.problems[0].reason.starts_with("invalid JSON"),
            "{:?}",
            r.problems
        );

        let text = format!("{PAYLOAD}\n{{\"hello\":1}}\n");
        let r = read(text.as_bytes());
        assert_eq!(r.invocations.len(), 1);
        assert_eq!(r.problems[0].line, Some(2));
    }

    #[test]
    fn kinesis_records_that_do_not_decode_are_reported_one_by_one() {
        let good = payload::encode_awslogs_data(PAYLOAD.as_bytes());
        let event = serde_json::json!({"Records": [
            {"kinesis": {"data": good, "sequenceNumber": "1"}},
            {"kinesis": {"data": "bm90IGd6aXA=", "sequenceNumber": "2"}},
        ]});
        let r = read(event.to_string().as_bytes());
        assert_eq!(r.invocations.len(), 1);
        assert_eq!(r.invocations[0].len(), 1);
        assert!(
            r.problems[0].reason.starts_with("Kinesis record 2: "),
            "{:?}",
            r.problems
        );
    }

    #[test]
    fn json_log_lines_with_times_and_bracketed_text_logs_are_logs() {
        let r = read(b"{\"time\":\"2026-11-25T10:00:00Z\",\"msg\":\"x\"}\n{\"msg\":\"y\"}\n");
        assert!(r.plain_log && r.problems.is_empty());
        assert_eq!(r.invocations[0][0].log_events.len(), 2);
        let r = read(b"[2026-11-25T10:00:00Z] ERROR x\n");
        assert!(r.plain_log && r.problems.is_empty());
        let forced = parse(
            br#"{"hello":"world"}"#,
            "in",
            &InputOptions {
                format: InputFormat::Log,
                ..InputOptions::default()
            },
        );
        assert!(forced.plain_log && forced.problems.is_empty());
    }

    #[test]
    fn summaries() {
        let mut t = Tally {
            inputs: 3,
            payloads: 3,
            events: 12044,
            control_messages: 1,
            problems: vec![Problem::whole("b.json".into(), "empty")],
        };
        assert_eq!(
            t.summary(),
            "3 payloads, 12,044 events, 1 control message; 1 unreadable: b.json: empty"
        );
        t.problems.push(Problem {
            input: "c.json".into(),
            line: Some(1),
            column: Some(4),
            reason: "x".into(),
        });
        assert_eq!(
            t.summary(),
            "3 payloads, 12,044 events, 1 control message; 2 unreadable: b.json, c.json:1:4"
        );
    }
}
