//! The fast path of [`super::parse_json`]: a parser for exactly the subscription envelope CloudWatch
//! Logs writes, falling back to serde_json for everything else.
//!
//! ```text
//! {"messageType":"DATA_MESSAGE","owner":"…","logGroup":"…","logStream":"…",
//!  "subscriptionFilters":["…"],"logEvents":[{"id":"…","timestamp":1700000000000,"message":"…"},…]}
//! ```
//!
//! Why by hand: the envelope is almost all message text, and every JSON log message is a
//! JSON-escaped string (`{\"level\":\"ERROR\",…}`: an escape every 10–20 bytes). serde_json's
//! derived deserializer spends ~300 instructions per escape there (a scan restarted after each
//! escape, a `memcpy` call per piece, a UTF-8 check of every string) — 45% of the whole decode
//! floor in `BENCHMARKS.md`. The crates built for speed do not fit: sonic-rs picks its SIMD at
//! compile time (a Lambda binary is built for the baseline CPU), simd-json rewrites its input in
//! place and does not promise serde_json's answers on the edges (control characters, lone
//! surrogates, number forms). This parser checks UTF-8 once for the whole payload, finds the next
//! `"`, `\` or control character 16 bytes at a time (portable code the compiler vectorises) and
//! unescapes into one reused buffer.
//!
//! **It never decides anything serde_json would decide differently**: it answers `None` ("not
//! sure") for anything but the plain shape — an unknown or repeated key, a numeric id, a
//! timestamp that is not a plain non-negative integer, an invalid escape, a lone surrogate, a
//! control character, invalid UTF-8, trailing text — and the caller then parses with serde_json,
//! which gives its answer and its error messages exactly as before. When it answers `Some`, the
//! result equals serde_json's (a differential property test in `payload.rs` checks this on random
//! envelopes, and on random corruptions of them).

use super::{LogEvent, RawPayload};

/// Parse `json` if it is a plain subscription envelope; `None` when serde_json must decide.
pub(super) fn parse(json: &[u8]) -> Option<RawPayload> {
    let mut p = Parser {
        b: json,
        i: 0,
        buf: Vec::new(),
    };
    let raw = p.payload()?;
    p.ws();
    (p.i == p.b.len()).then_some(raw)
}

/// The text of the JSON string `quoted` (its quotes included), as serde_json reads it; `None`
/// when serde_json must decide (an invalid escape, a lone surrogate, a control character,
/// anything after the closing quote). The JSON walk of a log message uses it for strings with
/// escapes (`"\uc778\uc99d…"`): its buffer is sized once, where serde_json grows its buffer
/// per escape.
pub(crate) fn unquote(quoted: &str) -> Option<String> {
    // Through `Parser::string`, so that `unescape` keeps its one caller (inlined there: a second
    // caller made the envelope's decode 2–4% slower).
    let mut p = Parser {
        b: quoted.as_bytes(),
        i: 0,
        buf: Vec::with_capacity(quoted.len()),
    };
    let text = p.string()?;
    (p.i == p.b.len()).then_some(text)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    /// Unescaped bytes of the string being read (reused for every string).
    buf: Vec<u8>,
}

/// The keys of the envelope, in a bit set to refuse repeats (serde reports them).
const MESSAGE_TYPE: u8 = 1;
const OWNER: u8 = 2;
const LOG_GROUP: u8 = 4;
const LOG_STREAM: u8 = 8;
const FILTERS: u8 = 16;
const POLICY: u8 = 32;
const EVENTS: u8 = 64;
const REQUIRED: u8 = MESSAGE_TYPE | OWNER | LOG_GROUP | LOG_STREAM | EVENTS;

impl<'a> Parser<'a> {
    fn payload(&mut self) -> Option<RawPayload> {
        let (mut message_type, mut owner, mut log_group, mut log_stream) =
            (String::new(), String::new(), String::new(), String::new());
        let (mut filters, mut policy_level, mut events) = (Vec::new(), None, Vec::new());
        let mut seen = 0u8;
        self.object(|p, key| {
            let bit = match key {
                b"messageType" => MESSAGE_TYPE,
                b"owner" => OWNER,
                b"logGroup" => LOG_GROUP,
                b"logStream" => LOG_STREAM,
                b"subscriptionFilters" => FILTERS,
                b"policyLevel" => POLICY,
                b"logEvents" => EVENTS,
                _ => return None,
            };
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            match bit {
                MESSAGE_TYPE => message_type = p.string()?,
                OWNER => owner = p.string()?,
                LOG_GROUP => log_group = p.string()?,
                LOG_STREAM => log_stream = p.string()?,
                FILTERS => filters = p.array(Parser::string)?,
                POLICY => policy_level = p.string_or_null()?,
                _ => events = p.array(Parser::event)?,
            }
            Some(())
        })?;
        (seen & REQUIRED == REQUIRED).then_some(RawPayload {
            message_type,
            owner,
            log_group,
            log_stream,
            subscription_filters: filters,
            policy_level,
            log_events: events,
        })
    }

    fn event(&mut self) -> Option<LogEvent> {
        let (mut id, mut timestamp, mut message) = (None, None, None);
        self.object(|p, key| {
            match key {
                b"id" if id.is_none() => id = Some(p.string()?),
                b"timestamp" if timestamp.is_none() => timestamp = Some(p.integer()?),
                b"message" if message.is_none() => message = Some(p.string()?),
                _ => return None,
            }
            Some(())
        })?;
        Some(LogEvent {
            id: id?,
            timestamp: timestamp?,
            message: message?,
        })
    }

    /// `{ "key": value, … }`, calling `member` with each key to read its value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.ws();
        self.eat(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            let key = self.key()?;
            self.ws();
            self.eat(b':')?;
            member(self, key)?;
            self.ws();
            match self.next()? {
                b',' => continue,
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// `[ item, … ]`.
    fn array<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.ws();
        self.eat(b'[')?;
        let mut out = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Some(out);
        }
        loop {
            out.push(item(self)?);
            self.ws();
            match self.next()? {
                b',' => continue,
                b']' => return Some(out),
                _ => return None,
            }
        }
    }

    /// A key, read without unescaping: the envelope's keys have no escapes, and a key that has
    /// one (`"\u006fwner"` is `owner`) is left to serde_json.
    fn key(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let end = self.i + special_offset(&self.b[self.i..])?;
        if self.b[end] != b'"' {
            return None;
        }
        let bytes: &'a [u8] = self.b;
        let key = &bytes[self.i..end];
        self.i = end + 1;
        Some(key)
    }

    fn string(&mut self) -> Option<String> {
        self.ws();
        self.eat(b'"')?;
        self.unescape()?;
        // The one UTF-8 check of the string (escapes only ever add whole characters, so
        // invalid input stays invalid here).
        std::str::from_utf8(&self.buf).ok().map(str::to_owned)
    }

    fn string_or_null(&mut self) -> Option<Option<String>> {
        self.ws();
        if self.b[self.i..].starts_with(b"null") {
            self.i += 4;
            return Some(None);
        }
        self.string().map(Some)
    }

    /// A non-negative integer without sign, fraction or exponent that fits an `i64` (epoch
    /// milliseconds); anything else is serde_json's to judge.
    fn integer(&mut self) -> Option<i64> {
        self.ws();
        let start = self.i;
        let mut value: i64 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            value = value.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
            self.i += 1;
        }
        let digits = self.i - start;
        let leading_zero = digits > 1 && self.b[start] == b'0';
        let continues = matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        (digits > 0 && !leading_zero && !continues).then_some(value)
    }

    /// Read the rest of a string (the opening quote is consumed) into `buf`, unescaped.
    fn unescape(&mut self) -> Option<()> {
        self.buf.clear();
        loop {
            let run = self.copy_run()?;
            self.i = run + 1;
            match self.b[run] {
                b'"' => return Some(()),
                b'\\' => {}
                _ => return None, // a control character: serde_json reports it
            }
            let byte = match self.next()? {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => 0x08,
                b'f' => 0x0c,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'u' => {
                    let ch = self.unicode_escape()?;
                    self.buf
                        .extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                    continue;
                }
                _ => return None,
            };
            self.buf.push(byte);
        }
    }

    /// Copy the bytes up to the next special byte (`"`, `\`, control) into `buf`; its offset.
    /// Whole 16-byte chunks are copied as they are (a fixed-size copy, one vector store) and the
    /// copy is cut back to the special byte: escapes come every 10–20 bytes in JSON messages.
    fn copy_run(&mut self) -> Option<usize> {
        let mut at = self.i;
        while let Some(chunk) = self.b.get(at..at + LANES) {
            let chunk: &[u8; LANES] = chunk.try_into().expect("LANES bytes");
            let filled = self.buf.len();
            self.buf.extend_from_slice(chunk);
            if let Some(k) = first_special(chunk) {
                self.buf.truncate(filled + k);
                return Some(at + k);
            }
            at += LANES;
        }
        let tail = &self.b[at..];
        let k = tail.iter().position(|&c| is_special(c))?;
        self.buf.extend_from_slice(&tail[..k]);
        Some(at + k)
    }

    /// The character of a `\uXXXX` escape (the `\u` consumed), a surrogate pair read whole.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if !(0xD800..0xDC00).contains(&first) {
            return char::from_u32(first); // `None` for a lone low surrogate
        }
        if !self.b[self.i..].starts_with(b"\\u") {
            return None;
        }
        self.i += 2;
        let second = self.hex4()?;
        if !(0xDC00..0xE000).contains(&second) {
            return None;
        }
        char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.b.get(self.i..self.i + 4)?;
        let mut value = 0;
        for &d in digits {
            value = value * 16 + char::from(d).to_digit(16)?;
        }
        self.i += 4;
        Some(value)
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }
}

/// Offset of the first `"`, `\` or control character (below 0x20) in `bytes` (also the JSON
/// pattern walk's string scan, `pattern/json/walk.rs`).
#[inline]
pub(crate) fn special_offset(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(LANES);
    let mut offset = 0;
    for chunk in &mut chunks {
        if let Some(i) = first_special(chunk.try_into().expect("chunks_exact")) {
            return Some(offset + i);
        }
        offset += LANES;
    }
    let tail = chunks.remainder();
    tail.iter().position(|&c| is_special(c)).map(|i| offset + i)
}

const LANES: usize = 16;

#[inline(always)]
fn is_special(c: u8) -> bool {
    (c == b'"') | (c == b'\\') | (c < 0x20)
}

/// x86-64: SSE2, part of every x86-64 CPU (no detection needed): one compare per kind over the
/// 16 bytes and a movemask.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn first_special(chunk: &[u8; LANES]) -> Option<usize> {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is enabled for the build (the cfg above: every x86-64 target has it), and
    // `chunk` is 16 readable bytes (`loadu` needs no alignment).
    let mask = unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned `c < 0x20` is `max(c, 0x1f) == 0x1f`.
        let limit = _mm_set1_epi8(0x1f);
        let control = _mm_cmpeq_epi8(_mm_max_epu8(v, limit), limit);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control))
    };
    (mask != 0).then(|| mask.trailing_zeros() as usize)
}

/// Elsewhere (aarch64 included): the portable word-at-a-time version.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn first_special(chunk: &[u8; LANES]) -> Option<usize> {
    first_special_swar(chunk)
}

/// Two 64-bit words, the high bit of each special byte set (Mycroft's zero-byte test, as in
/// serde_json's `skip_to_escape`). A borrow only moves towards higher bytes, so no false bit
/// lies below the first special byte and the lowest bit set is exact.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline(always)]
fn first_special_swar(chunk: &[u8; LANES]) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    let flags = |w: u64| {
        let control = w.wrapping_sub(ONES * 0x20) & !w;
        let q = w ^ (ONES * u64::from(b'"'));
        let quote = q.wrapping_sub(ONES) & !q;
        let b = w ^ (ONES * u64::from(b'\\'));
        let backslash = b.wrapping_sub(ONES) & !b;
        (control | quote | backslash) & (ONES << 7)
    };
    let (lo, hi) = chunk.split_at(8);
    let lo = flags(u64::from_le_bytes(lo.try_into().expect("8 bytes")));
    if lo != 0 {
        return Some(lo.trailing_zeros() as usize / 8);
    }
    let hi = flags(u64::from_le_bytes(hi.try_into().expect("8 bytes")));
    (hi != 0).then(|| 8 + hi.trailing_zeros() as usize / 8)
}

#[cfg(test)]
mod tests {
    //! The fast path against serde_json, the reference: where the fast path answers, it must
    //! answer what serde_json answers; on the plain envelope it must answer (or it is not used).
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn reference(json: &[u8]) -> Option<RawPayload> {
        serde_json::from_slice(json).ok()
    }

    /// Strings users' logs are made of: ASCII, JSON specials, control characters, multi-byte
    /// and astral characters (surrogate pairs when escaped).
    fn text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => "[a-zA-Z0-9 :_./-]{0,12}",
            2 => Just("\"".to_string()),
            2 => Just("\\".to_string()),
            1 => "[\u{0}-\u{1f}\u{7f}]",
            1 => "[\u{80}-\u{7ff}]{1,3}",
            1 => "[인증실패日本語]{1,4}",
            1 => "[\u{10000}-\u{10ffff}]{1,2}",
            1 => Just("\u{2028}\u{feff}".to_string()),
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
    }

    /// JSON text of `s` escaped the way another producer might: every non-ASCII character as
    /// `\uXXXX` (surrogate pairs beyond the BMP), `/` as `\/`, controls as `\u00XX` or short forms.
    fn escaped_everywhere(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '/' => out.push_str("\\/"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_ascii() && c >= ' ' => out.push(c),
                c => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{u:04X}"));
                    }
                }
            }
        }
        out.push('"');
        out
    }

    fn event() -> impl Strategy<Value = (String, i64, String)> {
        ("[0-9]{1,56}", 0i64..=i64::MAX, text())
    }

    fn envelope(events: &[(String, i64, String)], escape_all: bool, pretty: bool) -> Vec<u8> {
        let value = json!({
            "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/f",
            "logStream": "2026/12/01/[$LATEST]ab\"c", "subscriptionFilters": ["f1", "f\\2"],
            "logEvents": events.iter().map(|(id, ts, m)| json!({"id": id, "timestamp": ts, "message": m}))
                .collect::<Vec<_>>(),
        });
        let text = if pretty {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            serde_json::to_string(&value).unwrap()
        };
        if !escape_all {
            return text.into_bytes();
        }
        // Re-escape every message the other way (the keys and envelope strings are ASCII).
        let mut text = text;
        for (_, _, m) in events {
            let plain = serde_json::to_string(m).unwrap();
            text = text.replacen(
                &format!("\"message\":{plain}"),
                &format!("\"message\":{}", escaped_everywhere(m)),
                1,
            );
            text = text.replacen(
                &format!("\"message\": {plain}"),
                &format!("\"message\": {}", escaped_everywhere(m)),
                1,
            );
        }
        text.into_bytes()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn plain_envelopes_take_the_fast_path_and_agree(
            events in proptest::collection::vec(event(), 0..8), escape_all: bool, pretty: bool,
        ) {
            let json = envelope(&events, escape_all, pretty);
            let fast = parse(&json);
            prop_assert!(fast.is_some(), "fast path refused {}", String::from_utf8_lossy(&json));
            prop_assert_eq!(fast, reference(&json));
        }

        #[test]
        fn corrupted_envelopes_never_disagree(
            events in proptest::collection::vec(event(), 1..4), escape_all: bool,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..4),
            splice in prop_oneof![Just(&b""[..]), Just(&b"\\"[..]), Just(&b"\""[..]), Just(&b"\\u"[..]),
                Just(&b"\\ud83d"[..]), Just(&b"\\udc00"[..]), Just(&b"\\ud83d\\u0041"[..]), Just(&b"-"[..]),
                Just(&b"0"[..]), Just(&b".5"[..]), Just(&b"e3"[..]), Just(&b","[..]), Just(&b"null"[..]),
                Just(&b"}"[..]), Just(&b"]"[..]), Just(&b"\xff"[..]), Just(&b"\xe2\x82"[..])],
        ) {
            let mut json = envelope(&events, escape_all, false);
            for (at, kind, byte) in edits {
                let i = at.index(json.len());
                match kind {
                    0 => json[i] = byte,
                    1 => { json.remove(i); }
                    _ => { json.splice(i..i, splice.iter().copied()); }
                }
            }
            if let Some(fast) = parse(&json) {
                prop_assert_eq!(Some(fast), reference(&json), "{}", String::from_utf8_lossy(&json));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// `unquote` reads every JSON string serde_json would write or another producer might
        /// (`escaped_everywhere`), and where it answers it answers what serde_json answers, also
        /// on corrupted strings (bad escapes, lone surrogates, controls, text after the quote).
        #[test]
        fn unquote_agrees_with_serde_json(
            s in text(), escape_all: bool,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3,
                prop_oneof![Just("\\"), Just("\""), Just("\\u"), Just("\\ud83d"), Just("\\udc00"),
                    Just("\\ud83d\\u0041"), Just("\\ud83d\\ude00"), Just("\u{1}"), Just("x"), Just("\\q")]),
                0..3),
        ) {
            let mut quoted = if escape_all { escaped_everywhere(&s) } else { serde_json::to_string(&s).unwrap() };
            prop_assert_eq!(unquote(&quoted), Some(s));
            for (at, kind, piece) in edits {
                let mut i = at.index(quoted.len() + 1);
                while !quoted.is_char_boundary(i) {
                    i -= 1;
                }
                match kind {
                    0 => quoted.insert_str(i, piece),
                    1 if i < quoted.len() => { quoted.remove(i); }
                    _ => quoted.replace_range(i.., piece),
                }
            }
            if let Some(fast) = unquote(&quoted) {
                prop_assert_eq!(Some(fast), serde_json::from_str::<String>(&quoted).ok(), "{}", quoted);
            }
        }
    }

    #[test]
    fn unquote_leaves_the_edges_to_serde_json() {
        assert_eq!(
            unquote(r#""a\u00e9\n\ud83d\ude00""#).as_deref(),
            Some("a\u{e9}\n\u{1f600}")
        );
        for q in [
            r#""\ud83d""#,
            r#""\ude00""#,
            r#""\ud83d\u0041""#,
            r#""\u12""#,
            r#""a\qb""#,
            "\"a\tb\"",
            r#""a"b"#,
            r#""a"#,
            r#"a""#,
            "",
        ] {
            assert_eq!(unquote(q), None, "{q}");
        }
    }

    #[test]
    fn every_unusual_shape_goes_to_serde_json() {
        let base = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[EV]}"#;
        let with = |ev: &str| base.replace("EV", ev);
        assert!(parse(with(r#"{"id":"1","timestamp":5,"message":"m"}"#).as_bytes()).is_some());
        // Each of these is either valid with a meaning the fast path does not read, or an error
        // whose message is serde_json's: the fast path must not answer.
        for ev in [
            r#"{"id":1,"timestamp":5,"message":"m"}"#, // numeric id (emulators)
            r#"{"id":"1","timestamp":5,"message":"m","x":0}"#, // an extra key
            r#"{"id":"1","timestamp":5,"message":"m","id":"2"}"#, // a repeated key
            r#"{"id":"1","timestamp":-5,"message":"m"}"#, // a sign
            r#"{"id":"1","timestamp":05,"message":"m"}"#, // a leading zero
            r#"{"id":"1","timestamp":5.0,"message":"m"}"#, // a fraction
            r#"{"id":"1","timestamp":5e3,"message":"m"}"#, // an exponent
            r#"{"id":"1","timestamp":9223372036854775808,"message":"m"}"#, // beyond i64
            r#"{"id":"1","message":"m"}"#,             // a missing field
            r#"{"id":"1","timestamp":5,"message":"a\qb"}"#, // an unknown escape
            r#"{"id":"1","timestamp":5,"message":"\ud83d"}"#, // a lone high surrogate
            r#"{"id":"1","timestamp":5,"message":"\ude00"}"#, // a lone low surrogate
            r#"{"id":"1","timestamp":5,"message":"\ud83d\u0041"}"#, // a broken pair
            r#"{"id":"1","timestamp":5,"message":"\u12"}"#, // a short \u
            "{\"id\":\"1\",\"timestamp\":5,\"message\":\"a\tb\"}", // a raw control character
            r#"{"id":"1","timestamp":5,"message":"m"},"#, // a trailing comma
            r#"{"id":"1","timestamp":5,"message":null}"#, // null for a string
        ] {
            let json = with(ev);
            assert_eq!(parse(json.as_bytes()), None, "{json}");
        }
        for json in [
            format!("{} x", with(r#"{"id":"1","timestamp":5,"message":"m"}"#)), // trailing text
            base.replace(r#","logEvents":[EV]"#, ""),                           // no logEvents
            base.replace(r#""owner":"1""#, r#""owner":"1","owner":"2""#),       // repeated key
            base.replace(r#""owner":"1""#, r#""owner":"1","extra":[]"#),        // extra key
            "[\"DATA_MESSAGE\"]".to_string(),                                   // a sequence
            "\u{feff}{}".to_string(),
            String::new(),
        ] {
            assert_eq!(parse(json.as_bytes()), None, "{json}");
        }
        assert_eq!(parse(b"{\"owner\":\"\xff\"}"), None);
    }

    #[test]
    fn optional_fields_and_escapes_read_as_serde_json_reads_them() {
        let json = r#" { "policyLevel" : null , "subscriptionFilters" : [ ] , "owner":"o\/\b\f\n\r\t\"\\",
            "messageType":"CONTROL_MESSAGE","logGroup":"\u00e9\uD83D\uDE00\u0000","logStream":"",
            "logEvents":[ ] } "#;
        let fast = parse(json.as_bytes()).expect("plain shape");
        assert_eq!(fast.owner, "o/\u{8}\u{c}\n\r\t\"\\");
        assert_eq!(fast.log_group, "é😀\u{0}");
        assert_eq!(Some(fast), reference(json.as_bytes()));
        let with_policy = json.replace("null", r#""ACCOUNT_LEVEL_POLICY""#);
        let fast = parse(with_policy.as_bytes()).expect("plain shape");
        assert_eq!(fast.policy_level.as_deref(), Some("ACCOUNT_LEVEL_POLICY"));
        assert_eq!(Some(fast), reference(with_policy.as_bytes()));
    }

    #[test]
    fn invalid_utf8_in_a_message_goes_to_serde_json() {
        let valid = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":5,"message":"abc\ndef"}]}"#;
        assert!(parse(valid.as_bytes()).is_some());
        for bad in [
            &b"\xff"[..],
            b"\xc3",
            b"\xe2\x82",
            b"\xed\xa0\x80",
            b"\xc0\xaf",
        ] {
            for at in ["abc", "def"] {
                let mut json = valid.as_bytes().to_vec();
                let i = valid.find(at).unwrap() + 1;
                json.splice(i..i, bad.iter().copied());
                assert_eq!(parse(&json), None, "{}", String::from_utf8_lossy(&json));
                assert!(reference(&json).is_none());
            }
        }
    }

    /// A delivery the size CloudWatch sends (here 4,000 events, ~1 MB): JSON logs inside the
    /// message (escaped quotes, `\\uXXXX` written by the application), text lines with tabs,
    /// non-ASCII text, messages longer than any buffer.
    #[test]
    fn a_large_delivery_agrees_with_serde_json() {
        let events: Vec<_> = (0..4000)
            .map(|i| {
                let message = match i % 4 {
                    0 => format!("2026-12-01T10:00:00.000Z\t{i:08}\tINFO\tGET /v1/charges 200 {}ms", i % 900),
                    1 => serde_json::to_string(&json!({"level": "ERROR", "n": i, "errorMessage": "인증실패: token", "path": "/v1/a\"b"})).unwrap(),
                    2 => "x".repeat(i % 700) + "\u{1F600}\"\\" + &"é".repeat(i % 50),
                    _ => String::new(),
                };
                json!({"id": format!("{:056}", i), "timestamp": 1_764_000_000_000i64 + i as i64, "message": message})
            })
            .collect();
        let value = json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/g",
            "logStream": "s", "subscriptionFilters": ["f"], "logEvents": events});
        let json = serde_json::to_vec(&value).unwrap();
        assert!(json.len() > 900_000, "{}", json.len());
        let fast = parse(&json).expect("plain shape");
        assert_eq!(fast.log_events.len(), 4000);
        assert_eq!(Some(fast), reference(&json));
    }

    #[test]
    fn special_characters_are_found_in_every_lane() {
        for len in 0..40 {
            for at in 0..len {
                for special in [b'"', b'\\', 0x00, 0x1f] {
                    // Specials later in the text, and the bytes around the limits, before it.
                    let mut bytes: Vec<u8> = (0..len)
                        .map(|i| [b'a', 0x20, 0x7f, 0xe2, b'!', b']'][i % 6])
                        .collect();
                    bytes[at] = special;
                    if at + 1 < len {
                        bytes[at + 1] = b'"';
                    }
                    assert_eq!(special_offset(&bytes), Some(at), "len {len} at {at}");
                }
            }
            let plain: Vec<u8> = (0..len)
                .map(|i| [0x20, 0x7f, 0xe2, 0x21, 0x5b, 0x5d, 0xff][i % 7])
                .collect();
            assert_eq!(special_offset(&plain), None);
        }
    }

    #[test]
    fn the_portable_scan_finds_what_the_vector_scan_finds() {
        // Every byte value in every lane, and every pair of a special byte after another byte.
        for lane in 0..LANES {
            for byte in 0..=255u8 {
                let mut chunk = [b'a'; LANES];
                chunk[lane] = byte;
                let expected = is_special(byte).then_some(lane);
                assert_eq!(first_special(&chunk), expected, "{byte:#x} in lane {lane}");
                assert_eq!(
                    first_special_swar(&chunk),
                    expected,
                    "{byte:#x} in lane {lane}"
                );
                if lane + 1 < LANES {
                    chunk[lane + 1] = b'"';
                    let expected = Some(if is_special(byte) { lane } else { lane + 1 });
                    assert_eq!(
                        first_special_swar(&chunk),
                        expected,
                        "{byte:#x} then a quote"
                    );
                    assert_eq!(first_special(&chunk), expected, "{byte:#x} then a quote");
                }
            }
        }
    }
}
