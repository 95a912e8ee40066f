//! Selectors the rule types read values with: `$.json.path`, `$field` / `$N` (space-delimited),
//! and the virtual fields `@fingerprint`, `@message`, `@logGroup`, `@logStream`.
//!
//! ```
//! use logalert::engine::types::select::Selector;
//! let s = Selector::parse("@fingerprint").unwrap();
//! assert_eq!(s.to_string(), "@fingerprint");
//! assert_eq!(Selector::parse("$.error.code").unwrap().label(), "code");
//! assert!(Selector::parse("@fingerprnt").unwrap_err().contains("did you mean `@fingerprint`"));
//! ```

use std::fmt;

use super::MatchView;
use crate::fingerprint::fingerprint;
use crate::pattern::ValueRef;
use crate::rules::QueryKeyPart;

/// Virtual fields, as written.
pub const VIRTUAL_FIELDS: &[&str] = &["@fingerprint", "@message", "@logGroup", "@logStream"];

/// Where a value comes from in a matched event.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// `$.selector` (JSON) or `$name` / `$N` (space-delimited field).
    Value(ValueRef),
    /// `@fingerprint`: the message with its variable parts replaced ([`crate::fingerprint`]).
    Fingerprint,
    /// `@message`: the raw message.
    Message,
    /// `@logGroup`.
    LogGroup,
    /// `@logStream`.
    LogStream,
}

impl Selector {
    /// Parse a selector as written in a rules file. The error says what is expected.
    pub fn parse(source: &str) -> Result<Selector, String> {
        let s = source.trim();
        match s {
            "@fingerprint" => return Ok(Selector::Fingerprint),
            "@message" => return Ok(Selector::Message),
            "@logGroup" => return Ok(Selector::LogGroup),
            "@logStream" => return Ok(Selector::LogStream),
            _ => {}
        }
        if s.starts_with('@') {
            let hint = VIRTUAL_FIELDS
                .iter()
                .map(|v| (strsim::levenshtein(s, v), *v))
                .min()
                .filter(|(d, _)| *d <= 3)
                .map(|(_, v)| format!(" (did you mean `{v}`?)"))
                .unwrap_or_default();
            return Err(format!(
                "unknown virtual field `{s}`{hint}: expected one of {}",
                VIRTUAL_FIELDS.join(", ")
            ));
        }
        match ValueRef::parse(s) {
            Ok(ValueRef::Number(_)) | Err(_) => Err(format!(
                "expected a selector: `$.json.path`, `$field`, `$N` or one of {}",
                VIRTUAL_FIELDS.join(", ")
            )),
            Ok(v) => Ok(Selector::Value(v)),
        }
    }

    /// The value in `m`; `None` when absent (or an object/array/null for JSON selectors).
    pub fn get(&self, m: &MatchView) -> Option<String> {
        match self {
            Selector::Value(v) => m.field(v),
            Selector::Fingerprint => Some(fingerprint(m.message)),
            Selector::Message => Some(m.message.to_string()),
            Selector::LogGroup => Some(m.log_group.to_string()),
            Selector::LogStream => Some(m.log_stream.to_string()),
        }
    }

    /// A short name for sentences: `$.error.code` → `code`, `$status` → `status`,
    /// `@fingerprint` → `kind of message`.
    pub fn label(&self) -> String {
        match self {
            Selector::Value(ValueRef::Json(path)) => {
                let last = path.rsplit('.').next().unwrap_or(path);
                let name = last.split('[').next().unwrap_or(last);
                if name.is_empty() {
                    path.clone()
                } else {
                    name.to_string()
                }
            }
            Selector::Value(v) => v.to_string().trim_start_matches('$').to_string(),
            Selector::Fingerprint => "kind of message".to_string(),
            Selector::Message => "message".to_string(),
            Selector::LogGroup => "log group".to_string(),
            Selector::LogStream => "log stream".to_string(),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Value(v) => write!(f, "{v}"),
            Selector::Fingerprint => f.write_str("@fingerprint"),
            Selector::Message => f.write_str("@message"),
            Selector::LogGroup => f.write_str("@logGroup"),
            Selector::LogStream => f.write_str("@logStream"),
        }
    }
}

impl From<&QueryKeyPart> for Selector {
    fn from(p: &QueryKeyPart) -> Selector {
        match p {
            QueryKeyPart::Value(v) => Selector::Value(v.clone()),
            QueryKeyPart::LogGroup => Selector::LogGroup,
            QueryKeyPart::LogStream => Selector::LogStream,
            QueryKeyPart::Fingerprint => Selector::Fingerprint,
        }
    }
}

/// Several selectors read together (a composite term, a query key).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selectors(pub Vec<Selector>);

impl Selectors {
    /// From a parsed rule key (`query_key`, `compare_key`, …).
    pub fn from_parts(parts: &[(String, QueryKeyPart)]) -> Selectors {
        Selectors(parts.iter().map(|(_, p)| Selector::from(p)).collect())
    }

    /// Every value, or `None` when any is missing.
    pub fn get_all(&self, m: &MatchView) -> Option<Vec<String>> {
        self.0.iter().map(|s| s.get(m)).collect()
    }

    /// `host a` / `host a, region eu` — how a key reads in a sentence; `None` without selectors
    /// or when a value is missing.
    pub fn describe(&self, m: &MatchView) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let values = self.get_all(m)?;
        Some(self.describe_values(&values))
    }

    /// As [`Selectors::describe`], from values already read.
    /// Cut to [`crate::engine::policy::MAX_STORED_KEY_BYTES`] (encoded, ending in `…`): the
    /// description is kept in state and read by people.
    pub fn describe_values(&self, values: &[String]) -> String {
        let mut text = self
            .0
            .iter()
            .zip(values)
            .map(|(s, v)| format!("{} {v}", s.label()))
            .collect::<Vec<_>>()
            .join(", ");
        crate::engine::policy::cut_encoded(&mut text, crate::engine::policy::MAX_STORED_KEY_BYTES);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(message: &'a str, extracted: &'a crate::pattern::Extracted) -> MatchView<'a> {
        MatchView {
            id: "1",
            timestamp: 0,
            log_group: "/g",
            log_stream: "s1",
            message,
            extracted,
        }
    }

    #[test]
    fn parses_and_reads_every_kind() {
        let ex = vec![("$status".to_string(), "500".to_string())];
        let m = view(r#"{"a":{"b":"x 5"},"n":7}"#, &ex);
        let get = |s: &str| Selector::parse(s).unwrap().get(&m);
        assert_eq!(get("$.a.b").as_deref(), Some("x 5"));
        assert_eq!(get("$.n").as_deref(), Some("7"));
        assert_eq!(get("$.missing"), None);
        assert_eq!(get("$.a"), None, "objects are not values");
        assert_eq!(get("$status").as_deref(), Some("500"));
        assert_eq!(
            get("@fingerprint").as_deref(),
            Some(r#"{"a":{"b":"x <num>"},"n":<num>}"#)
        );
        assert_eq!(get("@logGroup").as_deref(), Some("/g"));
        assert_eq!(get("@logStream").as_deref(), Some("s1"));
        assert_eq!(get("@message").as_deref(), Some(m.message));
    }

    #[test]
    fn rejects_what_is_not_a_selector() {
        assert!(Selector::parse("5").is_err());
        assert!(Selector::parse("status").is_err());
        assert!(
            Selector::parse("@logstream")
                .unwrap_err()
                .contains("`@logStream`")
        );
        assert!(
            Selector::parse("@zzzzzzzzzz")
                .unwrap_err()
                .starts_with("unknown virtual field `@zzzzzzzzzz`: expected")
        );
    }

    #[test]
    fn labels_and_descriptions() {
        let s = Selectors(vec![
            Selector::parse("$.host").unwrap(),
            Selector::parse("$.items[0].region").unwrap(),
        ]);
        let ex = vec![];
        let m = view(r#"{"host":"a","items":[{"region":"eu"}]}"#, &ex);
        assert_eq!(s.describe(&m).as_deref(), Some("host a, region eu"));
        assert_eq!(Selectors::default().describe(&m), None);
        let m2 = view(r#"{"host":"a"}"#, &ex);
        assert_eq!(s.describe(&m2), None);
        assert_eq!(Selector::parse("$3").unwrap().label(), "3");
    }
}
