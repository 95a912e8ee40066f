//! `logalert replay --rules RULES.yaml INPUT...`: run the real log-filter logic locally.
//!
//! Each INPUT is a file, a directory (its files), or `-` for stdin, read as [`super::inputs`]
//! describes: subscription payloads (encoded or decoded), direct deliveries, Kinesis events, JSON
//! arrays or lines of them, gzip of any of these (Firehose objects: concatenated members), or a plain
//! log file (one event per line, in log group `--log-group` and stream `--log-stream`, default the
//! file name). stderr gets one summary line per input and a total
//! (`3 payloads, 12,044 events, 1 control message; 1 unreadable: FILE: reason`).
//!
//! State lives in memory with event time as the clock, so frequency windows and `realert` behave as
//! in the deployed function — ticks included: before each invocation the tick of every minute since
//! the previous one runs, and after the last input the replay keeps ticking until nothing is due
//! (realert summaries, `resolved`; `--no-drain` stops at the last event). Every SNS publish the function would make is printed as one JSON line:
//! `{"subject":"…","message":{…alert v1…},"attributes":{"severity":"…","rule":"…",…}}`.
//! With `--to slack|teams|pagerduty|webhook`, each line is instead the exact body slack-notifier
//! would send that destination for the publication (the SNS message as it would receive it):
//! `{"channel":"…","to":"teams","payload":{…}}` (`--format blocks` for Slack's Block Kit; the
//! PagerDuty routing key is a placeholder, the webhook's signature headers are not shown). `--slack`
//! is `--to slack`.
//!
//! Exit status: 0; 1 with `--fail-on-alert` when something would be published; 2 when the rules do
//! not load or any input (or part of one) cannot be read — the other inputs are still replayed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::inputs::{self, InputFormat, InputOptions, Source, Tally};
use super::output::{self, OutputFormat};
use super::report::{self, EXIT_FINDINGS, EXIT_USAGE, Place};
use crate::engine::{CollectingSink, Engine, EngineConfig, Publication};
use crate::payload::LogsPayload;
use crate::render::{Target, render_to};
use crate::slack::{Incoming, RenderOptions, SlackFormat};
use crate::state::{MemoryStore, StateStore, block_on};

pub use super::inputs::{PLAIN_LOG_BATCH_EVENTS, PLAIN_LOG_BATCH_MS, line_timestamp};

const AFTER_HELP: &str = "\
Inputs (detected from their content; --input-format to force): subscription payloads (decoded, or
direct deliveries {\"awslogs\":{\"data\":…}}), Lambda Kinesis events, JSON arrays or lines of them,
gzip of any of these including Firehose objects (concatenated gzip members), and plain log files
(one event per line; the time from a leading RFC 3339 timestamp or a JSON line's timestamp/time
field). Every input is accounted for on stderr: `FILE: 3 payloads, 12,044 events`, and a reason
for anything unreadable (an empty file, truncated JSON or gzip, JSON that is not a payload).

Exit status:
  0  every input was read (whether or not anything alerted)
  1  with --fail-on-alert: something would be published
  2  usage error, the rules file does not load, or an input (or part of one) could not be read;
     the other inputs are still replayed

Environment:
  AWS_REGION, AWS_DEFAULT_REGION  the region of alerts and links when --region is not given
  NO_COLOR                         no colour in messages (colour is only used on a terminal)

Examples:
  logalert replay --rules rules.yaml examples/payloads/*
  logalert replay --rules rules.yaml --log-group /aws/lambda/payments app.log
  aws s3 cp s3://bucket/firehose/2026/11/25/obj.gz - | logalert replay --rules rules.yaml -
  logalert replay --rules rules.yaml --slack --format blocks payload.json
  logalert replay --rules rules.yaml --to pagerduty payload.json   # the Events v2 bodies
  logalert replay --rules rules.yaml --fail-on-alert healthy-day.log   # CI: must not alert";

/// Run the real log-filter logic over payloads or log files and print what would be published.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The rules file.
    #[arg(long)]
    pub rules: PathBuf,
    /// Payload files, Lambda events, gzip/Firehose objects, plain log files or directories of
    /// them; `-` reads stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// How to read the inputs: `auto` (detect), `payload` (JSON payloads/events only) or `log`
    /// (one event per line, even JSON lines).
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub input_format: InputFormat,
    /// Log group of plain log files.
    #[arg(long, default_value = "/logalert/replay")]
    pub log_group: String,
    /// Log stream of plain log files (default: the file name).
    #[arg(long)]
    pub log_stream: Option<String>,
    /// Region of the alerts and their console links [default: $AWS_REGION, else
    /// $AWS_DEFAULT_REGION, else us-east-1].
    #[arg(long)]
    pub region: Option<String>,
    /// Account id of plain log files.
    #[arg(long, default_value = "123456789012")]
    pub account: String,
    /// Log groups to skip, comma-separated (like the function's IGNORE_LOG_GROUPS).
    #[arg(long, default_value = "")]
    pub ignore_log_groups: String,
    /// Print the Slack payload each alert would produce (as slack-notifier renders it) instead of
    /// the SNS publish: the same as `--to slack`.
    #[arg(long, conflicts_with = "to")]
    pub slack: bool,
    /// Print the exact body slack-notifier would send this destination for each publication instead
    /// of the SNS publish: `slack`, `teams`, `pagerduty` (placeholder routing key) or `webhook` (the
    /// body; the signature headers need the secret and the time).
    #[arg(long, value_name = "DESTINATION", value_parser = ["slack", "teams", "pagerduty", "webhook"])]
    pub to: Option<String>,
    /// With `--slack` or `--to slack`: `attachments` (default) or `blocks` (Block Kit).
    #[arg(long, value_parser = parse_format)]
    pub format: Option<SlackFormat>,
    /// `json` (one line per publish; the default when stdout is not a terminal) or `text` (per
    /// alert the rule, key, counts, times, subject and a sample, then a summary line).
    #[arg(long, value_enum)]
    pub output: Option<OutputFormat>,
    /// With JSON output: pretty-print each publish instead of one line each.
    #[arg(long)]
    pub pretty: bool,
    /// Exit 1 when anything would be published (for CI: "these logs must not alert").
    #[arg(long)]
    pub fail_on_alert: bool,
    /// No per-input summary on stderr (problems are still reported).
    #[arg(long, short)]
    pub quiet: bool,
    /// Stop at the last event: do not keep ticking after it until nothing is pending (realert
    /// summaries, `resolved`, pending publications).
    #[arg(long)]
    pub no_drain: bool,
}

fn parse_format(s: &str) -> Result<SlackFormat, String> {
    SlackFormat::parse(s).ok_or_else(|| format!("unknown format {s:?}: use attachments or blocks"))
}

/// What a publication is printed as.
#[derive(Debug)]
enum Output {
    /// The SNS publish log-filter would make.
    Sns,
    /// The body slack-notifier would send the destination `to` (named as on the command line).
    Destination {
        to: String,
        target: Target,
        opts: RenderOptions,
    },
}

impl Output {
    /// From `--slack`, `--to` and `--format`; `--format` without a Slack destination is an error.
    fn from_args(args: &Args) -> Result<Output, String> {
        let to = match (&args.to, args.slack) {
            (Some(to), _) => Some(to.as_str()),
            (None, true) => Some("slack"),
            (None, false) => None,
        };
        if args.format.is_some() && to != Some("slack") {
            return Err(
                "--format chooses the Slack layout: use it with --slack or --to slack".into(),
            );
        }
        let Some(to) = to else {
            return Ok(Output::Sns);
        };
        let format = args.format.unwrap_or(SlackFormat::Attachments);
        let target = Target::parse(to, format)
            .ok_or_else(|| format!("--to {to:?}: use slack, teams, pagerduty or webhook"))?;
        Ok(Output::Destination {
            to: to.to_string(),
            target,
            opts: RenderOptions {
                format,
                ..RenderOptions::default()
            },
        })
    }

    /// The body for a destination: rendered from the SNS message exactly as slack-notifier
    /// receives it (its body and Subject), so the output is what the destination would get.
    fn rendered(p: &Publication, target: &Target, opts: &RenderOptions) -> serde_json::Value {
        let incoming = Incoming::classify(&p.body);
        render_to(target, &incoming, Some(&p.subject), None, opts)
    }

    fn value(&self, p: &Publication) -> serde_json::Value {
        match self {
            Output::Sns => p.to_replay_json(),
            Output::Destination { to, target, opts } if to == "slack" => serde_json::json!({
                "channel": p.alert.channel,
                "payload": Output::rendered(p, target, opts),
            }),
            Output::Destination { to, target, opts } => serde_json::json!({
                "channel": p.alert.channel,
                "to": to,
                "payload": Output::rendered(p, target, opts),
            }),
        }
    }

    fn print(&self, p: &Publication, format: OutputFormat, pretty: bool) -> String {
        match (format, self) {
            (OutputFormat::Json, _) if pretty => serde_json::to_string_pretty(&self.value(p))
                .expect("a serde_json::Value always serializes"),
            (OutputFormat::Json, _) => self.value(p).to_string(),
            (OutputFormat::Text, Output::Sns) => {
                format!("{}\n", output::alert_text(&p.subject, &p.alert))
            }
            (OutputFormat::Text, Output::Destination { target, opts, .. }) => format!(
                "{}\n",
                output::slack_text(
                    &p.alert.channel,
                    &p.alert.kind,
                    &Output::rendered(p, target, opts)
                )
            ),
        }
    }
}

pub fn run(args: Args) -> ExitCode {
    let output = match Output::from_args(&args) {
        Ok(o) => o,
        Err(e) => {
            report::error(None, e);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let rules = match report::load_rules(&args.rules) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let region = report::region_from_env(args.region.as_deref());
    let config = EngineConfig::new(&region).with_ignored_log_groups(&args.ignore_log_groups);
    let mut replay = Replay::new(Engine::new(rules, config));
    let opts = InputOptions {
        log_group: args.log_group.clone(),
        log_stream: args.log_stream.clone(),
        account: args.account.clone(),
        format: args.input_format,
    };
    let (sources, listing_problems) = inputs::expand(&args.inputs);
    if sources.iter().filter(|s| **s == Source::Stdin).count() > 1 {
        report::error(None, "`-` (stdin) given more than once");
        return ExitCode::from(EXIT_USAGE);
    }
    let mut total = Tally {
        problems: listing_problems,
        ..Tally::default()
    };
    for p in &total.problems {
        report_problem(p);
    }
    let format = OutputFormat::resolve(args.output);
    let mut published = Vec::new();
    let stdout = std::io::stdout();
    for source in &sources {
        let read = inputs::read(source, &opts);
        for p in &read.problems {
            report_problem(p);
        }
        let tally = Tally::of(&read);
        if !args.quiet && !read.invocations.is_empty() {
            report::note(format_args!("{}: {}", source.name(), tally.counts()));
        }
        total.add(&tally);
        for inv in &read.invocations {
            let mut out = stdout.lock();
            for p in replay.invoke(inv) {
                if writeln!(out, "{}", output.print(&p, format, args.pretty)).is_err() {
                    return ExitCode::from(EXIT_USAGE); // stdout closed (e.g. `| head`)
                }
                published.push(p.alert);
            }
        }
    }
    if !args.no_drain {
        let mut out = stdout.lock();
        for p in replay.drain() {
            if writeln!(out, "{}", output.print(&p, format, args.pretty)).is_err() {
                return ExitCode::from(EXIT_USAGE);
            }
            published.push(p.alert);
        }
    }
    if format == OutputFormat::Text {
        println!("{}", output::alerts_summary(&published));
    }
    if !args.quiet && (sources.len() > 1 || total.unreadable() > 0) {
        report::note(format_args!(
            "{}: {}",
            super::report::plural(total.inputs, "input", "inputs"),
            total.summary()
        ));
    }
    if total.unreadable() > 0 {
        ExitCode::from(EXIT_USAGE)
    } else if args.fail_on_alert && !published.is_empty() {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    }
}

fn report_problem(p: &inputs::Problem) {
    report::error(
        Some(Place {
            file: &p.input,
            line: p.line,
            column: p.column,
        }),
        format_args!("unreadable: {}", p.reason),
    );
}

/// The engine with in-memory state and an event-time clock: feed it invocations in order.
///
/// Time runs as in the deployed function, on event time: before each invocation the ticks of
/// every minute since the previous one run (a minute with nothing due is skipped, as its tick
/// would do nothing), and [`Replay::drain`] keeps ticking after the last input until nothing is
/// pending.
#[derive(Debug)]
pub struct Replay {
    engine: Engine,
    store: MemoryStore,
    /// The engine clock: the newest event time seen, or the last tick.
    clock_ms: i64,
}

/// The tick period (EventBridge `rate(1 minute)` in the template).
pub const TICK_PERIOD_MS: i64 = 60_000;
/// [`Replay::drain`] stops this long (event time) after the last input even if something is still
/// due (a rule type that is always due).
pub const DRAIN_LIMIT_MS: i64 = 31 * 86_400_000;

impl Replay {
    pub fn new(engine: Engine) -> Replay {
        Replay {
            engine,
            store: MemoryStore::default(),
            clock_ms: i64::MIN,
        }
    }

    /// Run one invocation (after the ticks due before it); returns what would be published.
    pub fn invoke(&mut self, payloads: &[LogsPayload]) -> Vec<Publication> {
        let latest = payloads
            .iter()
            .flat_map(|p| p.log_events.iter().map(|e| e.timestamp))
            .max();
        let sink = CollectingSink::default();
        if let Some(t) = latest {
            self.tick_until(t, &sink);
            self.clock_ms = self.clock_ms.max(t);
        }
        let now = if self.clock_ms == i64::MIN {
            0
        } else {
            self.clock_ms
        };
        self.store.set_clock(now.div_euclid(1000));
        block_on(self.engine.process(payloads, &self.store, &sink, now));
        sink.take()
    }

    /// Keep ticking after the last input until nothing is due (or [`DRAIN_LIMIT_MS`] passed).
    pub fn drain(&mut self) -> Vec<Publication> {
        let sink = CollectingSink::default();
        if self.clock_ms != i64::MIN {
            self.tick_until(self.clock_ms.saturating_add(DRAIN_LIMIT_MS), &sink);
        }
        sink.take()
    }

    /// Run the ticks of every minute boundary after the clock, up to `until_ms`, at which
    /// something is due.
    fn tick_until(&mut self, until_ms: i64, sink: &CollectingSink) {
        if self.clock_ms == i64::MIN {
            return;
        }
        loop {
            let Some(due) = block_on(self.store.due(i64::MAX, 1))
                .ok()
                .and_then(|d| d.first().map(|d| d.due_at))
            else {
                return;
            };
            let Some(at) = next_tick(due.max(self.clock_ms.saturating_add(1))) else {
                return;
            };
            if at > until_ms {
                return;
            }
            self.clock_ms = at;
            self.store.set_clock(at.div_euclid(1000));
            block_on(self.engine.tick(&self.store, sink, at));
        }
    }
}

/// The first tick time (a whole minute) at or after `t`; `None` past the end of time.
fn next_tick(t: i64) -> Option<i64> {
    let minutes = t.div_euclid(TICK_PERIOD_MS);
    let at = minutes.checked_mul(TICK_PERIOD_MS)?;
    if at == t {
        Some(at)
    } else {
        at.checked_add(TICK_PERIOD_MS)
    }
}

/// Read one input file into invocations (each a list of payloads); the first problem, if any, as
/// `[LINE:COL: ]reason`. See [`inputs::read`] for the full account.
pub fn read_input(
    path: &Path,
    log_group: &str,
    log_stream: Option<&str>,
    account: &str,
) -> Result<Vec<Vec<LogsPayload>>, String> {
    let opts = InputOptions {
        log_group: log_group.to_string(),
        log_stream: log_stream.map(str::to_string),
        account: account.to_string(),
        format: InputFormat::Auto,
    };
    let read = inputs::read(&Source::from_arg(path), &opts);
    match read.problems.first() {
        Some(p) => Err(p.reason.clone()),
        None => Ok(read.invocations),
    }
}
