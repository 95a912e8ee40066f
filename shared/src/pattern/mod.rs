//! CloudWatch Logs filter patterns.
//!
//! CONTRACT STUB — the public API below is what the rest of the crate codes against. The
//! implementation here is a placeholder (terms only; everything else is rejected) until the real
//! engine lands. Keep every public item's name and signature.
//!
//! ```
//! use logalert::pattern::FilterPattern;
//! let p = FilterPattern::parse("ERROR -healthcheck").unwrap();
//! assert!(p.is_match("ERROR db down"));
//! ```

use std::fmt;

/// Which sub-language a pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind {
    /// Empty pattern or `" "`: matches every event.
    MatchAll,
    Terms,
    Json,
    Delimited,
    Regex,
}

/// Values a space-delimited pattern extracted: (`$name` or `$N`, value) in field order.
/// Empty for every other kind of pattern (as TestMetricFilter reports).
pub type Extracted = Vec<(String, String)>;

/// A successful match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Match {
    pub extracted: Extracted,
}

/// A compiled filter pattern.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    source: String,
    terms: Vec<String>,
}

impl FilterPattern {
    /// Parse and compile a pattern. Errors carry the character position.
    pub fn parse(source: &str) -> Result<FilterPattern, PatternError> {
        let trimmed = source.trim();
        if trimmed.starts_with(['{', '[', '%']) {
            return Err(PatternError::new(source, 0, "Invalid metric filter pattern"));
        }
        Ok(FilterPattern { source: source.to_string(), terms: trimmed.split_whitespace().map(|t| t.trim_matches('"').to_string()).collect() })
    }

    /// The pattern text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn kind(&self) -> PatternKind {
        if self.terms.is_empty() { PatternKind::MatchAll } else { PatternKind::Terms }
    }

    /// Does `message` match?
    pub fn is_match(&self, message: &str) -> bool {
        self.matches(message).is_some()
    }

    /// Match `message`, returning extracted values on success.
    pub fn matches(&self, message: &str) -> Option<Match> {
        self.terms.iter().all(|t| message.contains(t.as_str())).then(Match::default)
    }
}

/// A reference to a value in a matched event: a metric value, a dimension, a query key.
/// `$.a.b[0]` (JSON selector), `$name` / `$3` (space-delimited field), or a number literal.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueRef {
    Number(f64),
    Json(String),
    Field(String),
}

impl ValueRef {
    pub fn parse(source: &str) -> Result<ValueRef, PatternError> {
        let s = source.trim();
        if let Some(path) = s.strip_prefix("$.") {
            return Ok(ValueRef::Json(path.to_string()));
        }
        if let Some(name) = s.strip_prefix('$') {
            return Ok(ValueRef::Field(name.to_string()));
        }
        s.parse::<f64>().map(ValueRef::Number).map_err(|_| PatternError::new(source, 0, "expected a number, `$.selector` or `$field`"))
    }

    /// Resolve against a matched event. `None` when the value is absent, an object or an array.
    pub fn resolve(&self, message: &str, m: &Match) -> Option<String> {
        match self {
            ValueRef::Number(n) => Some(n.to_string()),
            ValueRef::Field(name) => m.extracted.iter().find(|(k, _)| k[1..] == **name).map(|(_, v)| v.clone()),
            ValueRef::Json(path) => {
                let v: serde_json::Value = serde_json::from_str(message).ok()?;
                let ptr = format!("/{}", path.replace('.', "/"));
                match v.pointer(&ptr)? {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Object(_) | serde_json::Value::Array(_) => None,
                    other => Some(other.to_string()),
                }
            }
        }
    }
}

/// An invalid pattern: what is wrong and where (character offset into the pattern).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub pattern: String,
    /// 0-based character (not byte) position of the offending character.
    pub position: usize,
    pub message: String,
}

impl PatternError {
    pub fn new(pattern: &str, position: usize, message: impl Into<String>) -> PatternError {
        PatternError { pattern: pattern.to_string(), position, message: message.into() }
    }
}

impl fmt::Display for PatternError {
    /// Renders the message, then the pattern with a caret under the position.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} (at character {})", self.message, self.position + 1)?;
        writeln!(f, "  {}", self.pattern)?;
        write!(f, "  {}^", " ".repeat(self.position))
    }
}

impl std::error::Error for PatternError {}
