//! JSON patterns: evaluate conditions against a message without building a `serde_json::Value`.
//!
//! The selectors of a pattern are merged into a trie. One pass over the message (`json/walk.rs`,
//! exactly serde_json's grammar and answers) is guided by the trie: values on no selector's path
//! are skipped as serde_json's `IgnoredAny` skips them (validated, never allocated); a selected
//! value is captured as the slice serde_json's `RawValue` would be and classified (string,
//! number as written, bool, null, array/object). Object keys and strings without escapes are
//! borrowed from the message.
//!
//! Why not `serde_json::from_str::<Value>`: building a `Value` allocates a map entry and a
//! `String` for every key and value of every event, although a pattern looks at a handful of
//! them. The walk still parses (and so validates) the whole message — a message that is not
//! exactly one JSON object never matches — but it does no per-field allocation. The benchmark
//! (`benches/pattern_matching.rs`) measures it against the full `Value` parse.

use std::borrow::Cow;
#[cfg(test)]
use std::fmt;

use memchr::memmem::Finder;
#[cfg(test)]
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use smallvec::SmallVec;

mod walk;

use super::ast::{CmpOp, JsonCond, JsonExpr, JsonTest, Segment, Selector, Value};
use super::compare::{StrPattern, Test};

/// A compiled JSON pattern (or a lone selector, for value references).
#[derive(Debug, Clone)]
pub(crate) struct JsonMatcher {
    /// One compiled condition per pattern: several patterns can share one trie, and so one
    /// walk of each message ([`JsonMatcher::new_set`]).
    exprs: Vec<CExpr>,
    nodes: Vec<Node>,
    /// Per pattern.
    prefilters: Vec<Option<Prefilter>>,
    /// Per slot: does its selector end with a wildcard (`$.a[*]`, `$.a.*`)? Then an array it
    /// reaches is one of the selected values, not a list of them.
    ends_wild: Vec<bool>,
    /// Per slot: its selector's path.
    slot_keys: Vec<Vec<Key>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Key {
    Name(String),
    Index(usize),
    Wild,
}

#[derive(Debug, Clone, Default)]
struct Node {
    /// Every child, in the order added (for building the trie; the walk uses the three below).
    children: Vec<(Key, usize)>,
    /// The children by object key (each key once), by array index, and the wildcard child: a
    /// step looks a key up among the named children only (`Ctx::step`).
    named: Vec<(Box<[u8]>, usize)>,
    indexed: Vec<(usize, usize)>,
    wild: Option<usize>,
    /// What a place where this node applies needs ([`NodeSet::TERMINALS`] …), set once the
    /// trie is complete ([`JsonMatcher::finish`]).
    flags: u8,
    /// Slots whose selector ends here.
    terminals: Vec<usize>,
    /// Slots whose wildcard step leaves from here: reaching this node means their container
    /// exists (for `!=` over a wildcard).
    containers: Vec<usize>,
}

#[derive(Debug, Clone)]
enum CExpr {
    Or(Vec<CExpr>),
    And(Vec<CExpr>),
    Cond {
        slot: usize,
        test: JTest,
    },
    /// Used by a lone selector: no condition.
    True,
}

#[derive(Debug, Clone)]
enum JTest {
    /// Some selected value satisfies the comparison.
    Cmp(Test),
    /// `!=` over a wildcard selector: the container exists and no selected value satisfies
    /// this (the `=` form of the comparison).
    NoneOf(Test),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

/// What one walk records: `(slot, value)` in the order met. Inline room for what a rule set of
/// a few dozen selectors records, so that walking a message allocates nothing.
pub(crate) type Founds<'a> = SmallVec<[(usize, Sel<'a>); 16]>;

/// What the walk records for a slot.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sel<'a> {
    /// The value the selector points at (one per wildcard match).
    Value(Found<'a>),
    /// An element of an array the selector points at (for `IS NULL`/`IS TRUE`/`IS FALSE`).
    Element(Found<'a>),
    /// The wildcard's container exists.
    Reached,
}

/// A selected value. Strings without escapes and numbers are borrowed from the message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Found<'a> {
    Str(Cow<'a, str>),
    /// A number, as written in the message.
    Num(&'a str),
    Bool(bool),
    Null,
    /// An array or an object: never matches any condition.
    Composite,
}

fn keys_of(selector: &Selector) -> Vec<Key> {
    selector
        .segments
        .iter()
        .map(|s| match s {
            Segment::Key { name, .. } => Key::Name(name.clone()),
            Segment::Index(i) => Key::Index(*i),
            Segment::Wildcard { .. } => Key::Wild,
        })
        .collect()
}

impl JsonMatcher {
    pub(crate) fn new(expr: &JsonExpr) -> JsonMatcher {
        JsonMatcher::new_set(&[expr])
    }

    /// One matcher for several patterns: their selectors share one trie, so one walk of a
    /// message serves them all ([`Self::eval_set`]).
    pub(crate) fn new_set(exprs: &[&JsonExpr]) -> JsonMatcher {
        let mut m = JsonMatcher {
            exprs: Vec::with_capacity(exprs.len()),
            nodes: vec![Node::default()],
            prefilters: exprs.iter().map(|e| Prefilter::new(e)).collect(),
            ends_wild: Vec::new(),
            slot_keys: Vec::new(),
        };
        for expr in exprs {
            let compiled = m.compile(expr);
            m.exprs.push(compiled);
        }
        m.finish();
        m
    }

    /// The trie is complete: note what each node has, for the walk.
    fn finish(&mut self) {
        for node in &mut self.nodes {
            node.flags = node.compute_flags();
        }
    }

    /// Whether, at every place of every document, at most [`NodeSet::CAPACITY`] of this trie's
    /// nodes apply at once (a walk would drop the rest). One pattern's trie always fits (its
    /// quotas allow 4); a set's may not: at depth `n` of one path, `$.a.b.c`, `$.*.b.c`,
    /// `$.a.*.c`, ... of different patterns make `n + 1`. Found by exploring every set of nodes
    /// a walk can reach (by each key or index some node of the set names, and by any other),
    /// up to a bound on the sets explored (beyond it: does not fit).
    pub(crate) fn fits_node_sets(&self) -> bool {
        const MAX_SETS: usize = 4096;
        let mut explored: std::collections::HashSet<Vec<usize>> = Default::default();
        let mut todo = vec![vec![0]];
        while let Some(set) = todo.pop() {
            if set.len() > NodeSet::CAPACITY {
                return false;
            }
            let mut sorted = set.clone();
            sorted.sort_unstable();
            if !explored.insert(sorted) {
                continue;
            }
            if explored.len() > MAX_SETS {
                return false;
            }
            let nodes = || set.iter().map(|&n| &self.nodes[n]);
            // A step from `set` where `exact` is each node's child for the key (as `Ctx::step`).
            let step = |exact: &dyn Fn(&Node) -> Option<usize>| {
                let mut next: Vec<usize> = Vec::new();
                for node in nodes() {
                    for child in [exact(node), node.wild].into_iter().flatten() {
                        if !next.contains(&child) {
                            next.push(child);
                        }
                    }
                }
                next
            };
            let mut names: Vec<&[u8]> = nodes()
                .flat_map(|n| n.named.iter().map(|(k, _)| &**k))
                .collect();
            names.sort_unstable();
            names.dedup();
            let mut indices: Vec<usize> = nodes()
                .flat_map(|n| n.indexed.iter().map(|&(i, _)| i))
                .collect();
            indices.sort_unstable();
            indices.dedup();
            let by_name = names.into_iter().map(|name| {
                step(&|n: &Node| n.named.iter().find(|(k, _)| **k == *name).map(|&(_, c)| c))
            });
            let by_index = indices.into_iter().map(|i| {
                step(&|n: &Node| n.indexed.iter().find(|&&(j, _)| j == i).map(|&(_, c)| c))
            });
            let by_other = std::iter::once(step(&|_: &Node| None));
            todo.extend(
                by_name
                    .chain(by_index)
                    .chain(by_other)
                    .filter(|s| !s.is_empty()),
            );
        }
        true
    }

    /// The prefilter clauses of pattern `i` (see [`Prefilter`]): when a message without a
    /// backslash lacks every literal of one clause, pattern `i` cannot match it. `None`: no
    /// clause.
    pub(crate) fn prefilter_clauses(&self, i: usize) -> Option<Vec<Vec<&[u8]>>> {
        self.prefilters[i].as_ref().map(|p| {
            p.clauses
                .iter()
                .map(|c| c.iter().map(|f| f.needle()).collect())
                .collect()
        })
    }

    /// Does pattern `i`'s own prefilter rule `msg` out (see [`Prefilter::rejects`])?
    pub(crate) fn prefilter_rejects(&self, i: usize, msg: &str) -> bool {
        self.prefilters[i].as_ref().is_some_and(|p| p.rejects(msg))
    }

    /// Walk `msg` once into `found` and push onto `out` every index in `candidates` (ascending)
    /// whose pattern matches. The caller has done the prefiltering. False when the walk does
    /// not accept `msg` (then nothing matches and `found` means nothing).
    pub(crate) fn eval_set<'a>(
        &self,
        msg: &'a str,
        candidates: &[usize],
        found: &mut Founds<'a>,
        out: &mut Vec<usize>,
    ) -> bool {
        found.clear();
        if !self.walk(msg, found) {
            return false;
        }
        out.extend(
            candidates
                .iter()
                .copied()
                .filter(|&i| self.exprs[i].eval(found)),
        );
        true
    }

    /// A matcher that only collects the values `selector` points at (see [`Self::first_value`]).
    pub(crate) fn for_selector(selector: &Selector) -> JsonMatcher {
        let mut m = JsonMatcher {
            exprs: vec![CExpr::True],
            nodes: vec![Node::default()],
            prefilters: vec![None],
            ends_wild: Vec::new(),
            slot_keys: Vec::new(),
        };
        m.slot(selector);
        m.finish();
        m
    }

    /// The slot of this matcher (a pattern set's) whose values a walk records exactly as a
    /// walk of the lone selector `lone` ([`Self::for_selector`]) records its own, whenever
    /// this matcher's walk accepts the message: then [`first_value_in`] of the set's walk is
    /// `lone.first_value_into`, without walking the message again (the engine's query keys).
    ///
    /// Why that holds: `lone`'s path is one of this trie's paths, so every container `lone`'s
    /// walk goes into, this walk goes into too, and every string, key and number `lone`'s walk
    /// checks, this walk checks the same way; it checks more, never less, so it accepts fewer
    /// messages, never more. Two things would break that, and rule the slot out: a wildcard (a
    /// place where several trie nodes apply at once, one of them selected) and a node both
    /// selected and walked into, whose container is walked again from depth 0 as serde_json
    /// did (this walk could then accept a message nested deeper than `lone`'s walk accepts).
    pub(crate) fn slot_for(&self, lone: &JsonMatcher) -> Option<usize> {
        let keys = lone.slot_keys.first()?;
        let shared =
            |n: &Node| n.wild.is_none() && (n.terminals.is_empty() || n.children.is_empty());
        if !self.nodes.iter().all(shared) {
            return None;
        }
        self.slot_keys.iter().position(|k| k == keys)
    }

    fn compile(&mut self, expr: &JsonExpr) -> CExpr {
        match expr {
            JsonExpr::Or(v) => CExpr::Or(v.iter().map(|e| self.compile(e)).collect()),
            JsonExpr::And(v) => CExpr::And(v.iter().map(|e| self.compile(e)).collect()),
            JsonExpr::Cond(c) => {
                let slot = self.slot(&c.selector);
                let wild = c.selector.wildcards() > 0;
                let test = match &c.test {
                    JsonTest::Compare {
                        op: CmpOp::Ne,
                        value,
                    } if wild => JTest::NoneOf(Test::new(CmpOp::Eq, value)),
                    JsonTest::Compare { op, value } => JTest::Cmp(Test::new(*op, value)),
                    JsonTest::IsNull => JTest::IsNull,
                    JsonTest::IsTrue => JTest::IsTrue,
                    JsonTest::IsFalse => JTest::IsFalse,
                    JsonTest::NotExists => JTest::NotExists,
                };
                CExpr::Cond { slot, test }
            }
        }
    }

    /// The slot for `selector`, adding its path to the trie the first time it is seen.
    fn slot(&mut self, selector: &Selector) -> usize {
        let keys = keys_of(selector);
        if let Some(existing) = self.slot_keys.iter().position(|k| *k == keys) {
            return existing;
        }
        let slot = self.slot_keys.len();
        let mut node = 0;
        for key in &keys {
            if *key == Key::Wild {
                self.nodes[node].containers.push(slot);
            }
            let next = self.nodes[node]
                .children
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, n)| *n);
            node = match next {
                Some(n) => n,
                None => {
                    self.nodes.push(Node::default());
                    let n = self.nodes.len() - 1;
                    let parent = &mut self.nodes[node];
                    parent.children.push((key.clone(), n));
                    match key {
                        Key::Name(name) => parent.named.push((name.as_bytes().into(), n)),
                        Key::Index(i) => parent.indexed.push((*i, n)),
                        Key::Wild => parent.wild = Some(n),
                    }
                    n
                }
            };
        }
        self.nodes[node].terminals.push(slot);
        self.ends_wild.push(keys.last() == Some(&Key::Wild));
        self.slot_keys.push(keys);
        slot
    }

    /// Does `msg` (one JSON object) satisfy the pattern?
    pub(crate) fn is_match(&self, msg: &str) -> bool {
        if self.prefilters[0].as_ref().is_some_and(|p| p.rejects(msg)) {
            return false;
        }
        let mut found = Founds::new();
        if !self.walk(msg, &mut found) {
            return false;
        }
        self.exprs[0].eval(&found)
    }

    /// The first scalar the lone selector points at, as text; `None` when absent, null, an
    /// array or an object (or when `msg` is not a JSON object).
    pub(crate) fn first_value(&self, msg: &str) -> Option<String> {
        let mut out = String::new();
        self.first_value_into(msg, &mut out).then_some(out)
    }

    /// [`Self::first_value`], appended to `out` (nothing appended and `false` when there is
    /// none): resolving a query key per match allocates nothing.
    pub(crate) fn first_value_into(&self, msg: &str, out: &mut String) -> bool {
        let mut found = Founds::new();
        self.walk(msg, &mut found) && first_value_in(&found, 0, out)
    }

    /// Walk `msg`, collecting `(slot, value)` for every selected value. False when `msg` is
    /// not exactly one JSON object (`json/walk.rs`).
    fn walk<'a>(&self, msg: &'a str, found: &mut Founds<'a>) -> bool {
        let mut ctx = Ctx { m: self, found };
        ctx.reach(&NodeSet::root(self));
        walk::Walker::walk(&mut ctx, msg).is_ok()
    }

    /// The walk as serde_json's deserializer did it before `json/walk.rs`: the oracle of the
    /// differential tests.
    #[cfg(test)]
    fn walk_serde<'a>(&self, msg: &'a str, found: &mut Founds<'a>) -> bool {
        let mut de = serde_json::Deserializer::from_str(msg);
        let mut ctx = Ctx { m: self, found };
        ctx.reach(&NodeSet::root(self));
        let visitor = NodeVisitor {
            ctx: &mut ctx,
            set: NodeSet::root(self),
        };
        if Deserializer::deserialize_map(&mut de, visitor).is_err() {
            return false;
        }
        de.end().is_ok()
    }
}

/// The first scalar a walk recorded for `slot`, appended to `out` as text (see
/// [`JsonMatcher::first_value`]); `false` (nothing appended) when there is none.
pub(crate) fn first_value_in(found: &[(usize, Sel<'_>)], slot: usize, out: &mut String) -> bool {
    use std::fmt::Write;
    found
        .iter()
        .filter(|(s, _)| *s == slot)
        .any(|(_, f)| match f {
            Sel::Value(Found::Str(s)) => {
                out.push_str(s);
                true
            }
            Sel::Value(Found::Num(n)) => {
                out.push_str(n);
                true
            }
            Sel::Value(Found::Bool(b)) => {
                let _ = write!(out, "{b}");
                true
            }
            _ => false,
        })
}

// ---------------------------------------------------------------- the literal prefilter

/// Sets of byte strings (clauses) such that every message the pattern matches contains, for
/// each clause, at least one of its strings verbatim, provided the message contains no
/// backslash. Most rules match few events; `memmem` searches reject the others without
/// walking the JSON.
///
/// Why it is exact. Every value a condition looks at is a slice of the message (strings
/// without escapes are borrowed between their quotes, numbers and `true`/`false` are compared
/// as written), and every object key on a selector's path is a quoted key in the message. Both
/// hold only when the text is not spelled with escapes (`\u0045RROR` is `ERROR`, `\/` is `/`),
/// and every JSON escape starts with a backslash: so a message without a backslash that lacks
/// every literal of a clause cannot match, and a message with one is walked in full unless its
/// escapes cannot spell the literals ([`Escapes`]: non-ASCII characters only, and every literal
/// ASCII). A literal that JSON cannot carry verbatim (`"`, `\`, control characters) is never
/// used.
///
/// What is derived (see [`required`] for one clause, [`clauses`] for several):
/// * `$.sel = "text"` (also `"text*"`, `"*text"`, `"*text*"`): the literal part `text` — a
///   string value contains it as written; a number is compared as AWS prints it (`1000.0` for
///   `1e3`), so a literal that could be part of a printed number (`1000.0`, `Infinity`) is not
///   used and the key is, as below;
/// * any other condition that needs the property to exist (`=` a number, `<`, `>=`, `= *`,
///   `%regex%`, `IS NULL`, `IS TRUE`, `IS FALSE`): the quoted last key name of its selector
///   (`"level"` for `$.a.level`, `"tags"` for `$.tags[*]`); nothing for `$.*` or `$.[0]`;
/// * `!=` and `NOT EXISTS`: nothing (conservatively, for `!=`: decision 1 would allow the key);
/// * `a || b`: one clause, the union of every operand's (best) clause, or nothing when one
///   operand has none;
/// * `a && b`: every operand's value-literal clauses (`level = "ERROR" && code = "DA*"` needs
///   both `ERROR` and `DA`), or, when no operand has one, the best operand's clause (a quoted
///   key is in nearly every message of a stream that logs it: one is enough).
///
/// A pattern that is one numeric comparison of a top-level key (`{ $.latency > 450 }`,
/// `{ $.status >= 500 }`) has only the key as a literal, and the key is in nearly every
/// message; it gets a [`NumberProbe`] instead, which also looks at the numbers after the key.
#[derive(Debug, Clone)]
struct Prefilter {
    clauses: Vec<Vec<Finder<'static>>>,
    probe: Option<NumberProbe>,
    /// Every literal (and the probe's key) is ASCII: only an escape of an ASCII character can
    /// hide one ([`Escapes`]).
    ascii: bool,
}

impl Prefilter {
    fn new(expr: &JsonExpr) -> Option<Prefilter> {
        let clauses = clauses(expr);
        let probe = NumberProbe::new(expr);
        let ascii = clauses.iter().flatten().all(|l| l.is_ascii())
            && probe.as_ref().is_none_or(|p| p.key.needle().is_ascii());
        (!clauses.is_empty()).then(|| Prefilter {
            clauses: clauses
                .iter()
                .map(|c| c.iter().map(|l| Finder::new(l).into_owned()).collect())
                .collect(),
            probe,
            ascii,
        })
    }

    /// True when `msg` certainly does not match: a clause none of whose literals occurs (or,
    /// with a probe, the probe rules it out: it looks for the key too), and no escape that
    /// could spell one of them ([`Escapes`]).
    fn rejects(&self, msg: &str) -> bool {
        let bytes = msg.as_bytes();
        let ruled_out = match &self.probe {
            Some(probe) => probe.rejects(msg),
            None => self
                .clauses
                .iter()
                .any(|c| !c.iter().any(|f| f.find(bytes).is_some())),
        };
        ruled_out && !Escapes::of(bytes).can_hide(self.ascii)
    }
}

/// What the JSON escapes of a message can spell. The prefilter's literals are found in the
/// message as written; a value or key spelled with an escape (`\u0045RROR` is `ERROR`) holds
/// text the message does not show verbatim. But an escape stands for one character, and
/// `\uXXXX` with `XXXX` at least `0080` (`\uc778`, `\ud83d\ude00`: how `json.dumps` writes
/// any non-ASCII text by default) for a non-ASCII one: in a message whose escapes are all
/// such, every ASCII character of a decoded key or value is a byte of the message, and ASCII
/// text the decoded form contains, the message contains as written (an escape inside it would
/// put a character between). So such escapes hide only literals with non-ASCII characters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Escapes {
    /// The message has a backslash.
    any: bool,
    /// It has an escape other than `\uXXXX` of a non-ASCII character (or one this cannot read).
    ascii: bool,
}

impl Escapes {
    pub(crate) fn of(bytes: &[u8]) -> Escapes {
        let mut at = 0;
        let mut escapes = Escapes::default();
        while let Some(p) = memchr::memchr(b'\\', &bytes[at..]) {
            let i = at + p;
            escapes.any = true;
            let non_ascii = bytes.get(i + 1) == Some(&b'u')
                && bytes.get(i + 2..i + 6).is_some_and(|hex| {
                    hex.iter().all(u8::is_ascii_hexdigit) && (hex[0..2] != *b"00" || hex[2] > b'7')
                });
            if !non_ascii {
                escapes.ascii = true;
                return escapes;
            }
            at = i + 6;
        }
        escapes
    }

    /// Can these escapes spell a literal that is not in the message as written? `ascii`: every
    /// literal in question is ASCII.
    pub(crate) fn can_hide(self, ascii: bool) -> bool {
        self.ascii || (self.any && !ascii)
    }
}

/// The prefilter of `{ $.key OP number }` (`OP` one of `=`, `<`, `<=`, `>`, `>=`): the quoted
/// key and the comparison.
///
/// Why it is exact, for a message without a backslash (the caller checks). The pattern
/// matches only when the message is a JSON object whose member `key` holds a value that
/// satisfies the comparison. That member is spelled `"key"` then `:` (JSON whitespace
/// around it allowed): without escapes, its name is written as is. So the probe visits every
/// place where `"key"` is followed by `:` — that member among them, if the message has it
/// (and keys of nested objects, which only make it more cautious). Where a number follows,
/// it is read as the walk reads it and compared as the walk's value would be; where anything
/// else follows (a string, an object, a malformed number), the probe gives up. It rules the
/// message out only when every such place holds a number that fails the comparison, or
/// there is no such place (then the member is absent and the comparison fails, as the
/// key-literal prefilter already says). Where `"key"` is not followed by `:` it is not a
/// member name (a string value `"key"`, or text after an escaped quote is impossible here).
#[derive(Debug, Clone)]
struct NumberProbe {
    key: Finder<'static>,
    test: Test,
}

impl NumberProbe {
    fn new(expr: &JsonExpr) -> Option<NumberProbe> {
        let JsonExpr::Cond(c) = expr else {
            return None;
        };
        let [Segment::Key { name, .. }] = c.selector.segments.as_slice() else {
            return None;
        };
        let JsonTest::Compare {
            op,
            value: value @ Value::Number { .. },
        } = &c.test
        else {
            return None;
        };
        if *op == CmpOp::Ne || !json_verbatim(name.as_bytes()) {
            return None;
        }
        let quoted = [&b"\""[..], name.as_bytes(), &b"\""[..]].concat();
        Some(NumberProbe {
            key: Finder::new(&quoted).into_owned(),
            test: Test::new(*op, value),
        })
    }

    /// True when no `"key":` in `msg` is followed by a number that satisfies the test, and
    /// every one is followed by a number (see [`NumberProbe`]).
    fn rejects(&self, msg: &str) -> bool {
        let bytes = msg.as_bytes();
        let ws = |mut i: usize| {
            while let Some(b' ' | b'\n' | b'\t' | b'\r') = bytes.get(i) {
                i += 1;
            }
            i
        };
        for at in self.key.find_iter(bytes) {
            let colon = ws(at + self.key.needle().len());
            if bytes.get(colon) != Some(&b':') {
                continue;
            }
            let start = ws(colon + 1);
            let Some(end) = walk::Walker::number_end(msg, start) else {
                return false;
            };
            if cmp(&self.test, &Found::Num(&msg[start..end])) {
                return false;
            }
        }
        true
    }
}

/// Is this literal a value's text (not a quoted key name, which starts with `"`)?
fn is_value_literal(l: &[u8]) -> bool {
    l.first() != Some(&b'"')
}

/// The clauses of [`Prefilter`]: each a set of alternatives, at least one of which appears
/// verbatim in any (backslash-free) message that satisfies `expr`. Empty when nothing can be
/// proven.
fn clauses(expr: &JsonExpr) -> Vec<Vec<Vec<u8>>> {
    let JsonExpr::And(operands) = expr else {
        return required(expr).into_iter().collect();
    };
    let mut values: Vec<Vec<Vec<u8>>> = Vec::new();
    for clause in operands.iter().flat_map(clauses) {
        if clause.iter().all(|l| is_value_literal(l)) && !values.contains(&clause) {
            values.push(clause);
        }
    }
    if values.is_empty() {
        return required(expr).into_iter().collect();
    }
    values
}

/// Alternatives, at least one of which appears verbatim in any (backslash-free) message that
/// satisfies `expr`; `None` when no such set can be proven.
fn required(expr: &JsonExpr) -> Option<Vec<Vec<u8>>> {
    match expr {
        JsonExpr::Cond(c) => cond_literal(c).map(|l| vec![l]),
        // Prefer value literals: a key (`"latency"`) tends to be in every message of a stream,
        // a value (`ERROR`) in few. Then the longest shortest literal, then fewer alternatives.
        JsonExpr::And(v) => v.iter().filter_map(required).max_by_key(|set| {
            let all_values = set.iter().all(|l| is_value_literal(l));
            let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
            (all_values, shortest, std::cmp::Reverse(set.len()))
        }),
        JsonExpr::Or(v) => {
            let mut all = Vec::new();
            for e in v {
                all.extend(required(e)?);
            }
            all.sort();
            all.dedup();
            Some(all)
        }
    }
}

/// The literal one condition needs (see [`Prefilter`]).
fn cond_literal(c: &JsonCond) -> Option<Vec<u8>> {
    let key = c
        .selector
        .segments
        .iter()
        .rev()
        .find_map(|s| match s {
            Segment::Key { name, .. } => Some(name.as_bytes()),
            _ => None,
        })
        .filter(|name| json_verbatim(name))
        .map(|name| [&b"\""[..], name, &b"\""[..]].concat());
    match &c.test {
        JsonTest::NotExists | JsonTest::Compare { op: CmpOp::Ne, .. } => None,
        JsonTest::Compare {
            op: CmpOp::Eq,
            value: Value::Str { text, .. },
        } => {
            let pat = StrPattern::new(text);
            let value = pat
                .literal()
                .filter(|l| !l.is_empty() && json_verbatim(l) && !in_number_text(l))
                .map(<[u8]>::to_vec);
            // A very short value (`"E*"`) is likely in every message; the key may do better.
            match (value, key) {
                (Some(v), Some(k)) if v.len() < 3 => Some(k),
                (Some(v), _) => Some(v),
                (None, k) => k,
            }
        }
        _ => key,
    }
}

/// Could `text` be part of how a number is printed for a string comparison (`1e3` is compared
/// as `1000.0`, `1e309` as `Infinity`)? Then it need not appear in the message.
fn in_number_text(text: &[u8]) -> bool {
    text.iter().all(|b| b"0123456789.-E".contains(b))
        || [&b"-Infinity"[..], b"NaN"]
            .iter()
            .any(|t| t.windows(text.len()).any(|w| w == text))
}

/// Can `text` appear in a JSON string as is? Not when JSON requires it to be escaped.
fn json_verbatim(text: &[u8]) -> bool {
    !text.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20)
}

impl CExpr {
    fn eval(&self, found: &[(usize, Sel<'_>)]) -> bool {
        match self {
            CExpr::Or(v) => v.iter().any(|e| e.eval(found)),
            CExpr::And(v) => v.iter().all(|e| e.eval(found)),
            CExpr::True => true,
            CExpr::Cond { slot, test } => {
                let mut sels = found.iter().filter(|(s, _)| s == slot).map(|(_, e)| e);
                let values = || {
                    found.iter().filter_map(|(s, e)| match e {
                        Sel::Value(v) if s == slot => Some(v),
                        _ => None,
                    })
                };
                match test {
                    JTest::NotExists => values().next().is_none(),
                    JTest::NoneOf(t) => {
                        sels.any(|e| *e == Sel::Reached) && !values().any(|v| cmp(t, v))
                    }
                    JTest::Cmp(t) => values().any(|v| cmp(t, v)),
                    JTest::IsNull | JTest::IsTrue | JTest::IsFalse => sels.any(|e| match e {
                        Sel::Value(v) | Sel::Element(v) => test.holds_for(v),
                        Sel::Reached => false,
                    }),
                }
            }
        }
    }
}

/// Does one selected value satisfy a comparison? Strings and numbers have their own rules
/// (see [`Test::test_json_str`], [`Test::test_json_num`]); `true`, `false`, `null`, arrays and
/// objects satisfy no comparison at all — not `!=`, not `= *`, not a regex.
fn cmp(test: &Test, value: &Found<'_>) -> bool {
    match value {
        Found::Str(s) => test.test_json_str(s),
        Found::Num(raw) => test.test_json_num(raw),
        Found::Bool(_) | Found::Null | Found::Composite => false,
    }
}

impl JTest {
    /// `IS NULL` / `IS TRUE` / `IS FALSE` on one value or array element.
    fn holds_for(&self, value: &Found<'_>) -> bool {
        match self {
            JTest::IsNull => *value == Found::Null,
            JTest::IsTrue => *value == Found::Bool(true),
            JTest::IsFalse => *value == Found::Bool(false),
            _ => false,
        }
    }
}

// ---------------------------------------------------------------- the guided walk

struct Ctx<'m, 'f, 'a> {
    m: &'m JsonMatcher,
    found: &'f mut Founds<'a>,
}

impl<'a> Ctx<'_, '_, 'a> {
    #[inline]
    fn record(&mut self, set: &NodeSet, value: Found<'a>) {
        let m = self.m;
        // One node with one selector ending there (most places): the value is its.
        if let [node] = set.nodes()
            && let [slot] = m.nodes[*node as usize].terminals[..]
        {
            self.found.push((slot, Sel::Value(value)));
            return;
        }
        let mut slots = set
            .iter()
            .flat_map(|node| m.nodes[node].terminals.iter().copied())
            .peekable();
        // Each slot gets the value; the last takes it (an unescaped string is not copied again).
        while let Some(slot) = slots.next() {
            if slots.peek().is_none() {
                self.found.push((slot, Sel::Value(value)));
                return;
            }
            self.found.push((slot, Sel::Value(value.clone())));
        }
    }

    /// A value exists at every node of `set`: the wildcards leaving from there have a container.
    #[inline(always)]
    fn reach(&mut self, set: &NodeSet) {
        if set.has(NodeSet::CONTAINERS) {
            self.reach_containers(set);
        }
    }

    #[inline(never)]
    fn reach_containers(&mut self, set: &NodeSet) {
        for node in set.iter() {
            for &slot in &self.m.nodes[node].containers {
                self.found.push((slot, Sel::Reached));
            }
        }
    }

    /// The elements of an array that selectors (not ending in a wildcard) point at.
    fn record_elements(&mut self, set: &NodeSet, array: &'a str) {
        let wants = |slot: &usize| !self.m.ends_wild[*slot];
        if !set
            .iter()
            .any(|n| self.m.nodes[n].terminals.iter().any(wants))
        {
            return;
        }
        let Ok(elements) = serde_json::from_str::<Vec<&'a RawValue>>(array) else {
            return;
        };
        for node in set.iter() {
            for &slot in &self.m.nodes[node].terminals {
                if !self.m.ends_wild[slot] {
                    for e in &elements {
                        self.found.push((slot, Sel::Element(classify(e.get()))));
                    }
                }
            }
        }
    }

    #[inline]
    fn has_terminals(&self, set: &NodeSet) -> bool {
        set.has(NodeSet::TERMINALS)
    }

    #[inline]
    fn has_children(&self, set: &NodeSet) -> bool {
        set.has(NodeSet::CHILDREN)
    }

    /// Trie nodes reached from `set` through an object key or an array index. The same nodes,
    /// in the same order per node, as matching every child's key in turn: a node has at most one
    /// child per key name or index and one wildcard child.
    #[inline(always)]
    fn step(&self, set: &NodeSet, key: Step<'_>) -> NodeSet {
        let mut next = NodeSet::default();
        if let [node] = set.nodes() {
            // One node applies (most places): its one named child, without a wildcard, is
            // most steps that reach anything.
            let node = &self.m.nodes[*node as usize];
            match (node.child(key), node.wild) {
                (Some(child), None) | (None, Some(child)) => {
                    next.push(child, self.m.nodes[child].flags);
                    return next;
                }
                (None, None) => return next,
                (Some(_), Some(_)) => {}
            }
        }
        for node in set.iter() {
            let node = &self.m.nodes[node];
            // In the order the children were added, as the walk has always recorded them.
            let (first, second) = match (node.child(key), node.wild) {
                (Some(e), Some(w)) if w < e => (Some(w), Some(e)),
                (e, w) => (e, w),
            };
            if let Some(child) = first {
                next.push(child, self.m.nodes[child].flags);
            }
            if let Some(child) = second {
                next.push(child, self.m.nodes[child].flags);
            }
        }
        next
    }
}

impl Node {
    /// The child named by `key` (not the wildcard child).
    #[inline]
    fn child(&self, key: Step<'_>) -> Option<usize> {
        match key {
            // Length and first byte before the whole key: most keys of a message share a
            // length with some selector's key, few share its first byte too.
            Step::Key(s) => self
                .named
                .iter()
                .find(|(n, _)| {
                    n.len() == s.len() && n.first() == s.as_bytes().first() && **n == *s.as_bytes()
                })
                .map(|&(_, child)| child),
            Step::Index(j) => self
                .indexed
                .iter()
                .find(|&&(i, _)| i == j)
                .map(|&(_, child)| child),
        }
    }
}

impl Node {
    fn compute_flags(&self) -> u8 {
        let mut f = 0;
        if !self.terminals.is_empty() {
            f |= NodeSet::TERMINALS;
        }
        if !self.children.is_empty() {
            f |= NodeSet::CHILDREN;
        }
        if !self.containers.is_empty() {
            f |= NodeSet::CONTAINERS;
        }
        f
    }
}

#[derive(Clone, Copy)]
enum Step<'s> {
    Key(&'s str),
    Index(usize),
}

/// A small set of trie nodes that apply at one place in the document. The quotas (one
/// wildcard per selector, three wildcard selectors) keep it at most 4 nodes wide. It carries
/// what its nodes have (selectors ending there, children, wildcard containers), so the walk
/// asks without visiting the nodes.
#[derive(Default, Clone)]
struct NodeSet {
    nodes: [u32; NodeSet::CAPACITY],
    len: u8,
    flags: u8,
}

impl NodeSet {
    /// At most this many nodes; [`JsonMatcher::fits_node_sets`] says whether a trie keeps to it.
    const CAPACITY: usize = 8;
    const TERMINALS: u8 = 1;
    const CHILDREN: u8 = 2;
    const CONTAINERS: u8 = 4;

    /// The root of `m`'s trie.
    #[inline]
    fn root(m: &JsonMatcher) -> NodeSet {
        let mut s = NodeSet::default();
        s.push(0, m.nodes[0].flags);
        s
    }

    #[inline]
    fn push(&mut self, node: usize, flags: u8) {
        let node = u32::try_from(node).expect("fewer than 2^32 trie nodes");
        let len = usize::from(self.len);
        if len < self.nodes.len() && !self.nodes[..len].contains(&node) {
            self.nodes[len] = node;
            self.len += 1;
            self.flags |= flags;
        }
    }

    #[inline]
    fn nodes(&self) -> &[u32] {
        &self.nodes[..usize::from(self.len)]
    }

    #[inline]
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes[..usize::from(self.len)]
            .iter()
            .map(|&n| n as usize)
    }

    /// The first node (`u32::MAX` when empty): the same for every step by the same key.
    #[inline]
    fn first(&self) -> u32 {
        if self.len == 0 {
            u32::MAX
        } else {
            self.nodes[0]
        }
    }

    #[inline]
    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Classify a raw JSON value (already validated by serde_json).
fn classify(raw: &str) -> Found<'_> {
    classify_exact(raw.trim())
}

/// [`classify`] of a value without surrounding whitespace.
#[inline]
/// The text of the JSON string `quoted` (quotes included), as serde_json reads it; `None` where
/// serde_json refuses it. The envelope's unescaper answers, serde_json decides what it leaves.
fn json_string(quoted: &str) -> Option<String> {
    crate::payload::unquote_json_string(quoted)
        .or_else(|| serde_json::from_str::<String>(quoted).ok())
}

fn classify_exact(raw: &str) -> Found<'_> {
    match raw.as_bytes().first() {
        Some(b'"') => {
            if raw.contains('\\') {
                Found::Str(Cow::Owned(json_string(raw).unwrap_or_default()))
            } else {
                Found::Str(Cow::Borrowed(&raw[1..raw.len() - 1]))
            }
        }
        Some(b't') => Found::Bool(true),
        Some(b'f') => Found::Bool(false),
        Some(b'n') => Found::Null,
        Some(b'{' | b'[') | None => Found::Composite,
        Some(_) => Found::Num(raw),
    }
}

/// Deserializes the value at a place where `set` applies.
#[cfg(test)]
struct NodeSeed<'c, 'm, 'f, 'a> {
    ctx: &'c mut Ctx<'m, 'f, 'a>,
    set: NodeSet,
}

#[cfg(test)]
impl<'a> DeserializeSeed<'a> for NodeSeed<'_, '_, '_, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'a>>(self, deserializer: D) -> Result<(), D::Error> {
        self.ctx.reach(&self.set);
        if !self.ctx.has_terminals(&self.set) {
            return deserializer.deserialize_any(NodeVisitor {
                ctx: self.ctx,
                set: self.set,
            });
        }
        // A selected value: capture its text, then descend if other selectors go deeper.
        let raw = <&'a RawValue as serde::Deserialize>::deserialize(deserializer)?;
        let text: &'a str = raw.get();
        let found = classify(text);
        self.ctx.record(&self.set, found.clone());
        if text.trim_start().starts_with('[') {
            self.ctx.record_elements(&self.set, text);
        }
        if found == Found::Composite && self.ctx.has_children(&self.set) {
            let mut sub = serde_json::Deserializer::from_str(text);
            sub.deserialize_any(NodeVisitor {
                ctx: self.ctx,
                set: self.set,
            })
            .map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

#[cfg(test)]
struct NodeVisitor<'c, 'm, 'f, 'a> {
    ctx: &'c mut Ctx<'m, 'f, 'a>,
    set: NodeSet,
}

#[cfg(test)]
impl<'a> Visitor<'a> for NodeVisitor<'_, '_, '_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'a>>(self, mut map: A) -> Result<(), A::Error> {
        let NodeVisitor { ctx, set } = self;
        // Selected keys seen in this object, with the range of `found` their values produced:
        // when a key repeats, the last occurrence wins (as in serde_json and JavaScript).
        let mut seen: Vec<(Cow<'a, str>, usize, usize)> = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let next = ctx.step(&set, Step::Key(&key));
            if next.is_empty() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if let Some(i) = seen.iter().position(|(k, _, _)| *k == key) {
                let (_, start, end) = seen.remove(i);
                ctx.found.drain(start..end);
                for entry in &mut seen[i..] {
                    entry.1 -= end - start;
                    entry.2 -= end - start;
                }
            }
            let start = ctx.found.len();
            map.next_value_seed(NodeSeed {
                ctx: &mut *ctx,
                set: next,
            })?;
            seen.push((key, start, ctx.found.len()));
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'a>>(self, mut seq: A) -> Result<(), A::Error> {
        let NodeVisitor { ctx, set } = self;
        let mut index = 0;
        loop {
            let next = ctx.step(&set, Step::Index(index));
            let more = if next.is_empty() {
                seq.next_element::<IgnoredAny>()?.is_some()
            } else {
                seq.next_element_seed(NodeSeed {
                    ctx: &mut *ctx,
                    set: next,
                })?
                .is_some()
            };
            if !more {
                return Ok(());
            }
            index += 1;
        }
    }

    // Scalars where a selector expected an object or array: nothing to select.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        Ok(())
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// An object key, borrowed from the message unless it contains escapes.
#[cfg(test)]
struct KeySeed;

#[cfg(test)]
impl<'a> DeserializeSeed<'a> for KeySeed {
    type Value = Cow<'a, str>;

    fn deserialize<D: Deserializer<'a>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
struct KeyVisitor;

#[cfg(test)]
impl<'a> Visitor<'a> for KeyVisitor {
    type Value = Cow<'a, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'a str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{FilterPattern, ast::Ast, parse::parse};
    use super::{NumberProbe, clauses, required};

    /// The prefilter literals derived for a JSON pattern, sorted.
    fn literals(pattern: &str) -> Option<Vec<String>> {
        let Ast::Json(expr) = parse(pattern).unwrap() else {
            panic!("{pattern} is not a JSON pattern");
        };
        required(&expr).map(|set| {
            let mut v: Vec<String> = set
                .into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect();
            v.sort();
            v
        })
    }

    fn one(l: &str) -> Option<Vec<String>> {
        Some(vec![l.to_string()])
    }

    /// The set trie of these JSON patterns.
    fn set_of(patterns: &[String]) -> super::JsonMatcher {
        let asts: Vec<Ast> = patterns.iter().map(|p| parse(p).unwrap()).collect();
        let exprs: Vec<&super::JsonExpr> = asts
            .iter()
            .map(|a| match a {
                Ast::Json(e) => e,
                _ => panic!("not a JSON pattern"),
            })
            .collect();
        super::JsonMatcher::new_set(&exprs)
    }

    /// `{ $.k0.k1…k(n-1) = 1 }` with a wildcard at level `wild` (none: `None`).
    fn deep(n: usize, wild: Option<usize>) -> String {
        let keys: Vec<String> = (0..n)
            .map(|k| {
                if Some(k) == wild {
                    "*".into()
                } else {
                    format!("k{k}")
                }
            })
            .collect();
        format!("{{ $.{} = 1 }}", keys.join("."))
    }

    #[test]
    fn a_trie_fits_the_walk_unless_too_many_nodes_apply_at_one_place() {
        // The exact path and a wildcard at each of its first w levels: w + 1 nodes at depth w.
        let wild_levels = |n: usize, w: usize| -> Vec<String> {
            std::iter::once(deep(n, None))
                .chain((0..w).map(|l| deep(n, Some(l))))
                .collect()
        };
        assert!(set_of(&wild_levels(10, 7)).fits_node_sets(), "8 at most");
        assert!(
            !set_of(&wild_levels(10, 8)).fits_node_sets(),
            "9 at depth 9"
        );
        // Many selectors side by side never make a place wide.
        let flat: Vec<String> = (0..40).map(|k| format!("{{ $.a{k}.b = 1 }}")).collect();
        assert!(set_of(&flat).fits_node_sets());
        // Array indices and wildcards count the same way.
        let arrays: Vec<String> = (0..9)
            .map(|k| format!("{{ $.a[{k}] = 1 || $.a[*] = 1 || $.*[{k}] = 1 }}"))
            .collect();
        assert!(
            set_of(&arrays).fits_node_sets(),
            "a[k], a[*], *[k], *[*]? at most 4"
        );
    }

    #[test]
    fn string_equality_needs_its_literal_part() {
        assert_eq!(literals(r#"{ $.a.level = "ERROR" }"#), one("ERROR"));
        assert_eq!(literals("{ $.level = ERROR }"), one("ERROR"));
        assert_eq!(
            literals(r#"{ $.e = "AccessDenied*" }"#),
            one("AccessDenied")
        );
        assert_eq!(literals(r#"{ $.e = "*Denied" }"#), one("Denied"));
        assert_eq!(literals(r#"{ $.m = "*declined*" }"#), one("declined"));
        // A `*` in the middle is a literal character.
        assert_eq!(literals(r#"{ $.m = "Ev*ent" }"#), one("Ev*ent"));
        // A literal that could be (part of) a printed number: `1e3` is compared as `1000.0`, so
        // the key is required instead.
        assert_eq!(literals(r#"{ $.code = "400" }"#), one("\"code\""));
        assert_eq!(literals(r#"{ $.code = "*Infinity" }"#), one("\"code\""));
        assert_eq!(literals(r#"{ $.code = "4xx" }"#), one("4xx"));
        // Non-ASCII text appears as UTF-8 in a JSON message without escapes.
        assert_eq!(literals(r#"{ $.m = "café" }"#), one("café"));
    }

    #[test]
    fn conditions_without_a_value_literal_need_the_key() {
        assert_eq!(literals("{ $.a.level = * }"), one("\"level\""));
        assert_eq!(literals("{ $.latency > 100 }"), one("\"latency\""));
        assert_eq!(literals("{ $.status = 400 }"), one("\"status\""));
        assert_eq!(literals("{ $.status <= 4e2 }"), one("\"status\""));
        assert_eq!(literals("{ $.user.name = %^ad% }"), one("\"name\""));
        assert_eq!(literals("{ $.user IS NULL }"), one("\"user\""));
        assert_eq!(literals("{ $.ok IS TRUE }"), one("\"ok\""));
        assert_eq!(literals("{ $.ok IS FALSE }"), one("\"ok\""));
        // A very short value is a weaker filter than the key.
        assert_eq!(literals(r#"{ $.level = "E*" }"#), one("\"level\""));
    }

    #[test]
    fn selectors_with_indices_and_wildcards_use_their_last_key() {
        assert_eq!(literals("{ $.tags[*] > 1 }"), one("\"tags\""));
        assert_eq!(literals("{ $.a[0] IS TRUE }"), one("\"a\""));
        assert_eq!(literals("{ $.a.*.b > 1 }"), one("\"b\""));
        assert_eq!(literals("{ $.a.* > 1 }"), one("\"a\""));
        assert_eq!(literals("{ $.['k.d'] > 1 }"), one("\"k.d\""));
        assert_eq!(literals("{ $.* > 1 }"), None);
        assert_eq!(literals(r#"{ $.* = "ERROR" }"#), one("ERROR"));
    }

    #[test]
    fn negative_conditions_need_nothing() {
        assert_eq!(literals(r#"{ $.level != "ERROR" }"#), None);
        assert_eq!(literals("{ $.level != 5 }"), None);
        assert_eq!(literals("{ $.level NOT EXISTS }"), None);
        assert_eq!(literals("{ $.level = \"\" }"), one("\"level\""));
    }

    #[test]
    fn literals_json_must_escape_are_not_used() {
        assert_eq!(literals(r#"{ $.m = "say \"hi\"" }"#), one("\"m\""));
        assert_eq!(literals(r#"{ $.m = "a\\b" }"#), one("\"m\""));
        assert_eq!(literals(r#"{ $.['a"b'] > 1 }"#), None);
    }

    #[test]
    fn and_takes_one_operand_or_needs_every_branch() {
        assert_eq!(
            literals(r#"{ $.level != "x" && $.event = "slow_query" && $.ms > 1000 }"#),
            one("slow_query")
        );
        assert_eq!(
            literals(r#"{ $.level = "ERROR" && $.latency > 100 }"#),
            one("ERROR")
        );
        assert_eq!(
            literals(r#"{ $.level = "E*" && $.latency > 100 }"#),
            one("\"latency\"")
        );
        assert_eq!(literals(r#"{ $.a NOT EXISTS && $.b != "x" }"#), None);
        assert_eq!(
            literals(r#"{ $.level = "ERROR" || $.level = "FATAL" }"#),
            Some(vec!["ERROR".to_string(), "FATAL".to_string()])
        );
        assert_eq!(
            literals(r#"{ $.level = "ERROR" || ($.code > 500 && $.x != 1) }"#),
            Some(vec!["\"code\"".to_string(), "ERROR".to_string()])
        );
        assert_eq!(literals(r#"{ $.level = "ERROR" || $.x != 1 }"#), None);
        assert_eq!(literals(r#"{ $.level = "ERROR" || $.x NOT EXISTS }"#), None);
    }

    /// The prefilter clauses derived for a JSON pattern (each sorted), in order.
    fn clause_sets(pattern: &str) -> Vec<Vec<String>> {
        let Ast::Json(expr) = parse(pattern).unwrap() else {
            panic!("{pattern} is not a JSON pattern");
        };
        clauses(&expr)
            .into_iter()
            .map(|c| {
                let mut v: Vec<String> = c
                    .into_iter()
                    .map(|l| String::from_utf8(l).unwrap())
                    .collect();
                v.sort();
                v
            })
            .collect()
    }

    #[test]
    fn and_needs_a_literal_of_every_operand_with_value_literals() {
        let strs = |v: &[&[&str]]| -> Vec<Vec<String>> {
            v.iter()
                .map(|c| c.iter().map(|l| l.to_string()).collect())
                .collect()
        };
        assert_eq!(
            clause_sets(r#"{ $.level = "ERROR" && $.errorCode = "DA0001*" }"#),
            strs(&[&["ERROR"], &["DA0001"]])
        );
        assert_eq!(
            clause_sets(r#"{ $.a = "xyz" && ($.b = "uvw" && $.c > 1) }"#),
            strs(&[&["xyz"], &["uvw"]])
        );
        assert_eq!(
            clause_sets(r#"{ ($.l = "ERROR" || $.l = "FATAL") && $.m = "*late*" }"#),
            strs(&[&["ERROR", "FATAL"], &["late"]])
        );
        assert_eq!(
            clause_sets(r#"{ $.a = "xyz" && $.b = "xyz" }"#),
            strs(&[&["xyz"]])
        );
        // A key clause is not worth a second search: only the value one is kept.
        assert_eq!(
            clause_sets(r#"{ $.level = "ERROR" && $.latency > 100 }"#),
            strs(&[&["ERROR"]])
        );
        // No value literal anywhere: the best single clause, as `required` chooses it.
        assert_eq!(
            clause_sets("{ $.latency > 100 && $.status >= 500 }"),
            strs(&[&["\"latency\""]])
        );
        assert_eq!(
            clause_sets(r#"{ $.level = "ERROR" || $.latency > 1 }"#),
            strs(&[&["\"latency\"", "ERROR"]])
        );
        assert!(clause_sets(r#"{ $.a NOT EXISTS && $.b != "x" }"#).is_empty());
        assert_eq!(clause_sets(r#"{ $.a = "xyz" }"#), strs(&[&["xyz"]]));
    }

    #[test]
    fn every_clause_must_be_met() {
        let p = FilterPattern::parse(r#"{ $.level = "ERROR" && $.code = "DA0001*" }"#).unwrap();
        assert!(p.is_match(r#"{"level":"ERROR","code":"DA00012"}"#));
        assert!(!p.is_match(r#"{"level":"ERROR","code":"XX1"}"#));
        assert!(!p.is_match(r#"{"level":"INFO","code":"DA00012"}"#));
        // Escapes: walked in full.
        assert!(p.is_match(r#"{"level":"ERROR","code":"\u0044A00012"}"#));
        assert!(p.is_match(r#"{"level":"\u0045RROR","code":"DA00012"}"#));
    }

    #[test]
    fn a_number_probe_is_made_for_one_numeric_comparison_of_a_top_level_key() {
        let probe = |pattern: &str| {
            let Ast::Json(expr) = parse(pattern).unwrap() else {
                panic!("{pattern} is not a JSON pattern");
            };
            NumberProbe::new(&expr).is_some()
        };
        for yes in [
            "{ $.latency > 450 }",
            "{ $.status >= 500 }",
            "{ $.a = 1 }",
            "{ $.['k.d'] < 1 }",
        ] {
            assert!(probe(yes), "{yes}");
        }
        for no in [
            "{ $.a != 1 }",
            r#"{ $.a = "1" }"#,
            "{ $.a.b > 1 }",
            "{ $.a[0] > 1 }",
            "{ $.* > 1 }",
            "{ $.a > 1 && $.b > 2 }",
            "{ $.a > 1 || $.a < 0 }",
            "{ $.a = * }",
        ] {
            assert!(!probe(no), "{no}");
        }
    }

    #[test]
    fn a_number_probe_reads_the_numbers_after_the_key() {
        let p = FilterPattern::parse("{ $.latency > 450 }").unwrap();
        for (msg, want) in [
            (r#"{"latency":500}"#, true),
            (r#"{"latency":450}"#, false),
            ("{\"latency\" :\t451.5 ,\"x\":1}", true),
            (r#"{"latency":1,"latency":999}"#, true), // the last one wins
            (r#"{"latency":999,"latency":1}"#, false),
            (r#"{"a":{"latency":999},"latency":1}"#, false),
            (r#"{"a":{"latency":1},"latency":999}"#, true),
            (r#"{"latency":"999"}"#, false), // strings never satisfy `>`
            (r#"{"msg":"latency","latency":1}"#, false),
            (r#"{"msg":"latency","latency":451}"#, true),
            (r#"{"latency":1e3}"#, true),
            (r#"{"latency":-1e3}"#, false),
            (r#"{"latency":01}"#, false),      // not JSON
            (r#"{"latency":1e400}"#, false),   // does not fit an f64: not a match
            (r#"{"lat\u0065ncy":999}"#, true), // an escaped key: walked
            (r#"{"latency":999,"x":"\u0041"}"#, true),
            (r#"{"x":1}"#, false),
            (r#"{"latency":[999]}"#, false),
            (r#"{"latency":{"latency":999}}"#, false),
        ] {
            assert_eq!(p.is_match(msg), want, "{msg}");
        }
    }

    #[test]
    fn the_prefilter_rules_out_what_it_proves_absent_and_nothing_else() {
        let expr = |pattern: &str| {
            let Ast::Json(e) = parse(pattern).unwrap() else {
                panic!("{pattern} is not a JSON pattern");
            };
            e
        };
        let latency = expr("{ $.latency > 450 }");
        let probe = NumberProbe::new(&latency).unwrap();
        for (msg, rejected) in [
            (r#"{"latency":1}"#, true),
            ("{\"latency\" : 1, \"x\":2}", true),
            (r#"{"msg":"latency","latency":1}"#, true),
            (r#"{"x":1}"#, true),
            (r#"{"latency":451}"#, false),
            (r#"{"latency":"1"}"#, false),
            (r#"{"latency":1,"latency":999}"#, false),
        ] {
            assert_eq!(probe.rejects(msg), rejected, "{msg}");
        }
        // Through the matcher, as the rule set asks: a backslash always leaves it to the walk.
        let m = super::JsonMatcher::new(&latency);
        assert!(m.prefilter_rejects(0, r#"{"latency":1}"#));
        assert!(!m.prefilter_rejects(0, r#"{"latency":1,"m":"\n"}"#));
        let both = super::JsonMatcher::new(&expr(r#"{ $.level = "ERROR" && $.code = "DA0001*" }"#));
        let want: Vec<Vec<&[u8]>> = vec![vec![b"ERROR"], vec![b"DA0001"]];
        assert_eq!(both.prefilter_clauses(0), Some(want));
        assert!(both.prefilter_rejects(0, r#"{"level":"ERROR","code":"XX1"}"#));
        assert!(both.prefilter_rejects(0, r#"{"level":"WARN","code":"DA00012"}"#));
        assert!(!both.prefilter_rejects(0, r#"{"level":"ERROR","code":"DA00012"}"#));
    }

    #[test]
    fn a_node_set_holds_each_node_once_in_order_up_to_its_capacity() {
        use super::NodeSet;
        let mut set = NodeSet::default();
        assert_eq!(set.nodes(), &[] as &[u32]);
        set.push(3, NodeSet::TERMINALS);
        assert_eq!(set.nodes(), &[3]);
        set.push(5, NodeSet::CHILDREN);
        set.push(3, NodeSet::TERMINALS); // already there
        assert_eq!(set.nodes(), &[3, 5]);
        assert!(set.has(NodeSet::TERMINALS) && set.has(NodeSet::CHILDREN));
        assert!(!set.has(NodeSet::CONTAINERS));
        // Beyond the capacity nodes are not kept ([`JsonMatcher::fits_node_sets`] keeps a
        // shared walk's tries within it).
        for node in 10..20 {
            set.push(node, NodeSet::CONTAINERS);
        }
        assert!(set.has(NodeSet::CONTAINERS));
        assert_eq!(set.nodes(), &[3, 5, 10, 11, 12, 13, 14, 15]);
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [3, 5, 10, 11, 12, 13, 14, 15]
        );
    }

    #[test]
    fn escapes_of_non_ascii_characters_cannot_spell_ascii_literals() {
        use super::Escapes;
        let of = |m: &str| Escapes::of(m.as_bytes());
        let (none, non_ascii, ascii) = (
            Escapes::default(),
            Escapes {
                any: true,
                ascii: false,
            },
            Escapes {
                any: true,
                ascii: true,
            },
        );
        assert_eq!(of(r#"{"a":"é"}"#), none);
        for m in [
            r#""\u00e9""#,
            r#""\uc778\uc99d: x""#,
            r#""\ud83d\ude00""#,
            r#""\u0080""#,
            r#""\u00C9""#,
            r#""\u00c9""#,
            r#""\u0100""#,
            r#""\uFFFF""#,
        ] {
            assert_eq!(of(m), non_ascii, "{m}");
        }
        // An escape that can stand for an ASCII character, or one this does not read: `\\`
        // is an escaped backslash, whatever follows.
        for m in [
            r#""\u007f""#,
            r#""\u0045RROR""#,
            r#""\u00e9\n""#,
            r#""\\u00e9""#,
            r#""\/""#,
            r#""\"""#,
            r#""\u00"#,
            r#""\u00zz""#,
            r#""\u0g80""#,
            "\\",
        ] {
            assert_eq!(of(m), ascii, "{m}");
        }
        assert!(!none.can_hide(true) && !none.can_hide(false));
        assert!(!non_ascii.can_hide(true) && non_ascii.can_hide(false));
        assert!(ascii.can_hide(true) && ascii.can_hide(false));
    }

    #[test]
    fn escapes_of_non_ascii_text_do_not_defeat_the_prefilter() {
        let p = FilterPattern::parse(r#"{ $.level = "ERROR" }"#).unwrap();
        let m = super::JsonMatcher::new(match p.ast() {
            Ast::Json(e) => e,
            _ => unreachable!(),
        });
        // `json.dumps` of `{"level": "WARN", "msg": "인증"}`: ruled out without a walk.
        assert!(m.prefilter_rejects(0, r#"{"level": "WARN", "msg": "\uc778\uc99d"}"#));
        assert!(!m.prefilter_rejects(0, r#"{"level": "\u0045RROR", "msg": "\uc778"}"#));
        assert!(p.is_match(r#"{"level": "ERROR", "msg": "\uc778\uc99d"}"#));
        // A non-ASCII literal can be spelled by such an escape: walked, and matched.
        let p = FilterPattern::parse(r#"{ $.msg = "*인증*" }"#).unwrap();
        assert!(p.is_match(r#"{"msg": "\uc778\uc99d"}"#));
        assert!(!p.is_match(r#"{"msg": "\uc778\uc9c0"}"#));
        // The number probe too (its key is ASCII).
        let latency = super::JsonMatcher::new(
            match FilterPattern::parse("{ $.latency > 450 }").unwrap().ast() {
                Ast::Json(e) => e,
                _ => unreachable!(),
            },
        );
        assert!(latency.prefilter_rejects(0, r#"{"latency": 1, "m": "\u00e9"}"#));
        assert!(!latency.prefilter_rejects(0, r#"{"latency": 1, "m": "\u0041"}"#));
    }

    #[test]
    fn escaped_messages_are_walked_in_full() {
        let p = FilterPattern::parse(r#"{ $.level = "ERROR" }"#).unwrap();
        assert!(p.is_match(r#"{"level":"ERROR"}"#));
        assert!(!p.is_match(r#"{"level":"WARN"}"#));
        assert!(p.is_match(r#"{"level":"\u0045RROR"}"#));
        assert!(p.is_match(r#"{"lev\u0065l":"ERR\u004fR"}"#));
        assert!(!p.is_match(r#"{"level":"\u0057ARN"}"#));
        // Present but not matching: the literal alone does not decide.
        assert!(!p.is_match(r#"{"level":"WARN","msg":"ERROR"}"#));

        let p = FilterPattern::parse(r#"{ $.path = "/a*" }"#).unwrap();
        assert!(p.is_match(r#"{"path":"\/a\/b"}"#));
        assert!(p.is_match(r#"{"path":"/a/b"}"#));

        let p = FilterPattern::parse("{ $.level = * }").unwrap();
        assert!(p.is_match(r#"{"lev\u0065l":1}"#));
        assert!(!p.is_match(r#"{"lvl":1}"#));

        let p = FilterPattern::parse(r#"{ $.code = "400" }"#).unwrap();
        assert!(p.is_match(r#"{"code":400}"#));
        assert!(!p.is_match(r#"{"code":401}"#));

        let p = FilterPattern::parse(r#"{ $.level = "ERROR" || $.level = "FATAL" }"#).unwrap();
        assert!(p.is_match(r#"{"level":"FATAL"}"#));
        assert!(p.is_match(r#"{"level":"F\u0041TAL"}"#));
        assert!(!p.is_match(r#"{"level":"INFO"}"#));
    }
}
