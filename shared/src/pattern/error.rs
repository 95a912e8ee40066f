//! Pattern errors: what is wrong, and where, rendered with a caret like `regex-syntax` does.

use std::fmt;

/// An invalid pattern: what is wrong and where (character offset into the pattern).
///
/// Messages use AWS's own wording where AWS has one (for example
/// `If a filter pattern starts with '{' it must end with '}'`), followed by what to do about it.
///
/// ```
/// use logalert::pattern::FilterPattern;
/// let err = FilterPattern::parse("{ $.level = ERROR").unwrap_err();
/// assert_eq!(err.position, 17);
/// assert_eq!(
///     err.to_string(),
///     "If a filter pattern starts with '{' it must end with '}' (at character 18)\n  { $.level = ERROR\n                   ^"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// 0-based character (not byte) position of the offending character. It may equal the number
    /// of characters in the pattern when something is missing at the end.
    pub position: usize,
    /// What is wrong, and how to fix it.
    pub message: String,
}

impl PatternError {
    pub fn new(pattern: &str, position: usize, message: impl Into<String>) -> PatternError {
        PatternError {
            pattern: pattern.to_string(),
            position,
            message: message.into(),
        }
    }
}

impl fmt::Display for PatternError {
    /// Renders the message, then the pattern with a caret under the position.
    ///
    /// Control characters (tabs, newlines) in the pattern are shown as spaces so the caret lines
    /// up; East Asian wide characters count as two columns.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} (at character {})", self.message, self.position + 1)?;
        let mut line = String::with_capacity(self.pattern.len());
        let mut caret_col = 0;
        for (i, c) in self.pattern.chars().enumerate() {
            let width = display_width(c);
            if i < self.position {
                caret_col += width;
            }
            if c.is_control() {
                line.push(' ');
            } else {
                line.push(c);
            }
        }
        writeln!(f, "  {line}")?;
        write!(f, "  {}^", " ".repeat(caret_col))
    }
}

impl std::error::Error for PatternError {}

/// Terminal columns a character takes: 2 for East Asian wide/fullwidth characters, else 1.
/// (A small table is enough for a caret line; it avoids a dependency on `unicode-width`.)
fn display_width(c: char) -> usize {
    let cp = c as u32;
    let wide = matches!(cp,
        0x1100..=0x115F        // Hangul Jamo
        | 0x2E80..=0x303E      // CJK radicals, punctuation
        | 0x3041..=0x33FF      // Hiragana, Katakana, CJK compatibility
        | 0x3400..=0x4DBF      // CJK extension A
        | 0x4E00..=0x9FFF      // CJK unified ideographs
        | 0xA000..=0xA4CF      // Yi
        | 0xAC00..=0xD7A3      // Hangul syllables
        | 0xF900..=0xFAFF      // CJK compatibility ideographs
        | 0xFE30..=0xFE4F      // CJK compatibility forms
        | 0xFF00..=0xFF60      // fullwidth forms
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F    // emoji
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD);
    if wide { 2 } else { 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_accounts_for_wide_characters_and_tabs() {
        let err = PatternError::new("\"인증\"\tx", 5, "boom");
        let rendered = err.to_string();
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(lines[0], "boom (at character 6)");
        assert_eq!(lines[1], "  \"인증\" x");
        // `"` (1) + two wide chars (4) + `"` (1) + tab (1) = 7 columns before position 5.
        assert_eq!(lines[2], "         ^");
    }
}
