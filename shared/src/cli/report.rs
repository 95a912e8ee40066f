//! How every `logalert` subcommand talks to people: one error style, exit codes, the region.
//!
//! ```text
//! logalert: rules.yaml:5:5: unknown key `severty` in a rule (did you mean `severity`?)
//! logalert: app.json: unreadable: the JSON ends at line 1, column 48 before the value is complete
//! logalert: old/rule.yaml: warning: `aggregation` cannot be carried over (kept as a comment)
//! ```
//!
//! Messages go to stderr through [`anstream`], which strips the colour when stderr is not a terminal
//! and honours `NO_COLOR` / `CLICOLOR_FORCE` — the same rules clap applies to its own usage errors.

use std::fmt::Display;
use std::io::Write;
use std::process::ExitCode;

use anstyle::{AnsiColor, Style};

/// Exit status 0: everything went as asked.
pub const EXIT_OK: u8 = 0;
/// Exit status 1: the command ran and found what it reports (e.g. `replay --fail-on-alert` would
/// publish).
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status 2: a usage error or an input that could not be read (clap uses 2 for usage errors).
pub const EXIT_USAGE: u8 = 2;

/// The `Exit status:` paragraph of a subcommand's `--help`, from its per-code meanings.
pub fn exit_status_help(ok: &str, findings: Option<&str>, usage: &str) -> String {
    let mut s = format!("Exit status:\n  0  {ok}\n");
    if let Some(f) = findings {
        s.push_str(&format!("  1  {f}\n"));
    }
    s.push_str(&format!("  2  {usage}"));
    s
}

const PREFIX: Style = Style::new().bold();
const PLACE: Style = Style::new().bold();
const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();

/// Where a message applies: a file, optionally a 1-based line and column in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    pub file: &'a str,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl<'a> Place<'a> {
    pub fn file(file: &'a str) -> Place<'a> {
        Place {
            file,
            line: None,
            column: None,
        }
    }

    pub fn at(file: &'a str, line: usize, column: usize) -> Place<'a> {
        Place {
            file,
            line: Some(line),
            column: Some(column),
        }
    }
}

impl Display for Place<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        Ok(())
    }
}

/// `logalert: PLACE: message`, plain (what [`error`] prints without colour).
pub fn format_error(place: Option<Place<'_>>, message: &str) -> String {
    match place {
        Some(p) => format!("logalert: {p}: {message}"),
        None => format!("logalert: {message}"),
    }
}

/// `logalert: PLACE: warning: message`, plain.
pub fn format_warning(place: Option<Place<'_>>, message: &str) -> String {
    match place {
        Some(p) => format!("logalert: {p}: warning: {message}"),
        None => format!("logalert: warning: {message}"),
    }
}

fn emit(place: Option<Place<'_>>, is_error: bool, message: &str) {
    let prefix = if is_error { ERROR } else { PREFIX };
    let mut line = format!("{prefix}logalert:{prefix:#} ");
    if let Some(p) = place {
        line.push_str(&format!("{PLACE}{p}:{PLACE:#} "));
    }
    if !is_error {
        line.push_str(&format!("{WARNING}warning:{WARNING:#} "));
    }
    line.push_str(message);
    // stderr gone: nothing better to do than carry on to the exit status.
    let _ = writeln!(anstream::stderr().lock(), "{line}");
}

/// Print an error: `logalert: PLACE: message` (see the module docs).
pub fn error(place: Option<Place<'_>>, message: impl Display) {
    emit(place, true, &message.to_string());
}

/// Print a warning: `logalert: PLACE: warning: message`.
pub fn warning(place: Option<Place<'_>>, message: impl Display) {
    emit(place, false, &message.to_string());
}

/// Print a note (summaries): `logalert: message`, never coloured as an error.
pub fn note(message: impl Display) {
    let mut err = anstream::stderr().lock();
    let _ = writeln!(err, "{PREFIX}logalert:{PREFIX:#} {message}");
}

/// Print an error naming a file and return exit status 2.
pub fn input_error(file: &str, message: impl Display) -> ExitCode {
    error(Some(Place::file(file)), message);
    ExitCode::from(EXIT_USAGE)
}

/// Print every rules-file error in the common style.
pub fn rule_errors(errors: &crate::rules::RuleErrors) {
    for e in &errors.0 {
        error(Some(Place::at(&e.file, e.line, e.column)), &e.message);
    }
}

/// Load a rules file for a subcommand that needs one (replay): errors printed, exit 2.
pub fn load_rules(path: &std::path::Path) -> Result<crate::rules::RuleSet, ExitCode> {
    let origin = path.display().to_string();
    let source = std::fs::read_to_string(path)
        .map_err(|e| input_error(&origin, format_args!("cannot read: {e}")))?;
    crate::rules::load(&source, &origin).map_err(|e| {
        rule_errors(&e);
        ExitCode::from(EXIT_USAGE)
    })
}

/// The region used when neither `--region` nor the environment names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The region, as every AWS tool resolves it: the flag, then `AWS_REGION`, then
/// `AWS_DEFAULT_REGION`, then [`DEFAULT_REGION`]. Empty values count as unset.
pub fn region(flag: Option<&str>, env: impl Fn(&str) -> Option<String>) -> String {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    if let Some(f) = flag.filter(|f| !f.trim().is_empty()) {
        return f.trim().to_string();
    }
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        let v = env(var);
        if set(&v) {
            return v.unwrap_or_default().trim().to_string();
        }
    }
    DEFAULT_REGION.to_string()
}

/// [`region`] with the process environment.
pub fn region_from_env(flag: Option<&str>) -> String {
    region(flag, |k| std::env::var(k).ok())
}

/// `12044` → `12,044` (counts in summaries).
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 payload` / `3 payloads`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn region_flag_wins_then_aws_region_then_default_region() {
        let all = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "ap-south-1"),
        ];
        assert_eq!(region(Some("us-west-2"), env(&all)), "us-west-2");
        assert_eq!(region(None, env(&all)), "eu-west-1");
        assert_eq!(
            region(None, env(&[("AWS_DEFAULT_REGION", "ap-south-1")])),
            "ap-south-1"
        );
        assert_eq!(
            region(
                None,
                env(&[("AWS_REGION", " "), ("AWS_DEFAULT_REGION", "sa-east-1")])
            ),
            "sa-east-1"
        );
        assert_eq!(region(Some(""), env(&[])), "us-east-1");
        assert_eq!(region(None, env(&[])), "us-east-1");
    }

    #[test]
    fn places_and_plain_formats() {
        assert_eq!(
            format_error(Some(Place::at("r.yaml", 3, 7)), "bad"),
            "logalert: r.yaml:3:7: bad"
        );
        assert_eq!(
            format_error(Some(Place::file("a.json")), "x"),
            "logalert: a.json: x"
        );
        assert_eq!(format_error(None, "x"), "logalert: x");
        assert_eq!(
            format_warning(Some(Place::file("a")), "w"),
            "logalert: a: warning: w"
        );
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12044), "12,044");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(plural(1, "event", "events"), "1 event");
        assert_eq!(plural(2000, "event", "events"), "2,000 events");
    }
}
