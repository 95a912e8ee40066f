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
//!   every term pattern and every JSON pattern's value literals finds which literals the
//!   message contains (leftmost-longest, resumed after each start: see `for_each_match`); term patterns are then decided from that alone, and a JSON pattern none
//!   of whose literals occurs is skipped (unless the message has a JSON escape that can spell
//!   one, see `json.rs` `Prefilter` and `Escapes`);
//! * **one JSON walk** serves every JSON pattern still in the running: their selectors share
//!   one trie ([`JsonMatcher::new_set`]);
//! * **one split** of the message into fields serves every space-delimited pattern, made when
//!   the first of them is due: one whose conditions need a literal (`level = ERROR` needs
//!   `ERROR`, `delimited.rs` `required_literals`) is due only when the search found one;
//! * a regular expression runs (one `regex` search) only on a message that contains one of the
//!   literals every match of it contains (`regex.rs` `required_literals`: `timeout|deadline`
//!   needs `timeout` or `deadline`), found by the same search; one without such literals runs on
//!   every message;
//! * after the search only the patterns a present literal can enable, those the JSON walk
//!   matched, and those that need no literal are looked at (`Due`).
//!
//! What is *not* shared, because sharing would cost more than it saves (the set never pays its
//! own overhead where it does not help):
//! * a JSON pattern that is the only one of its kind, and a term pattern when the search is
//!   not built (below), is matched on its own ([`FilterPattern::matches`]: its own `memmem`
//!   searches, its own walk), and a set of one pattern is exactly that pattern — the one-rule
//!   case costs what the rule costs. A lone space-delimited pattern in a larger set still uses
//!   the set's split: its buffer is reused from message to message and the search can gate it;
//! * the Aho-Corasick search is built only when at least two patterns bring literals to it;
//! * a JSON pattern whose only prefilter literals are quoted key names (`"latency"` for
//!   `$.latency > 450`) is not put in the search: such a key is in nearly every message of a
//!   stream that logs it, so it rejects little and its leading `"` (in every JSON message, many
//!   times) keeps the search from skipping ahead. The pattern is evaluated whenever the message
//!   is walked for another JSON pattern anyway, and otherwise after its own key check.
//!
//! The answers are exactly those of matching each pattern on its own with
//! [`FilterPattern::matches`] (`tests/pattern_set.rs` checks it with random rule sets and
//! messages).

use aho_corasick::{AhoCorasick, Input, MatchKind, Span, packed};

use super::ast::JsonExpr;
use super::delimited::{self, DelimitedMatcher, Token};
use super::json::{self, Founds, JsonMatcher};
use super::{CompiledValueRef, FilterPattern, Match, Matcher, PatternKind};

/// The compiled patterns of a rule set; pattern `i` is the `i`-th one given to [`PatternSet::new`].
#[derive(Debug, Clone)]
pub struct PatternSet {
    members: Vec<Member>,
    /// Every literal of every term pattern and JSON prefilter, once each.
    literals: Option<LiteralSearch>,
    /// Per literal: the other literals that are prefixes of it (they occur wherever it does).
    prefixes: Vec<Vec<usize>>,
    literal_count: usize,
    /// The shared JSON patterns (at least two), sharing one trie.
    json: Option<JsonMatcher>,
    /// Per shared JSON pattern: when it is worth walking the message for it.
    json_gates: Vec<JsonGate>,
    /// How many fields of a message the shared delimited patterns need to decide a match (the
    /// most any of them needs, `DelimitedMatcher::fields_needed`): the split stops there and
    /// goes on only for a match whose extracted values need more.
    split_limit: usize,
    /// Which members a message needs evaluated.
    due: Due,
}

/// The set's one search for its literals, leftmost-longest.
///
/// aho-corasick's packed (Teddy) searcher where it builds — a few dozen literals, a CPU with the
/// SIMD it needs (x86-64, aarch64) — and the full automaton otherwise. Both answer the same
/// matches; the packed one alone skips the automaton's set-up and prefilter hand-off on every
/// call, and the set calls it again after each literal it finds (~25% less search time here).
#[derive(Debug, Clone)]
enum LiteralSearch {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl LiteralSearch {
    fn new(literals: &[Vec<u8>]) -> LiteralSearch {
        let packed = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostLongest)
            .builder()
            .extend(literals)
            .build();
        match packed {
            Some(searcher) => LiteralSearch::Packed(searcher),
            None => LiteralSearch::automaton(literals),
        }
    }

    fn automaton(literals: &[Vec<u8>]) -> LiteralSearch {
        LiteralSearch::Automaton(
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(literals)
                .expect("a few short literals always build"),
        )
    }

    /// The leftmost-longest literal starting at or after `at`.
    #[inline]
    fn find(&self, bytes: &[u8], at: usize) -> Option<aho_corasick::Match> {
        match self {
            LiteralSearch::Packed(p) => p.find_in(bytes, Span::from(at..bytes.len())),
            LiteralSearch::Automaton(ac) => ac.find(Input::new(bytes).range(at..)),
        }
    }
}

/// Which members can match a message, from what the search and the JSON walk found: a term
/// pattern only when its first included literal (or, with none, one of its optional ones) is
/// in the message, a gated regex or delimited pattern only when one of its required literals
/// is, a shared JSON
/// pattern only when the walk matched it; every other member always.
#[derive(Debug, Clone, Default)]
struct Due {
    /// Members evaluated on every message, ascending.
    always: Vec<usize>,
    /// Per literal id: the members it enables.
    enabled_by: Vec<Vec<usize>>,
    /// Per shared JSON pattern (JSON index): its member.
    json_member: Vec<usize>,
}

impl Due {
    /// `literal_gates`: per regex or shared delimited member, in order, the ids of the literals
    /// one of which every message it matches contains (`None`: ungated).
    fn new(
        members: &[Member],
        literal_gates: Vec<Option<Vec<usize>>>,
        literal_count: usize,
    ) -> Due {
        let mut due = Due {
            enabled_by: vec![Vec::new(); literal_count],
            ..Due::default()
        };
        let mut literal_gates = literal_gates.into_iter();
        for (i, member) in members.iter().enumerate() {
            let enablers: Option<Vec<usize>> = match member {
                Member::Terms {
                    include, optional, ..
                } => match (include.first(), optional.is_empty()) {
                    (Some(&l), _) => Some(vec![l]),
                    (None, false) => Some(optional.clone()),
                    // Only excluded terms: a message without them matches.
                    (None, true) => None,
                },
                Member::Regex(_) | Member::Delimited(_) => literal_gates.next().flatten(),
                Member::Json => {
                    due.json_member.push(i);
                    continue;
                }
                Member::All | Member::Alone(_) => None,
            };
            match enablers {
                Some(ls) => ls.into_iter().for_each(|l| due.enabled_by[l].push(i)),
                None => due.always.push(i),
            }
        }
        due
    }

    /// Into `out`, ascending and once each: the members to evaluate on a message in which the
    /// literals `present` occur and whose walk matched the JSON patterns `json_hits`.
    fn members_into(&self, present: &[usize], json_hits: &[usize], out: &mut Vec<usize>) {
        out.clear();
        out.extend_from_slice(&self.always);
        if present.is_empty() && json_hits.is_empty() {
            return;
        }
        for &l in present {
            out.extend_from_slice(&self.enabled_by[l]);
        }
        out.extend(json_hits.iter().map(|&k| self.json_member[k]));
        out.sort_unstable();
        out.dedup();
    }
}

/// When a shared JSON pattern is a candidate for a message (see the module docs).
#[derive(Debug, Clone)]
enum JsonGate {
    /// No prefilter: always.
    Always,
    /// When each of these clauses has one of its literals (ids in the Aho-Corasick search) in
    /// the message, or the message has a JSON escape that can spell one (`ascii`: every
    /// literal is ASCII, see `json.rs` `Escapes`).
    Literals {
        clauses: Vec<Vec<usize>>,
        ascii: bool,
    },
    /// When the message is walked for another pattern anyway, or else when its own prefilter
    /// (`memmem`, see `json.rs` `Prefilter`) does not reject it.
    Own,
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
    /// Run only when one of its required literals is in the message (see [`Due`]).
    Regex(::regex::Regex),
    /// One of the set's shared JSON patterns (the `k`-th member of this kind is the JSON
    /// matcher's pattern `k`): the walk decides.
    Json,
    /// Matched over the shared split of the message.
    Delimited(DelimitedMatcher),
    /// Matched on its own, exactly as [`FilterPattern::matches`].
    Alone(FilterPattern),
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
    due: Vec<usize>,
}

impl PatternSet {
    /// Compile `patterns` into one set; results refer to them by position.
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a FilterPattern>) -> PatternSet {
        let patterns: Vec<&FilterPattern> = patterns.into_iter().collect();
        let count = |kind: PatternKind| patterns.iter().filter(|p| p.kind() == kind).count();
        // Even one space-delimited pattern: the set's split reuses one buffer and can be gated
        // by the search; alone it allocates its fields on every message.
        let share_split = patterns.len() >= 2;
        let json_exprs: Vec<&JsonExpr> = patterns
            .iter()
            .filter_map(|p| match p.ast() {
                super::Ast::Json(expr) => Some(expr),
                _ => None,
            })
            .collect();
        // One walk for all JSON patterns, unless its trie is too wide for the walk (then each
        // pattern walks on its own, as `Member::Alone`).
        let json = (json_exprs.len() >= 2)
            .then(|| JsonMatcher::new_set(&json_exprs))
            .filter(JsonMatcher::fits_node_sets);
        let share_json = json.is_some();
        // Which JSON patterns bring value literals to the search (key-only ones do not): their
        // clauses of value literals only.
        let json_value_literals: Vec<Option<Vec<Vec<&[u8]>>>> = match &json {
            None => Vec::new(),
            Some(j) => (0..json_exprs.len())
                .map(|k| {
                    j.prefilter_clauses(k)
                        .map(|clauses| {
                            clauses
                                .into_iter()
                                .filter(|c| c.iter().all(|n| n.first() != Some(&b'"')))
                                .collect::<Vec<_>>()
                        })
                        .filter(|clauses| !clauses.is_empty())
                })
                .collect(),
        };
        // The search pays off only for at least two patterns.
        let literal_users =
            count(PatternKind::Terms) + json_value_literals.iter().filter(|l| l.is_some()).count();
        let search = literal_users >= 2;

        let mut lits = Literals::default();
        let mut members = Vec::with_capacity(patterns.len());
        let mut literal_gates = Vec::new();
        for p in &patterns {
            let member = match &p.matcher {
                Matcher::All => Member::All,
                Matcher::Terms(t) if search => {
                    let (include, exclude, optional) = t.literals();
                    Member::Terms {
                        include: include.iter().map(|f| lits.id(f.needle())).collect(),
                        exclude: exclude.iter().map(|f| lits.id(f.needle())).collect(),
                        optional: optional.iter().map(|f| lits.id(f.needle())).collect(),
                    }
                }
                Matcher::Regex(re) => {
                    // Every match contains one of these (`regex.rs` `required_literals`).
                    let required = search
                        .then(|| super::regex::required_literals(re.as_str()))
                        .flatten();
                    literal_gates.push(
                        required.map(|set| set.iter().map(|l| lits.id(l)).collect::<Vec<_>>()),
                    );
                    Member::Regex(re.clone())
                }
                Matcher::Json(_) if share_json => Member::Json,
                Matcher::Delimited(d) if share_split => {
                    // Every match contains one of these (`delimited.rs` `required_literals`).
                    let required = search.then(|| d.required_literals()).flatten();
                    literal_gates.push(required.map(|ls| ls.iter().map(|l| lits.id(l)).collect()));
                    Member::Delimited(d.clone())
                }
                _ => Member::Alone((*p).clone()),
            };
            members.push(member);
        }
        let json_gates = match &json {
            None => Vec::new(),
            Some(j) => (0..json_exprs.len())
                .map(
                    |k| match (&json_value_literals[k], j.prefilter_clauses(k)) {
                        (Some(clauses), _) if search => JsonGate::Literals {
                            ascii: clauses.iter().flatten().all(|l| l.is_ascii()),
                            clauses: clauses
                                .iter()
                                .map(|c| c.iter().map(|n| lits.id(n)).collect())
                                .collect(),
                        },
                        (_, Some(_)) => JsonGate::Own,
                        (_, None) => JsonGate::Always,
                    },
                )
                .collect(),
        };
        let literal_count = lits.all.len();
        // Leftmost-longest, not overlapping, search: only the leftmost kinds get the SIMD
        // (Teddy) prefilter, which skips the bytes no literal starts with; an overlapping
        // (standard) search runs the automaton on every byte, 4–5× slower here.
        let literals = (literal_count > 0).then(|| LiteralSearch::new(&lits.all));
        let prefixes = lits
            .all
            .iter()
            .enumerate()
            .map(|(i, l)| {
                (0..lits.all.len())
                    .filter(|&j| j != i && l.starts_with(&lits.all[j]))
                    .collect()
            })
            .collect();
        let due = Due::new(&members, literal_gates, literal_count);
        let split_limit = members
            .iter()
            .filter_map(|m| match m {
                Member::Delimited(d) => Some(d.fields_needed(false)),
                _ => None,
            })
            .max()
            .unwrap_or(usize::MAX);
        PatternSet {
            members,
            literals,
            prefixes,
            literal_count,
            json,
            json_gates,
            split_limit,
            due,
        }
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Buffers for this set. They start empty: [`Self::for_each_match`] sizes them for the set
    /// it is called on, so a scratch made by another set, or `SetScratch::default()`, serves too.
    pub fn scratch(&self) -> SetScratch {
        SetScratch::default()
    }

    /// Call `f(i, match)` for every pattern `i` that matches `message`, in ascending `i`. The
    /// match is what [`FilterPattern::matches`] returns for that pattern.
    pub fn for_each_match(
        &self,
        message: &str,
        scratch: &mut SetScratch,
        mut f: impl FnMut(usize, Match),
    ) {
        self.for_each_match_walked(message, scratch, |i, m, _| f(i, m));
    }

    /// Where this set's walk of a message also finds the JSON value `value` resolves to, so
    /// that [`Walked::value_into`] serves it without walking the message again; `None` when
    /// `value` is not a JSON selector, or no JSON pattern of the set selects exactly it, or
    /// the set's walk could answer differently from `value`'s own (see `json.rs`
    /// `JsonMatcher::slot_for`).
    pub fn value_slot(&self, value: &CompiledValueRef) -> Option<ValueSlot> {
        let lone = value.json_matcher()?;
        self.json.as_ref()?.slot_for(lone).map(ValueSlot)
    }

    /// [`Self::for_each_match`], with what the set's JSON walk of the message found, for
    /// [`Walked::value_into`].
    pub fn for_each_match_walked(
        &self,
        message: &str,
        scratch: &mut SetScratch,
        mut f: impl FnMut(usize, Match, &Walked<'_, '_>),
    ) {
        self.find_literals(message.as_bytes(), scratch);
        let mut candidates = std::mem::take(&mut scratch.json_candidates);
        let mut found = Founds::new();
        let (json_ok, walked) = self.json_matches(
            message,
            &scratch.present,
            &mut candidates,
            &mut found,
            std::mem::take(&mut scratch.json_hits),
        );
        scratch.json_candidates = candidates;
        let walked = Walked {
            found: walked.then_some(&found),
        };
        // Where the split of the message stopped (`Some(None)`: it is complete); split when a
        // delimited member is first due (`None`: not yet).
        let mut split: Option<Option<usize>> = None;
        let present = &scratch.present;
        // Every member always due (a set of one pattern, the floor): no list to build.
        let due = (self.due.always.len() != self.members.len()).then(|| {
            let mut due = std::mem::take(&mut scratch.due);
            self.due.members_into(&scratch.touched, &json_ok, &mut due);
            due
        });
        for &i in due.as_deref().unwrap_or(&self.due.always) {
            let hit = match &self.members[i] {
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
                // Due only when the walk matched it.
                Member::Json => Some(Match::default()),
                Member::Delimited(d) => {
                    let rest = split.get_or_insert_with(|| {
                        scratch.tokens.clear();
                        delimited::tokenize_more(message, &mut scratch.tokens, 0, self.split_limit)
                    });
                    d.eval_split(message, &mut scratch.tokens, rest, true)
                        .map(|extracted| Match { extracted })
                }
                Member::Alone(p) => p.matches(message),
            };
            if let Some(m) = hit {
                f(i, m, &walked);
            }
        }
        for &id in &scratch.touched {
            scratch.present[id] = false;
        }
        if let Some(due) = due {
            scratch.due = due;
        }
        scratch.json_hits = json_ok;
    }

    /// Mark in `scratch` every literal of the search that occurs in `bytes` (`present`, and
    /// their ids in `touched`, to be unmarked after the message).
    #[inline]
    fn find_literals(&self, bytes: &[u8], scratch: &mut SetScratch) {
        if scratch.present.len() != self.literal_count {
            scratch.present = vec![false; self.literal_count];
        }
        scratch.touched.clear();
        if let Some(search) = &self.literals {
            // Every position where a literal starts is found (the search resumes one byte after
            // each start); there, the longest literal and its prefixes are all that occur.
            let mut at = 0;
            while let Some(m) = search.find(bytes, at) {
                let id = m.pattern().as_usize();
                for &l in std::iter::once(&id).chain(&self.prefixes[id]) {
                    if !scratch.present[l] {
                        scratch.present[l] = true;
                        scratch.touched.push(l);
                    }
                }
                at = m.start() + 1;
            }
        }
    }

    /// The JSON patterns (by JSON index, ascending) that match `message`, after one walk into
    /// `found`; and whether the message was walked and the walk accepted it.
    fn json_matches<'a>(
        &self,
        message: &'a str,
        present: &[bool],
        candidates: &mut Vec<usize>,
        found: &mut Founds<'a>,
        mut hits: Vec<usize>,
    ) -> (Vec<usize>, bool) {
        hits.clear();
        let Some(json) = &self.json else {
            return (hits, false);
        };
        // Only a JSON object can match, and its first character is `{`.
        if message.trim_start().as_bytes().first() != Some(&b'{') {
            return (hits, false);
        }
        let escapes = std::cell::OnceCell::new();
        let can_hide = |ascii: bool| {
            escapes
                .get_or_init(|| json::Escapes::of(message.as_bytes()))
                .can_hide(ascii)
        };
        candidates.clear();
        // Is the message walked anyway (for a pattern the search could not rule out)?
        let mut walked = false;
        for gate in &self.json_gates {
            walked |= match gate {
                JsonGate::Always => true,
                JsonGate::Literals { clauses, ascii } => {
                    clauses.iter().all(|c| c.iter().any(|&l| present[l])) || can_hide(*ascii)
                }
                JsonGate::Own => false,
            };
            if walked {
                break;
            }
        }
        for (k, gate) in self.json_gates.iter().enumerate() {
            let candidate = match gate {
                JsonGate::Always => true,
                JsonGate::Literals { clauses, ascii } => {
                    clauses.iter().all(|c| c.iter().any(|&l| present[l])) || can_hide(*ascii)
                }
                JsonGate::Own => walked || !json.prefilter_rejects(k, message),
            };
            if candidate {
                walked = true;
                candidates.push(k);
            }
        }
        let walked = !candidates.is_empty() && json.eval_set(message, candidates, found, &mut hits);
        (hits, walked)
    }
}

/// A JSON value a set's walk finds ([`PatternSet::value_slot`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueSlot(usize);

/// What the set's JSON walk of the message found (given to the callback of
/// [`PatternSet::for_each_match_walked`]).
#[derive(Debug)]
pub struct Walked<'w, 'm> {
    /// `None` when the message was not walked, or the walk did not accept it.
    found: Option<&'w Founds<'m>>,
}

impl Walked<'_, '_> {
    /// Append the value at `slot` to `out` as [`CompiledValueRef::resolve_into`] would, and
    /// say whether there was one (`Some(false)`: none, nothing appended); `None` when the walk
    /// cannot tell (the message was not walked): resolve it the usual way then.
    pub fn value_into(&self, slot: ValueSlot, out: &mut String) -> Option<bool> {
        self.found
            .map(|found| json::first_value_in(found, slot.0, out))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn set_of(sources: &[&str]) -> PatternSet {
        let patterns: Vec<FilterPattern> = sources
            .iter()
            .map(|s| FilterPattern::parse(s).unwrap())
            .collect();
        PatternSet::new(&patterns)
    }

    /// The members the set evaluates on `message`, JSON walk aside.
    fn due_on(set: &PatternSet, message: &str) -> Vec<usize> {
        let mut scratch = set.scratch();
        set.find_literals(message.as_bytes(), &mut scratch);
        let mut due = Vec::new();
        set.due.members_into(&scratch.touched, &[], &mut due);
        for &l in &scratch.touched {
            scratch.present[l] = false;
        }
        due
    }

    #[test]
    fn a_gated_regex_runs_only_where_a_required_literal_is() {
        let set = set_of(&["%timeout|deadline%", "ERROR", "panic"]);
        assert_eq!(due_on(&set, "GET /health 200 3ms"), Vec::<usize>::new());
        assert_eq!(due_on(&set, "ERROR: nothing else"), [1]);
        assert_eq!(due_on(&set, "the deadline passed"), [0]);
        assert_eq!(due_on(&set, "panic: timeout"), [0, 2]);
        // A literal found inside a longer one (`timeout` in `timeouts`) counts.
        assert_eq!(due_on(&set, "timeouts"), [0]);
    }

    #[test]
    fn an_ungated_regex_and_literal_free_members_run_on_every_message() {
        // `^a.c` requires no literal of 3 bytes or more; `-ERROR` and `[a, b]` need none.
        let set = set_of(&["%^a.c%", "-ERROR", "[a, b]", "ERROR", "panic"]);
        assert_eq!(due_on(&set, "x"), [0, 1, 2]);
        assert_eq!(due_on(&set, "ERROR panic"), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn terms_are_due_on_their_first_included_or_any_optional_literal() {
        let set = set_of(&["ERROR timeout -retry", "?panic ?fatal", "x"]);
        // Due on `ERROR` alone (the check then wants `timeout` too).
        assert_eq!(due_on(&set, "ERROR"), [0]);
        assert_eq!(due_on(&set, "timeout"), Vec::<usize>::new());
        assert_eq!(due_on(&set, "fatal"), [1]);
        assert_eq!(due_on(&set, "panic"), [1]);
        assert_eq!(due_on(&set, "x panic ERROR"), [0, 1, 2]);
    }

    #[test]
    fn no_search_no_gate() {
        // One term pattern: no search is built, so the regex is not gated.
        let set = set_of(&["%timeout|deadline%", "ERROR"]);
        assert!(set.literals.is_none());
        assert_eq!(due_on(&set, "nothing"), [0, 1]);
    }

    /// Every literal start the set's loop finds (`find_literals`' resumption), by either search.
    fn starts(search: &LiteralSearch, haystack: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(m) = search.find(haystack, at) {
            out.push((m.pattern().as_usize(), m.start(), m.end()));
            at = m.start() + 1;
        }
        out
    }

    #[test]
    fn the_packed_search_is_used_where_it_builds() {
        let lits: Vec<Vec<u8>> = ["ERROR", "WARN", "timeout"]
            .map(|l| l.as_bytes().to_vec())
            .into();
        let packed = matches!(LiteralSearch::new(&lits), LiteralSearch::Packed(_));
        assert_eq!(
            packed,
            cfg!(any(target_arch = "x86_64", target_arch = "aarch64"))
        );
        // An empty literal: only the automaton takes it.
        let with_empty: Vec<Vec<u8>> = vec![b"ERROR".to_vec(), Vec::new()];
        assert!(matches!(
            LiteralSearch::new(&with_empty),
            LiteralSearch::Automaton(_)
        ));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// The packed searcher and the automaton find the same literal starts, on haystacks of
        /// every length (short ones go to the packed searcher's Rabin-Karp).
        #[test]
        fn packed_and_automaton_searches_agree(
            lits in proptest::collection::vec("[abc.é]{1,5}", 1..12),
            haystack in "[abcx .é]{0,80}",
        ) {
            let lits: Vec<Vec<u8>> = lits.into_iter().map(String::into_bytes).collect();
            let automaton = LiteralSearch::automaton(&lits);
            let search = LiteralSearch::new(&lits);
            proptest::prop_assert_eq!(starts(&search, haystack.as_bytes()), starts(&automaton, haystack.as_bytes()));
        }
    }
}
