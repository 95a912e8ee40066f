//! Redaction of secrets in log text before it leaves AWS.
//!
//! ```
//! use logalert::slack::redact::Redactor;
//! let r = Redactor::default();
//! assert_eq!(
//!     r.redact("login ok password=hunter2 key=AKIAIOSFODNN7EXAMPLE"),
//!     "login ok password=[REDACTED] key=[REDACTED:aws-access-key-id]"
//! );
//! ```
//!
//! Defaults (documented in `docs/slack.md`), applied in this order:
//!
//! | name | what | becomes |
//! |---|---|---|
//! | `private-key` | a PEM `-----BEGIN … PRIVATE KEY-----` block | `[REDACTED:private-key]` |
//! | `slack-webhook` | `https://hooks.slack.com/services/…` (and `/workflows/`, `/triggers/`) | `[REDACTED:slack-webhook]` |
//! | `url-credentials` | the password in `scheme://user:password@host` | `scheme://user:[REDACTED]@host` |
//! | `bearer` | `Bearer <token>` / `Basic <token>` (any case) | `Bearer [REDACTED]` |
//! | `jwt` | `eyJ….eyJ….…` (JSON Web Tokens) | `[REDACTED:jwt]` |
//! | `aws-access-key-id` | `AKIA…`, `ASIA…` and the other 4-letter IAM prefixes + 16 chars | `[REDACTED:aws-access-key-id]` |
//! | `key-value` | the value after a secret-looking key: `password`, `passwd`, `pwd`, `secret`, `token`, `api_key`, `apikey`, `access_key`, `private_key`, `credential(s)`, `authorization`, `session` (also as part of a longer key such as `db_password`, `aws_secret_access_key`, `X-Api-Token`), followed by `=` or `:` — unquoted, `"quoted"` or `'quoted'` | key and quotes kept, value `[REDACTED]` |
//! | `card-number` | 13–19 digits (spaces/dashes allowed) starting 2–6 that pass the Luhn check | `[REDACTED:card-number]` |
//!
//! Extra patterns (env `REDACT_PATTERNS`, a JSON list of regexes) run after the defaults; a match is
//! replaced by `[REDACTED]`, or, if the pattern has a capture group named `secret`, only that group is.

use std::sync::{Arc, LazyLock};

use regex::{Captures, Regex};

/// A compiled set of redaction rules. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Redactor {
    rules: Arc<Vec<Rule>>,
}

#[derive(Debug)]
struct Rule {
    name: String,
    regex: Regex,
    kind: Kind,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Replace the whole match with a label.
    Whole(&'static str),
    /// Keep `prefix` group, replace `value` group (keeping quotes), keep the rest.
    KeyValue,
    /// Keep `pre`, replace the secret, keep `post`.
    Around(&'static str),
    /// Luhn-checked digits.
    Card,
    /// User pattern: whole match or the `secret` group → `[REDACTED]`.
    Custom,
}

/// A user-supplied pattern that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("REDACT_PATTERNS[{index}]: invalid regex {pattern:?}: {message}")]
pub struct RedactPatternError {
    pub index: usize,
    pub pattern: String,
    pub message: String,
}

const SECRET_KEY: &str = r"(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|authorization|session[_-]?id|x-api-key)";

static DEFAULT_RULES: LazyLock<Vec<(&'static str, String, Kind)>> = LazyLock::new(|| {
    vec![
        (
            "private-key",
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)".to_string(),
            Kind::Whole("[REDACTED:private-key]"),
        ),
        (
            "slack-webhook",
            r"https://hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]+".to_string(),
            Kind::Whole("[REDACTED:slack-webhook]"),
        ),
        (
            "url-credentials",
            r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@<>]+:)(?P<secret>[^\s@/<>]+)(?P<post>@)".to_string(),
            Kind::Around("[REDACTED]"),
        ),
        (
            "bearer",
            r"(?i)(?P<pre>\b(?:bearer|basic)\s+)(?P<secret>[A-Za-z0-9\-._~+/]{8,}=*)(?P<post>)".to_string(),
            Kind::Around("[REDACTED]"),
        ),
        (
            "jwt",
            r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*".to_string(),
            Kind::Whole("[REDACTED:jwt]"),
        ),
        (
            "aws-access-key-id",
            r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b".to_string(),
            Kind::Whole("[REDACTED:aws-access-key-id]"),
        ),
        (
            "key-value",
            // key (possibly part of a longer identifier), optional closing quote, `=` or `:`, value.
            format!(
                r#"(?i)(?P<prefix>[A-Za-z0-9_.\-]*{SECRET_KEY}[A-Za-z0-9_.\-]*["']?\s*[:=]\s*)(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"',;&}}\]\)]+)"#
            ),
            Kind::KeyValue,
        ),
        ("card-number", r"\b[2-6](?:[ \-]?[0-9]){12,18}\b".to_string(), Kind::Card),
    ]
});

static DEFAULT: LazyLock<Redactor> = LazyLock::new(|| Redactor {
    rules: Arc::new(
        DEFAULT_RULES
            .iter()
            .map(|(name, re, kind)| Rule {
                name: name.to_string(),
                regex: Regex::new(re).expect("default redaction pattern compiles"),
                kind: *kind,
            })
            .collect(),
    ),
});

impl Default for Redactor {
    /// The default rules (see the module docs).
    fn default() -> Redactor {
        DEFAULT.clone()
    }
}

impl Redactor {
    /// No redaction at all (for tests and `logalert render --no-redact`).
    pub fn none() -> Redactor {
        Redactor {
            rules: Arc::new(Vec::new()),
        }
    }

    /// The defaults plus `extra` patterns.
    pub fn with_patterns<S: AsRef<str>>(extra: &[S]) -> Result<Redactor, RedactPatternError> {
        let mut rules: Vec<Rule> = Vec::new();
        for rule in DEFAULT.rules.iter() {
            rules.push(Rule {
                name: rule.name.clone(),
                regex: rule.regex.clone(),
                kind: rule.kind,
            });
        }
        for (index, pattern) in extra.iter().enumerate() {
            let pattern = pattern.as_ref();
            let regex = Regex::new(pattern).map_err(|e| RedactPatternError {
                index,
                pattern: pattern.to_string(),
                message: e.to_string(),
            })?;
            rules.push(Rule {
                name: format!("custom-{index}"),
                regex,
                kind: Kind::Custom,
            });
        }
        Ok(Redactor {
            rules: Arc::new(rules),
        })
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

    /// Names of the active rules, in order.
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.name.as_str()).collect()
    }

    /// Redact every secret `s` contains.
    pub fn redact(&self, s: &str) -> String {
        let mut text = s.to_string();
        for rule in self.rules.iter() {
            if !rule.regex.is_match(&text) {
                continue;
            }
            text = match rule.kind {
                Kind::Whole(label) => rule.regex.replace_all(&text, label).into_owned(),
                Kind::Around(label) => rule
                    .regex
                    .replace_all(&text, |c: &Captures| {
                        format!("{}{label}{}", &c["pre"], &c["post"])
                    })
                    .into_owned(),
                Kind::KeyValue => rule
                    .regex
                    .replace_all(&text, |c: &Captures| {
                        let value = &c["value"];
                        // Already handled by an earlier rule, or an auth scheme (`Bearer …`).
                        if value.starts_with("[REDACTED")
                            || value.eq_ignore_ascii_case("bearer")
                            || value.eq_ignore_ascii_case("basic")
                        {
                            return c[0].to_string();
                        }
                        let redacted = match value.chars().next() {
                            Some(q @ ('"' | '\'')) => format!("{q}[REDACTED]{q}"),
                            _ => "[REDACTED]".to_string(),
                        };
                        format!("{}{redacted}", &c["prefix"])
                    })
                    .into_owned(),
                Kind::Card => rule
                    .regex
                    .replace_all(&text, |c: &Captures| {
                        let m = &c[0];
                        if luhn(m) {
                            "[REDACTED:card-number]".to_string()
                        } else {
                            m.to_string()
                        }
                    })
                    .into_owned(),
                Kind::Custom => rule
                    .regex
                    .replace_all(&text, |c: &Captures| match c.name("secret") {
                        Some(secret) => {
                            let whole = c.get(0).expect("group 0");
                            let mut out = String::new();
                            out.push_str(&text[whole.start()..secret.start()]);
                            out.push_str("[REDACTED]");
                            out.push_str(&text[secret.end()..whole.end()]);
                            out
                        }
                        None => "[REDACTED]".to_string(),
                    })
                    .into_owned(),
            };
        }
        text
    }
}

/// The Luhn checksum over the digits of `s` (other characters ignored).
fn luhn(s: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        Redactor::default().redact(s)
    }

    #[test]
    fn aws_keys() {
        assert_eq!(
            r("id AKIAIOSFODNN7EXAMPLE."),
            "id [REDACTED:aws-access-key-id]."
        );
        assert_eq!(r("ASIAY34FZKBOKMUTVV7A"), "[REDACTED:aws-access-key-id]");
        // Not a key: too short, lower case.
        assert_eq!(r("AKIA1234"), "AKIA1234");
        assert_eq!(
            r("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "aws_secret_access_key = [REDACTED]"
        );
    }

    #[test]
    fn tokens() {
        assert_eq!(
            r("Authorization: Bearer abc.DEF-123_456~+/=="),
            "Authorization: Bearer [REDACTED]"
        );
        assert_eq!(
            r("curl -H 'x: basic dXNlcjpwYXNz'"),
            "curl -H 'x: basic [REDACTED]'"
        );
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(r(&format!("t={jwt} ok")), "t=[REDACTED:jwt] ok");
        assert_eq!(
            r("password=AKIAIOSFODNN7EXAMPLE"),
            "password=[REDACTED:aws-access-key-id]"
        );
        assert_eq!(r(&format!("jwt {jwt}")), "jwt [REDACTED:jwt]");
    }

    #[test]
    fn key_values() {
        assert_eq!(
            r("password=hunter2 user=bob"),
            "password=[REDACTED] user=bob"
        );
        assert_eq!(
            r(r#"{"db_password": "a b\"c", "n": 1}"#),
            r#"{"db_password": "[REDACTED]", "n": 1}"#
        );
        assert_eq!(r("SECRET: 'x y'"), "SECRET: '[REDACTED]'");
        assert_eq!(r("X-Api-Key:abc123;next"), "X-Api-Key:[REDACTED];next");
        assert_eq!(
            r("client_secret=s3cr3t&grant=x"),
            "client_secret=[REDACTED]&grant=x"
        );
        // Words that merely mention a secret are left alone.
        assert_eq!(r("password reset requested"), "password reset requested");
    }

    #[test]
    fn urls_and_webhooks() {
        assert_eq!(
            r("postgres://app:pa55@db:5432/x"),
            "postgres://app:[REDACTED]@db:5432/x"
        );
        assert_eq!(
            r("posting to https://hooks.slack.com/services/T000/B000/XXXX failed"),
            "posting to [REDACTED:slack-webhook] failed"
        );
    }

    #[test]
    fn cards_need_luhn() {
        assert_eq!(
            r("card 4111 1111 1111 1111 ok"),
            "card [REDACTED:card-number] ok"
        );
        assert_eq!(r("card 4111-1111-1111-1111"), "card [REDACTED:card-number]");
        assert_eq!(r("5500005555555559"), "[REDACTED:card-number]");
        // Fails Luhn, epoch ms (starts with 1), a 56-digit event id: untouched.
        assert_eq!(r("4111111111111112"), "4111111111111112");
        assert_eq!(r("ts=1700000000000"), "ts=1700000000000");
        let id = "36426553588213117457127356839521442342535441278254186496";
        assert_eq!(r(id), id);
    }

    #[test]
    fn private_keys() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\nabc\n-----END RSA PRIVATE KEY-----";
        assert_eq!(r(&format!("k={{{pem}}}")), "k={[REDACTED:private-key]}");
        // Truncated block: redacted to the end.
        assert_eq!(
            r("-----BEGIN PRIVATE KEY-----\nMIIE"),
            "[REDACTED:private-key]"
        );
    }

    #[test]
    fn custom_patterns() {
        let red = Redactor::from_env_value(Some(
            r#"["ssn=\\d{3}-\\d{2}-\\d{4}", "pin:(?P<secret>\\d+)"]"#,
        ))
        .unwrap();
        assert_eq!(
            red.redact("ssn=123-45-6789 pin:4321 x"),
            "[REDACTED] pin:[REDACTED] x"
        );
        assert_eq!(red.rule_names().last(), Some(&"custom-1"));
        let err = Redactor::from_env_value(Some(r#"["ok", "(unclosed"]"#)).unwrap_err();
        assert_eq!(err.index, 1);
        assert!(err.to_string().contains("REDACT_PATTERNS[1]"), "{err}");
        assert!(Redactor::from_env_value(Some("not json")).is_err());
        assert!(Redactor::from_env_value(Some("  ")).is_ok());
        assert_eq!(Redactor::none().redact("password=x"), "password=x");
    }
}
