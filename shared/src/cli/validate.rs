//! `logalert validate PATH…`: load rules files exactly as log-filter does at cold start.
//!
//! ```text
//! $ logalert validate rules.yaml
//! rules.yaml: OK, 4 rules (4 enabled: 3 any, 1 frequency)
//! $ logalert validate rules/            # every *.yaml / *.yml below it, as one rule set
//! 3 files: OK, 9 rules (9 enabled: 6 any, 3 frequency)
//! $ logalert validate bad.yaml
//! logalert: bad.yaml:5:5: unknown key `severty` in a rule (did you mean `severity`?)
//!     |
//!   5 |     severty: error
//!     |     ^
//! ```
//!
//! Several files and directories load as one rule set (ElastAlert's `rules_folder` habit): rule
//! names must be unique across all of them. Every error of every file is printed, each with its
//! source line and a caret under the column. Exit status: 0 ok, 2 when a file cannot be read or
//! any rules file has an error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::cli::report::{self, EXIT_USAGE, Place};
use crate::rules::{RuleError, load_files, source_line};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rules files, or directories holding them (every *.yaml and *.yml inside, recursively, in
    /// name order).
    #[arg(required = true, value_name = "PATH")]
    pub rules: Vec<PathBuf>,
}

pub fn run(args: Args) -> ExitCode {
    let mut failed = false;
    let mut files: Vec<(String, String)> = Vec::new();
    for path in &args.rules {
        match rules_files(path) {
            Ok(found) if found.is_empty() => {
                report::error(
                    Some(Place::file(&path.display().to_string())),
                    "no rules files (*.yaml, *.yml) in this directory",
                );
                failed = true;
            }
            Ok(found) => {
                for file in found {
                    let origin = file.display().to_string();
                    match std::fs::read_to_string(&file) {
                        Ok(source) => files.push((origin, source)),
                        Err(e) => {
                            report::error(Some(Place::file(&origin)), format!("cannot read: {e}"));
                            failed = true;
                        }
                    }
                }
            }
            Err(e) => {
                let origin = path.display().to_string();
                report::error(Some(Place::file(&origin)), format!("cannot read: {e}"));
                failed = true;
            }
        }
    }
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|(o, s)| (o.as_str(), s.as_str()))
        .collect();
    match load_files(&pairs) {
        Ok(set) if !failed => {
            for w in &set.warnings {
                report::warning(Some(Place::at(&w.file, w.line, w.column)), &w.message);
                let source = pairs.iter().find(|(o, _)| *o == w.file).map(|(_, s)| *s);
                if let Some(snippet) = source.and_then(|s| snippet(s, w, Level::WARNING)) {
                    let _ = write!(anstream::stderr().lock(), "{snippet}");
                }
            }
            match pairs.as_slice() {
                [(origin, _)] => println!("{origin}: OK, {}", set.summary()),
                _ => println!("{} files: OK, {}", pairs.len(), set.summary()),
            }
            ExitCode::SUCCESS
        }
        Ok(_) => ExitCode::from(EXIT_USAGE),
        Err(errors) => {
            for e in &errors.0 {
                report::error(Some(Place::at(&e.file, e.line, e.column)), &e.message);
                let source = pairs.iter().find(|(o, _)| *o == e.file).map(|(_, s)| *s);
                if let Some(snippet) = source.and_then(|s| snippet(s, e, Level::ERROR)) {
                    // stderr gone: nothing better to do than carry on to the exit status.
                    let _ = write!(anstream::stderr().lock(), "{snippet}");
                }
            }
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// `path` itself, or every `*.yaml` / `*.yml` file below the directory `path`, sorted.
fn rules_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let p = entry?.path();
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            } else if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The error's source line with a caret under its column (annotate-snippets, the renderer rustc
/// and cargo use), indented two spaces under the `logalert:` line; `None` past the end of the file.
fn snippet(source: &str, e: &RuleError, level: Level<'_>) -> Option<String> {
    let line = source_line(source, e.line)?;
    let start: usize = line
        .char_indices()
        .nth(e.column.saturating_sub(1))
        .map_or(line.len(), |(i, _)| i);
    let end = line[start..]
        .chars()
        .next()
        .map_or(start, |c| start + c.len_utf8());
    let report = &[Group::with_level(level).element(
        Snippet::source(line)
            .line_start(e.line)
            .annotation(AnnotationKind::Primary.span(start..end)),
    )];
    let rendered = Renderer::styled().render(report);
    Some(
        rendered
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>(),
    )
}
