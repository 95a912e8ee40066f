//! A whole rule set's patterns, matched in one pass per message.
//!
//! ```
//! use logalert::pattern::{FilterPattern, PatternSet};
//!
//! let patterns = [
//!     FilterPattern::parse("ERROR -healthcheck").unwrap(),
//!     FilterPattern::parse(r#"{ $.level = "ERROR" && $.ms > 100 }"#).unwrap(),
//!     FilterPattern::parse("[ip, user, status = 5*, ...]").unwrap(),
//! ];
//! let set = PatternSet::new(patterns.iter());
//! let mut scratch = set.scratch();
//! let mut hits = Vec::new();
//! set.for_each_match(r#"{"level":"ERROR","ms":250}"#, &mut scratch, |i, _m| hits.push(i));
//! assert_eq!(hits, [0, 1]); // "ERROR" is a substring of the JSON too
//! hits.clear();
//! set.for_each_match("10.0.0.1 alice 503 GET /", &mut scratch, |i, m| {
//!     hits.push(i);
//!     assert_eq!(m.extracted[2], ("$status".to_string(), "503".to_string()));
//! });
//! assert_eq!(hits, [2]);
//! ```
//!
//! What one pass means:
//! * **one multi-literal search** (Aho-Corasick, the `aho-corasick` crate) over every term of
//!   every term pattern and every JSON pattern's prefilter literals finds which literals the
//!   message contains; term patterns are then decided from that alone, and a JSON pattern none
//!   of whose literals occurs is skipped (unless the message has a JSON escape, see
//!   `json.rs` `Prefilter`);
//! * **one JSON walk** serves every JSON pattern still in the running: their selectors share
//!   one trie ([`JsonMatcher::new_set`]);
//! * **one split** of the message into fields serves every space-delimited pattern;
//! * regular expressions run one by one (each is one `regex` search).
//!
//! The answers are exactly those of matching each pattern on its own with
//! [`FilterPattern::matches`] (`tests/pattern_set.rs` checks it with random rule sets and
//! messages).

use aho_corasick::{AhoCorasick, MatchKind};

use super::delimited::{self, DelimitedMatcher, Token};
use super::json::JsonMatcher;
use super::{FilterPattern, Match, Matcher};

/// The compiled patterns of a rule set; pattern `i` is the `i`-th one given to [`PatternSet::new`].
#[derive(Debug, Clone)]
pub struct PatternSet {
    members: Vec<Member>,
    /// Every literal of every term pattern and JSON prefilter, once each.
    literals: Option<AhoCorasick>,
    literal_count: usize,
    /// All JSON patterns, sharing one trie; `json_members[k]` is the set index of JSON pattern `k`.
    json: Option<JsonMatcher>,
    /// Per JSON pattern: its prefilter literal ids (`None`: it has no prefilter, always walk).
    json_literals: Vec<Option<Vec<usize>>>,
    any_delimited: bool,
}

#[derive(Debug, Clone)]
enum Member {
    All,
    /// Literal ids: all of `include`, none of `exclude`, one of `optional` (when not empty).
    Terms {
        include: Vec<usize>,
        exclude: Vec<usize>,
        optional: Vec<usize>,
    },
    Regex(::regex::Regex),
    /// Index among the set's JSON patterns.
    Json(usize),
    Delimited(DelimitedMatcher),
}

/// Reusable buffers for [`PatternSet::for_each_match`]: keep one per loop so that matching a
/// message allocates nothing but what a match reports.
#[derive(Debug, Default)]
pub struct SetScratch {
    present: Vec<bool>,
    touched: Vec<usize>,
    tokens: Vec<Token>,
    json_candidates: Vec<usize>,
    json_hits: Vec<usize>,
}

impl PatternSet {
    /// Compile `patterns` into one set; results refer to them by position.
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a FilterPattern>) -> PatternSet {
        let mut lits = Literals::default();
        let mut members = Vec::new();
        let mut json_exprs = Vec::new();
        let mut any_delimited = false;
        for p in patterns {
            let member = match (&p.matcher, p.ast()) {
                (Matcher::All, _) => Member::All,
                (Matcher::Terms(t), _) => {
                    let (include, exclude, optional) = t.literals();
                    Member::Terms {
                        include: include.iter().map(|f| lits.id(f.needle())).collect(),
                        exclude: exclude.iter().map(|f| lits.id(f.needle())).collect(),
                        optional: optional.iter().map(|f| lits.id(f.needle())).collect(),
                    }
                }
                (Matcher::Regex(re), _) => Member::Regex(re.clone()),
                (Matcher::Json(_), super::Ast::Json(expr)) => {
                    json_exprs.push(expr);
                    Member::Json(json_exprs.len() - 1)
                }
                (Matcher::Delimited(d), _) => {
                    any_delimited = true;
                    Member::Delimited(d.clone())
                }
                (Matcher::Json(_), _) => unreachable!("a JSON matcher comes from a JSON pattern"),
            };
            members.push(member);
        }
        let json = (!json_exprs.is_empty()).then(|| JsonMatcher::new_set(&json_exprs));
        let json_literals = match &json {
            None => Vec::new(),
            Some(j) => (0..json_exprs.len())
                .map(|k| {
                    j.prefilter_literals(k)
                        .map(|needles| needles.map(|n| lits.id(n)).collect())
                })
                .collect(),
        };
        let literal_count = lits.all.len();
        let literals = (literal_count > 0).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&lits.all)
                .expect("a few short literals always build")
        });
        PatternSet {
            members,
            literals,
            literal_count,
            json,
            json_literals,
            any_delimited,
        }
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Buffers sized for this set.
    pub fn scratch(&self) -> SetScratch {
        SetScratch {
            present: vec![false; self.literal_count],
            ..SetScratch::default()
        }
    }

    /// Call `f(i, match)` for every pattern `i` that matches `message`, in ascending `i`. The
    /// match is what [`FilterPattern::matches`] returns for that pattern.
    pub fn for_each_match(
        &self,
        message: &str,
        scratch: &mut SetScratch,
        mut f: impl FnMut(usize, Match),
    ) {
        let bytes = message.as_bytes();
        if scratch.present.len() != self.literal_count {
            scratch.present = vec![false; self.literal_count];
        }
        scratch.touched.clear();
        if let Some(ac) = &self.literals {
            for m in ac.find_overlapping_iter(bytes) {
                let id = m.pattern().as_usize();
                if !scratch.present[id] {
                    scratch.present[id] = true;
                    scratch.touched.push(id);
                }
            }
        }
        let mut candidates = std::mem::take(&mut scratch.json_candidates);
        let json_ok = self.json_matches(
            message,
            &scratch.present,
            &mut candidates,
            std::mem::take(&mut scratch.json_hits),
        );
        scratch.json_candidates = candidates;
        if self.any_delimited {
            delimited::tokenize_into(message, &mut scratch.tokens);
        }
        let present = &scratch.present;
        let mut json_hits = json_ok.iter().copied().peekable();
        for (i, member) in self.members.iter().enumerate() {
            let hit = match member {
                Member::All => Some(Match::default()),
                Member::Terms {
                    include,
                    exclude,
                    optional,
                } => (include.iter().all(|&l| present[l])
                    && !exclude.iter().any(|&l| present[l])
                    && (optional.is_empty() || optional.iter().any(|&l| present[l])))
                .then(Match::default),
                Member::Regex(re) => re.is_match(message).then(Match::default),
                Member::Json(k) => {
                    let hit = json_hits.peek() == Some(k);
                    if hit {
                        json_hits.next();
                    }
                    hit.then(Match::default)
                }
                Member::Delimited(d) => d
                    .eval_tokens(message, &scratch.tokens, true)
                    .map(|extracted| Match { extracted }),
            };
            if let Some(m) = hit {
                f(i, m);
            }
        }
        for &id in &scratch.touched {
            scratch.present[id] = false;
        }
        scratch.json_hits = json_ok;
    }

    /// The JSON patterns (by JSON index, ascending) that match `message`, after one walk.
    fn json_matches(
        &self,
        message: &str,
        present: &[bool],
        candidates: &mut Vec<usize>,
        mut hits: Vec<usize>,
    ) -> Vec<usize> {
        hits.clear();
        let Some(json) = &self.json else {
            return hits;
        };
        // Only a JSON object can match, and its first character is `{`.
        if message.trim_start().as_bytes().first() != Some(&b'{') {
            return hits;
        }
        let escaped = std::cell::OnceCell::new();
        candidates.clear();
        for (k, lits) in self.json_literals.iter().enumerate() {
            let candidate = match lits {
                None => true,
                Some(ids) => {
                    ids.iter().any(|&l| present[l])
                        || *escaped
                            .get_or_init(|| memchr::memchr(b'\\', message.as_bytes()).is_some())
                }
            };
            if candidate {
                candidates.push(k);
            }
        }
        if !candidates.is_empty() {
            json.eval_set(message, candidates, &mut hits);
        }
        hits
    }
}

/// Literals, deduplicated, with their ids.
#[derive(Default)]
struct Literals {
    all: Vec<Vec<u8>>,
}

impl Literals {
    fn id(&mut self, lit: &[u8]) -> usize {
        match self.all.iter().position(|l| l == lit) {
            Some(i) => i,
            None => {
                self.all.push(lit.to_vec());
                self.all.len() - 1
            }
        }
    }
}
