//! `@fingerprint`: a log message with its variable parts replaced by placeholders, so that messages
//! of the same *kind* share one value (as Sentry groups issues).
//!
//! ```
//! use logalert::fingerprint::fingerprint;
//! assert_eq!(
//!     fingerprint("user 42 failed login from 10.0.0.7 after 1.5s (request 3f2a9c1e-0b7d-4e8a-9c1f-2a3b4c5d6e7f)"),
//!     "user <num> failed login from <ip> after <dur> (request <uuid>)"
//! );
//! assert_eq!(
//!     fingerprint("user 7 failed login from 192.168.1.20 after 250ms (request 00000000-0000-4000-8000-000000000000)"),
//!     fingerprint("user 42 failed login from 10.0.0.7 after 1.5s (request 3f2a9c1e-0b7d-4e8a-9c1f-2a3b4c5d6e7f)"),
//! );
//! assert_eq!(fingerprint(r#"GET /orders/1234/items failed: "card declined""#), "GET /orders/<num>/items failed: <str>");
//! ```
//!
//! ## Placeholders
//!
//! | placeholder | replaces | examples |
//! |---|---|---|
//! | `<ts>` | dates, times and timestamps | `2024-05-01`, `2024-05-01T10:00:00.123Z`, `2024/05/01 10:00:00,5`, `10:00:00`, `01/May/2024:10:00:00 +0000`, `May  1 10:00:00` |
//! | `<uuid>` | UUIDs (any version, any case) | `3f2a9c1e-0b7d-4e8a-9c1f-2a3b4c5d6e7f` |
//! | `<ip>` | IPv4 and IPv6 addresses (a port or prefix length stays `:<num>` / `/<num>`) | `10.0.0.7`, `fe80::1`, `2001:db8::ff00:42:8329`, `::ffff:10.0.0.1` |
//! | `<email>` | e-mail addresses | `a.b+tag@example.com` |
//! | `<dur>` | a number with a time unit, also compound | `250ms`, `1.5s`, `3m`, `1h30m`, `10us`, `2µs` |
//! | `<hex>` | hex ids: `0x…`, or 8+ hex digits with at least one digit | `0x7ffe`, `deadbeef01`, a git sha |
//! | `<num>` | numbers, with a sign after a non-word character, and decimals | `42`, `-5`, `3.14` |
//! | `<id>` | any other word that contains a digit | `user123`, `E3`, `i-0abc` → `i-<id>`, `v2` |
//! | `<str>` | a quoted string in plain text: `"…"` (with `\"` escapes) or `'…'` (opening quote not inside a word) | `"card declined"`, `'bob'` |
//!
//! Everything else is kept: words without digits, punctuation, path separators (so a path keeps its
//! static segments: `/users/<num>/orders/<uuid>`). Runs of whitespace become one space; leading and
//! trailing whitespace go.
//!
//! **JSON messages** (the message starts with `{` or `[`): object keys are kept, and string values
//! are fingerprinted *inside* rather than replaced whole — in structured logs the message text lives
//! in string values (`{"msg":"db timeout after 5s"}` → `{"msg":"db timeout after <dur>"}`). To group
//! by a field's kind instead, use the field itself as a selector.
//!
//! **Bounded**: the output is cut at a token boundary once it reaches [`MAX_FINGERPRINT_BYTES`]
//! (the start of a message decides its kind; a long stack trace's tail does not). The scan is one
//! left-to-right pass with no backtracking beyond one token (≤ 64 bytes for an e-mail's local part),
//! so the cost is linear in the message.
//!
//! **Properties** (tested): idempotent (`fingerprint(fingerprint(m)) == fingerprint(m)`); messages
//! that differ only in variable parts give the same fingerprint; different static text gives
//! different fingerprints; never panics, whatever the bytes.
//!
//! Why by hand and not `regex`: which placeholder applies depends on the token's context (word
//! boundaries, a quote's escapes, whether a quoted string is a JSON key, a sign after a
//! non-word character), which a single alternation cannot express without captures per
//! alternative and re-scanning; one hand-written pass does it in a few hundred nanoseconds
//! (BENCHMARKS.md, "Fingerprint").

/// The longest fingerprint, in bytes (cut at a token boundary).
pub const MAX_FINGERPRINT_BYTES: usize = 1024;

/// Longest e-mail local part considered (RFC 5321's limit).
const MAX_EMAIL_LOCAL: usize = 64;

/// The fingerprint of `message` (see the module docs for the placeholders).
pub fn fingerprint(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_FINGERPRINT_BYTES) + 16);
    fingerprint_into(message, &mut out);
    out
}

/// [`fingerprint`] appending to `out` (reuse a buffer across messages).
pub fn fingerprint_into(message: &str, out: &mut String) {
    let trimmed = message.trim_start();
    let json = matches!(trimmed.as_bytes().first(), Some(b'{' | b'['));
    let start = out.len();
    let mut s = Scanner {
        src: message,
        b: message.as_bytes(),
        i: 0,
        out,
        start,
        json,
        quotes: true,
        pending_space: false,
        no_single_close_before: 0,
    };
    s.run(message.len());
}

struct Scanner<'a, 'o> {
    src: &'a str,
    b: &'a [u8],
    i: usize,
    out: &'o mut String,
    /// Where this fingerprint starts in `out`.
    start: usize,
    /// The message is JSON: quoted strings are keys (kept) or values (fingerprinted inside).
    json: bool,
    /// Quoted strings are recognised (off inside a JSON string value).
    quotes: bool,
    pending_space: bool,
    /// A `'` before this position has no closing quote on its line (keeps the scan linear).
    no_single_close_before: usize,
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_run(b: &[u8], i: usize, max: usize) -> usize {
    b[i..]
        .iter()
        .take(max)
        .take_while(|c| c.is_ascii_hexdigit())
        .count()
}

fn digit_run(b: &[u8], i: usize) -> usize {
    b[i..].iter().take_while(|c| c.is_ascii_digit()).count()
}

/// Time units accepted after a number for `<dur>`, longest first so `ms` wins over `m`.
const UNITS: &[&str] = &[
    "milliseconds",
    "microseconds",
    "nanoseconds",
    "seconds",
    "minutes",
    "second",
    "minute",
    "millis",
    "hours",
    "hour",
    "days",
    "secs",
    "mins",
    "hrs",
    "sec",
    "min",
    "day",
    "hr",
    "ms",
    "us",
    "µs",
    "ns",
    "s",
    "m",
    "h",
    "d",
];

const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Scanner<'_, '_> {
    fn at(&self, j: usize) -> u8 {
        self.b.get(j).copied().unwrap_or(0)
    }

    /// Is the byte before `i` a word byte or `>`? A word may become a placeholder (`…>`) and a
    /// placeholder starts with `<`, so context checks treat `>` and `<` like word bytes: the
    /// same decision on the message and on its fingerprint (idempotence).
    fn after_word(&self, i: usize) -> bool {
        i > 0 && (is_word(self.b[i - 1]) || self.b[i - 1] == b'>')
    }

    fn boundary_at(&self, j: usize) -> bool {
        j >= self.b.len() || !is_word(self.b[j])
    }

    fn full(&self) -> bool {
        self.out.len() - self.start >= MAX_FINGERPRINT_BYTES
    }

    fn emit(&mut self, s: &str) {
        if self.pending_space {
            self.out.push(' ');
            self.pending_space = false;
        }
        self.out.push_str(s);
    }

    fn emit_src(&mut self, from: usize, to: usize) {
        let s = &self.src[from..to];
        self.emit(s);
    }

    fn run(&mut self, end: usize) {
        while self.i < end && !self.full() {
            let c = self.b[self.i];
            if is_space(c) {
                while self.i < end && is_space(self.b[self.i]) {
                    self.i += 1;
                }
                self.pending_space = self.out.len() > self.start;
                continue;
            }
            if self.special(end).is_some() {
                continue;
            }
            if is_word(c) {
                self.word(end);
                continue;
            }
            // One character of punctuation (ASCII here: non-ASCII bytes are word bytes).
            self.emit_src(self.i, self.i + 1);
            self.i += 1;
        }
        // Trailing whitespace is dropped (pending_space not flushed).
        self.pending_space = false;
    }

    /// Quoted strings, escapes, signed numbers, `::` addresses. Returns Some when it consumed input.
    fn special(&mut self, end: usize) -> Option<()> {
        let i = self.i;
        let c = self.b[i];
        match c {
            b'"' if self.quotes => self.double_quoted(end),
            b'\'' if self.quotes && !self.after_word(i) => self.single_quoted(end),
            b'\\' if !self.quotes && i + 1 < end && self.b[i + 1].is_ascii() => {
                self.emit_src(i, i + 2);
                self.i += 2;
                Some(())
            }
            b':' if self.at(i + 1) == b':' => {
                let n = ipv6(self.b, i, end)?;
                self.emit("<ip>");
                self.i += n;
                Some(())
            }
            b'-' if self.at(i + 1).is_ascii_digit() && !self.after_word(i) => {
                let (n, kind) = number_word(self.b, i + 1, end);
                if kind != Some("<num>") {
                    return None;
                }
                self.emit("<num>");
                self.i += 1 + n;
                Some(())
            }
            _ => None,
        }
    }

    fn double_quoted(&mut self, end: usize) -> Option<()> {
        let i = self.i;
        let mut j = i + 1;
        while j < end {
            match self.b[j] {
                b'\\' => j += 2,
                b'"' => break,
                b'\n' => return None,
                _ => j += 1,
            }
        }
        if j >= end {
            return None;
        }
        // b[j] is the closing quote.
        let mut k = j + 1;
        while k < end && (self.b[k] == b' ' || self.b[k] == b'\t') {
            k += 1;
        }
        // A key when a `:` follows — but not the `::` that starts an IPv6 address: that becomes
        // `<ip>`, and the fingerprint's own quote would then be followed by `<` and read as a
        // string (idempotence).
        let is_key = k < end
            && self.b[k] == b':'
            && !(self.at(k + 1) == b':' && ipv6(self.b, k, end).is_some());
        if is_key {
            self.emit_src(i, j + 1);
        } else if self.json {
            self.emit("\"");
            self.i = i + 1;
            self.quotes = false;
            self.run(j);
            self.quotes = true;
            self.pending_space = false;
            self.out.push('"');
        } else {
            self.emit("<str>");
        }
        self.i = j + 1;
        Some(())
    }

    fn single_quoted(&mut self, end: usize) -> Option<()> {
        let i = self.i;
        if i < self.no_single_close_before {
            return None;
        }
        let mut j = i + 1;
        while j < end {
            match self.b[j] {
                b'\n' => break,
                b'\'' if self.boundary_at(j + 1) && self.at(j + 1) != b'<' => {
                    self.emit("<str>");
                    self.i = j + 1;
                    return Some(());
                }
                _ => j += 1,
            }
        }
        self.no_single_close_before = j;
        None
    }

    /// A word, or a special form starting at a word character.
    fn word(&mut self, end: usize) {
        let i = self.i;
        let c = self.b[i];
        if let Some((n, placeholder)) = self.form_at(i, end, c) {
            self.emit(placeholder);
            self.i = i + n;
            return;
        }
        let mut j = i;
        while j < end && is_word(self.b[j]) {
            j += 1;
        }
        let w = &self.b[i..j];
        if w.iter().any(u8::is_ascii_digit) {
            let placeholder = if w.len() >= 8 && w.iter().all(u8::is_ascii_hexdigit) {
                "<hex>"
            } else {
                "<id>"
            };
            self.emit(placeholder);
        } else {
            self.emit_src(i, j);
        }
        self.i = j;
    }

    fn form_at(&self, i: usize, end: usize, c: u8) -> Option<(usize, &'static str)> {
        let b = &self.b[..end];
        if c.is_ascii_hexdigit()
            && let Some(n) = uuid(b, i)
        {
            return Some((n, "<uuid>"));
        }
        // IPv6 first: `12:34:56:78:9:a:b:c` is an address, not a clock time (a clock time
        // never has the 8 groups or the `::` an address needs).
        if c.is_ascii_hexdigit()
            && let Some(n) = ipv6(b, i, end)
        {
            return Some((n, "<ip>"));
        }
        if c.is_ascii_digit() {
            if let Some(n) = timestamp(b, i) {
                return Some((n, "<ts>"));
            }
            if let Some(n) = ipv4(b, i) {
                return Some((n, "<ip>"));
            }
        }
        if c == b'0' && matches!(self.at(i + 1), b'x' | b'X') {
            let n = hex_run(b, i + 2, usize::MAX);
            if n > 0 && self.boundary_at(i + 2 + n) {
                return Some((2 + n, "<hex>"));
            }
        }
        if c.is_ascii_uppercase()
            && let Some(n) = syslog_time(b, i)
        {
            return Some((n, "<ts>"));
        }
        if let Some(n) = email(b, i) {
            return Some((n, "<email>"));
        }
        if c.is_ascii_digit() {
            let (n, kind) = number_word(b, i, end);
            if let Some(kind) = kind {
                return Some((n, kind));
            }
        }
        None
    }
}

fn word_end(b: &[u8], j: usize) -> bool {
    j >= b.len() || !is_word(b[j])
}

/// `8-4-4-4-12` hex digits.
fn uuid(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    for (k, len) in [8usize, 4, 4, 4, 12].into_iter().enumerate() {
        if k > 0 {
            if b.get(j) != Some(&b'-') {
                return None;
            }
            j += 1;
        }
        if j > b.len() || hex_run(b, j, len + 1) != len {
            return None;
        }
        j += len;
    }
    word_end(b, j).then_some(j - i)
}

/// `N` digits exactly at `j`.
fn digits_exact(b: &[u8], j: usize, n: usize) -> bool {
    j + n <= b.len()
        && b[j..j + n].iter().all(u8::is_ascii_digit)
        && !b.get(j + n).is_some_and(u8::is_ascii_digit)
}

/// `HH:MM:SS` with optional fraction (`.` or `,`), at `j`; returns its length. With
/// `seconds_optional`, `HH:MM` suffices (after a date).
fn clock(b: &[u8], j: usize, seconds_optional: bool) -> Option<usize> {
    let h = digit_run(b, j);
    if !(1..=2).contains(&h) || b.get(j + h) != Some(&b':') || !digits_exact(b, j + h + 1, 2) {
        return None;
    }
    let mut k = j + h + 3;
    if b.get(k) == Some(&b':') && digits_exact(b, k + 1, 2) {
        k += 3;
        if matches!(b.get(k), Some(b'.' | b',')) {
            let f = digit_run(b, k + 1);
            if f > 0 {
                k += 1 + f;
            }
        }
    } else if !seconds_optional {
        return None;
    }
    Some(k - j + zone(b, k))
}

/// `Z`, `+HH:MM`, `+HHMM`, `-HH` after a time; 0 when none.
fn zone(b: &[u8], k: usize) -> usize {
    match b.get(k) {
        Some(b'Z') if word_end(b, k + 1) => 1,
        Some(b'+' | b'-') => {
            if digits_exact(b, k + 1, 2) && b.get(k + 3) == Some(&b':') && digits_exact(b, k + 4, 2)
            {
                6
            } else if digits_exact(b, k + 1, 4) {
                5
            } else if digits_exact(b, k + 1, 2) {
                3
            } else {
                0
            }
        }
        _ => 0,
    }
}

/// ISO dates and datetimes (`2024-05-01`, `2024/05/01`, `…T10:00:00.5Z`, `… 10:00`), bare clock
/// times (`10:00:00`), and the common log format date (`01/May/2024:10:00:00 +0000`).
fn timestamp(b: &[u8], i: usize) -> Option<usize> {
    let mut k;
    if digits_exact(b, i, 4)
        && matches!(b.get(i + 4), Some(b'-' | b'/'))
        && digits_exact(b, i + 5, 2)
        && b.get(i + 7) == b.get(i + 4)
        && digits_exact(b, i + 8, 2)
    {
        k = i + 10;
        if matches!(b.get(k), Some(b'T' | b' '))
            && let Some(n) = clock(b, k + 1, true)
        {
            k += 1 + n;
        }
    } else if digits_exact(b, i, 2)
        && b.get(i + 2) == Some(&b'/')
        && b.len() >= i + 7
        && MONTHS.iter().any(|m| &b[i + 3..i + 6] == m.as_bytes())
        && b.get(i + 6) == Some(&b'/')
        && digits_exact(b, i + 7, 4)
    {
        k = i + 11;
        if b.get(k) == Some(&b':')
            && let Some(n) = clock(b, k + 1, false)
        {
            k += 1 + n;
            if b.get(k) == Some(&b' ') && matches!(b.get(k + 1), Some(b'+' | b'-')) {
                let z = zone(b, k + 1);
                if z > 0 {
                    k += 1 + z;
                }
            }
        }
    } else {
        k = i + clock(b, i, false)?;
    }
    word_end(b, k).then_some(k - i)
}

/// `May  1 10:00:00` (syslog).
fn syslog_time(b: &[u8], i: usize) -> Option<usize> {
    if b.len() < i + 3 || !MONTHS.iter().any(|m| &b[i..i + 3] == m.as_bytes()) {
        return None;
    }
    let mut k = i + 3;
    let spaces = b[k..].iter().take_while(|&&c| c == b' ').count();
    if !(1..=2).contains(&spaces) {
        return None;
    }
    k += spaces;
    let d = digit_run(b, k);
    if !(1..=2).contains(&d) || b.get(k + d) != Some(&b' ') {
        return None;
    }
    k += d + 1;
    k += clock(b, k, false)?;
    word_end(b, k).then_some(k - i)
}

/// Dotted-quad IPv4 (each part ≤ 255).
fn ipv4(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    for part in 0..4 {
        if part > 0 {
            if b.get(j) != Some(&b'.') {
                return None;
            }
            j += 1;
        }
        let n = digit_run(b, j);
        if !(1..=3).contains(&n) {
            return None;
        }
        let v: u32 = std::str::from_utf8(&b[j..j + n]).ok()?.parse().ok()?;
        if v > 255 {
            return None;
        }
        j += n;
    }
    // `1.2.3.4.5` is not an address.
    if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    word_end(b, j).then_some(j - i)
}

/// IPv6: hex groups of ≤ 4 digits separated by `:`, either with one `::` or with exactly 8
/// groups, containing a digit; an IPv4 tail is allowed.
fn ipv6(b: &[u8], i: usize, end: usize) -> Option<usize> {
    let b = &b[..end];
    let mut j = i;
    let mut groups = 0;
    let mut double = false;
    let mut digit = false;
    loop {
        if b.get(j) == Some(&b':') && b.get(j + 1) == Some(&b':') {
            if double {
                return None;
            }
            double = true;
            j += 2;
        } else if j > i {
            if b.get(j) != Some(&b':') {
                break;
            }
            // A single ':' must be followed by a group.
            if !b.get(j + 1).is_some_and(u8::is_ascii_hexdigit) {
                break;
            }
            j += 1;
        }
        if (groups >= 1 || double)
            && let Some(n) = ipv4(b, j)
        {
            j += n;
            groups += 2;
            digit = true;
            break;
        }
        let n = hex_run(b, j, 5);
        if n == 0 {
            if double && b.get(j).is_none_or(|c| !is_word(*c)) {
                break;
            }
            return None;
        }
        if n > 4 {
            return None;
        }
        digit |= b[j..j + n].iter().any(u8::is_ascii_digit);
        groups += 1;
        j += n;
        if groups > 8 {
            return None;
        }
    }
    let ok = digit && (double && groups <= 7 || groups == 8) && word_end(b, j);
    ok.then_some(j - i)
}

/// `local@domain.tld`, starting at a word character.
fn email(b: &[u8], i: usize) -> Option<usize> {
    let local = b[i..]
        .iter()
        .take(MAX_EMAIL_LOCAL + 1)
        .take_while(|&&c| {
            c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
        })
        .count();
    if local == 0 || local > MAX_EMAIL_LOCAL || b.get(i + local) != Some(&b'@') {
        return None;
    }
    let mut j = i + local + 1;
    let mut labels = 0;
    loop {
        let n = b[j.min(b.len())..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'-')
            .count();
        if n == 0 {
            return None;
        }
        j += n;
        labels += 1;
        if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_alphanumeric) {
            j += 1;
        } else {
            break;
        }
    }
    (labels >= 2 && word_end(b, j)).then_some(j - i)
}

/// A number starting at a digit: `42`, `3.14` → `<num>`; `250ms`, `1h30m`, `1.5s` → `<dur>`.
/// Returns the length consumed and the placeholder, or `None` when the word is something else
/// (then the caller treats it as a word).
fn number_word(b: &[u8], i: usize, end: usize) -> (usize, Option<&'static str>) {
    let b = &b[..end];
    let mut j = i;
    let mut units = 0;
    loop {
        let n = digit_run(b, j);
        if n == 0 {
            break;
        }
        j += n;
        if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
            j += 1 + digit_run(b, j + 1);
        }
        match UNITS.iter().find(|u| b[j..].starts_with(u.as_bytes())) {
            Some(u)
                if units > 0
                    || word_end(b, j + u.len())
                    || b.get(j + u.len()).is_some_and(u8::is_ascii_digit) =>
            {
                // Compound durations continue with digits (`1h30m`).
                let after = j + u.len();
                if word_end(b, after) {
                    return (after - i, Some("<dur>"));
                }
                if !b[after].is_ascii_digit() {
                    return (0, None);
                }
                units += 1;
                j = after;
            }
            _ => {
                if units == 0 && word_end(b, j) {
                    return (j - i, Some("<num>"));
                }
                return (0, None);
            }
        }
    }
    (0, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[track_caller]
    fn fp(m: &str, want: &str) {
        assert_eq!(fingerprint(m), want, "message: {m:?}");
        assert_eq!(
            fingerprint(want),
            want,
            "placeholder form is not stable: {want:?}"
        );
    }

    #[test]
    fn numbers_and_signs() {
        fp("retry 3 of 10", "retry <num> of <num>");
        fp("offset=-5 ratio 0.75", "offset=<num> ratio <num>");
        fp("a-5 b", "a-<num> b");
        fp("12345678", "<num>");
        fp("v1.2.3", "<id>.<num>");
    }

    #[test]
    fn durations() {
        fp("took 250ms", "took <dur>");
        fp(
            "took 1.5s, then 3m and 1h30m, 10us 2µs 7 seconds",
            "took <dur>, then <dur> and <dur>, <dur> <dur> <num> seconds",
        );
        fp("5xx rate", "<id> rate");
        fp("30 minutes", "<num> minutes");
        fp("30minutes", "<dur>");
    }

    #[test]
    fn ids_and_hex() {
        fp("user123 code E3", "<id> code <id>");
        fp(
            "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
            "commit <hex>",
        );
        fp("addr 0x7ffe12 0XAB", "addr <hex> <hex>");
        fp("deadbeef stays", "deadbeef stays");
        fp("instance i-0abc123def456", "instance i-<hex>");
        fp("under_score_1", "<id>");
    }

    #[test]
    fn uuids() {
        fp(
            "req 3F2A9C1E-0B7D-4E8A-9C1F-2A3B4C5D6E7F done",
            "req <uuid> done",
        );
        fp(
            "/orders/3f2a9c1e-0b7d-4e8a-9c1f-2a3b4c5d6e7f/items",
            "/orders/<uuid>/items",
        );
        // One hex digit short: not a UUID, the parts are ids/hex.
        fp(
            "3f2a9c1-0b7d-4e8a-9c1f-2a3b4c5d6e7f",
            "<id>-<id>-<id>-<id>-<hex>",
        );
    }

    #[test]
    fn ip_addresses() {
        fp("from 10.0.0.7:443", "from <ip>:<num>");
        fp("net 192.168.0.0/16", "net <ip>/<num>");
        fp("bad 256.1.1.1", "bad <num>.<num>");
        fp(
            "addr fe80::1 and 2001:db8::ff00:42:8329",
            "addr <ip> and <ip>",
        );
        fp("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "full <ip>");
        fp(
            "loopback ::1 mapped ::ffff:10.0.0.1",
            "loopback <ip> mapped <ip>",
        );
        fp("std::io::Error", "std::io::Error");
        fp("1.2.3.4.5", "<num>.<num>.<num>");
    }

    #[test]
    fn emails() {
        fp("sent to a.b+tag@example.co.uk.", "sent to <email>.");
        fp("user@localhost", "user@localhost");
        fp("(bob@example.com)", "(<email>)");
    }

    #[test]
    fn timestamps() {
        fp("2024-05-01T10:00:00.123Z ERROR x", "<ts> ERROR x");
        fp("2024-05-01 10:00:00,5 INFO", "<ts> INFO");
        fp("at 2024/05/01 10:00", "at <ts>");
        fp("day 2024-05-01 ok", "day <ts> ok");
        fp("10:00:00.250 tick", "<ts> tick");
        fp("2024-05-01T10:00:00+02:00 x", "<ts> x");
        fp(
            r#"1.2.3.4 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 200"#,
            "<ip> - - [<ts>] <str> <num>",
        );
        fp(
            "May  1 10:00:00 host sshd[123]: x",
            "<ts> host sshd[<num>]: x",
        );
        fp("ratio 3:2", "ratio <num>:<num>");
    }

    #[test]
    fn quoted_strings() {
        fp(r#"user "bob smith" not found"#, "user <str> not found");
        fp(r#"say "a \"b\" c" now"#, "say <str> now");
        fp("name 'bob' missing", "name <str> missing");
        fp("don't stop", "don't stop");
        fp(r#"unclosed "quote here"#, r#"unclosed "quote here"#);
        fp("it's bob's", "it's bob's");
        fp(r#"plain {"user":"bob"}"#, r#"plain {"user":<str>}"#);
        // A `::` after the quote starts an address, not a value: the string is not a key (found
        // by the idempotence property: `"aa"::2000-…` kept `"aa"` as a key, its fingerprint
        // `"aa"<ip>…` did not).
        fp(r#""aa"::2000 x"#, "<str><ip> x");
        fp(r#""aa"::x"#, r#""aa"::x"#);
        let m = r#""aa"::2000-01-01T00:00:00.000Z"#;
        assert_eq!(fingerprint(&fingerprint(m)), fingerprint(m));
    }

    #[test]
    fn json_messages() {
        fp(
            r#"{"level":"error","msg":"db timeout after 5s","user":"u123","n":42}"#,
            r#"{"level":"error","msg":"db timeout after <dur>","user":"<id>","n":<num>}"#,
        );
        fp(
            r#"{"msg":"first\nsecond \"q\" 5"}"#,
            r#"{"msg":"first\nsecond \"q\" <num>"}"#,
        );
        fp(r#"[1, "a b"]"#, r#"[<num>, "a b"]"#);
    }

    #[test]
    fn whitespace_and_unicode() {
        fp("  a \t\n b  ", "a b");
        fp("인증실패 user 5", "인증실패 user <num>");
        fp("인증실패5", "<id>");
        fp("", "");
    }

    #[test]
    fn long_messages_are_cut_at_a_token_boundary() {
        let m = "word ".repeat(1000);
        let f = fingerprint(&m);
        assert!(f.len() >= MAX_FINGERPRINT_BYTES && f.len() < MAX_FINGERPRINT_BYTES + 8);
        assert!(f.ends_with("word"));
        assert_eq!(fingerprint(&f), f);
    }

    #[test]
    fn fingerprint_into_appends() {
        let mut buf = String::from("x:");
        fingerprint_into("n 5", &mut buf);
        assert_eq!(buf, "x:n <num>");
    }

    /// Variable values of each kind, as a generator.
    fn variable() -> impl Strategy<Value = (String, &'static str)> {
        prop_oneof![
            any::<u32>().prop_map(|n| (n.to_string(), "<num>")),
            (any::<u16>(), 0u8..100).prop_map(|(a, b)| (format!("{a}.{b}"), "<num>")),
            any::<u128>().prop_map(|u| {
                let h = format!("{u:032x}");
                (
                    format!(
                        "{}-{}-{}-{}-{}",
                        &h[..8],
                        &h[8..12],
                        &h[12..16],
                        &h[16..20],
                        &h[20..]
                    ),
                    "<uuid>",
                )
            }),
            any::<[u8; 4]>().prop_map(|a| (format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]), "<ip>")),
            any::<[u16; 8]>().prop_map(|a| (
                a.iter()
                    .map(|g| format!("{g:x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
                "<ip>"
            )),
            (any::<u16>(), any::<u16>()).prop_map(|(a, b)| (format!("fe80::{a:x}:{b:x}"), "<ip>")),
            ("[a-z]{1,8}", "[a-z]{1,8}")
                .prop_map(|(a, b)| (format!("{a}.{b}@example.com"), "<email>")),
            "[a-z ]{0,20}".prop_map(|s| (format!("\"{s}\""), "<str>")),
            (
                0u32..100_000,
                prop::sample::select(vec!["ms", "s", "m", "h", "us", "ns"])
            )
                .prop_map(|(n, u)| (format!("{n}{u}"), "<dur>")),
            (
                2000u32..2100,
                1u32..13,
                1u32..29,
                0u32..24,
                0u32..60,
                0u32..60,
                0u32..1000
            )
                .prop_map(|(y, mo, d, h, mi, s, ms)| (
                    format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z"),
                    "<ts>"
                )),
            any::<u64>().prop_map(|n| (format!("a{n:015x}1"), "<hex>")),
            any::<u32>().prop_map(|n| (format!("0x{n:x}"), "<hex>")),
            ("[g-z]{1,6}", any::<u16>()).prop_map(|(a, n)| (format!("{a}{n}"), "<id>")),
        ]
    }

    /// A static word: letters only, not a month name (those can start a syslog time).
    fn static_word() -> impl Strategy<Value = String> {
        "[a-z]{1,10}"
    }

    proptest! {
        #[test]
        fn idempotent(m in ".{0,200}") {
            let f = fingerprint(&m);
            prop_assert_eq!(fingerprint(&f), f.clone());
        }

        #[test]
        fn idempotent_on_log_like_text(
            parts in prop::collection::vec(prop_oneof![static_word(), variable().prop_map(|v| v.0), "[ :/=,()\\[\\]{}\"'-]{1,3}"], 0..30)
        ) {
            let m = parts.concat();
            let f = fingerprint(&m);
            prop_assert_eq!(fingerprint(&f), f.clone(), "message {:?}", m);
        }

        #[test]
        fn variable_parts_do_not_change_the_fingerprint(
            template in prop::collection::vec((static_word(), variable(), variable()), 1..8),
        ) {
            // The same kind of variable in the same place, different values.
            let mut a = String::new();
            let mut b = String::new();
            let mut want = String::new();
            for (word, (va, ka), (vb, kb)) in &template {
                let vb = if ka == kb { vb.clone() } else { va.clone() };
                a.push_str(&format!("{word} {va} "));
                b.push_str(&format!("{word} {vb} "));
                want.push_str(&format!("{word} {ka} "));
            }
            prop_assert_eq!(fingerprint(&a), fingerprint(&b), "{:?} vs {:?}", a, b);
            prop_assert_eq!(fingerprint(&a), want.trim_end());
        }

        #[test]
        fn different_static_text_differs(
            words in prop::collection::vec(static_word(), 1..6),
            values in prop::collection::vec(variable(), 6),
            at in 0usize..6,
            other in static_word(),
        ) {
            let at = at % words.len();
            prop_assume!(words[at] != other);
            let build = |ws: &[String]| ws.iter().zip(&values).map(|(w, (v, _))| format!("{w} {v}")).collect::<Vec<_>>().join(" ");
            let mut changed = words.clone();
            changed[at] = other.clone();
            prop_assert_ne!(fingerprint(&build(&words)), fingerprint(&build(&changed)));
        }

        #[test]
        fn never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let m = String::from_utf8_lossy(&bytes);
            let _ = fingerprint(&m);
        }
    }
}
