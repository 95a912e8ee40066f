//! The `logalert` command-line tool's subcommands. Each module owns its `Args` (clap) and `run`.
//! `src/bin/logalert.rs` only dispatches. [`report`] holds what they share: the error style
//! (`logalert: FILE:LINE:COL: message`), exit codes and the region; [`inputs`] reads replay's inputs.

pub mod import;
pub mod inputs;
pub mod output;
pub mod render;
pub mod replay;
pub mod report;
pub mod test_pattern;
pub mod validate;
