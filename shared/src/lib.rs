//! # logalert — the pure core
//!
//! Everything both Lambda functions and the `logalert` CLI share, with no network I/O:
//!
//! * [`pattern`] — CloudWatch Logs filter patterns (terms, JSON, space-delimited, regex), parsed into a
//!   typed AST and matched exactly as CloudWatch does.
//! * [`payload`] — decoding CloudWatch Logs subscription payloads (direct `awslogs`, Kinesis records).
//! * [`rules`] — the `rules.yaml` file: schema, strict loading with `file:line:column` errors.
//! * [`state`] — the key/value state contract (DynamoDB in Lambda, memory for `logalert replay`).
//! * [`engine`] — batch evaluation: match → group per (rule, query key) → thresholds/suppression → alerts.
//! * [`alert`] — the alert message (SNS body, version 1) shared by both functions.
//! * [`metrics`] — CloudWatch embedded-metric-format lines.
//! * [`links`] — CloudWatch console deep links (log stream at a time window, Logs Insights).
//! * [`alarm`] — CloudWatch Alarm notifications as SNS delivers them.
//! * [`import`] — migration from ElastAlert rules and CloudWatch metric filters.
//! * [`render`] — every destination: the text pipeline (visible text → redaction), one reading of
//!   the alert, Teams, PagerDuty and signed-webhook renderers.
//! * [`slack`] — Slack rendering: escaping, truncation, attachments and Block Kit.
//!
//! Data paths: decode ([`payload`]) → match ([`pattern`], [`rules`]) → decide ([`engine`], [`state`]) →
//! publish ([`alert`]); receive ([`alert`], [`alarm`]) → render ([`render`], [`slack`], [`links`]) → deliver
//! (in `functions/slack-notifier`).

pub mod alarm;
pub mod alert;
pub mod cli;
pub mod engine;
pub mod fingerprint;
pub mod import;
pub mod links;
pub mod metrics;
pub mod pattern;
pub mod payload;
pub mod render;
pub mod rules;
pub mod slack;
pub mod state;
