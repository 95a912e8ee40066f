//! Migration: other tools' alert definitions → a logalert rules file.
//!
//! * [`elastalert`] — ElastAlert / ElastAlert 2 rule files (and `config.yaml`) → rules;
//! * [`metric_filters`] — `aws logs describe-metric-filters` (+ `aws cloudwatch describe-alarms`)
//!   → rules on the same patterns;
//! * [`query`] — Elasticsearch queries → CloudWatch filter patterns;
//! * [`yaml`] — reading YAML into JSON values, and writing the rules file.
//!
//! Everything here is pure: the CLI (`logalert import-elastalert`, `logalert import-metric-filters`)
//! reads the files and prints the result.

pub mod elastalert;
pub mod query;
pub mod yaml;
