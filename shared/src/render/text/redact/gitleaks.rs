//! The vendor token rules of gitleaks (<https://github.com/gitleaks/gitleaks>, MIT licence,
//! `gitleaks.toml` and `gitleaks.LICENSE` beside this file), used as data.
//!
//! ```
//! use logalert::render::text::redact::Redactor;
//! let line = "model pull with 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 failed";
//! assert_eq!(
//!     Redactor::default().redact(line),
//!     "model pull with [REDACTED:huggingface-access-token] failed"
//! );
//! ```
//!
//! What is taken from each rule: `regex` (compiled by the `regex` crate on first use; Go's RE2
//! syntax is nearly the same), `keywords` (the prefilter), `secretGroup` (else gitleaks' own
//! choice: the first non-empty group), `entropy` (a finding's secret must be above it) and the
//! rule's `allowlists` plus the global one (their `regexes` over the secret, the match or the
//! line, their `stopwords`, with `condition = "AND"`). Left out, because a log line has no file
//! path or commit: the rules with a `path` ([`SKIPPED`]) and the path/commit parts of allowlists (an AND
//! allowlist that needs a path never applies). Every other rule compiles (a test checks it); it is
//! named by its gitleaks id and labelled `[REDACTED:<id>]`.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use regex::Regex;
use serde::Deserialize;

use super::{Check, Rule, Secret};

/// The vendored rule file.
pub const GITLEAKS_TOML: &str = include_str!("gitleaks.toml");

/// Rules of the file that are not used, and why.
pub const SKIPPED: &[(&str, &str)] = &[
    ("freemius-secret-key", "scoped to PHP files (`path`)"),
    (
        "hashicorp-tf-password",
        "scoped to Terraform files (`path`)",
    ),
    ("kubernetes-secret-yaml", "scoped to YAML files (`path`)"),
    ("nuget-config-password", "scoped to nuget.config (`path`)"),
    ("pkcs12-file", "matches file names, not text"),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConfigToml {
    #[allow(dead_code)]
    title: Option<String>,
    #[allow(dead_code)]
    min_version: Option<String>,
    allowlist: Option<AllowlistToml>,
    #[serde(default)]
    rules: Vec<RuleToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuleToml {
    id: String,
    #[allow(dead_code)]
    description: Option<String>,
    regex: Option<String>,
    path: Option<String>,
    entropy: Option<f32>,
    #[serde(default)]
    keywords: Vec<String>,
    secret_group: Option<usize>,
    #[serde(default)]
    allowlists: Vec<AllowlistToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AllowlistToml {
    #[allow(dead_code)]
    description: Option<String>,
    condition: Option<String>,
    regex_target: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
}

/// What an allowlist's regexes look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Secret,
    Match,
    Line,
}

/// A gitleaks allowlist: a finding it allows is not a secret.
#[derive(Debug, Clone)]
pub(crate) struct Allowlist {
    all: bool,
    target: Target,
    regexes: Arc<LazyRegexes>,
    stopwords: Vec<String>,
    /// Has path or commit conditions (never met for a log line).
    needs_path: bool,
}

/// An allowlist's regexes, compiled on first use and shared by every rule that carries the
/// allowlist: the global allowlist is attached to each of the ~200 rules, and compiling its
/// regexes eagerly once per rule cost every cold start about half a second and 90 MB.
#[derive(Debug)]
struct LazyRegexes {
    sources: Vec<String>,
    compiled: OnceLock<Vec<Regex>>,
}

impl LazyRegexes {
    /// A regex Rust cannot compile is dropped: the allowlist then allows less.
    fn get(&self) -> &[Regex] {
        self.compiled.get_or_init(|| {
            self.sources
                .iter()
                .filter_map(|r| Regex::new(r).ok())
                .collect()
        })
    }
}

impl Allowlist {
    fn from_toml(a: &AllowlistToml) -> Allowlist {
        Allowlist {
            all: a
                .condition
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("and")),
            target: match a.regex_target.as_deref() {
                Some("match") => Target::Match,
                Some("line") => Target::Line,
                _ => Target::Secret,
            },
            regexes: Arc::new(LazyRegexes {
                sources: a.regexes.clone(),
                compiled: OnceLock::new(),
            }),
            stopwords: a.stopwords.iter().map(|w| w.to_lowercase()).collect(),
            needs_path: !a.paths.is_empty(),
        }
    }

    /// Whether this allowlist lets a finding through as not secret.
    pub(crate) fn allows(&self, text: &str, secret: &str, whole: Range<usize>) -> bool {
        let target = match self.target {
            Target::Secret => secret,
            Target::Match => &text[whole.clone()],
            Target::Line => {
                let start = text[..whole.start].rfind('\n').map_or(0, |i| i + 1);
                let end = text[whole.end..]
                    .find('\n')
                    .map_or(text.len(), |i| whole.end + i);
                &text[start..end]
            }
        };
        let regexes = self.regexes.get();
        let regex = !target.is_empty() && regexes.iter().any(|r| r.is_match(target));
        let lower = secret.to_lowercase();
        let stop = self.stopwords.iter().any(|w| lower.contains(w.as_str()));
        if self.all {
            let mut checks = Vec::new();
            if self.needs_path {
                checks.push(false);
            }
            if !regexes.is_empty() {
                checks.push(regex);
            }
            if !self.stopwords.is_empty() {
                checks.push(stop);
            }
            !checks.is_empty() && checks.iter().all(|&c| c)
        } else {
            regex || stop
        }
    }
}

/// The usable rules of the vendored file, in its order.
pub(crate) fn rules() -> Vec<Rule> {
    rules_from(GITLEAKS_TOML).expect("the vendored gitleaks.toml parses")
}

/// Parse a gitleaks rule file.
pub(crate) fn rules_from(toml_text: &str) -> Result<Vec<Rule>, toml::de::Error> {
    let config: ConfigToml = toml::from_str(toml_text)?;
    let global = config.allowlist.as_ref().map(Allowlist::from_toml);
    let mut out = Vec::new();
    for r in &config.rules {
        let Some(regex) = r.regex.as_deref() else {
            continue;
        };
        if r.path.is_some() {
            // A rule that also needs a file path to match never applies to a log line.
            continue;
        }
        let mut allow: Vec<Allowlist> = r.allowlists.iter().map(Allowlist::from_toml).collect();
        allow.extend(global.clone());
        let secret = match r.secret_group {
            Some(g) if g > 0 => Secret::Group(g),
            _ => Secret::FirstGroup,
        };
        let keywords: Vec<&str> = r.keywords.iter().map(String::as_str).collect();
        let mut rule = Rule::new(
            &r.id,
            go_to_rust(regex),
            secret,
            &format!("[REDACTED:{}]", r.id),
        )
        .keywords(&keywords)
        .allow(allow);
        if let Some(e) = r.entropy.filter(|e| *e > 0.0) {
            rule = rule.check(Check::Entropy(e));
        }
        out.push(rule);
    }
    Ok(out)
}

/// A gitleaks (Go RE2) regex in Rust syntax with the same meaning: RE2's `\w`, `\d`, `\s` and
/// `\b` are ASCII-only, Rust's are Unicode-aware (and `[\w-]{50,1000}` in Unicode is beyond the
/// regex size limit), so they become the ASCII classes.
pub(crate) fn go_to_rust(re: &str) -> String {
    let mut out = String::with_capacity(re.len() + 16);
    let mut chars = re.chars().peekable();
    let mut in_class = false;
    // Position in the class: a `]` first (or after `^`) is a literal.
    let mut class_start = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push(c);
                    break;
                };
                let (inside, outside) = match n {
                    'w' => ("[:word:]", "[[:word:]]"),
                    'W' => ("[:^word:]", "[^[:word:]]"),
                    'd' => ("0-9", "[0-9]"),
                    'D' => ("[:^digit:]", "[^0-9]"),
                    's' => ("\\t\\n\\f\\r ", "[\\t\\n\\f\\r ]"),
                    'S' => ("[:^space:]", "[^\\t\\n\\f\\r ]"),
                    'b' if !in_class => ("", "(?-u:\\b)"),
                    'B' if !in_class => ("", "(?-u:\\B)"),
                    _ => {
                        out.push(c);
                        out.push(n);
                        class_start = false;
                        continue;
                    }
                };
                out.push_str(if in_class { inside } else { outside });
                class_start = false;
            }
            '[' if !in_class => {
                out.push(c);
                in_class = true;
                class_start = true;
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().expect("peeked"));
                }
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // A POSIX class `[:name:]`: copied whole.
                out.push(c);
                for p in chars.by_ref() {
                    out.push(p);
                    if p == ']' {
                        break;
                    }
                }
                class_start = false;
            }
            ']' if in_class && !class_start => {
                out.push(c);
                in_class = false;
            }
            _ => {
                out.push(c);
                class_start = false;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_classes_become_ascii() {
        assert_eq!(go_to_rust(r"\w+"), "[[:word:]]+");
        assert_eq!(go_to_rust(r"[\w-]{5}"), "[[:word:]-]{5}");
        assert_eq!(go_to_rust(r"\b(a\d)\b"), r"(?-u:\b)(a[0-9])(?-u:\b)");
        assert_eq!(go_to_rust(r"[^\s\\]"), r"[^\t\n\f\r \\]");
        assert_eq!(go_to_rust(r"[]a]\w"), "[]a][[:word:]]");
        assert_eq!(go_to_rust(r"[[:alpha:]\d]x"), "[[:alpha:]0-9]x");
        assert_eq!(
            go_to_rust(r"\W\D\S\B\."),
            r"[^[:word:]][^0-9][^\t\n\f\r ](?-u:\B)\."
        );
        assert_eq!(go_to_rust(r"[\W\D\S]"), "[[:^word:][:^digit:][:^space:]]");
        assert_eq!(go_to_rust("\\"), "\\");
        let re = Regex::new(&go_to_rust(r"\bpypi-[\w-]{50,1000}")).unwrap();
        assert!(re.is_match(&format!("x pypi-{}", "a".repeat(60))));
        assert!(!re.is_match(&format!("épypi-{}", "é".repeat(60))));
    }

    #[test]
    fn every_text_rule_is_used_and_compiles() {
        let config: ConfigToml = toml::from_str(GITLEAKS_TOML).unwrap();
        let rules = rules();
        let skipped: Vec<&str> = config
            .rules
            .iter()
            .filter(|r| r.regex.is_none() || r.path.is_some())
            .map(|r| r.id.as_str())
            .collect();
        let listed: Vec<&str> = SKIPPED.iter().map(|(id, _)| *id).collect();
        assert_eq!(skipped, listed, "SKIPPED lists every unused rule");
        assert_eq!(rules.len() + skipped.len(), config.rules.len());
        let broken: Vec<&str> = rules
            .iter()
            .filter(|r| !r.compiles())
            .map(|r| r.name.as_str())
            .collect();
        assert!(broken.is_empty(), "rules that do not compile: {broken:?}");
        assert!(rules.iter().all(|r| !r.keywords.is_empty()));
        assert!(rules.len() > 200, "{}", rules.len());
    }

    #[test]
    fn allowlist_conditions() {
        let a = Allowlist::from_toml(&AllowlistToml {
            description: None,
            condition: Some("AND".into()),
            regex_target: Some("line".into()),
            regexes: vec!["^x".into()],
            stopwords: vec!["ABC".into()],
            paths: vec![],
        });
        assert!(a.allows("y\nx abc\nz", "abc", 4..7));
        assert!(!a.allows("y\nx abd\nz", "abd", 4..7), "both needed");
        assert!(!a.allows("y\nq abc\nz", "abc", 4..7), "both needed");
        let or = Allowlist::from_toml(&AllowlistToml {
            description: None,
            condition: None,
            regex_target: Some("match".into()),
            regexes: vec!["^k=".into()],
            stopwords: vec!["zz".into()],
            paths: vec![],
        });
        assert!(or.allows("k=1", "1", 0..3));
        assert!(or.allows("q=zz", "zz", 2..4));
        assert!(!or.allows("q=1", "1", 0..3));
        let path = Allowlist::from_toml(&AllowlistToml {
            description: None,
            condition: Some("AND".into()),
            regex_target: None,
            regexes: vec![".".into()],
            stopwords: vec![],
            paths: vec![r"\.bb$".into()],
        });
        assert!(
            !path.allows("s", "s", 0..1),
            "a path condition is never met"
        );
    }

    #[test]
    fn a_broken_file_is_an_error() {
        assert!(rules_from("[[rules]]\nid = 1").is_err());
        assert!(rules_from("[[rules]]\nid = \"x\"\nunknown = 2").is_err());
        assert_eq!(rules_from("").unwrap().len(), 0);
    }
}
