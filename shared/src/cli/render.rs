//! `logalert render [INPUT] [--to slack|teams|pagerduty|webhook]`: print the exact body the notifier
//! would send for an SNS message — a logalert alert, a CloudWatch alarm notification, or anything
//! else — to a Slack webhook (default), a Teams Workflow, PagerDuty Events v2 (with a placeholder
//! routing key) or a signed webhook (the body; the signature headers depend on the secret and time).
//!
//! INPUT (a file, or stdin when absent or `-`) is the SNS `Message` body itself, one SNS record
//! (`{"Sns":{…}}`), a whole Lambda SNS event (`{"Records":[…]}`, one payload per record), or an SNS
//! notification as HTTP/SQS subscribers receive it. Alarms are rendered without enrichment (that needs
//! CloudWatch Logs; the deployed notifier does it).
//!
//! Posting: this crate does no network I/O, so sending lives next to the notifier's delivery code —
//! `cargo run -p slack-notifier --bin logalert-slack -- [same arguments] --post URL` (or env
//! `LOGALERT_SLACK_WEBHOOK`) renders exactly as here and delivers with the notifier's own retry and
//! rate-limit handling.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use super::output::{self, OutputFormat};
use super::report;
use crate::slack::{Incoming, RenderOptions, SlackFormat, SnsEnvelope, redact::Redactor};

const AFTER_HELP: &str = "\
INPUT is the SNS `Message` body (a logalert alert, a CloudWatch alarm notification, or any text),
one SNS record ({\"Sns\":{…}}), a Lambda SNS event ({\"Records\":[…]}: one payload per record) or an
SNS notification as HTTP/SQS subscribers receive it. Alarms are rendered without log enrichment
(that needs CloudWatch Logs; the deployed notifier does it). To post the result to a webhook, use
`logalert-slack render … --post URL` (package slack-notifier).

Exit status:
  0  rendered
  2  usage error, or the input cannot be read or is empty

Examples:
  logalert render shared/tests/fixtures/slack/alert-v1.json
  logalert render --format blocks --compact sns-event.json
  aws sqs receive-message --queue-url \"$DLQ\" | jq -r '.Messages[0].Body' | logalert render -";

/// Render an SNS message (logalert alert, CloudWatch alarm, or text) into the Slack payload.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// SNS message body, SNS record, Lambda SNS event or SNS notification JSON; `-` or absent: stdin.
    pub input: Option<PathBuf>,
    /// Destination whose exact body to print: `slack` (default), `teams`, `pagerduty`, `webhook`.
    #[arg(long, default_value = "slack", value_parser = ["slack", "teams", "pagerduty", "webhook"])]
    pub to: String,
    /// Slack layout: `attachments` (default) or `blocks` (Block Kit).
    #[arg(long, default_value = "attachments", value_parser = parse_format)]
    pub format: SlackFormat,
    /// Extra redaction regex (repeatable), like env `REDACT_PATTERNS` in the notifier.
    #[arg(long = "redact-pattern", value_name = "REGEX")]
    pub redact_patterns: Vec<String>,
    /// Show secrets as they are (no default redaction). For debugging patterns only.
    #[arg(long)]
    pub no_redact: bool,
    /// One JSON object per line instead of pretty-printed JSON.
    #[arg(long)]
    pub compact: bool,
    /// `json` (the Slack payload; the default when stdout is not a terminal) or `text` (the channel
    /// and what the message shows, for people).
    #[arg(long, value_enum)]
    pub output: Option<OutputFormat>,
    /// Not available in this binary (no network I/O here): use `logalert-slack` from the
    /// slack-notifier package, which takes the same arguments.
    #[arg(long, value_name = "URL", hide = true)]
    pub post: Option<String>,
}

fn parse_format(s: &str) -> Result<SlackFormat, String> {
    SlackFormat::parse(s).ok_or_else(|| format!("unknown format {s:?}: use attachments or blocks"))
}

/// One rendered SNS message.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub message_id: Option<String>,
    pub channel: String,
    pub kind: &'static str,
    pub payload: serde_json::Value,
}

impl Args {
    /// Render options from the arguments (redaction errors name the pattern).
    pub fn options(&self) -> Result<RenderOptions, String> {
        let redactor = if self.no_redact {
            Redactor::none()
        } else {
            Redactor::with_patterns(&self.redact_patterns).map_err(|e| e.to_string())?
        };
        Ok(RenderOptions {
            format: self.format,
            redactor,
            ..RenderOptions::default()
        })
    }

    /// The destination to render for (`--to`, with `--format` for Slack).
    pub fn target(&self) -> crate::render::Target {
        crate::render::Target::parse(&self.to, self.format)
            .unwrap_or(crate::render::Target::Slack(self.format))
    }

    /// Read the input (file or stdin); errors name the file.
    pub fn read_input(&self) -> Result<String, String> {
        match self.input.as_deref() {
            Some(p) if p.as_os_str() != "-" => {
                std::fs::read_to_string(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))
            }
            _ => {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|e| format!("<stdin>: cannot read: {e}"))?;
                Ok(s)
            }
        }
    }
}

/// Render every SNS message found in `input` for Slack (in `opts.format`).
pub fn render_input(input: &str, opts: &RenderOptions) -> Vec<Rendered> {
    render_input_to(input, &crate::render::Target::Slack(opts.format), opts)
}

/// Render every SNS message found in `input` for `target`.
pub fn render_input_to(
    input: &str,
    target: &crate::render::Target,
    opts: &RenderOptions,
) -> Vec<Rendered> {
    SnsEnvelope::from_input(input)
        .into_iter()
        .map(|env| {
            let incoming = Incoming::classify(&env.message);
            let channel = incoming.channel(env.attribute("channel")).to_string();
            let payload =
                crate::render::render_to(target, &incoming, env.subject.as_deref(), None, opts);
            Rendered {
                message_id: env.message_id,
                channel,
                kind: incoming.kind(),
                payload,
            }
        })
        .collect()
}

/// Print payloads, pretty or one per line.
pub fn print(rendered: &[Rendered], compact: bool) {
    for r in rendered {
        let text = if compact {
            serde_json::to_string(&r.payload)
        } else {
            serde_json::to_string_pretty(&r.payload)
        };
        println!("{}", text.expect("a serde_json::Value always serializes"));
    }
}

pub fn run(args: Args) -> ExitCode {
    let fail = |message: &str| {
        report::error(None, message);
        ExitCode::from(report::EXIT_USAGE)
    };
    if args.post.is_some() {
        return fail(
            "render: --post is provided by `logalert-slack` (package slack-notifier), which \
             takes the same arguments: cargo run -p slack-notifier --bin logalert-slack -- render … --post URL",
        );
    }
    let opts = match args.options() {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let input = match args.read_input() {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    if input.trim().is_empty() {
        let name = match args.input.as_deref() {
            Some(p) if p.as_os_str() != "-" => p.display().to_string(),
            _ => "<stdin>".to_string(),
        };
        return fail(&format!(
            "{name}: empty input: give an SNS message, record or event"
        ));
    }
    let rendered = render_input_to(&input, &args.target(), &opts);
    match OutputFormat::resolve(args.output) {
        OutputFormat::Json => print(&rendered, args.compact),
        OutputFormat::Text => {
            for r in &rendered {
                println!("{}\n", output::slack_text(&r.channel, r.kind, &r.payload));
            }
        }
    }
    ExitCode::SUCCESS
}
