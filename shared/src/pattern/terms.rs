//! Unstructured term patterns: case-sensitive substring search with `memchr::memmem`.

use memchr::memmem::Finder;

use super::ast::{Term, TermMode};

/// Compiled terms. Quoted phrases that are only whitespace (`" "`) constrain nothing.
#[derive(Debug, Clone)]
pub(crate) struct TermMatcher {
    include: Vec<Finder<'static>>,
    exclude: Vec<Finder<'static>>,
    /// Empty when there are none, or when they are ignored because plain terms are present.
    optional: Vec<Finder<'static>>,
}

impl TermMatcher {
    pub(crate) fn new(terms: &[Term]) -> TermMatcher {
        let mut m = TermMatcher {
            include: Vec::new(),
            exclude: Vec::new(),
            optional: Vec::new(),
        };
        for term in terms {
            if term.text.chars().all(super::parse::is_ws) {
                continue;
            }
            let finder = Finder::new(term.text.as_bytes()).into_owned();
            match term.mode {
                TermMode::Include => m.include.push(finder),
                TermMode::Exclude => m.exclude.push(finder),
                TermMode::Optional => m.optional.push(finder),
            }
        }
        // AWS: "If you combine "?" with other filter patterns, all question mark terms will be
        // ignored."
        if !m.include.is_empty() || !m.exclude.is_empty() {
            m.optional.clear();
        }
        m
    }

    /// The literals: (all must occur, none may occur, at least one must occur — empty when
    /// there is no such condition).
    pub(crate) fn literals(&self) -> (&[Finder<'static>], &[Finder<'static>], &[Finder<'static>]) {
        (&self.include, &self.exclude, &self.optional)
    }

    /// True when the pattern constrains nothing (`" "`).
    pub(crate) fn is_match_all(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty() && self.optional.is_empty()
    }

    #[inline]
    pub(crate) fn is_match(&self, message: &str) -> bool {
        let hay = message.as_bytes();
        // The common case, one term: a single memmem search.
        if let ([one], [], []) = (&self.include[..], &self.exclude[..], &self.optional[..]) {
            return one.find(hay).is_some();
        }
        self.include.iter().all(|f| f.find(hay).is_some())
            && !self.exclude.iter().any(|f| f.find(hay).is_some())
            && (self.optional.is_empty() || self.optional.iter().any(|f| f.find(hay).is_some()))
    }
}
