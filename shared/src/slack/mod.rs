//! Slack rendering. (placeholder)
