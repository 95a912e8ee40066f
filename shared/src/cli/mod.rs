//! The `logalert` command-line tool's subcommands. Each module owns its `Args` (clap) and `run`.
//! `src/bin/logalert.rs` only dispatches.

pub mod render;
pub mod replay;
pub mod test_pattern;
pub mod validate;
