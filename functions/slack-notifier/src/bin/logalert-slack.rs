//! `logalert-slack render [ARGS] [--post URL]`: `logalert render` (same arguments, same output) plus
//! delivery with the notifier's own client — timeouts, retries, `Retry-After`. The URL comes from
//! `--post` or env `LOGALERT_SLACK_WEBHOOK`; without either, it only prints the payload.
//!
//! This lives here, not in the `logalert` CLI, because the shared crate does no network I/O.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use logalert::cli::render;
use slack_notifier::deliver::Deliverer;
use slack_notifier::route::WebhookUrl;

#[derive(Debug, Parser)]
#[command(name = "logalert-slack", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render an SNS message into the Slack payload; with --post (or LOGALERT_SLACK_WEBHOOK), send it.
    Render {
        #[command(flatten)]
        render: render::Args,
        /// Request timeout in milliseconds.
        #[arg(long, default_value_t = 5000)]
        timeout_ms: u64,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Command::Render {
        mut render,
        timeout_ms,
    } = Cli::parse().command;
    let post = render
        .post
        .take()
        .or_else(|| std::env::var("LOGALERT_SLACK_WEBHOOK").ok())
        .filter(|u| !u.trim().is_empty());
    let opts = match render.options() {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let input = match render.read_input() {
        Ok(s) if !s.trim().is_empty() => s,
        Ok(_) => return fail("empty input: give an SNS message, record or event"),
        Err(e) => return fail(&e),
    };
    let rendered = render::render_input(&input, &opts);
    render::print(&rendered, render.compact);
    let Some(post) = post else {
        return ExitCode::SUCCESS;
    };
    let Some(url) = WebhookUrl::parse(&post) else {
        return fail("--post / LOGALERT_SLACK_WEBHOOK is not an http(s) URL");
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
    let mut status = ExitCode::SUCCESS;
    for r in &rendered {
        let deadline = Instant::now() + Duration::from_secs(120);
        match deliverer.post(&url, &r.payload, deadline).await {
            Ok(d) => eprintln!(
                "posted ({} message, {} attempt(s)) to {url}",
                r.kind, d.attempts
            ),
            Err(e) => {
                eprintln!("logalert-slack: not posted ({} message): {e}", r.kind);
                status = ExitCode::from(1);
            }
        }
    }
    status
}

fn fail(message: &str) -> ExitCode {
    eprintln!("logalert-slack: {message}");
    ExitCode::from(2)
}
