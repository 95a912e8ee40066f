//! Nothing to see: this crate only exists for its `[dependencies]` (see its Cargo.toml). It turns
//! on, for both functions, the union of the dependency features the workspace build resolves, so
//! `cargo test --workspace`, `cargo lambda watch` and `sam build` compile the AWS SDK with one
//! feature set and share the build.
