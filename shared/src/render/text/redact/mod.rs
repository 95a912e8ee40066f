//! Redaction of secrets in log text before it leaves AWS: in log-filter (every SNS subscriber
//! gets redacted samples) and again in every renderer (on the text as a person will see it).
//!
//! ```
//! use logalert::render::text::redact::Redactor;
//! let r = Redactor::default();
//! assert_eq!(
//!     r.redact("login ok password=hunter2 key=AKIAIOSFODNN7EXAMPLE"),
//!     "login ok password=[REDACTED] key=[REDACTED:aws-access-key-id]"
//! );
//! // The secret is found in the form a reader would decode, and replaced where it is written.
//! assert_eq!(
//!     r.redact(r#"{"msg":"{\"password\":\"hunter2\"}"}"#),
//!     r#"{"msg":"{\"password\":\"[REDACTED]\"}"}"#
//! );
//! ```
//!
//! Two rule sets, applied together (docs/slack.md lists them):
//! * [`rules`] — written here: what a log line carries that a source-code scanner does not look for
//!   (key/value pairs with short values, credentials in URLs in every form, any `Authorization`
//!   scheme, cookies, card numbers, private key blocks, webhook URLs);
//! * [`gitleaks`] — the vendor token formats of the gitleaks project's default rule set (MIT),
//!   vendored as data (`gitleaks.toml`) with its keywords, secret groups, entropy thresholds and
//!   allowlists.
//!
//! Extra patterns (env `REDACT_PATTERNS`, a JSON list of regexes) run too; a match is replaced by
//! `[REDACTED]`, or, if the pattern has a capture group named `secret`, only that group is.
//!
//! How a text is scanned: every rule runs over the text itself and over its decoded views (ANSI
//! codes removed, JSON string escapes decoded up to three levels deep, percent-encoding undone,
//! see [`super::views`]); each finding is mapped back to the bytes of the original that spell
//! it, overlapping findings are merged, and each merged range is replaced by one label. A rule
//! only runs when one of its keywords occurs in the text (an Aho-Corasick prefilter), so a line
//! with nothing secret-looking costs one pass of the prefilter and of the few keyword-less rules.
//! Redacting twice changes nothing: rules read a `[REDACTED…]` label as one opaque word (never
//! part of a credential's syntax), and text inside a label is never a finding.

pub mod gitleaks;
pub mod rules;

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Captures, Regex};

use super::views::View;

/// A compiled set of redaction rules. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Redactor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    rules: Vec<Arc<Rule>>,
    /// Keyword → the rules it enables.
    prefilter: Option<AhoCorasick>,
    keyword_rules: Vec<Vec<usize>>,
    /// Rules with no keyword: always run.
    always: Vec<usize>,
    /// Answers already computed for these rules.
    memo: Memo,
}

/// Answers of [`Redactor::redact`] by text, so a text redacted again costs one lookup: log-filter
/// redacts the same log line in each alert that samples it and the subject before and after it
/// is sanitised, and a renderer redacts text that log-filter already redacted.
///
/// Why here and not a memo per publication or invocation: the repeats span alerts, rules and (in
/// a warm Lambda) invocations; every caller of a redactor gains without threading a cache
/// through; and it is sound, since an answer is a pure function of the rules (fixed for an
/// [`Inner`]) and the text. Keys are whole texts (a hash alone could collide and answer another
/// text's redaction), hashed by std's keyed SipHash since they are untrusted log text.
///
/// Why a `HashMap` behind a `Mutex` and not `lru` or `quick_cache`: clearing when full is all the
/// eviction it needs (repeats come close together), which is a few lines; a cache crate would add
/// a dependency for nothing else. Bounded: at most [`MEMO_MAX_ENTRIES`] entries, texts and answers
/// each at most [`MEMO_MAX_TEXT`] bytes, and [`MEMO_MAX_BYTES`] of them in all. It holds raw texts
/// (secrets included) only as long as its callers' own copies live in the same process, and its
/// `Debug` shows only its size.
#[derive(Default)]
struct Memo {
    state: Mutex<MemoState>,
}

#[derive(Default)]
struct MemoState {
    answers: HashMap<Box<str>, Box<str>>,
    /// Bytes of the texts and answers held.
    bytes: usize,
}

/// Entries the memo holds at most; it is cleared when one more would not fit.
const MEMO_MAX_ENTRIES: usize = 1024;
/// Longest text (and answer) the memo keeps, in bytes; longer ones are redacted each time.
const MEMO_MAX_TEXT: usize = 8 * 1024;
/// Bytes of texts and answers the memo holds at most.
const MEMO_MAX_BYTES: usize = 2 * 1024 * 1024;

impl Memo {
    /// The answer memoised for `text`.
    fn get(&self, text: &str) -> Option<String> {
        // A poisoned lock (a panic while it was held, which nothing here does) only costs the memo.
        let state = self.state.lock().ok()?;
        state.answers.get(text).map(|a| a.to_string())
    }

    /// Remember `answer` for `text` (too long: not kept; full: first cleared).
    fn insert(&self, text: &str, answer: &str) {
        if text.len() > MEMO_MAX_TEXT || answer.len() > MEMO_MAX_TEXT {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if state.answers.contains_key(text) {
            return;
        }
        let size = text.len() + answer.len();
        if state.answers.len() >= MEMO_MAX_ENTRIES || state.bytes + size > MEMO_MAX_BYTES {
            state.answers.clear();
            state.bytes = 0;
        }
        state.bytes += size;
        state.answers.insert(text.into(), answer.into());
    }

    /// Entries and bytes held.
    #[cfg(test)]
    fn size(&self) -> (usize, usize) {
        let state = self.state.lock().expect("memo lock");
        (state.answers.len(), state.bytes)
    }
}

impl fmt::Debug for Memo {
    /// Only the size: the texts are log text, secrets included.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.state.lock().map_or(0, |s| s.answers.len());
        f.debug_struct("Memo").field("entries", &entries).finish()
    }
}

/// Which part of a match is the secret.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Secret {
    /// The whole match.
    Whole,
    /// A named group (`secret` unless told otherwise); no finding when it did not participate.
    Named(&'static str),
    /// A numbered group.
    Group(usize),
    /// The first of these named groups that matched.
    AnyOf(&'static [&'static str]),
    /// The first non-empty capture group, else the whole match (gitleaks' rule).
    FirstGroup,
    /// Card digits: the whole run, or with separators the longest prefix of groups in a card
    /// layout (4-4-4-4[-3], 4-6-5, 4-6-4) — that passes the Luhn check.
    CardNumber,
    /// The `secret` group holds a cookie header value: each cookie's value is a secret (names
    /// and `Set-Cookie` attributes are kept).
    CookieValues,
}

/// A condition the secret must meet to count.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    None,
    /// Shannon entropy above this (bits per character), as gitleaks computes it.
    Entropy(f32),
    /// Looks random: at least 20 characters, or 12 with a digit (a token used as a URL's user,
    /// not `git@` or `ec2-user@`).
    TokenLike,
    /// The `key` group names a secret (not `token_count`), the value is not a scheme word, and
    /// the key is not a URL's user name.
    SecretKeyValue,
    /// The `tag` group names a secret, and the `secret` group (an element's text) is at most
    /// [`rules::XML_SECRET_MAX_CHARS`] characters.
    SecretElement,
    /// Not an authentication scheme word (`Bearer` in `token: Bearer …` is not the secret).
    NotSchemeWord,
    /// Shaped like a token, not a word (`Bearer authentication failed` is prose): a digit, one
    /// of `+/=._~-`, or an upper-case letter after the first character.
    TokenShaped,
    /// Has a digit and a letter (`sk-` + random, not `sk-learn-classifier-model`).
    Random,
}

/// One redaction rule.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) name: String,
    source: String,
    regex: OnceLock<Option<Regex>>,
    /// Lower-case literals; the rule runs only when one occurs (case-insensitively). Empty: always.
    pub(crate) keywords: Vec<String>,
    secret: Secret,
    check: Check,
    label: String,
    allow: Vec<gitleaks::Allowlist>,
}

impl Rule {
    pub(crate) fn new(name: &str, source: impl Into<String>, secret: Secret, label: &str) -> Rule {
        Rule {
            name: name.to_string(),
            source: source.into(),
            regex: OnceLock::new(),
            keywords: Vec::new(),
            secret,
            check: Check::None,
            label: label.to_string(),
            allow: Vec::new(),
        }
    }

    pub(crate) fn keywords(mut self, words: &[&str]) -> Rule {
        self.keywords = words.iter().map(|w| w.to_ascii_lowercase()).collect();
        self
    }

    pub(crate) fn check(mut self, check: Check) -> Rule {
        self.check = check;
        self
    }

    pub(crate) fn allow(mut self, allow: Vec<gitleaks::Allowlist>) -> Rule {
        self.allow = allow;
        self
    }

    /// The compiled regex (compiled on first use; `None` if it does not compile).
    fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| {
                regex::RegexBuilder::new(&self.source)
                    .size_limit(1 << 23)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    /// Whether the regex compiles.
    #[cfg(test)]
    pub(crate) fn compiles(&self) -> bool {
        self.regex().is_some()
    }

    /// Secret ranges (in `view`'s own bytes) this rule finds.
    fn scan(&self, text: &str, out: &mut Vec<Range<usize>>) {
        let Some(re) = self.regex() else {
            return;
        };
        // The DFA answers "no match" much faster than the capture engine searches.
        if !re.is_match(text) {
            return;
        }
        for c in re.captures_iter(text) {
            let whole = c.get(0).expect("group 0");
            if let Secret::CookieValues = self.secret {
                if let Some(v) = c.name("secret") {
                    rules::cookie_values(text, v.range(), out);
                }
                continue;
            }
            let range = match self.secret {
                Secret::Whole => Some(whole.range()),
                Secret::Named(name) => c.name(name).map(|m| m.range()),
                Secret::AnyOf(names) => names.iter().find_map(|n| c.name(n)).map(|m| m.range()),
                Secret::Group(i) => c.get(i).map(|m| m.range()),
                Secret::FirstGroup => first_group(&c).or(Some(whole.range())),
                Secret::CardNumber => rules::card_range(text, whole.range()),
                Secret::CookieValues => None,
            };
            let Some(range) = range.map(|r| trim_range(text, r)) else {
                continue;
            };
            if range.is_empty() {
                continue;
            }
            let secret = &text[range.clone()];
            if !self.passes(text, &c, secret) || self.allowed(text, secret, whole.range()) {
                continue;
            }
            out.push(range);
        }
    }

    fn passes(&self, text: &str, c: &Captures, secret: &str) -> bool {
        let group = |name: &str| c.name(name).map_or("", |m| m.as_str());
        match &self.check {
            Check::None => true,
            Check::Entropy(min) => shannon_entropy(secret) > f64::from(*min),
            Check::TokenLike => {
                let n = secret.chars().count();
                n >= 20 || (n >= 12 && secret.bytes().any(|b| b.is_ascii_digit()))
            }
            Check::NotSchemeWord => !is_scheme_word(secret),
            Check::SecretKeyValue => {
                let at = c.get(0).map_or(0, |m| m.start());
                rules::secret_key_name(group("key"))
                    && !is_scheme_word(secret)
                    // `https://x-token:…@host` is a URL's userinfo (the URL rules' business).
                    && !text[..at].ends_with("://")
            }
            Check::SecretElement => {
                rules::secret_key_name(group("tag"))
                    && group("secret").chars().count() <= rules::XML_SECRET_MAX_CHARS
            }
            Check::TokenShaped => {
                secret
                    .bytes()
                    .any(|b| b.is_ascii_digit() || b"+/=._~-".contains(&b))
                    || secret.chars().skip(1).any(char::is_uppercase)
            }
            Check::Random => {
                secret.bytes().any(|b| b.is_ascii_digit())
                    && secret.bytes().any(|b| b.is_ascii_alphabetic())
            }
        }
    }

    fn allowed(&self, text: &str, secret: &str, whole: Range<usize>) -> bool {
        self.allow
            .iter()
            .any(|a| a.allows(text, secret, whole.clone()))
    }
}

fn is_scheme_word(s: &str) -> bool {
    ["bearer", "basic", "token", "digest", "negotiate"]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w))
}

fn first_group(c: &Captures) -> Option<Range<usize>> {
    c.iter()
        .skip(1)
        .flatten()
        .find(|m| !m.is_empty())
        .map(|m| m.range())
}

/// Drop surrounding whitespace, and a backslash that escapes the quote after the secret.
fn trim_range(text: &str, r: Range<usize>) -> Range<usize> {
    let s = &text[r.clone()];
    let start = r.start + (s.len() - s.trim_start().len());
    let mut end = r.start + s.trim_end().len();
    if end > start {
        let run = text[start..end]
            .bytes()
            .rev()
            .take_while(|&b| b == b'\\')
            .count();
        if run % 2 == 1 && matches!(text.as_bytes().get(end), Some(b'"' | b'\'')) {
            end -= 1;
        }
    }
    start..end.max(start)
}

/// A user-supplied pattern that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("REDACT_PATTERNS[{index}]: invalid regex {pattern:?}: {message}")]
pub struct RedactPatternError {
    pub index: usize,
    pub pattern: String,
    pub message: String,
}

/// The default rules, compiled lazily and shared by every redactor built from them.
static DEFAULT_RULES: LazyLock<Vec<Arc<Rule>>> = LazyLock::new(|| {
    let mut all: Vec<Arc<Rule>> = rules::hand_rules().into_iter().map(Arc::new).collect();
    all.extend(gitleaks::rules().into_iter().map(Arc::new));
    all.extend(rules::generic_rules().into_iter().map(Arc::new));
    all
});

static DEFAULT: LazyLock<Redactor> = LazyLock::new(|| Redactor::from_rules(DEFAULT_RULES.clone()));

impl Default for Redactor {
    /// The default rules (see the module docs).
    fn default() -> Redactor {
        DEFAULT.clone()
    }
}

/// A found secret: the original bytes and the rule (its index, the lower the more specific).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub range: Range<usize>,
    pub rule: usize,
}

impl Redactor {
    fn from_rules(rules: Vec<Arc<Rule>>) -> Redactor {
        let mut words: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            if rule.keywords.is_empty() {
                always.push(i);
            }
            for w in &rule.keywords {
                match words.iter().position(|x| x == w) {
                    Some(k) => keyword_rules[k].push(i),
                    None => {
                        words.push(w.clone());
                        keyword_rules.push(vec![i]);
                    }
                }
            }
        }
        let prefilter = (!words.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&words)
                .expect("keywords build")
        });
        Redactor {
            inner: Arc::new(Inner {
                rules,
                prefilter,
                keyword_rules,
                always,
                memo: Memo::default(),
            }),
        }
    }

    /// No redaction at all (for tests and `logalert render --no-redact`).
    pub fn none() -> Redactor {
        Redactor::from_rules(Vec::new())
    }

    /// The defaults plus `extra` patterns.
    pub fn with_patterns<S: AsRef<str>>(extra: &[S]) -> Result<Redactor, RedactPatternError> {
        let mut rules = DEFAULT_RULES.clone();
        for (index, pattern) in extra.iter().enumerate() {
            let pattern = pattern.as_ref();
            let regex = Regex::new(pattern).map_err(|e| RedactPatternError {
                index,
                pattern: pattern.to_string(),
                message: e.to_string(),
            })?;
            let secret = if regex.capture_names().flatten().any(|n| n == "secret") {
                Secret::Named("secret")
            } else {
                Secret::Whole
            };
            let rule = Rule::new(&format!("custom-{index}"), pattern, secret, "[REDACTED]");
            let _ = rule.regex.set(Some(regex));
            rules.push(Arc::new(rule));
        }
        Ok(Redactor::from_rules(rules))
    }

    /// Parse `REDACT_PATTERNS` (a JSON list of regex strings) and build defaults + those.
    pub fn from_env_value(json: Option<&str>) -> Result<Redactor, RedactPatternError> {
        let Some(json) = json.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(Redactor::default());
        };
        let list: Vec<String> = serde_json::from_str(json).map_err(|e| RedactPatternError {
            index: 0,
            pattern: json.chars().take(80).collect(),
            message: format!("REDACT_PATTERNS must be a JSON list of strings: {e}"),
        })?;
        Redactor::with_patterns(&list)
    }

    /// Names of the active rules, in order of precedence.
    pub fn rule_names(&self) -> Vec<&str> {
        self.inner.rules.iter().map(|r| r.name.as_str()).collect()
    }

    /// Redact every secret `s` contains.
    pub fn redact(&self, s: &str) -> String {
        if self.inner.rules.is_empty() {
            return s.to_string();
        }
        if let Some(answer) = self.inner.memo.get(s) {
            return answer;
        }
        let (out, fixpoint) = self.redact_fresh(s);
        self.inner.memo.insert(s, &out);
        if fixpoint {
            // Its last pass found nothing, so redacting the answer gives it back unchanged (the
            // subject log-filter redacts again once sanitised, a renderer's second redaction).
            self.inner.memo.insert(&out, &out);
        }
        out
    }

    /// [`Redactor::redact`] without the memo, and whether the answer is a fixpoint (a pass over
    /// it found nothing), known to redact to itself.
    fn redact_fresh(&self, s: &str) -> (String, bool) {
        let Some(mut out) = self.redact_pass(s) else {
            return (s.to_string(), true);
        };
        // The answer is a fixpoint: redacting it again changes nothing. One pass can leave text
        // that reads as a secret together with a label (a token glued to more token characters,
        // `…Ky1Hghp_Zq8…`, keeps its glued part; a label is one opaque word), so passes repeat
        // until nothing new is found. Each pass that changes the text turns visible text into
        // labels (a finding of labels alone is dropped), so passes end; the bound only caps the
        // cost, and the fuzz target `redact` checks the fixpoint.
        for _ in 1..MAX_PASSES {
            match self.redact_pass(&out) {
                Some(next) => out = next,
                None => return (out, true),
            }
        }
        (out, false)
    }

    /// One pass of [`Redactor::redact`]: `None` when nothing is found.
    fn redact_pass(&self, s: &str) -> Option<String> {
        let findings = self.find(s);
        if findings.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(s.len());
        let mut at = 0;
        for f in &findings {
            out.push_str(&s[at..f.range.start]);
            out.push_str(&self.inner.rules[f.rule].label);
            at = f.range.end;
        }
        out.push_str(&s[at..]);
        Some(out)
    }

    /// Redact in place; `true` when anything changed.
    pub fn redact_in_place(&self, s: &mut String) -> bool {
        if self.inner.rules.is_empty() {
            return false;
        }
        let red = self.redact(s);
        let changed = red != *s;
        *s = red;
        changed
    }

    /// The secrets in `s`, as disjoint ranges of `s` in order, each with the rule whose label
    /// replaces it: the most specific rule that found exactly that range, else (a range merged
    /// from overlapping findings) the most specific rule among them. One pass: [`Redactor::redact`]
    /// repeats passes until nothing new is found.
    pub fn find(&self, s: &str) -> Vec<Finding> {
        if self.inner.rules.is_empty() || s.is_empty() {
            return Vec::new();
        }
        let mut raw: Vec<Finding> = Vec::new();
        if s.bytes().any(|b| matches!(b, b'\\' | 0x1b | b'%')) {
            for view in views(s) {
                self.scan(view.text(), Some(&view), &mut raw);
            }
        } else {
            // Nothing to decode: the text is its only view (no byte map needed).
            self.scan(s, None, &mut raw);
        }
        if raw.is_empty() {
            return raw;
        }
        // A finding made only of earlier labels (one, or several side by side) is nothing new.
        let labels = label_ranges(s);
        raw.retain(|f| !only_labels(s, &f.range, &labels));
        merge(raw)
    }

    /// Findings in `text`, a view of the original (`None`: the original itself).
    fn scan(&self, text: &str, view: Option<&View>, out: &mut Vec<Finding>) {
        let labels = label_ranges(text);
        let masked = mask_labels(text, &labels);
        let text = masked.as_deref().unwrap_or(text);
        let inner = &self.inner;
        let mut run = vec![false; inner.rules.len()];
        for &i in &inner.always {
            run[i] = true;
        }
        if let Some(ac) = &inner.prefilter {
            for m in ac.find_overlapping_iter(text) {
                for &i in &inner.keyword_rules[m.pattern().as_usize()] {
                    run[i] = true;
                }
            }
        }
        let mut ranges = Vec::new();
        for (i, rule) in inner.rules.iter().enumerate() {
            if !run[i] {
                continue;
            }
            ranges.clear();
            rule.scan(text, &mut ranges);
            for r in &ranges {
                // Only labels, as this view shows them (side by side once a colour code between
                // them is stripped): nothing new. Decided here, before mapping back, because in
                // the original the bytes between the labels would make the range look new.
                if only_labels(text, r, &labels) {
                    continue;
                }
                let range = view.map_or(r.clone(), |v| v.original_range(r.clone()));
                if !range.is_empty() {
                    out.push(Finding { range, rule: i });
                }
            }
        }
    }
}

/// The text and the decoded views of it that a reader might see.
fn views(s: &str) -> Vec<View> {
    let base = View::identity(s);
    let mut out = Vec::with_capacity(2);
    let mut current = base.ansi_stripped().unwrap_or_else(|| base.clone());
    if let Some(p) = base.percent_decoded() {
        out.push(p);
    }
    for _ in 0..3 {
        let Some(next) = current.json_unescaped() else {
            break;
        };
        let next = next.ansi_stripped().unwrap_or(next);
        out.push(std::mem::replace(&mut current, next));
    }
    out.push(current);
    if out.iter().all(|v| v.text() != s) {
        out.push(base);
    }
    out
}

/// Passes of [`Redactor::redact`] at most (the first nearly always suffices; see there).
const MAX_PASSES: usize = 4;

/// `text` with its `labels` (see [`label_ranges`]) spelt as `X`s of the same length (`None`: no label).
///
/// Rules see a label as one opaque word, the way a reader does: its inner `:` or `]` never
/// starts or ends a credential (`https://[REDACTED:github-token]@host` is a URL whose user was
/// redacted, not user `[REDACTED` with a password), and its name never triggers a keyword. The
/// byte offsets stay those of `text` (labels are ASCII), so findings map back unchanged; a finding
/// that is exactly a label is dropped by [`Redactor::find`], one that joins a label to more text
/// is redacted whole.
fn mask_labels(text: &str, labels: &[Range<usize>]) -> Option<String> {
    if labels.is_empty() {
        return None;
    }
    let mut bytes = text.as_bytes().to_vec();
    for l in labels {
        bytes[l.clone()].fill(b'X');
    }
    Some(String::from_utf8(bytes).expect("labels are ASCII, so the text stays UTF-8"))
}

/// Whether `range` of `text` shows a reader nothing but `labels` (disjoint, in order): at least
/// one label, and between them (and around them, inside the range) only what a reader never sees
/// — control characters and ANSI escape sequences, which the text pipeline strips.
fn only_labels(text: &str, range: &Range<usize>, labels: &[Range<usize>]) -> bool {
    let bytes = text.as_bytes();
    let mut at = range.start;
    let mut saw_label = false;
    for l in labels.iter().filter(|l| l.end > range.start) {
        if at >= range.end {
            break;
        }
        let gap_end = l.start.clamp(at, range.end);
        if !invisible(&bytes[at..gap_end]) {
            return false;
        }
        if l.start < range.end {
            saw_label = true;
            at = at.max(l.end);
        } else {
            at = gap_end;
        }
    }
    saw_label && (at >= range.end || invisible(&bytes[at..range.end]))
}

/// Whether `bytes` are only control characters and ANSI escape sequences (`ESC [ … final`).
fn invisible(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0x1b if bytes.get(i + 1) == Some(&b'[') => {
                // Parameters and intermediates up to the final byte (0x40–0x7e), inclusive.
                i += 2;
                while i < bytes.len() && !(0x40..=0x7e).contains(&bytes[i]) {
                    i += 1;
                }
                i += 1;
            }
            b if b < 0x20 || b == 0x7f => i += 1,
            _ => return false,
        }
    }
    true
}

/// `[REDACTED]` / `[REDACTED:name]` labels already in `s`.
fn label_ranges(s: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = s[from..].find("[REDACTED") {
        let start = from + at;
        let rest = &s[start + "[REDACTED".len()..];
        let end = match rest.as_bytes().first() {
            Some(b']') => Some(start + "[REDACTED]".len()),
            Some(b':') => rest
                .find(']')
                .filter(|&k| {
                    rest[1..k]
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
                .map(|k| start + "[REDACTED".len() + k + 1),
            _ => None,
        };
        match end {
            Some(end) => {
                out.push(start..end);
                from = end;
            }
            None => from = start + 1,
        }
    }
    out
}

/// Overlapping findings become one; its rule is the most specific one that found exactly that
/// range, or else the most specific one among those merged.
fn merge(mut raw: Vec<Finding>) -> Vec<Finding> {
    raw.sort_by(|a, b| {
        a.range
            .start
            .cmp(&b.range.start)
            .then(b.range.end.cmp(&a.range.end))
            .then(a.rule.cmp(&b.rule))
    });
    let mut out: Vec<(Finding, Vec<Finding>)> = Vec::new();
    for f in raw {
        match out.last_mut() {
            Some((cur, parts)) if f.range.start < cur.range.end => {
                cur.range.end = cur.range.end.max(f.range.end);
                parts.push(f);
            }
            _ => out.push((f.clone(), vec![f])),
        }
    }
    out.into_iter()
        .map(|(mut merged, parts)| {
            merged.rule = parts
                .iter()
                .filter(|p| p.range == merged.range)
                .map(|p| p.rule)
                .min()
                .unwrap_or_else(|| parts.iter().map(|p| p.rule).min().expect("non-empty"));
            merged
        })
        .collect()
}

/// The Luhn checksum over the digits of `s` (other characters ignored), 13–19 digits.
pub(crate) fn luhn(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let d = d * 2;
                if d > 9 { d - 9 } else { d }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Shannon entropy of `s` in bits per character (over bytes, as gitleaks computes it).
pub(crate) fn shannon_entropy(s: &str) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests;
