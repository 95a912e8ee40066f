//! `logalert`: test CloudWatch filter patterns, validate rules files, replay logs through the real
//! log-filter logic, and preview the Slack messages alerts would produce — all locally, no AWS account.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use logalert::cli;

#[derive(Debug, Parser)]
#[command(name = "logalert", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Test a CloudWatch Logs filter pattern against log messages (like `aws logs test-metric-filter`).
    TestPattern(cli::test_pattern::Args),
    /// Check a rules file; print every error as `file:line:column: message`.
    Validate(cli::validate::Args),
    /// Run the real log-filter logic over payloads or log files and print what would be published.
    Replay(cli::replay::Args),
    /// Render an SNS message (logalert alert, CloudWatch alarm, or text) into the Slack payload.
    Render(cli::render::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::TestPattern(args) => cli::test_pattern::run(args),
        Command::Validate(args) => cli::validate::run(args),
        Command::Replay(args) => cli::replay::run(args),
        Command::Render(args) => cli::render::run(args),
    }
}
