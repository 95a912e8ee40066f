//! Parsed rule keys: what the loader hands to [`Rule`](super::Rule) construction and to each rule
//! type's constructor ([`TypeSpec::build`](super::schema::TypeSpec)).
//!
//! A [`Values`] holds the effective value of every key of one rule: written on the rule, else in
//! `defaults:`, else the schema's default. Each entry remembers where it was written so that a
//! rule type's cross-key checks ([`Report`]) point at the right line and column.

use std::time::Duration;

use super::{LogGroupGlob, MetricSpec, QueryKeyPart};
use crate::alert::{Mention, Severity};
use crate::pattern::{FilterPattern, ValueRef};

/// One parsed key value. The variant follows from the key's [`Kind`](super::schema::Kind).
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Bool(bool),
    Int(i64),
    Number(f64),
    Duration(Duration),
    /// One of the strings a [`Kind::Choice`](super::schema::Kind::Choice) allows.
    Choice(&'static str),
    /// A selector or a list of them, with the written form of each.
    Selectors(Vec<(String, QueryKeyPart)>),
    /// A list whose items are a selector or a list of them (new_term's `fields`).
    SelectorLists(Vec<Vec<(String, QueryKeyPart)>>),
    Strings(Vec<String>),
    Globs(Vec<LogGroupGlob>),
    Pattern(FilterPattern),
    Severity(Severity),
    Mentions(Vec<Mention>),
    Metric(MetricSpec),
}

/// 1-based line and column in the rules file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Where a key's effective value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Written on the rule itself.
    Rule,
    /// From the file's `defaults:`.
    Defaults,
    /// The schema's default ([`KeySpec::default`](super::schema::KeySpec)).
    Schema,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// The value node (for the schema's defaults: where the rule starts).
    pub at: Pos,
    pub source: Source,
}

/// The effective keys of one rule (or what one mapping wrote), by key name.
#[derive(Debug, Clone, Default)]
pub struct Values {
    entries: Vec<(&'static str, Entry)>,
}

impl Values {
    pub(super) fn set(&mut self, key: &'static str, entry: Entry) {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, e)) => *e = entry,
            None => self.entries.push((key, entry)),
        }
    }

    /// The entry of `key`, if it has a value.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, e)| e)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entry(key).map(|e| &e.value)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&'static str, &Entry)> {
        self.entries.iter().map(|(k, e)| (*k, e))
    }

    pub fn text(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }
    /// A number; integers convert.
    pub fn number(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            Value::Number(x) => Some(*x),
            Value::Int(n) => Some(*n as f64),
            _ => None,
        }
    }
    pub fn duration(&self, key: &str) -> Option<Duration> {
        match self.get(key)? {
            Value::Duration(d) => Some(*d),
            _ => None,
        }
    }
    pub fn choice(&self, key: &str) -> Option<&'static str> {
        match self.get(key)? {
            Value::Choice(c) => Some(c),
            _ => None,
        }
    }
    pub fn selectors(&self, key: &str) -> Option<&[(String, QueryKeyPart)]> {
        match self.get(key)? {
            Value::Selectors(s) => Some(s),
            _ => None,
        }
    }
    /// The first selector of a selector key that takes one (`Kind::Selector`).
    pub fn value_ref(&self, key: &str) -> Option<&ValueRef> {
        match self.selectors(key)?.first()? {
            (_, QueryKeyPart::Value(r)) => Some(r),
            _ => None,
        }
    }
    pub fn selector_lists(&self, key: &str) -> Option<&[Vec<(String, QueryKeyPart)>]> {
        match self.get(key)? {
            Value::SelectorLists(v) => Some(v),
            _ => None,
        }
    }

    pub fn strings(&self, key: &str) -> Option<&[String]> {
        match self.get(key)? {
            Value::Strings(s) => Some(s),
            _ => None,
        }
    }
    pub fn globs(&self, key: &str) -> Option<&[LogGroupGlob]> {
        match self.get(key)? {
            Value::Globs(g) => Some(g),
            _ => None,
        }
    }
    pub fn pattern(&self, key: &str) -> Option<&FilterPattern> {
        match self.get(key)? {
            Value::Pattern(p) => Some(p),
            _ => None,
        }
    }
    pub fn severity(&self, key: &str) -> Option<Severity> {
        match self.get(key)? {
            Value::Severity(s) => Some(*s),
            _ => None,
        }
    }
    pub fn mentions(&self, key: &str) -> Option<&[Mention]> {
        match self.get(key)? {
            Value::Mentions(m) => Some(m),
            _ => None,
        }
    }
    pub fn metric(&self, key: &str) -> Option<&MetricSpec> {
        match self.get(key)? {
            Value::Metric(m) => Some(m),
            _ => None,
        }
    }
}

/// Errors a rule type's constructor finds across keys (`min_cardinality` above `max_cardinality`,
/// …), each reported at the value of the key it names.
#[derive(Debug, Default)]
pub struct Report {
    pub(super) errors: Vec<(Pos, String)>,
}

impl Report {
    /// Report `message` at the value of `key` in `values` (or at the rule when it has none).
    pub fn error(&mut self, values: &Values, key: &str, message: impl Into<String>) {
        let at = values.entry(key).map(|e| e.at).unwrap_or_default();
        self.errors.push((at, message.into()));
    }
}
