//! A hand-written recursive-descent parser from pattern text to [`Ast`].
//!
//! Hand-written (rather than a parser generator) so that every error can name the exact
//! character and say what to do, in AWS's wording where AWS has one. Positions are character
//! (not byte) offsets, as AWS and editors count them.

use super::ast::*;
use super::error::PatternError;
use super::regex as aws_regex;

/// `filterPattern` length limit (API reference: TestMetricFilter, PutMetricFilter, …).
pub const MAX_PATTERN_CHARS: usize = 1024;
/// Regular expressions allowed in one JSON or space-delimited pattern.
pub const MAX_REGEXES: usize = 2;
/// Wildcards (`*`) allowed in one JSON property selector.
pub const MAX_WILDCARDS_PER_SELECTOR: usize = 1;
/// Selectors with a wildcard allowed in one JSON pattern.
pub const MAX_WILDCARD_SELECTORS: usize = 3;

const GENERIC: &str = "Invalid metric filter pattern";

/// Parse a whole pattern.
pub fn parse(source: &str) -> Result<Ast, PatternError> {
    let chars: Vec<char> = source.chars().collect();
    if chars.len() > MAX_PATTERN_CHARS {
        return Err(PatternError::new(
            source,
            MAX_PATTERN_CHARS,
            format!(
                "{GENERIC}: the pattern is {} characters long; the maximum is {MAX_PATTERN_CHARS}",
                chars.len()
            ),
        ));
    }
    let Some(first) = chars.iter().position(|&c| !is_ws(c)) else {
        return Ok(Ast::Empty);
    };
    let last = chars.iter().rposition(|&c| !is_ws(c)).unwrap_or(first);
    let mut p = Parser {
        src: source,
        chars: &chars,
        pos: first,
        end: last + 1,
        regexes: 0,
        wildcard_selectors: 0,
    };
    match chars[first] {
        '{' => {
            require_closing(&p, &chars, first, last, '}')?;
            p.pos = first + 1;
            p.end = last;
            p.json()
        }
        '[' => {
            require_closing(&p, &chars, first, last, ']')?;
            p.pos = first + 1;
            p.end = last;
            p.delimited()
        }
        '%' => {
            require_closing(&p, &chars, first, last, '%')?;
            // The expression ends at its first unescaped '%': anything after it (`%a% %b%`) is
            // a character that cannot follow a regular expression.
            let close = regex_close(&chars, first + 1, last).unwrap_or(last);
            if close < last {
                return Err(p.bad_chars(
                    close + 1,
                    close + 1,
                    "a regular expression is a whole pattern: one %…% and nothing after it",
                ));
            }
            let body: String = chars[first + 1..last].iter().collect();
            aws_regex::translate(&body, first + 1).map_err(|e| p.regex_error(first, e))?;
            Ok(Ast::Regex(RegexLit {
                body,
                span: Span::new(first, last + 1),
            }))
        }
        _ => p.terms(),
    }
}

/// A pattern that opens with `chars[first]` must close with `close` at `last` (AWS's wording).
fn require_closing(
    p: &Parser,
    chars: &[char],
    first: usize,
    last: usize,
    close: char,
) -> Result<(), PatternError> {
    if last == first || chars[last] != close {
        let open = chars[first];
        return Err(p.err(
            last + 1,
            format!("If a filter pattern starts with '{open}' it must end with '{close}'"),
        ));
    }
    Ok(())
}

/// The first unescaped `%` in `chars[from..to]`.
fn regex_close(chars: &[char], from: usize, to: usize) -> Option<usize> {
    let mut i = from;
    while i < to {
        match chars[i] {
            '\\' => i += 2,
            '%' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Parse a JSON property selector on its own (`$.a.b[0]`), e.g. for a metric value reference.
/// `source` must be exactly the selector (surrounding whitespace allowed).
pub fn parse_selector(source: &str) -> Result<Selector, PatternError> {
    let chars: Vec<char> = source.chars().collect();
    let first = chars.iter().position(|&c| !is_ws(c)).unwrap_or(chars.len());
    let last = chars
        .iter()
        .rposition(|&c| !is_ws(c))
        .map_or(first, |l| l + 1);
    let mut p = Parser {
        src: source,
        chars: &chars,
        pos: first,
        end: last,
        regexes: 0,
        wildcard_selectors: 0,
    };
    if p.peek() != Some('$') {
        return Err(p.err(first, "expected a JSON selector starting with '$.'"));
    }
    let sel = p.selector()?;
    if p.pos < p.end {
        return Err(p.err(
            p.pos,
            format!(
                "unexpected '{}' in the selector; use bracket notation $.['key'] for keys with other characters",
                chars[p.pos]
            ),
        ));
    }
    Ok(sel)
}

/// Whitespace between pattern elements: ASCII whitespace only, so that look-alikes such as a
/// no-break space pasted from a web page are reported instead of silently splitting terms.
pub(crate) fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0C')
}

/// Characters that can start an unquoted term: letters and digits of any script, and `_`.
fn is_term_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Characters that can continue an unquoted term: also `.` and `-` (`v1.2`, `user-id`).
fn continues_term(c: char) -> bool {
    is_term_char(c) || c == '.' || c == '-'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn is_field_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Characters that end an unquoted value.
fn ends_bare_value(c: char) -> bool {
    is_ws(c)
        || matches!(
            c,
            '(' | ')'
                | '&'
                | '|'
                | ','
                | '"'
                | '\''
                | '%'
                | '='
                | '!'
                | '<'
                | '>'
                | '['
                | ']'
                | '{'
                | '}'
                | '$'
        )
}

/// AWS's number grammar: an integer or decimal with an optional sign, optionally followed by
/// `e` and a signed integer (`404`, `-1.5`, `+1000`, `1e+3`, `10e-3`, `.5`).
pub(crate) fn is_aws_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

struct Parser<'a> {
    src: &'a str,
    chars: &'a [char],
    pos: usize,
    /// Exclusive end of the part being parsed (inside the outer brackets).
    end: usize,
    regexes: usize,
    wildcard_selectors: usize,
}

impl Parser<'_> {
    /// After a parenthesised group opened at `open_at`: skip spaces and consume its `)`.
    fn close_paren(&mut self, open_at: usize) -> Result<(), PatternError> {
        self.skip_ws();
        if self.peek() != Some(')') {
            return Err(self.err(
                self.pos,
                format!(
                    "{GENERIC}: expected ')' to close the '(' at character {}, found {}",
                    open_at + 1,
                    self.describe(self.pos)
                ),
            ));
        }
        self.pos += 1;
        Ok(())
    }

    fn err(&self, at: usize, msg: impl Into<String>) -> PatternError {
        PatternError::new(self.src, at, msg)
    }

    /// A refused `%…%` that opens at `open`.
    fn regex_error(&self, open: usize, e: aws_regex::RegexError) -> PatternError {
        if e.lexical {
            self.bad_chars(open, e.at, &e.msg)
        } else {
            self.err(e.at, e.msg)
        }
    }

    /// AWS's lexical error: `Invalid character(s) in term 'X'`, where X is the text of the token
    /// being read, from its first character (`token_start`) through the first one that cannot
    /// continue it (`bad`; the end of the pattern when the token ran out). Then our hint.
    fn bad_chars(&self, token_start: usize, bad: usize, hint: &str) -> PatternError {
        let end = (bad + 1).min(self.end).max(token_start);
        let text: String = self.chars[token_start..end].iter().collect();
        let at = bad.min(self.chars.len());
        self.err(at, format!("Invalid character(s) in term '{text}'; {hint}"))
    }

    /// The same, for a token that is wrong as a whole (`""`, an unclosed `"…`, a string where a
    /// number is needed): the caret points at its start.
    fn bad_token(&self, token_start: usize, last: usize, hint: &str) -> PatternError {
        let mut e = self.bad_chars(token_start, last, hint);
        e.position = token_start;
        e
    }

    fn peek(&self) -> Option<char> {
        (self.pos < self.end).then(|| self.chars[self.pos])
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        let i = self.pos + offset;
        (i < self.end).then(|| self.chars[i])
    }

    fn starts_with(&self, s: &str) -> bool {
        (self.pos..)
            .zip(s.chars())
            .all(|(i, c)| i < self.end && self.chars[i] == c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    /// The run of characters satisfying `f` at the cursor (not consumed).
    fn word_at(&self, at: usize, f: impl Fn(char) -> bool) -> String {
        self.chars[at..self.end]
            .iter()
            .take_while(|&&c| f(c))
            .collect()
    }

    fn describe(&self, at: usize) -> String {
        match self.chars.get(at) {
            Some(c) if at < self.end => format!("'{c}'"),
            _ => "the end of the pattern".to_string(),
        }
    }

    // ---------------------------------------------------------------- terms

    fn terms(&mut self) -> Result<Ast, PatternError> {
        let mut terms = Vec::new();
        loop {
            self.skip_ws();
            let Some(c) = self.peek() else { break };
            let start = self.pos;
            let mode = match c {
                '-' => TermMode::Exclude,
                '?' => TermMode::Optional,
                _ => TermMode::Include,
            };
            if mode != TermMode::Include {
                self.pos += 1;
                if self.peek().is_none_or(is_ws) {
                    return Err(self.err(
                        start,
                        format!(
                            "{GENERIC}: '{c}' must be followed by a term, e.g. {c}ERROR or {c}\"two words\""
                        ),
                    ));
                }
            }
            let (text, quoted) = if self.peek() == Some('"') {
                let text = self.quoted()?;
                if self.peek().is_some_and(|c| !is_ws(c)) {
                    return Err(self.err(
                        self.pos,
                        format!("{GENERIC}: expected a space after the closing '\"'"),
                    ));
                }
                if text.is_empty() {
                    return Err(self.bad_token(
                        start + usize::from(mode != TermMode::Include),
                        self.pos - 1,
                        "an empty phrase is not allowed; use an empty pattern or \" \" to match every event",
                    ));
                }
                (text, true)
            } else {
                let word_start = self.pos;
                let word = self.word_at(word_start, continues_term);
                let word = if word.starts_with(is_term_char) {
                    word
                } else {
                    String::new()
                };
                let after = word_start + word.chars().count();
                match self.peek_at(after - self.pos) {
                    None => {}
                    Some(c) if is_ws(c) => {}
                    Some('"') => {
                        return Err(self.err(
                            after,
                            format!(
                                "{GENERIC}: a quoted phrase must be separated from the term before it by a space"
                            ),
                        ));
                    }
                    Some(bad) => {
                        // The run of term characters is a complete term; the character after it
                        // starts a new one that cannot be (AWS names just that character).
                        let whole = self.word_at(word_start, |c| !is_ws(c));
                        let hint = if matches!(bad, '%' | '{' | '[') && after == word_start {
                            format!(
                                "a '{bad}…' pattern must be the whole filter pattern, not one of several terms"
                            )
                        } else {
                            format!(
                                "unquoted terms use letters, digits, '_' and (inside a term) '.' and '-'; put other text in double quotes: \"{}\"",
                                whole.replace('\\', "\\\\").replace('"', "\\\"")
                            )
                        };
                        return Err(self.bad_chars(after, after, &hint));
                    }
                }
                self.pos = after;
                (word, false)
            };
            terms.push(Term {
                mode,
                text,
                quoted,
                span: Span::new(start, self.pos),
            });
        }
        Ok(Ast::Terms(terms))
    }

    /// A `"…"` string at the cursor; `\"` and `\\` are escapes, any other `\` is literal.
    fn quoted(&mut self) -> Result<String, PatternError> {
        let open = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(self.bad_token(
                        open,
                        self.end,
                        "this quoted string has no closing '\"'",
                    ));
                }
                Some('\\') if matches!(self.peek_at(1), Some('"' | '\\')) => {
                    text.push(self.chars[self.pos + 1]);
                    self.pos += 2;
                }
                Some('"') => {
                    self.pos += 1;
                    return Ok(text);
                }
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    // ---------------------------------------------------------------- JSON

    fn json(&mut self) -> Result<Ast, PatternError> {
        let expr = self.json_or()?;
        self.skip_ws();
        if let Some(c) = self.peek() {
            return Err(self.err(
                self.pos,
                if c == ')' {
                    format!("{GENERIC}: this ')' has no matching '('")
                } else {
                    format!(
                        "{GENERIC}: unexpected '{c}' after a condition; join conditions with '&&' or '||'"
                    )
                },
            ));
        }
        Ok(Ast::Json(expr))
    }

    fn json_or(&mut self) -> Result<JsonExpr, PatternError> {
        let mut items = vec![self.json_and()?];
        while self.logical("||")? {
            items.push(self.json_and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            JsonExpr::Or(items)
        })
    }

    fn json_and(&mut self) -> Result<JsonExpr, PatternError> {
        let mut items = vec![self.json_prim()?];
        while self.logical("&&")? {
            items.push(self.json_prim()?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            JsonExpr::And(items)
        })
    }

    /// Consumes `op` (`&&` or `||`) if it comes next; rejects look-alikes.
    fn logical(&mut self, op: &str) -> Result<bool, PatternError> {
        self.skip_ws();
        if self.starts_with(op) {
            self.pos += 2;
            return Ok(true);
        }
        let at = self.pos;
        match self.peek() {
            Some('&') if !self.starts_with("&&") => Err(self.err(
                at,
                format!("{GENERIC}: a single '&' is not an operator; use '&&'"),
            )),
            Some('|') if !self.starts_with("||") => Err(self.err(
                at,
                format!("{GENERIC}: a single '|' is not an operator; use '||'"),
            )),
            Some(c) if c.is_ascii_alphabetic() => {
                let word = self.word_at(at, |c| c.is_ascii_alphabetic());
                match word.to_ascii_uppercase().as_str() {
                    "AND" => Err(self.err(
                        at,
                        format!("{GENERIC}: '{word}' is not an operator; use '&&'"),
                    )),
                    "OR" => Err(self.err(
                        at,
                        format!("{GENERIC}: '{word}' is not an operator; use '||'"),
                    )),
                    _ => Ok(false),
                }
            }
            _ => Ok(false),
        }
    }

    fn json_prim(&mut self) -> Result<JsonExpr, PatternError> {
        self.skip_ws();
        let at = self.pos;
        match self.peek() {
            Some('(') => {
                self.pos += 1;
                let inner = self.json_or()?;
                self.close_paren(at)?;
                Ok(inner)
            }
            Some('$') => Ok(JsonExpr::Cond(self.json_cond()?)),
            None => Err(self.err(
                at,
                format!("{GENERIC}: expected a condition such as `$.field = value`"),
            )),
            Some(c) => Err(self.err(
                at,
                format!(
                    "{GENERIC}: expected a property selector starting with '$.' (e.g. $.level), found '{c}'"
                ),
            )),
        }
    }

    fn json_cond(&mut self) -> Result<JsonCond, PatternError> {
        let start = self.pos;
        let selector = self.selector()?;
        if selector.wildcards() > 0 {
            self.wildcard_selectors += 1;
            if self.wildcard_selectors > MAX_WILDCARD_SELECTORS {
                return Err(self.err(
                    start,
                    format!(
                        "Your filter pattern exceeds the maximum of {MAX_WILDCARD_SELECTORS} json selectors with wildcards allowed per filter pattern."
                    ),
                ));
            }
        }
        let after_selector = self.pos;
        self.skip_ws();
        let kw_at = self.pos;
        let keyword = self.word_at(kw_at, |c| c.is_ascii_alphabetic());
        let test = match keyword.as_str() {
            "IS" => {
                self.pos += 2;
                let had_ws = self.peek().is_some_and(is_ws);
                self.skip_ws();
                let at = self.pos;
                let what = self.word_at(at, |c| c.is_ascii_alphabetic());
                let test = match what.as_str() {
                    "NULL" if had_ws => JsonTest::IsNull,
                    "TRUE" if had_ws => JsonTest::IsTrue,
                    "FALSE" if had_ws => JsonTest::IsFalse,
                    "NOT" => {
                        return Err(self.err(
                            kw_at,
                            format!(
                                "{GENERIC}: 'IS NOT' is not supported; use '!=' or 'NOT EXISTS'"
                            ),
                        ));
                    }
                    _ => {
                        return Err(self.err(
                            at,
                            format!("{GENERIC}: expected NULL, TRUE or FALSE after 'IS'"),
                        ));
                    }
                };
                self.pos += what.len();
                test
            }
            "NOT" => {
                self.pos += 3;
                let had_ws = self.peek().is_some_and(is_ws);
                self.skip_ws();
                let at = self.pos;
                if !had_ws || self.word_at(at, |c| c.is_ascii_alphabetic()) != "EXISTS" {
                    return Err(self.err(at, format!("{GENERIC}: expected EXISTS after 'NOT'")));
                }
                self.pos += 6;
                JsonTest::NotExists
            }
            "EXISTS" => {
                return Err(self.err(
                    kw_at,
                    format!(
                        "{GENERIC}: 'EXISTS' is not supported; use `= *` to require a field, or `NOT EXISTS`"
                    ),
                ));
            }
            w if !w.is_empty() => {
                let upper = w.to_ascii_uppercase();
                let hint = match upper.as_str() {
                    "IS" | "NOT" | "NULL" | "TRUE" | "FALSE" | "EXISTS" => {
                        format!("; keywords are upper case: write '{upper}'")
                    }
                    _ => String::new(),
                };
                return Err(self.err(
                    kw_at,
                    format!(
                        "{GENERIC}: expected an operator (=, !=, <, >, <=, >=, IS, NOT EXISTS) after the selector, found '{w}'{hint}"
                    ),
                ));
            }
            _ => {
                if self.pos == after_selector
                    && self
                        .peek()
                        .is_some_and(|c| !matches!(c, '=' | '!' | '<' | '>'))
                {
                    let c = self.chars[self.pos];
                    return Err(self.err(
                        self.pos,
                        format!(
                            "{GENERIC}: unexpected '{c}' in the property selector; selectors use letters, digits, '-' and '_' — use bracket notation $.['key'] for other keys"
                        ),
                    ));
                }
                let op = self.operator()?;
                self.skip_ws();
                let value = self.value(op)?;
                JsonTest::Compare { op, value }
            }
        };
        Ok(JsonCond {
            selector,
            test,
            span: Span::new(start, self.pos),
        })
    }

    /// `$.a.b[0]` at the cursor.
    fn selector(&mut self) -> Result<Selector, PatternError> {
        let start = self.pos;
        debug_assert_eq!(self.peek(), Some('$'));
        self.pos += 1;
        if self.peek() != Some('.') {
            return Err(self.bad_chars(
                start,
                self.pos,
                "expected '.' after '$' (selectors look like $.field, or $.['key'] for keys with dots)",
            ));
        }
        self.pos += 1;
        let mut segments = Vec::new();
        let mut wildcards = 0;
        let mut first = true;
        loop {
            let seg_at = self.pos;
            let seg = match self.peek() {
                // Right after `$.`, AWS reads `$.[` as one token.
                Some('[') => self.bracket_segment(if first { start } else { seg_at })?,
                Some('*') if first => {
                    self.pos += 1;
                    Segment::Wildcard { bracketed: false }
                }
                Some(c) if first && is_name_char(c) => self.name_segment(),
                None | Some(_) if first => {
                    return Err(self.err(
                        self.pos,
                        format!("{GENERIC}: expected a property name after '$.'"),
                    ));
                }
                Some('.') => {
                    self.pos += 1;
                    match self.peek() {
                        Some('*') => {
                            self.pos += 1;
                            Segment::Wildcard { bracketed: false }
                        }
                        Some('[') => self.bracket_segment(self.pos)?,
                        Some(c) if is_name_char(c) => self.name_segment(),
                        _ => {
                            return Err(self.err(
                                self.pos,
                                format!("{GENERIC}: expected a property name after '.'"),
                            ));
                        }
                    }
                }
                _ => break,
            };
            if matches!(seg, Segment::Wildcard { .. }) {
                wildcards += 1;
                if wildcards > MAX_WILDCARDS_PER_SELECTOR {
                    return Err(self.err(
                        seg_at,
                        "Your filter pattern has a JSON path selector that exceeds the maximum of 1 wildcard allowed per json selector.",
                    ));
                }
            }
            segments.push(seg);
            first = false;
        }
        Ok(Selector {
            segments,
            span: Span::new(start, self.pos),
        })
    }

    fn name_segment(&mut self) -> Segment {
        let name = self.word_at(self.pos, is_name_char);
        self.pos += name.chars().count();
        Segment::Key {
            name,
            bracketed: false,
        }
    }

    /// `[0]`, `[*]` or `['key']` at the cursor; `token_start` is where AWS's token began (the
    /// `[`, or the `$` of `$.[`), for its error text.
    fn bracket_segment(&mut self, token_start: usize) -> Result<Segment, PatternError> {
        let open = self.pos;
        self.pos += 1;
        let seg = match self.peek() {
            Some('*') => {
                self.pos += 1;
                Segment::Wildcard { bracketed: true }
            }
            Some(c) if c.is_ascii_digit() => {
                let digits = self.word_at(self.pos, |c| c.is_ascii_digit());
                let index = digits.parse::<usize>().map_err(|_| {
                    self.err(
                        self.pos,
                        format!("{GENERIC}: array index {digits} is too large"),
                    )
                })?;
                self.pos += digits.len();
                Segment::Index(index)
            }
            Some('\'') => {
                self.pos += 1;
                let key_start = self.pos;
                let name: String = self.word_at(key_start, |c| c != '\'');
                self.pos += name.chars().count();
                if self.peek() != Some('\'') {
                    return Err(self.err(
                        open,
                        format!("{GENERIC}: this ['key'] has no closing single quote"),
                    ));
                }
                if name.is_empty() {
                    return Err(self.err(key_start, format!("{GENERIC}: empty key in ['']")));
                }
                self.pos += 1;
                Segment::Key {
                    name,
                    bracketed: true,
                }
            }
            Some('"') => {
                return Err(self.bad_chars(
                    token_start,
                    self.pos,
                    "double quotation marks aren't supported inside bracket notation; use single quotes: $.['key']",
                ));
            }
            _ => {
                return Err(self.bad_chars(
                    token_start,
                    self.pos,
                    "expected an array index (0, 1, …), '*' or a 'quoted key' after '['",
                ));
            }
        };
        if self.peek() != Some(']') {
            return Err(self.err(
                self.pos,
                format!(
                    "{GENERIC}: expected ']' to close the '[' at character {}",
                    open + 1
                ),
            ));
        }
        self.pos += 1;
        Ok(seg)
    }

    /// `=`, `!=`, `<`, `>`, `<=`, `>=` at the cursor.
    fn operator(&mut self) -> Result<CmpOp, PatternError> {
        let at = self.pos;
        let run = self.word_at(at, |c| matches!(c, '=' | '!' | '<' | '>'));
        let op = match run.as_str() {
            "=" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            "<" => CmpOp::Lt,
            ">" => CmpOp::Gt,
            "<=" => CmpOp::Le,
            ">=" => CmpOp::Ge,
            "" => {
                return Err(self.err(
                    at,
                    format!(
                        "{GENERIC}: expected an operator (=, !=, <, >, <=, >=), found {}",
                        self.describe(at)
                    ),
                ));
            }
            "==" | "===" => {
                return Err(self.err(
                    at,
                    format!("{GENERIC}: '{run}' is not an operator; use '=' to compare"),
                ));
            }
            "!==" => {
                return Err(self.err(
                    at,
                    format!("{GENERIC}: '{run}' is not an operator; use '!='"),
                ));
            }
            _ => {
                return Err(self.err(
                    at,
                    format!("{GENERIC}: '{run}' is not an operator; use one of = != < > <= >="),
                ));
            }
        };
        self.pos += run.len();
        Ok(op)
    }

    /// The value after an operator: `"quoted"`, `%regex%`, a number, or an unquoted string.
    fn value(&mut self, op: CmpOp) -> Result<Value, PatternError> {
        let at = self.pos;
        let value = match self.peek() {
            Some('"') => Value::Str {
                text: self.quoted()?,
                quoted: true,
            },
            Some('%') => Value::Regex(self.regex_value()?),
            Some(c) if !ends_bare_value(c) => {
                let word = self.word_at(at, |c| !ends_bare_value(c));
                if let Some(bad) = word
                    .chars()
                    .position(|c| !(c.is_ascii_graphic() || c.is_alphanumeric()))
                {
                    return Err(self.bad_chars(
                        at,
                        at + bad,
                        &format!(
                            "put values with characters other than letters, digits and ASCII punctuation in double quotes: \"{word}\""
                        ),
                    ));
                }
                self.pos += word.chars().count();
                if is_aws_number(&word) {
                    let value = word.parse::<f64>().map_err(|_| {
                        self.err(at, format!("{GENERIC}: '{word}' is not a valid number"))
                    })?;
                    Value::Number { text: word, value }
                } else {
                    Value::Str {
                        text: word,
                        quoted: false,
                    }
                }
            }
            _ => {
                return Err(self.err(
                    at,
                    format!(
                        "{GENERIC}: expected a value after '{}' (a number, a \"string\", * or a %regex%), found {}",
                        op.as_str(),
                        self.describe(at)
                    ),
                ));
            }
        };
        if !op.is_equality() && !matches!(value, Value::Number { .. }) {
            // AWS names the whole value: `Invalid character(s) in term '"0"'`.
            return Err(self.bad_token(
                at,
                self.pos.saturating_sub(1).max(at),
                &format!(
                    "'{}' compares numbers; use a number here, or '='/'!=' for strings and regular expressions",
                    op.as_str()
                ),
            ));
        }
        Ok(value)
    }

    /// `%…%` at the cursor, as a JSON value or field condition (counts toward the quota).
    fn regex_value(&mut self) -> Result<RegexLit, PatternError> {
        let open = self.pos;
        let mut i = open + 1;
        while i < self.end && self.chars[i] != '%' {
            if self.chars[i] == '\\' {
                i += 1;
            }
            i += 1;
        }
        if i >= self.end {
            return Err(self.err(
                open,
                format!("{GENERIC}: this regular expression has no closing '%'"),
            ));
        }
        self.regexes += 1;
        if self.regexes > MAX_REGEXES {
            return Err(self.err(
                open,
                "Your input has exceeded the maximum of 2 regular expressions per filter pattern.",
            ));
        }
        let body: String = self.chars[open + 1..i].iter().collect();
        aws_regex::translate(&body, open + 1).map_err(|e| self.regex_error(open, e))?;
        self.pos = i + 1;
        Ok(RegexLit {
            body,
            span: Span::new(open, i + 1),
        })
    }

    // ---------------------------------------------------------------- space-delimited

    fn delimited(&mut self) -> Result<Ast, PatternError> {
        let mut fields: Vec<Field> = Vec::new();
        self.skip_ws();
        if self.peek().is_none() {
            return Ok(Ast::Delimited(fields));
        }
        loop {
            self.skip_ws();
            let start = self.pos;
            let field = match self.peek() {
                None | Some(',') => Field::Unnamed {
                    span: Span::new(start, start),
                },
                Some('.') if self.starts_with("...") => {
                    // AWS counts `...` as a field name: a second one is a duplicate.
                    if fields.iter().any(|f| matches!(f, Field::Ellipsis { .. })) {
                        return Err(self.err(start, "Duplicate field '...'"));
                    }
                    self.pos += 3;
                    Field::Ellipsis {
                        span: Span::new(start, self.pos),
                    }
                }
                Some(c) if c.is_ascii_digit() => {
                    // A field name cannot start with a digit; AWS names the whole word.
                    let word = self.word_at(start, is_field_name_char);
                    return Err(self.bad_token(
                        start,
                        start + word.chars().count().max(1) - 1,
                        "field names start with a letter or '_' (unnamed fields are reported as $1, $2, …)",
                    ));
                }
                Some(c) if is_field_name_char(c) || c == '(' => self.delimited_field()?,
                Some(c) => {
                    return Err(self.err(
                        start,
                        format!(
                            "{GENERIC}: expected a field name (letters, digits, '_'), '...' or ',', found '{c}'"
                        ),
                    ));
                }
            };
            if let Field::Named { name, span, .. } = &field {
                let duplicate = fields
                    .iter()
                    .any(|f| matches!(f, Field::Named { name: n, .. } if n == name));
                if duplicate {
                    return Err(self.err(span.start, format!("Duplicate field '{name}'")));
                }
            }
            fields.push(field);
            self.skip_ws();
            match self.peek() {
                None => break,
                Some(',') => self.pos += 1,
                Some(c) => {
                    let msg = match c {
                        '&' | '|' => format!(
                            "{GENERIC}: a condition needs an operator and a value before '{c}{c}', e.g. `name = value {c}{c} name = other`"
                        ),
                        '=' | '!' | '<' | '>' => format!(
                            "{GENERIC}: '...' and empty fields cannot have conditions; name the field, e.g. `status = 404`"
                        ),
                        _ => format!("{GENERIC}: expected ',' between fields, found '{c}'"),
                    };
                    return Err(self.err(self.pos, msg));
                }
            }
        }
        Ok(Ast::Delimited(fields))
    }

    /// `name` or `name op value [&&/|| name op value]…` at the cursor.
    fn delimited_field(&mut self) -> Result<Field, PatternError> {
        let start = self.pos;
        if self.peek() != Some('(') {
            let name = self.word_at(start, is_field_name_char);
            let after = start + name.chars().count();
            let mut look = after;
            while look < self.end && is_ws(self.chars[look]) {
                look += 1;
            }
            let next = (look < self.end).then(|| self.chars[look]);
            match next {
                None | Some(',') => {
                    self.pos = after;
                    return Ok(Field::Named {
                        name,
                        cond: None,
                        span: Span::new(start, after),
                    });
                }
                Some('=' | '!' | '<' | '>') => {}
                Some('&' | '|') => {
                    let c = self.chars[look];
                    return Err(self.err(
                        look,
                        format!(
                            "{GENERIC}: a condition needs an operator and a value before '{c}{c}', e.g. `{name} = value {c}{c} {name} = other`"
                        ),
                    ));
                }
                Some(c) if look == after => {
                    return Err(self.err(
                        look,
                        format!(
                            "{GENERIC}: unexpected '{c}' after field name '{name}'; field names use letters, digits and '_'"
                        ),
                    ));
                }
                Some(c) => {
                    return Err(self.err(
                        look,
                        format!("{GENERIC}: expected ',' between fields, found '{c}'"),
                    ));
                }
            }
        }
        let mut field_name: Option<(String, usize)> = None;
        let cond = self.field_or(&mut field_name)?;
        let name = field_name.map(|(n, _)| n).unwrap_or_default();
        Ok(Field::Named {
            name,
            cond: Some(cond),
            span: Span::new(start, self.pos),
        })
    }

    fn field_or(&mut self, name: &mut Option<(String, usize)>) -> Result<FieldExpr, PatternError> {
        let mut items = vec![self.field_and(name)?];
        while self.logical("||")? {
            items.push(self.field_and(name)?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            FieldExpr::Or(items)
        })
    }

    fn field_and(&mut self, name: &mut Option<(String, usize)>) -> Result<FieldExpr, PatternError> {
        let mut items = vec![self.field_prim(name)?];
        while self.logical("&&")? {
            items.push(self.field_prim(name)?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            FieldExpr::And(items)
        })
    }

    fn field_prim(
        &mut self,
        name: &mut Option<(String, usize)>,
    ) -> Result<FieldExpr, PatternError> {
        self.skip_ws();
        let at = self.pos;
        match self.peek() {
            Some('(') => {
                self.pos += 1;
                let inner = self.field_or(name)?;
                self.close_paren(at)?;
                Ok(inner)
            }
            Some(c) if is_field_name_char(c) => {
                let leaf = self.word_at(at, is_field_name_char);
                match name {
                    None => *name = Some((leaf.clone(), at)),
                    Some((first, _)) if *first != leaf => {
                        return Err(self.err(
                            at,
                            format!(
                                "Multiple variables used in a single filter. Var1 : {first}, Var2 : {leaf}"
                            ),
                        ));
                    }
                    Some(_) => {}
                }
                self.pos += leaf.chars().count();
                self.skip_ws();
                let op = self.operator()?;
                self.skip_ws();
                let value = self.value(op)?;
                Ok(FieldExpr::Cond {
                    name: leaf,
                    op,
                    value,
                    span: Span::new(at, self.pos),
                })
            }
            _ => Err(self.err(
                at,
                format!(
                    "{GENERIC}: expected a condition such as `name = value`, found {}",
                    self.describe(at)
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_number_grammar() {
        for ok in [
            "0", "404", "-1", "+1000", "1.5", "-0.25", ".5", "5.", "1e3", "10e-3", "1E+3",
        ] {
            assert!(is_aws_number(ok), "{ok}");
        }
        for bad in [
            "", "+", "-", ".", "e3", "1e", "1e+", "inf", "NaN", "1.2.3", "0x10", "4*", "1-2",
        ] {
            assert!(!is_aws_number(bad), "{bad}");
        }
    }
}
