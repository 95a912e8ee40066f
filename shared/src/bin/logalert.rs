//! `logalert`: test CloudWatch filter patterns, validate rules files, replay logs through the real
//! log-filter logic, and preview the Slack messages alerts would produce — all locally, no AWS account.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use logalert::cli;

const AFTER_HELP: &str = "\
logalert never calls AWS: no credentials, no profile. `replay` takes the region of its alerts and
links from --region, else AWS_REGION, else AWS_DEFAULT_REGION (else us-east-1).

Messages on stderr read `logalert: FILE:LINE:COL: message`; colour only on a terminal, never with
NO_COLOR set.

Exit status (every subcommand):
  0  ok
  1  findings, where a subcommand has them (see its --help)
  2  usage error, or an input that cannot be read

Examples:
  logalert test-pattern --filter-pattern 'ERROR -healthcheck' --log-event-messages 'ERROR db down'
  logalert validate rules.yaml
  logalert replay --rules rules.yaml examples/payloads/*
  logalert import-elastalert /etc/elastalert/rules > rules.yaml
  logalert completions bash > ~/.local/share/bash-completion/completions/logalert

`logalert help SUBCOMMAND` (or SUBCOMMAND --help) for each subcommand's inputs, output and examples.";

const VALIDATE_HELP: &str = "\
Loads the files (a directory: every *.yaml / *.yml under it) as one rule set, exactly as log-filter
does at cold start. Every error is printed as `logalert: FILE:LINE:COL: message`, with the source
line and a caret under the column.

Exit status:
  0  the rules are valid (a summary goes to stdout)
  2  a rules file has errors or cannot be read, or a usage error

Examples:
  logalert validate rules.yaml
  logalert validate rules/                      # ElastAlert's rules_folder habit
  logalert import-elastalert old-rules/ > rules.yaml && logalert validate rules.yaml";

const COMPLETIONS_HELP: &str = "\
Exit status:
  0  the script was printed
  2  usage error (an unknown shell)

Examples:
  logalert completions bash > ~/.local/share/bash-completion/completions/logalert
  logalert completions zsh > \"${fpath[1]}/_logalert\"
  logalert completions fish > ~/.config/fish/completions/logalert.fish";

#[derive(Debug, Parser)]
#[command(name = "logalert", version, about, long_about = None, propagate_version = true,
          after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Test a CloudWatch Logs filter pattern against log messages (like `aws logs test-metric-filter`).
    TestPattern(cli::test_pattern::Args),
    /// Check a rules file; print every error as `logalert: file:line:column: message`.
    #[command(after_help = VALIDATE_HELP)]
    Validate(cli::validate::Args),
    /// Run the real log-filter logic over payloads or log files and print what would be published.
    Replay(cli::replay::Args),
    /// Render an SNS message (logalert alert, CloudWatch alarm, or text) into the Slack payload.
    Render(cli::render::Args),
    /// Convert ElastAlert / ElastAlert 2 rule files (and config.yaml) into a logalert rules file.
    ImportElastalert(cli::import::ElastAlertArgs),
    /// Convert CloudWatch metric filters (and their alarms) into a logalert rules file.
    ImportMetricFilters(cli::import::MetricFiltersArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::TestPattern(args) => cli::test_pattern::run(args),
        Command::Validate(args) => cli::validate::run(args),
        Command::Replay(args) => cli::replay::run(args),
        Command::Render(args) => cli::render::run(args),
        Command::ImportElastalert(args) => cli::import::run_elastalert(args),
        Command::ImportMetricFilters(args) => cli::import::run_metric_filters(args),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "logalert",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
    }
}
