//! The guided walk of one JSON message, by hand.
//!
//! It does exactly what the serde_json walk it replaces did (that walk is kept below, under
//! `cfg(test)`, as the oracle of a differential property test): serde_json's `deserialize_map`
//! with the trie-guided visitor, values off every selector's path skipped as serde_json's
//! `ignore_value` skips them, selected values captured as serde_json's `RawValue` captures them.
//! So it accepts and rejects the same messages — serde_json's grammar, its string rules (no raw
//! control characters; `\uXXXX` surrogates validated where serde_json parses a string, a key or
//! a scalar on a selector's path, not where it skips one), its number rules (a number on a path
//! must fit an `f64`; a skipped one is only checked for its form) — and records the same values
//! in the same order.
//!
//! Why by hand: with one JSON walk serving every JSON rule, the walk is most of what matching
//! costs (`$.status >= 500` walks every JSON message). serde_json's deserializer goes through
//! its visitor machinery for every token and converts every number it meets on a path; this walk
//! finds the end of a string 16 bytes at a time ([`special_offset`]) and checks a number's form
//! without converting it. A key or string with escapes on a path is unescaped by the payload
//! decoder's unescaper, which answers as serde_json does or leaves the case to serde_json (a lone
//! surrogate, a bad escape); a number on a path that might not fit an `f64` is serde_json's.

use std::borrow::Cow;

use smallvec::SmallVec;

use super::{Ctx, Found, NodeSet, Step, classify_exact, json_string};
use crate::payload::special_offset;

/// The message is not what serde_json would accept (the walk then reports no match).
#[derive(Debug)]
pub(super) struct Invalid;

type Walked<T = ()> = Result<T, Invalid>;

pub(super) struct Walker<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// Walked (not skipped) containers open, counted as serde_json counts them for its
    /// recursion limit.
    depth: u32,
    /// Open containers of the value being skipped (`true`: an object).
    skipping: Vec<bool>,
    /// Per walked object open (innermost last, each from its own start index): the selected
    /// keys seen so far, with the first trie node their step reached (a repeated key reaches the
    /// same one, so comparing it first spares most string compares) and the range of `found`
    /// their values produced. One stack for the whole walk, with room for a few dozen keys
    /// inline, so an object allocates nothing.
    seen: SmallVec<[Seen<'a>; 16]>,
}

/// A selected key of an open object (see [`Walker::seen`]).
struct Seen<'a> {
    node: u32,
    key: Cow<'a, str>,
    start: usize,
    end: usize,
}

/// serde_json's recursion limit: it refuses a 128th walked container inside walked containers
/// (skipped values have no limit).
const DEPTH_LIMIT: u32 = 128;

impl<'a> Walker<'a> {
    /// Walk `msg`, one JSON object and nothing else, recording into `ctx`.
    pub(super) fn walk(ctx: &mut Ctx<'_, '_, 'a>, msg: &'a str) -> Walked {
        let mut w = Walker {
            s: msg,
            b: msg.as_bytes(),
            i: 0,
            depth: 0,
            skipping: Vec::new(),
            seen: SmallVec::new(),
        };
        w.ws();
        w.eat(b'{')?;
        w.object(ctx, NodeSet::root(ctx.m))?;
        w.ws();
        if w.i == w.b.len() {
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    /// Where the number starting at byte `at` of `s` ends, read exactly as the walk reads a
    /// number; `None` when none starts there (the prefilter's `NumberProbe`).
    pub(super) fn number_end(s: &'a str, at: usize) -> Option<usize> {
        let mut w = Walker {
            s,
            b: s.as_bytes(),
            i: at,
            depth: 0,
            skipping: Vec::new(),
            seen: SmallVec::new(),
        };
        w.number().ok().map(|_| w.i)
    }

    /// The members of an object whose `{` is consumed, at a place where `set` applies.
    fn object(&mut self, ctx: &mut Ctx<'_, '_, 'a>, set: NodeSet) -> Walked {
        self.enter()?;
        let members = self.members(ctx, set);
        self.depth -= 1;
        members
    }

    fn members(&mut self, ctx: &mut Ctx<'_, '_, 'a>, set: NodeSet) -> Walked {
        // This object's part of `seen` (a walk that fails is abandoned, so only a walk that
        // goes on needs it cut back).
        let base = self.seen.len();
        let members = self.members_from(ctx, set, base);
        self.seen.truncate(base);
        members
    }

    fn members_from(&mut self, ctx: &mut Ctx<'_, '_, 'a>, set: NodeSet, base: usize) -> Walked {
        // Selected keys seen in this object (`seen[base..]`), with the range of `found` their
        // values produced: when a key repeats, the last occurrence wins (as in serde_json and
        // JavaScript).
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            self.eat(b'"')?;
            let key = self.string(true)?.expect("wanted");
            self.ws();
            self.eat(b':')?;
            let next = ctx.step(&set, Step::Key(&key));
            if next.is_empty() {
                self.skip_value()?;
            } else {
                let node = next.first();
                if let Some(i) = self.seen[base..]
                    .iter()
                    .position(|s| s.node == node && s.key == key)
                {
                    let Seen { start, end, .. } = self.seen.remove(base + i);
                    ctx.found.drain(start..end);
                    for entry in &mut self.seen[base + i..] {
                        entry.start -= end - start;
                        entry.end -= end - start;
                    }
                }
                let start = ctx.found.len();
                self.value(ctx, next)?;
                self.seen.push(Seen {
                    node,
                    key,
                    start,
                    end: ctx.found.len(),
                });
            }
            self.ws();
            match self.next()? {
                b',' => {}
                b'}' => return Ok(()),
                _ => return Err(Invalid),
            }
        }
    }

    /// The elements of an array whose `[` is consumed.
    fn array(&mut self, ctx: &mut Ctx<'_, '_, 'a>, set: NodeSet) -> Walked {
        self.enter()?;
        let elements = self.elements(ctx, set);
        self.depth -= 1;
        elements
    }

    fn elements(&mut self, ctx: &mut Ctx<'_, '_, 'a>, set: NodeSet) -> Walked {
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        let mut index = 0;
        loop {
            let next = ctx.step(&set, Step::Index(index));
            if next.is_empty() {
                self.skip_value()?;
            } else {
                self.value(ctx, next)?;
            }
            self.ws();
            match self.next()? {
                b',' => {
                    self.ws();
                    if self.peek() == Some(b']') {
                        return Err(Invalid); // a trailing comma
                    }
                }
                b']' => return Ok(()),
                _ => return Err(Invalid),
            }
            index += 1;
        }
    }

    /// A value at a place where the non-empty `set` applies (the old `NodeSeed`).
    fn value(&mut self, ctx: &mut Ctx<'_, '_, 'a>, set: NodeSet) -> Walked {
        ctx.reach(&set);
        if !ctx.has_terminals(&set) {
            return self.any(ctx, set);
        }
        // A selected value: capture its text, then descend if other selectors go deeper.
        self.ws();
        let start = self.i;
        if let Some(text) = self.plain_string() {
            // Most selected values: borrowed as is, nothing else to look at.
            ctx.record(&set, Found::Str(Cow::Borrowed(text)));
            return Ok(());
        }
        self.skip_value()?;
        let text: &'a str = &self.s[start..self.i];
        // `skip_value` started at the value's first character and stopped after its last.
        let found = classify_exact(text);
        let composite = found == Found::Composite;
        ctx.record(&set, found);
        if text.starts_with('[') {
            ctx.record_elements(&set, text);
        }
        if composite && ctx.has_children(&set) {
            // serde_json walked it with a new deserializer: its depth starts again.
            let (end, depth) = (self.i, self.depth);
            (self.i, self.depth) = (start, 0);
            let walked = self.any(ctx, set);
            (self.i, self.depth) = (end, depth);
            walked?;
        }
        Ok(())
    }

    /// The text of the string starting here when it has no escapes (then consumed); `None`,
    /// consuming nothing, for anything else (a string with escapes, which
    /// [`Self::skip_value`] validates, or not a string).
    #[inline(always)]
    fn plain_string(&mut self) -> Option<&'a str> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let open = self.i + 1;
        let end = open + special_offset(&self.b[open..])?;
        (self.b[end] == b'"').then(|| {
            self.i = end + 1;
            &self.s[open..end]
        })
    }

    /// A value on a path but not selected itself (serde_json's `deserialize_any` with the
    /// visitor): containers are walked; scalars are parsed as serde_json parses them.
    fn any(&mut self, ctx: &mut Ctx<'_, '_, 'a>, set: NodeSet) -> Walked {
        self.ws();
        match self.next()? {
            b'{' => self.object(ctx, set),
            b'[' => self.array(ctx, set),
            b'"' => self.string(false).map(drop),
            b't' => self.ident(b"rue"),
            b'f' => self.ident(b"alse"),
            b'n' => self.ident(b"ull"),
            b'-' | b'0'..=b'9' => {
                self.i -= 1;
                let start = self.i;
                let plain_integer = self.number()?;
                // serde_json converts it: an integer of up to 18 digits always fits; anything
                // else is serde_json's to convert (`1e400` does not fit an `f64`: an error).
                let text = &self.s[start..self.i];
                let digits = text.len() - usize::from(text.starts_with('-'));
                if plain_integer && digits <= 18 {
                    return Ok(());
                }
                serde_json::from_str::<f64>(text)
                    .map(drop)
                    .map_err(|_| Invalid)
            }
            _ => Err(Invalid),
        }
    }

    /// One more walked container open; serde_json's recursion limit.
    fn enter(&mut self) -> Walked {
        if self.depth + 1 >= DEPTH_LIMIT {
            return Err(Invalid);
        }
        self.depth += 1;
        Ok(())
    }

    /// A string whose `"` is consumed, parsed as serde_json parses keys and strings (escapes
    /// validated, surrogates included). `want`: return its text.
    ///
    /// Inlined (like the other steps of every key: `Ctx::step`, `Ctx::reach`, the string and
    /// number cases of `skip_value`), with the rare cases out of line: a call per key and value
    /// was a tenth of the walk.
    #[inline(always)]
    fn string(&mut self, want: bool) -> Walked<Option<Cow<'a, str>>> {
        let start = self.i;
        let end = start + special_offset(&self.b[start..]).ok_or(Invalid)?;
        match self.b[end] {
            b'"' => {
                self.i = end + 1;
                Ok(want.then(|| Cow::Borrowed(&self.s[start..end])))
            }
            b'\\' => self.escaped_string(start, end, want),
            _ => Err(Invalid), // a control character
        }
    }

    /// [`Self::string`] from its first escape, at `end` (the string started at `start`).
    #[inline(never)]
    fn escaped_string(
        &mut self,
        start: usize,
        end: usize,
        want: bool,
    ) -> Walked<Option<Cow<'a, str>>> {
        // Escapes: find the end as serde_json's skip would, then let serde_json parse it.
        self.i = end;
        self.skip_string_rest()?;
        let quoted = &self.s[start - 1..self.i];
        json_string(quoted)
            .map(|s| want.then_some(Cow::Owned(s)))
            .ok_or(Invalid)
    }

    /// Skip one value as serde_json's `ignore_value` does: its form checked, nothing converted,
    /// no nesting limit.
    #[inline(always)]
    fn skip_value(&mut self) -> Walked {
        // A string or a number (most values) is all there is to skip: what the loop of
        // `skip_composite` does for one, without its container bookkeeping.
        self.ws();
        match self.peek() {
            Some(b'"') => {
                self.i += 1;
                self.skip_string_rest()
            }
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            _ => self.skip_composite(),
        }
    }

    /// [`Self::skip_value`] of anything but a string or a number.
    #[inline(never)]
    fn skip_composite(&mut self) -> Walked {
        debug_assert!(self.skipping.is_empty());
        self.skipping.clear();
        loop {
            self.ws();
            let opened = match self.next()? {
                b'"' => {
                    self.skip_string_rest()?;
                    false
                }
                b't' => self.ident(b"rue").map(|()| false)?,
                b'f' => self.ident(b"alse").map(|()| false)?,
                b'n' => self.ident(b"ull").map(|()| false)?,
                b'-' | b'0'..=b'9' => {
                    self.i -= 1;
                    self.number().map(|_| false)?
                }
                c @ (b'{' | b'[') => {
                    self.skipping.push(c == b'{');
                    true
                }
                _ => return Err(Invalid),
            };
            // After an opening bracket: an empty container, or its first member.
            if opened {
                self.ws();
                let object = *self.skipping.last().expect("just pushed");
                let close = if object { b'}' } else { b']' };
                if self.peek() == Some(close) {
                    self.i += 1;
                    self.skipping.pop();
                } else {
                    if object {
                        self.member_key()?;
                    }
                    continue;
                }
            }
            // After a complete value: the next member, or the end of containers.
            loop {
                let Some(&object) = self.skipping.last() else {
                    return Ok(());
                };
                self.ws();
                match self.next()? {
                    b',' => {
                        if object {
                            self.ws();
                            self.member_key()?;
                        }
                        break;
                    }
                    b'}' if object => {
                        self.skipping.pop();
                    }
                    b']' if !object => {
                        self.skipping.pop();
                    }
                    _ => return Err(Invalid),
                }
            }
        }
    }

    /// `"key":` of a skipped object (the key checked as serde_json's skip checks strings).
    fn member_key(&mut self) -> Walked {
        self.ws();
        self.eat(b'"')?;
        self.skip_string_rest()?;
        self.ws();
        self.eat(b':')
    }

    /// The rest of a string as serde_json's `ignore_str` reads it: no control characters, valid
    /// escape letters, four hex digits after `\u` (surrogates not checked).
    fn skip_string_rest(&mut self) -> Walked {
        loop {
            let at = self.i + special_offset(&self.b[self.i..]).ok_or(Invalid)?;
            self.i = at + 1;
            match self.b[at] {
                b'"' => return Ok(()),
                b'\\' => match self.next()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        let hex = self.b.get(self.i..self.i + 4).ok_or(Invalid)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return Err(Invalid);
                        }
                        self.i += 4;
                    }
                    _ => return Err(Invalid),
                },
                _ => return Err(Invalid),
            }
        }
    }

    /// A number's form (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`); true when it
    /// is a plain integer.
    fn number(&mut self) -> Walked<bool> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.next()? {
            b'0' => {
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    return Err(Invalid); // a leading zero
                }
            }
            b'1'..=b'9' => self.digits(),
            _ => return Err(Invalid),
        }
        let mut plain = true;
        if self.peek() == Some(b'.') {
            self.i += 1;
            plain = false;
            self.one_or_more_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            plain = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.one_or_more_digits()?;
        }
        Ok(plain)
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
    }

    fn one_or_more_digits(&mut self) -> Walked {
        if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
            return Err(Invalid);
        }
        self.digits();
        Ok(())
    }

    /// The rest of `true`, `false` or `null`.
    fn ident(&mut self, rest: &[u8]) -> Walked {
        if self.b[self.i..].starts_with(rest) {
            self.i += rest.len();
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Walked<u8> {
        let c = self.peek().ok_or(Invalid)?;
        self.i += 1;
        Ok(c)
    }

    fn eat(&mut self, c: u8) -> Walked {
        if self.next()? == c {
            Ok(())
        } else {
            Err(Invalid)
        }
    }
}

#[cfg(test)]
mod tests {
    //! The walk against the serde_json walk it replaced: the same messages accepted, the same
    //! values recorded in the same order, for random messages, random rule sets, and random
    //! damage to the messages.
    use super::super::super::{ast::Ast, parse::parse};
    use super::super::{Founds, JsonMatcher, first_value_in};
    use crate::pattern::ast::JsonExpr;
    use proptest::prelude::*;

    const PATTERNS: &[&str] = &[
        r#"{ $.level = "ERROR" }"#,
        "{ $.status >= 500 }",
        r#"{ $.user.tier = "gold" }"#,
        "{ $.tags[*] > 1 }",
        "{ $.tags[0] IS NULL }",
        r#"{ $.a.* = "x" }"#,
        r#"{ $.* = "ERROR" }"#,
        "{ $.a IS TRUE }",
        "{ $.b NOT EXISTS }",
        "{ $.a[1].b = 1 }",
        "{ $.user = * }",
        "{ $.['k.d'] > 1 }",
        r#"{ $.a != "x" }"#,
        "{ $.a.b.tier = 1 }",
        "{ $.tags[*] != 5 }",
        "{ $.user IS NULL && $.user.tier = * }",
    ];

    fn matcher(picks: &[usize]) -> JsonMatcher {
        let exprs: Vec<JsonExpr> = picks
            .iter()
            .map(|&i| match parse(PATTERNS[i]).unwrap() {
                Ast::Json(e) => e,
                _ => unreachable!("{}", PATTERNS[i]),
            })
            .collect();
        JsonMatcher::new_set(&exprs.iter().collect::<Vec<_>>())
    }

    fn walks_agree(m: &JsonMatcher, msg: &str) -> Result<(), TestCaseError> {
        let (mut new, mut old) = (Founds::new(), Founds::new());
        let (ok_new, ok_old) = (m.walk(msg, &mut new), m.walk_serde(msg, &mut old));
        prop_assert_eq!(ok_new, ok_old, "accepted? {:?}", msg);
        if ok_new {
            prop_assert_eq!(new, old, "recorded values of {:?}", msg);
        }
        Ok(())
    }

    const SCALARS: &[&str] = &[
        "null",
        "true",
        "false",
        "0",
        "-0",
        "1",
        "-12",
        "1.5",
        "1e3",
        "1E-2",
        "-0.0e+5",
        "500",
        "123456789012345678",
        "1234567890123456789",
        "-9223372036854775809",
        "99999999999999999999",
        "1e400",
        "-1e309",
        "1e-400",
        "2.5e308",
        r#""""#,
        r#""ERROR""#,
        r#""gold""#,
        r#""a\"b""#,
        r#""\u0045RROR""#,
        r#""\ud83d\ude00""#,
        r#""\ud800""#,
        r#""\udc00x""#,
        r#""é日本""#,
        r#""x\/y\b\f\n\r\t""#,
        r#""500""#,
        r#""x""#,
    ];
    const KEYS: &[&str] = &[
        r#""a""#,
        r#""b""#,
        r#""level""#,
        r#""status""#,
        r#""user""#,
        r#""tier""#,
        r#""tags""#,
        r#""lev\u0065l""#,
        r#""\ud800""#,
        r#""k.d""#,
        r#""""#,
        r#""t\"ags""#,
    ];
    const SPACE: &[&str] = &["", "", " ", "\n\t "];

    fn value() -> impl Strategy<Value = String> {
        let leaf = (prop::sample::select(SCALARS), prop::sample::select(SPACE))
            .prop_map(|(v, s)| format!("{s}{v}"));
        leaf.prop_recursive(5, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(
                    (
                        prop::sample::select(KEYS),
                        prop::sample::select(SPACE),
                        inner
                    ),
                    0..6
                )
                .prop_map(|v| {
                    let members: Vec<String> = v
                        .into_iter()
                        .map(|(k, s, v)| format!("{s}{k}{s}:{v}"))
                        .collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    fn message() -> impl Strategy<Value = String> {
        prop::collection::vec((prop::sample::select(KEYS), value()), 0..7).prop_map(|v| {
            let members: Vec<String> = v.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("{{{}}}", members.join(","))
        })
    }

    const DAMAGE: &[&str] = &[
        "", ",", "}", "]", "{", "[", ":", "\"", "\\", "01", "-", "1e", "1.", "tru", "\u{1}", " ",
        "\\u12", "\\ud800", "\\x", "1e400", "\"a\":", "[]", "{}",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_walk_agrees_with_serde_json(
            msg in message(), picks in prop::collection::vec(0..PATTERNS.len(), 1..6),
        ) {
            walks_agree(&matcher(&picks), &msg)?;
        }

        #[test]
        fn damaged_messages_are_judged_alike(
            msg in message(), picks in prop::collection::vec(0..PATTERNS.len(), 1..6),
            at in any::<prop::sample::Index>(), cut in 0usize..3, damage in prop::sample::select(DAMAGE),
        ) {
            let mut at = at.index(msg.len() + 1);
            while !msg.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + cut).min(msg.len());
            while !msg.is_char_boundary(end) {
                end += 1;
            }
            let damaged = format!("{}{damage}{}", &msg[..at], &msg[end..]);
            walks_agree(&matcher(&picks), &damaged)?;
        }

        #[test]
        fn a_set_walk_serves_what_a_lone_selector_finds(
            msg in message(), picks in prop::collection::vec(0..PATTERNS.len(), 1..6),
            at in any::<prop::sample::Index>(), damage in prop::sample::select(DAMAGE),
        ) {
            let m = matcher(&picks);
            slots_serve_lone_selectors(&m, &msg)?;
            let mut at = at.index(msg.len() + 1);
            while !msg.is_char_boundary(at) {
                at -= 1;
            }
            slots_serve_lone_selectors(&m, &format!("{}{damage}{}", &msg[..at], &msg[at..]))?;
        }
    }

    /// A slot is offered only where the set's walk cannot accept what the lone walk refuses:
    /// not with a wildcard in the trie, not where a selected container is walked into.
    #[test]
    fn slots_are_offered_only_where_the_walks_agree() {
        let set = |patterns: &[&str]| {
            let exprs: Vec<JsonExpr> = patterns
                .iter()
                .map(|p| match parse(p).unwrap() {
                    Ast::Json(e) => e,
                    _ => unreachable!("{p}"),
                })
                .collect();
            JsonMatcher::new_set(&exprs.iter().collect::<Vec<_>>())
        };
        let plain = set(&[
            r#"{ $.level = "ERROR" && $.user.tier = 1 }"#,
            "{ $.tags[0] > 1 }",
        ]);
        assert_eq!(plain.slot_for(&lone("$.level")), Some(0));
        assert_eq!(plain.slot_for(&lone("$.user.tier")), Some(1));
        assert_eq!(plain.slot_for(&lone("$.tags[0]")), Some(2));
        assert_eq!(plain.slot_for(&lone("$.user")), None, "not a slot");
        assert_eq!(plain.slot_for(&lone("$.x")), None);
        let wild = set(&[r#"{ $.level = "ERROR" }"#, "{ $.tags[*] > 1 }"]);
        assert_eq!(wild.slot_for(&lone("$.level")), None);
        let walked_into = set(&["{ $.user = * }", "{ $.user.tier = 1 }", "{ $.level = 1 }"]);
        assert_eq!(walked_into.slot_for(&lone("$.level")), None);
        assert_eq!(walked_into.slot_for(&lone("$.user.tier")), None);
        // Why: the selected `a` is walked again from depth 0, so the set's walk accepts a
        // message nested one level deeper than the lone selector's walk does.
        let deep = format!("$.a{}", ".a".repeat(127));
        let m = set(&["{ $.a = * }", &format!("{{ {deep} = 1 }}")]);
        let lone_deep = lone(&deep);
        assert_eq!(m.slot_for(&lone_deep), None);
        let msg = format!("{}1{}", "{\"a\":".repeat(128), "}".repeat(128));
        let mut found = Founds::new();
        assert!(m.walk(&msg, &mut found));
        assert!(first_value_in(&found, 1, &mut String::new()));
        assert!(!lone_deep.first_value_into(&msg, &mut String::new()));
    }

    /// Selectors a query key may use, on the paths of `PATTERNS` and off them.
    const LONE: &[&str] = &[
        "$.level",
        "$.status",
        "$.user",
        "$.user.tier",
        "$.tags",
        "$.tags[0]",
        "$.tags[*]",
        "$.a",
        "$.a.b",
        "$.a[1].b",
        "$.b",
        "$.['k.d']",
        "$.x",
        "$.a.b.tier",
        "$.*",
    ];

    fn lone(selector: &str) -> JsonMatcher {
        JsonMatcher::for_selector(&crate::pattern::parse::parse_selector(selector).unwrap())
    }

    /// Where the set's matcher offers a slot for a lone selector (`slot_for`), the set's walk,
    /// whenever it accepts the message, records for that slot exactly the first value the
    /// lone selector's own walk finds.
    fn slots_serve_lone_selectors(m: &JsonMatcher, msg: &str) -> Result<(), TestCaseError> {
        let mut found = Founds::new();
        if !m.walk(msg, &mut found) {
            return Ok(());
        }
        for selector in LONE {
            let lone = lone(selector);
            let Some(slot) = m.slot_for(&lone) else {
                continue;
            };
            let (mut served, mut own) = (String::new(), String::new());
            let served_some = first_value_in(&found, slot, &mut served);
            let own_some = lone.first_value_into(msg, &mut own);
            prop_assert_eq!(
                (served_some, &served),
                (own_some, &own),
                "{} in {:?}",
                selector,
                msg
            );
        }
        Ok(())
    }

    /// serde_json's recursion limit counts walked containers only, and starts again for a
    /// selected container that other selectors go into.
    #[test]
    fn deep_selectors_meet_the_same_limit() {
        for depth in [126, 127, 128, 129, 140] {
            let selector = ".a".repeat(depth);
            for pattern in [
                format!("{{ ${selector} = 1 }}"),
                format!("{{ $.a = * && ${selector} = 1 }}"),
                format!("{{ ${selector}[0] = 1 }}"),
            ] {
                let Ast::Json(expr) = parse(&pattern).unwrap() else {
                    unreachable!()
                };
                let m = JsonMatcher::new_set(&[&expr]);
                for nesting in depth - 2..depth + 2 {
                    let msg = format!("{}1{}", "{\"a\":".repeat(nesting), "}".repeat(nesting));
                    walks_agree(&m, &msg).unwrap();
                    let msg = format!("{}[1]{}", "{\"a\":".repeat(nesting), "}".repeat(nesting));
                    walks_agree(&m, &msg).unwrap();
                }
            }
        }
    }

    #[test]
    fn edge_messages_are_judged_alike() {
        let all: Vec<usize> = (0..PATTERNS.len()).collect();
        let m = matcher(&all);
        let deep = format!("{{\"x\":{}1{}}}", "[".repeat(5000), "]".repeat(5000));
        for msg in [
            r#"{"status":500,"level":"ERROR"}"#,
            r#"{"status":1e400}"#, // on a path: serde_json converts it, and fails
            r#"{"other":1e400}"#,  // skipped: only its form is checked
            r#"{"user":1e400}"#,   // selected: captured as written
            r#"{"a":{"b":1e400}}"#, // a path through `a`
            r#"{"a":[0,{"b":-1e309}]}"#,
            r#"{"lev\ud800":1}"#, // a key with a lone surrogate: serde_json refuses
            r#"{"other":"\ud800"}"#, // a skipped string with one: accepted
            r#"{"a":{"\ud800":1}}"#,
            r#"{"a":{"x":"\ud800"}}"#, // a string under a wildcard, selected
            r#"{"user":{"tier":"gold"},"user":{"tier":"x"}}"#, // a repeated key: the last wins
            r#"{"level":"ERROR",}"#,
            r#"{"tags":[1,2,]}"#,
            r#"{"tags":[1 2]}"#,
            r#"{"level":"ERROR"} x"#,
            r#" {"level":"ERROR"} "#,
            r#"["level"]"#,
            "{\"level\":\"ERR\tOR\"}",
            r#"{"status":01}"#,
            r#"{"status":-}"#,
            r#"{"status":1.}"#,
            r#"{"status":.5}"#,
            r#"{"x":tru}"#,
            r#"{"x":nulll}"#,
            &deep,
        ] {
            walks_agree(&m, msg).unwrap();
        }
    }
}
