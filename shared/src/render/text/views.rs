//! Decoded views of a text, each with a map back to the original bytes, so that redaction can
//! find a secret in the form a person (or a decoder) would read it — JSON string escapes decoded,
//! ANSI colour codes removed, percent-encoding undone — and still replace it in the original.
//!
//! ```
//! use logalert::render::text::views::View;
//! let raw = r#"{\"url\":\"mysql:\/\/root:pw@db\"}"#;
//! let v = View::identity(raw).json_unescaped().unwrap();
//! assert_eq!(v.text(), r#"{"url":"mysql://root:pw@db"}"#);
//! let at = v.text().find("pw").unwrap();
//! assert_eq!(&raw[v.original_range(at..at + 2)], "pw");
//! ```
//!
//! Written by hand: decoders that keep a byte map are not something the usual crates offer
//! (serde_json only decodes whole, valid documents; percent-encoding has no offsets).

use std::ops::Range;

/// A text derived from an original, with, for each byte of the text, the range of original
/// bytes that produced it (`start[i]..end[i]`).
#[derive(Debug, Clone)]
pub struct View {
    text: String,
    start: Vec<usize>,
    end: Vec<usize>,
    original_len: usize,
}

impl View {
    /// The original text itself.
    pub fn identity(s: &str) -> View {
        View {
            text: s.to_string(),
            start: (0..s.len()).collect(),
            end: (1..=s.len()).collect(),
            original_len: s.len(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The original byte range that produced `range` of this view: from the start of its first
    /// character's source to the end of its last one's (so codes removed around it are not part
    /// of it).
    pub fn original_range(&self, range: Range<usize>) -> Range<usize> {
        if range.is_empty() {
            let at = self
                .start
                .get(range.start)
                .copied()
                .unwrap_or(self.original_len);
            return at..at;
        }
        self.start[range.start]..self.end[range.end - 1]
    }

    /// Build a view of this view: `f` pushes each character with the range of this view's bytes
    /// it came from.
    fn derive(&self, f: impl FnOnce(&str, &mut Builder)) -> View {
        let mut b = Builder {
            text: String::with_capacity(self.text.len()),
            start: Vec::with_capacity(self.text.len()),
            end: Vec::with_capacity(self.text.len()),
        };
        f(&self.text, &mut b);
        View {
            start: b.start.iter().map(|&i| self.start[i]).collect(),
            end: b.end.iter().map(|&i| self.end[i - 1]).collect(),
            text: b.text,
            original_len: self.original_len,
        }
    }

    /// JSON string escapes decoded (`\"`, `\\`, `\/`, `\n`, `\r`, `\t`, `\b`, `\f`, `\uXXXX`
    /// with surrogate pairs), wherever they appear; anything else is kept as it is. `None` when
    /// the text has no escape to decode.
    pub fn json_unescaped(&self) -> Option<View> {
        if !self.text.contains('\\') {
            return None;
        }
        let v = self.derive(|s, b| {
            let bytes = s.as_bytes();
            let mut i = 0;
            while i < s.len() {
                if bytes[i] == b'\\'
                    && let Some((c, len)) = json_escape_at(s, i)
                {
                    b.push_char(c, i, i + len);
                    i += len;
                    continue;
                }
                let c = s[i..].chars().next().expect("in bounds");
                b.push_char(c, i, i + c.len_utf8());
                i += c.len_utf8();
            }
        });
        (v.text != self.text).then_some(v)
    }

    /// ANSI escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL/ST`, two-byte `ESC x`)
    /// removed. `None` when there is none.
    pub fn ansi_stripped(&self) -> Option<View> {
        if !self.text.contains('\x1b') {
            return None;
        }
        Some(self.derive(|s, b| {
            let mut i = 0;
            while i < s.len() {
                if let Some(len) = ansi_len(&s.as_bytes()[i..]) {
                    i += len;
                    continue;
                }
                let c = s[i..].chars().next().expect("in bounds");
                b.push_char(c, i, i + c.len_utf8());
                i += c.len_utf8();
            }
        }))
    }

    /// `%XX` sequences decoded where they form UTF-8 (and `+` left alone). `None` when there is
    /// nothing to decode.
    pub fn percent_decoded(&self) -> Option<View> {
        let bytes = self.text.as_bytes();
        let has = bytes
            .windows(3)
            .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit());
        if !has {
            return None;
        }
        Some(self.derive(|s, b| {
            let bytes = s.as_bytes();
            let mut i = 0;
            while i < s.len() {
                if let Some((c, len)) = percent_char_at(bytes, i) {
                    b.push_char(c, i, i + len);
                    i += len;
                    continue;
                }
                let c = s[i..].chars().next().expect("in bounds");
                b.push_char(c, i, i + c.len_utf8());
                i += c.len_utf8();
            }
        }))
    }
}

struct Builder {
    text: String,
    start: Vec<usize>,
    end: Vec<usize>,
}

impl Builder {
    /// Push `c`, which stands for bytes `from..to` of the parent view.
    fn push_char(&mut self, c: char, from: usize, to: usize) {
        self.text.push(c);
        for _ in 0..c.len_utf8() {
            self.start.push(from);
            self.end.push(to);
        }
    }
}

fn hex4(s: &str, at: usize) -> Option<u32> {
    let h = s.get(at..at + 4)?;
    if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(h, 16).ok()
}

/// The character a JSON escape at byte `i` (a backslash) stands for, and the escape's length.
fn json_escape_at(s: &str, i: usize) -> Option<(char, usize)> {
    let next = *s.as_bytes().get(i + 1)?;
    let simple = match next {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'u' => {
            let hi = hex4(s, i + 2)?;
            if (0xD800..0xDC00).contains(&hi) {
                if s.get(i + 6..i + 8) == Some("\\u")
                    && let Some(lo) = hex4(s, i + 8)
                    && (0xDC00..0xE000).contains(&lo)
                {
                    let c = char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?;
                    return Some((c, 12));
                }
                return None;
            }
            return Some((char::from_u32(hi)?, 6));
        }
        _ => return None,
    };
    Some((simple, 2))
}

/// Length of an ANSI escape sequence at the start of `b`, if one starts there.
fn ansi_len(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&0x1b) {
        return None;
    }
    match b.get(1) {
        // CSI: parameters and intermediates, then a final byte @..~.
        Some(b'[') => {
            let mut j = 2;
            while let Some(&c) = b.get(j) {
                if (0x40..=0x7e).contains(&c) {
                    return Some(j + 1);
                }
                if !(0x20..=0x3f).contains(&c) {
                    return Some(j);
                }
                j += 1;
            }
            Some(j)
        }
        // OSC: up to BEL or ESC \ (hyperlinks, titles).
        Some(b']') => {
            let mut j = 2;
            while let Some(&c) = b.get(j) {
                if c == 0x07 {
                    return Some(j + 1);
                }
                if c == 0x1b && b.get(j + 1) == Some(&b'\\') {
                    return Some(j + 2);
                }
                j += 1;
            }
            Some(j)
        }
        // Character set designation `ESC ( B`: the designator is one ASCII byte.
        Some(b'(' | b')') => Some(if b.get(2).is_some_and(u8::is_ascii) {
            3
        } else {
            2
        }),
        Some(&c) if (0x40..=0x5f).contains(&c) => Some(2),
        _ => Some(1),
    }
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// A character spelt as one to four `%XX` sequences (valid UTF-8) at byte `i`.
fn percent_char_at(b: &[u8], i: usize) -> Option<(char, usize)> {
    let byte_at = |k: usize| -> Option<u8> {
        let p = i + 3 * k;
        if *b.get(p)? != b'%' {
            return None;
        }
        Some(hex_val(*b.get(p + 1)?)? << 4 | hex_val(*b.get(p + 2)?)?)
    };
    let first = byte_at(0)?;
    let n = match first {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let mut buf = [first, 0, 0, 0];
    for (k, slot) in buf.iter_mut().enumerate().take(n).skip(1) {
        *slot = byte_at(k)?;
    }
    let c = std::str::from_utf8(&buf[..n]).ok()?.chars().next()?;
    Some((c, 3 * n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_map(orig: &str, v: &View, needle: &str, expect: &str) {
        let at = v.text().find(needle).expect("needle in view");
        assert_eq!(&orig[v.original_range(at..at + needle.len())], expect);
    }

    #[test]
    fn json_escapes_map_back() {
        let raw = r#"a\"b\\c\/d\u00e9\ud83d\ude00\n\x"#;
        let v = View::identity(raw).json_unescaped().unwrap();
        assert_eq!(v.text(), "a\"b\\c/dé😀\n\\x");
        check_map(raw, &v, "é", r"\u00e9");
        check_map(raw, &v, "😀", r"\ud83d\ude00");
        check_map(raw, &v, "/d", r"\/d");
        check_map(raw, &v, "\\x", r"\x");
        // A lone surrogate or a short \u is kept as written.
        let v = View::identity(r"\ud83d \u12").json_unescaped();
        assert!(v.is_none());
        assert!(View::identity("plain").json_unescaped().is_none());
    }

    #[test]
    fn nested_escapes_need_two_passes() {
        let raw = r#"{\\\"password\\\":\\\"hunter2\\\"}"#;
        let v1 = View::identity(raw).json_unescaped().unwrap();
        assert_eq!(v1.text(), r#"{\"password\":\"hunter2\"}"#);
        let v2 = v1.json_unescaped().unwrap();
        assert_eq!(v2.text(), r#"{"password":"hunter2"}"#);
        check_map(raw, &v2, "hunter2", "hunter2");
        check_map(raw, &v2, "\"hunter2\"", r#"\\\"hunter2\\\""#);
    }

    #[test]
    fn ansi_removed() {
        let raw = "\x1b[1;31mpass\x1b[0mword=\x1b]8;;http://x\x07hunter2\x1b[m \x1b(B.";
        let v = View::identity(raw).ansi_stripped().unwrap();
        assert_eq!(v.text(), "password=hunter2 .");
        check_map(raw, &v, "hunter2", "hunter2");
        check_map(raw, &v, "password", "pass\x1b[0mword");
        // A designator that is not ASCII is not swallowed (nor split).
        let v = View::identity("\x1b(é\x1b)\u{1F600}")
            .ansi_stripped()
            .unwrap();
        assert_eq!(v.text(), "é\u{1F600}");
        // Truncated sequences at the end are dropped, not panicked on.
        for cut in ["\x1b", "\x1b[", "\x1b[31", "\x1b]8;;", "\x1b("] {
            let v = View::identity(&format!("a{cut}")).ansi_stripped().unwrap();
            assert_eq!(v.text(), "a", "{cut:?}");
        }
        assert!(View::identity("x").ansi_stripped().is_none());
    }

    #[test]
    fn percent_decoding() {
        let raw = "p%3Dhunter%32%C3%A9%zz%E2%82";
        let v = View::identity(raw).percent_decoded().unwrap();
        assert_eq!(v.text(), "p=hunter2é%zz%E2%82");
        check_map(raw, &v, "=hunter2", "%3Dhunter%32");
        check_map(raw, &v, "é", "%C3%A9");
        assert!(View::identity("100%").percent_decoded().is_none());
    }
}
