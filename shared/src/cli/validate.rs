//! `logalert validate RULES.yaml`: load a rules file exactly as log-filter does at cold start.
//!
//! Exit 0 with a one-line summary on stdout (`rules.yaml: OK, 4 rules (4 enabled: 3 any, 1 frequency)`),
//! or exit 2 with every error on stderr as `file:line:column: message`.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rules file to check.
    pub rules: PathBuf,
}

pub fn run(args: Args) -> ExitCode {
    let origin = args.rules.display().to_string();
    let source = match std::fs::read_to_string(&args.rules) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{origin}: cannot read: {e}");
            return ExitCode::from(2);
        }
    };
    match crate::rules::load(&source, &origin) {
        Ok(set) => {
            println!("{origin}: OK, {}", set.summary());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            ExitCode::from(2)
        }
    }
}
