//! `logalert test-pattern`: `aws logs test-metric-filter`, locally.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use serde::Serialize;
use serde::ser::SerializeMap;

use super::output::{OutputFormat, clean};
use super::report::{self, Place, plural};
use crate::pattern::{Extracted, FilterPattern};

const AFTER_HELP: &str = "\
Output is the JSON `aws logs test-metric-filter` prints: one entry per matching message, with
its 1-based position in the input and the values a space-delimited pattern extracted.

Exit status:
  0  the pattern is valid (whether or not anything matched)
  2  usage error, an invalid pattern (the error, its position and a caret go to stderr), or stdin
     cannot be read

Examples:
  logalert test-pattern --filter-pattern 'ERROR -healthcheck' \\
      --log-event-messages 'ERROR db down' 'ERROR healthcheck failed'

  logalert test-pattern --filter-pattern '{ $.level = \"ERROR\" && $.latency > 100 }' \\
      --log-event-messages '{\"level\":\"ERROR\",\"latency\":250}'

  logalert test-pattern --filter-pattern '[ip, user, ..., status_code = 4*, bytes]' < access.log

  logalert test-pattern --filter-pattern '%timed? ?out%' < app.log";

/// Test a CloudWatch Logs filter pattern against log messages, like `aws logs test-metric-filter`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The filter pattern, in CloudWatch Logs syntax (terms, `{ JSON }`, `[ space-delimited ]`
    /// or `%regex%`).
    /// (Required.)
    #[arg(long, value_name = "PATTERN", allow_hyphen_values = true)]
    pub filter_pattern: Option<String>,

    /// Log messages to test. Without this option, messages are read from stdin, one per line.
    /// Options may follow the messages, as with the AWS CLI.
    #[arg(long, value_name = "MSG", num_args = 1.., allow_hyphen_values = true)]
    pub log_event_messages: Option<Vec<String>>,

    /// `json` (what `aws logs test-metric-filter` prints; the default when stdout is not a
    /// terminal) or `text` (each matching message with its number and extracted values, then a
    /// summary line).
    #[arg(long, value_enum)]
    pub output: Option<OutputFormat>,
}

fn command() -> clap::Command {
    <Args as clap::Args>::augment_args(
        clap::Command::new("logalert test-pattern").no_binary_name(true),
    )
}

/// `--log-event-messages` takes every following value, even ones starting with `-` (messages
/// often do). Like the AWS CLI, a value that is one of this command's options (`--filter-pattern`,
/// `--output`, …) ends the list instead: the rest is parsed again as options.
pub fn untangle(mut args: Args) -> Result<Args, clap::Error> {
    let Some(messages) = args.log_event_messages.take() else {
        return Ok(args);
    };
    let cmd = command();
    let longs: Vec<String> = cmd
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    let is_option = |m: &str| {
        longs.iter().any(|l| {
            m == l
                || m.strip_prefix(l.as_str())
                    .is_some_and(|r| r.starts_with('='))
        })
    };
    let Some(split) = messages.iter().position(|m| is_option(m)) else {
        args.log_event_messages = Some(messages);
        return Ok(args);
    };
    let (head, tail) = messages.split_at(split);
    if head.is_empty() {
        return Err(command().error(
            clap::error::ErrorKind::InvalidValue,
            "--log-event-messages needs at least one message before the next option",
        ));
    }
    let matches = command().try_get_matches_from(tail)?;
    let rest = untangle(<Args as clap::FromArgMatches>::from_arg_matches(&matches)?)?;
    let twice = |name: &str| {
        command().error(
            clap::error::ErrorKind::ArgumentConflict,
            format!("--{name} given more than once"),
        )
    };
    if args.filter_pattern.is_some() && rest.filter_pattern.is_some() {
        return Err(twice("filter-pattern"));
    }
    if args.output.is_some() && rest.output.is_some() {
        return Err(twice("output"));
    }
    let mut all = head.to_vec();
    all.extend(rest.log_event_messages.unwrap_or_default());
    Ok(Args {
        filter_pattern: args.filter_pattern.or(rest.filter_pattern),
        log_event_messages: Some(all),
        output: args.output.or(rest.output),
    })
}

pub fn run(args: Args) -> ExitCode {
    let args = match untangle(args) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    let Some(filter_pattern) = args.filter_pattern.as_deref() else {
        command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "the following required argument was not provided:\n  --filter-pattern <PATTERN>",
            )
            .exit()
    };
    let pattern = match FilterPattern::parse(filter_pattern) {
        Ok(p) => p,
        Err(e) => {
            report::error(None, format_args!("invalid filter pattern: {e}"));
            return ExitCode::from(report::EXIT_USAGE);
        }
    };
    let messages = match args.log_event_messages {
        Some(messages) => messages,
        None => match read_lines(io::stdin().lock()) {
            Ok(lines) => lines,
            Err(e) => {
                report::error(
                    Some(Place::file("<stdin>")),
                    format_args!("cannot read: {e}"),
                );
                return ExitCode::from(report::EXIT_USAGE);
            }
        },
    };
    let out = match OutputFormat::resolve(args.output) {
        OutputFormat::Json => render(&pattern, &messages),
        OutputFormat::Text => render_text(&pattern, &messages),
    };
    let mut stdout = io::stdout().lock();
    if writeln!(stdout, "{out}").is_err() {
        return ExitCode::from(report::EXIT_USAGE); // stdout closed
    }
    ExitCode::SUCCESS
}

/// One message per line; `\n` and `\r\n` endings removed; invalid UTF-8 replaced with U+FFFD.
pub fn read_lines(mut input: impl BufRead) -> io::Result<Vec<String>> {
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            return Ok(lines);
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        lines.push(String::from_utf8_lossy(&buf).into_owned());
    }
}

#[derive(Serialize)]
struct Output<'a> {
    matches: Vec<MatchRecord<'a>>,
}

/// `MetricFilterMatchRecord`, in the order the AWS CLI prints its fields.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MatchRecord<'a> {
    event_number: usize,
    event_message: &'a str,
    extracted_values: Ordered,
}

/// Extracted values as a JSON object, in field order.
struct Ordered(Extracted);

impl Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The `test-metric-filter` JSON for `messages`, indented like the AWS CLI prints it.
pub fn render(pattern: &FilterPattern, messages: &[String]) -> String {
    let matches = messages
        .iter()
        .enumerate()
        .filter_map(|(i, msg)| {
            pattern.matches(msg).map(|m| MatchRecord {
                event_number: i + 1,
                event_message: msg,
                extracted_values: Ordered(m.extracted),
            })
        })
        .collect();
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    Output { matches }
        .serialize(&mut ser)
        .expect("serializing strings to memory cannot fail");
    String::from_utf8(buf).expect("serde_json writes UTF-8")
}

/// For people: each matching message with its number and extracted values, then
/// `2 of 3 messages match`.
pub fn render_text(pattern: &FilterPattern, messages: &[String]) -> String {
    let mut out = String::new();
    let mut matched = 0u64;
    for (i, msg) in messages.iter().enumerate() {
        let Some(m) = pattern.matches(msg) else {
            continue;
        };
        matched += 1;
        out.push_str(&format!("{:>4}  {}\n", i + 1, clean(msg, 500)));
        if !m.extracted.is_empty() {
            let values: Vec<String> = m
                .extracted
                .iter()
                .map(|(k, v)| format!("{k}={}", clean(v, 120)))
                .collect();
            out.push_str(&format!("      {}\n", values.join("  ")));
        }
    }
    out.push_str(&format!(
        "{} of {} match",
        crate::cli::report::thousands(matched),
        plural(messages.len() as u64, "message", "messages")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_the_aws_cli_example() {
        // awscli/examples/logs/test-metric-filter.rst
        let p = FilterPattern::parse("ERROR").unwrap();
        let messages: Vec<String> = [
            "[ERROR] 400 BAD REQUEST",
            "[ERROR] 400 BAD REQUEST",
            "[INFO] 200 OK",
        ]
        .map(String::from)
        .to_vec();
        let expected = r#"{
    "matches": [
        {
            "eventNumber": 1,
            "eventMessage": "[ERROR] 400 BAD REQUEST",
            "extractedValues": {}
        },
        {
            "eventNumber": 2,
            "eventMessage": "[ERROR] 400 BAD REQUEST",
            "extractedValues": {}
        }
    ]
}"#;
        assert_eq!(render(&p, &messages), expected);
    }

    #[test]
    fn no_match_is_an_empty_list() {
        let p = FilterPattern::parse("nothing").unwrap();
        assert_eq!(render(&p, &["x".to_string()]), "{\n    \"matches\": []\n}");
    }

    #[test]
    fn extracted_values_keep_field_order() {
        let p = FilterPattern::parse("[..., size]").unwrap();
        let out = render(&p, &["a b c d e f g h i j 11".to_string()]);
        let one = out.find("\"$1\"").unwrap();
        let ten = out.find("\"$10\"").unwrap();
        let two = out.find("\"$2\"").unwrap();
        let size = out.find("\"$size\"").unwrap();
        assert!(one < two && two < ten && ten < size, "{out}");
    }

    #[test]
    fn stdin_lines_strip_line_endings_and_keep_empty_lines() {
        let lines = read_lines(&b"a\r\n\nb\xffc\nlast"[..]).unwrap();
        assert_eq!(lines, ["a", "", "b\u{FFFD}c", "last"]);
    }
}
