//! `log_groups` globs.
//!
//! Hand-written (a dozen lines) rather than a glob crate: log group names are flat strings in which
//! `/` is an ordinary character, and only `*` (any run of characters, `/` included) and `?` (one
//! character) are wanted — path-oriented glob crates treat `/`, `[`, `{` and `**` specially.

/// A compiled `log_groups` entry.
///
/// ```
/// use logalert::rules::LogGroupGlob;
/// let g = LogGroupGlob::new("/aws/lambda/payments-*");
/// assert!(g.is_match("/aws/lambda/payments-api"));
/// assert!(!g.is_match("/aws/lambda/orders"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupGlob {
    source: String,
}

impl LogGroupGlob {
    pub fn new(source: &str) -> LogGroupGlob {
        LogGroupGlob {
            source: source.to_string(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whole-string match; `*` matches any run of characters, `?` exactly one.
    pub fn is_match(&self, name: &str) -> bool {
        // Iterative wildcard matching with single backtrack point: O(n·m) worst case, no recursion.
        let p: Vec<char> = self.source.chars().collect();
        let s: Vec<char> = name.chars().collect();
        let (mut pi, mut si) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while si < s.len() {
            if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
                pi += 1;
                si += 1;
            } else if pi < p.len() && p[pi] == '*' {
                star = Some((pi, si));
                pi += 1;
            } else if let Some((sp, ss)) = star {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&c| c == '*')
    }
}

#[cfg(test)]
mod tests {
    use super::LogGroupGlob;

    #[test]
    fn table() {
        let cases = [
            ("/app", "/app", true),
            ("/app", "/app2", false),
            ("/app*", "/app2", true),
            ("*", "", true),
            ("/aws/*/x", "/aws/lambda/y/x", true),
            ("/aws/*/x", "/aws/lambda/y/z", false),
            ("/a?c", "/abc", true),
            ("/a?c", "/ac", false),
            ("*-prod", "/svc/api-prod", true),
            ("*-prod", "/svc/api-prod-2", false),
            ("/a*b*c", "/axxbyyc", true),
            ("/a*b*c", "/axxbyy", false),
        ];
        for (glob, name, want) in cases {
            assert_eq!(
                LogGroupGlob::new(glob).is_match(name),
                want,
                "{glob} vs {name}"
            );
        }
    }
}
