//! `logalert-slack render [ARGS] [--post URL]`: `logalert render` (same arguments, same output,
//! including `--to slack|teams|pagerduty|webhook`) plus delivery with the notifier's own client —
//! timeouts, retries, `Retry-After`, the "maybe delivered" rule.
//!
//! * `--to slack` (default): `--post` = an incoming-webhook URL (or env `LOGALERT_SLACK_WEBHOOK`).
//!   With `--token xoxb-…` (or env `LOGALERT_SLACK_TOKEN`) and `--channel-id C…`, it posts as the
//!   Slack app does instead (`chat.postMessage`; the alerts of one incident in one input are
//!   threaded, `resolved` edits the parent); `--post` then overrides the Web API base URL
//!   (default `https://slack.com/api`).
//! * `--to teams`: `--post` = the Workflows webhook URL.
//! * `--to pagerduty`: `--routing-key KEY` (or env `LOGALERT_PAGERDUTY_ROUTING_KEY`); `--post`
//!   overrides the Events API URL (default `https://events.pagerduty.com/v2/enqueue`).
//! * `--to webhook`: `--post` = the receiver's URL, `--secret` (or env `LOGALERT_WEBHOOK_SECRET`)
//!   signs it.
//!
//! Without a destination it only prints the body. This lives here, not in the `logalert` CLI,
//! because the shared crate does no network I/O.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use logalert::cli::render;
use logalert::slack::{Incoming, SnsEnvelope};
use logalert::state::MemoryStore;
use slack_notifier::deliver::Deliverer;
use slack_notifier::destination::{
    Destination, PAGERDUTY_EVENTS_URL, SLACK_API_URL, Secret, WebhookUrl,
};
use slack_notifier::destinations::{self, Clients, Message};

#[derive(Debug, Parser)]
#[command(name = "logalert-slack", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render an SNS message for a destination; with --post (or the env variables), send it.
    Render {
        #[command(flatten)]
        render: render::Args,
        /// PagerDuty routing key (`--to pagerduty`; env LOGALERT_PAGERDUTY_ROUTING_KEY).
        #[arg(long, value_name = "KEY")]
        routing_key: Option<String>,
        /// Signing secret (`--to webhook`; env LOGALERT_WEBHOOK_SECRET).
        #[arg(long, value_name = "SECRET")]
        secret: Option<String>,
        /// Slack bot token (`--to slack` as the Slack app; env LOGALERT_SLACK_TOKEN).
        #[arg(long, value_name = "XOXB", requires = "channel_id")]
        token: Option<String>,
        /// Slack channel id for `--token` (C…, from the channel's "About" tab).
        #[arg(long, value_name = "ID")]
        channel_id: Option<String>,
        /// Request timeout in milliseconds.
        #[arg(long, default_value_t = 5000)]
        timeout_ms: u64,
    },
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Credentials from the command line (or the environment).
struct Credentials {
    routing_key: Option<String>,
    secret: Option<String>,
    token: Option<String>,
    channel_id: Option<String>,
}

/// The destination the arguments describe, `None` for print-only.
fn destination(
    to: &str,
    post: Option<String>,
    credentials: Credentials,
) -> Result<Option<Destination>, String> {
    let Credentials {
        routing_key,
        secret,
        token,
        channel_id,
    } = credentials;
    let url = |u: String| WebhookUrl::parse(&u).map_err(|e| format!("--post {e}"));
    if channel_id.is_some() && to != "slack" {
        return Err("--token/--channel-id post as the Slack app: use them with --to slack".into());
    }
    let token = token.or_else(|| env("LOGALERT_SLACK_TOKEN"));
    Ok(match to {
        "slack" if token.is_some() || channel_id.is_some() => {
            // Checked as the notifier checks a secret entry (token and channel id forms).
            let entry = serde_json::json!({
                "type": "slack-app",
                "token": token.ok_or("--channel-id needs --token (or LOGALERT_SLACK_TOKEN)")?,
                "channel": channel_id.ok_or("--token needs --channel-id")?,
                "api_url": post.unwrap_or_else(|| SLACK_API_URL.to_string()),
            });
            Some(
                slack_notifier::destination::parse_entry(&entry)
                    .map_err(|e| format!("--token/--channel-id/--post: {e}"))?,
            )
        }
        "slack" => match post.or_else(|| env("LOGALERT_SLACK_WEBHOOK")) {
            Some(u) => Some(Destination::SlackWebhook { url: url(u)? }),
            None => None,
        },
        "teams" => match post {
            Some(u) => Some(Destination::Teams { url: url(u)? }),
            None => None,
        },
        "pagerduty" => match routing_key.or_else(|| env("LOGALERT_PAGERDUTY_ROUTING_KEY")) {
            Some(key) => Some(Destination::PagerDuty {
                routing_key: Secret::new(key),
                url: url(post.unwrap_or_else(|| PAGERDUTY_EVENTS_URL.to_string()))?,
            }),
            None if post.is_some() => {
                return Err("--to pagerduty --post needs --routing-key".into());
            }
            None => None,
        },
        "webhook" => match (post, secret.or_else(|| env("LOGALERT_WEBHOOK_SECRET"))) {
            (Some(u), Some(s)) => Some(Destination::Webhook {
                url: url(u)?,
                secret: Secret::new(s),
            }),
            (Some(_), None) => return Err("--to webhook --post needs --secret".into()),
            (None, _) => None,
        },
        other => return Err(format!("unknown destination {other:?}")),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Command::Render {
        mut render,
        routing_key,
        secret,
        token,
        channel_id,
        timeout_ms,
    } = Cli::parse().command;
    let post = render.post.take().filter(|u| !u.trim().is_empty());
    let opts = match render.options() {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let input = match render.read_input() {
        Ok(s) if !s.trim().is_empty() => s,
        Ok(_) => return fail("empty input: give an SNS message, record or event"),
        Err(e) => return fail(&e),
    };
    let credentials = Credentials {
        routing_key,
        secret,
        token,
        channel_id,
    };
    let dest = match destination(&render.to, post, credentials) {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    let mut target = render.target();
    if let (
        logalert::render::Target::PagerDuty { routing_key },
        Some(Destination::PagerDuty { .. }),
    ) = (&mut target, &dest)
    {
        // Printed bodies never show the key.
        *routing_key = "<routing key>".into();
    }
    let mut rendered = render::render_input_to(&input, &target, &opts);
    let envelopes = SnsEnvelope::from_input(&input);
    if let Some(Destination::PagerDuty { .. }) = &dest {
        // Print exactly the event that is sent (with its fallback dedup_key), minus the key.
        for (r, env) in rendered.iter_mut().zip(&envelopes) {
            let incoming = Incoming::classify(&env.message);
            let message_id = message_id_of(env);
            let m = message(&incoming, env, &opts, &message_id);
            r.payload = destinations::pagerduty_event(&m, "<routing key>");
        }
    }
    render::print(&rendered, render.compact);
    let Some(dest) = dest else {
        return ExitCode::SUCCESS;
    };
    let deliverer = match Deliverer::new(Duration::from_millis(timeout_ms.clamp(100, 60_000))) {
        Ok(d) => d,
        Err(e) => {
            return fail(&format!(
                "cannot build the HTTP client: {}",
                e.without_url()
            ));
        }
    };
    let state = MemoryStore::default();
    let pacer = Default::default();
    let clients = Clients {
        deliverer: &deliverer,
        state: &state,
        pacer: &pacer,
    };
    let mut status = ExitCode::SUCCESS;
    for env in &envelopes {
        let incoming = Incoming::classify(&env.message);
        let message_id = message_id_of(env);
        let deadline = Instant::now() + Duration::from_secs(120);
        let message = message(&incoming, env, &opts, &message_id);
        match destinations::deliver(&dest, &message, &clients, deadline).await {
            Ok(d) => eprintln!(
                "posted ({} message, {} attempt(s)) to {} ({})",
                incoming.kind(),
                d.attempts,
                dest.type_name(),
                dest.url()
            ),
            Err(e) => {
                eprintln!(
                    "logalert-slack: not posted ({} message) to {}: {e}",
                    incoming.kind(),
                    dest.type_name()
                );
                status = ExitCode::from(1);
            }
        }
    }
    status
}

/// The SNS MessageId, `cli` for a bare message (the webhook's and PagerDuty's fallback key).
fn message_id_of(env: &SnsEnvelope) -> String {
    env.message_id.clone().unwrap_or_else(|| "cli".into())
}

fn message<'a>(
    incoming: &'a Incoming,
    env: &'a SnsEnvelope,
    opts: &'a logalert::slack::RenderOptions,
    message_id: &'a str,
) -> Message<'a> {
    Message {
        incoming,
        subject: env.subject.as_deref(),
        enrichment: None,
        opts,
        message_id,
        request_id: "logalert-slack",
        deadline_ms: jiff::Timestamp::now().as_millisecond() + 120_000,
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("logalert-slack: {message}");
    ExitCode::from(2)
}
