//! `logalert test-pattern`: `aws logs test-metric-filter`, locally.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::pattern::{Extracted, FilterPattern};

const AFTER_HELP: &str = "\
Output is the JSON `aws logs test-metric-filter` prints: one entry per matching message, with
its 1-based position in the input and the values a space-delimited pattern extracted.

Exit status: 0 when the pattern is valid (whether or not anything matched); 2 when it is
invalid (the error, its position and a caret go to stderr); 1 when stdin cannot be read.

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
    #[arg(long, value_name = "PATTERN", allow_hyphen_values = true)]
    pub filter_pattern: String,

    /// Log messages to test. Without this option, messages are read from stdin, one per line.
    #[arg(long, value_name = "MSG", num_args = 1.., allow_hyphen_values = true)]
    pub log_event_messages: Option<Vec<String>>,
}

pub fn run(args: Args) -> ExitCode {
    let pattern = match FilterPattern::parse(&args.filter_pattern) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: invalid filter pattern: {e}");
            return ExitCode::from(2);
        }
    };
    let messages = match args.log_event_messages {
        Some(messages) => messages,
        None => match read_lines(io::stdin().lock()) {
            Ok(lines) => lines,
            Err(e) => {
                eprintln!("error: reading log messages from stdin: {e}");
                return ExitCode::from(1);
            }
        },
    };
    let out = render(&pattern, &messages);
    let mut stdout = io::stdout().lock();
    if writeln!(stdout, "{out}").is_err() {
        return ExitCode::from(1);
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
