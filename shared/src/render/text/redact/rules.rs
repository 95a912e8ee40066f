//! The rules written here: what log lines carry that gitleaks' vendor-token rules do not cover
//! (or cover only inside source code, with an entropy floor a short password never reaches).
//!
//! | name | what | becomes |
//! |---|---|---|
//! | `private-key` | PEM / OpenSSH / PGP private key blocks (`-----BEGIN … PRIVATE KEY[ BLOCK]-----` to its END line or the end of the text), also JSON-escaped (`\n`) | `[REDACTED:private-key]` |
//! | `slack-webhook`, `teams-webhook`, `discord-webhook` | incoming-webhook URLs (Slack `hooks.slack.com/services|workflows|triggers`, Teams `*.webhook.office.com`, Power Automate `*.logic.azure.com` / `*.powerplatform.com` workflow URLs with a `sig`, Discord `discord.com/api/webhooks`) | `[REDACTED:…-webhook]` |
//! | `aws-access-key-id` | `AKIA…`, `ASIA…` and the other IAM prefixes + 16 characters | `[REDACTED:aws-access-key-id]` |
//! | `jwt` | `eyJ….eyJ….…` | `[REDACTED:jwt]` |
//! | `github-token`, `gitlab-token`, `slack-token`, `stripe-key`, `google-api-key`, `npm-token`, `anthropic-api-key`, `openai-api-key`, `sendgrid-api-key`, `twilio-api-key`, `twilio-account-sid`, `shopify-token` | the vendors' documented prefixes (`ghp_ gho_ ghu_ ghs_ ghr_ github_pat_`, `glpat-`…, `xox[bpaorse]-`, `xapp-`, `sk_/rk_live_`, `AIza`, `npm_`, `sk-ant-`, `sk-`/`sk-proj-` with digits, `SG.`, `SK`/`AC` + 32 hex, `shpat_ shpss_`) between word boundaries | `[REDACTED:<name>]` |
//! | `url-credentials` | the password in `scheme://user:password@host` (also an empty user, `redis://:pw@host`, and a password containing `@` or `/`) | `scheme://user:[REDACTED]@host` |
//! | `url-token-user` | a token used as a URL's user (`https://ghp_…@github.com`, a Sentry DSN key) — at least 16 characters, or 8 with a digit | `https://[REDACTED]@host` |
//! | `authorization` | the credentials of any `Authorization` / `Proxy-Authorization` scheme (`Bearer`, `Basic`, `Token`, `AWS4-HMAC-SHA256 Credential=…`, …) | `Authorization: Token [REDACTED]` |
//! | `bearer` | `Bearer <token>` / `Basic <token>` anywhere else | `Bearer [REDACTED]` |
//! | `cookie` | each cookie value in `Cookie:` / `Set-Cookie:` headers (names and attributes kept) | `Cookie: sid=[REDACTED]; theme=[REDACTED]` |
//! | `azure-sas` | `AccountKey=`, `SharedAccessKey=`, `SharedAccessSignature=` values and the `sig=` of a SAS URL | `AccountKey=[REDACTED]` |
//! | `secret-flag` | `--password hunter2` and the like (a secret-looking flag and a separate value) | `--password [REDACTED]` |
//! | `secret-xml` | `<password>…</password>` and other secret-looking element names | `<password>[REDACTED]</password>` |
//! | `key-value` | the value after a secret-looking key (`password`, `passwd`, `pwd`, `passphrase`, `secret`, `token`, `api_key`, `access_key`, `private_key`, `credential(s)`, `session_id`, …, also inside a longer key such as `db_password`, `aws_secret_access_key`, `X-Api-Token`), then `=`, `:`, `=>` or `:=` — unquoted, `"quoted"` or `'quoted'`: text, JSON and env style. Keys that name a property of a secret rather than the secret (`token_count`, `max_tokens`, `password_changed`, `secret_name`, …) are skipped | key and quotes kept, value `[REDACTED]` |
//! | `card-number` | 13–19 digits (spaces or dashes allowed) starting 2–6 that pass the Luhn check | `[REDACTED:card-number]` |
//!
//! The rows up to the vendor tokens run before gitleaks' rules (their labels win when both find the same text); the
//! rest run after it.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::{Check, Rule, Secret};

/// Most characters an XML element's text may have to be redacted as a secret (`secret-xml`).
pub(crate) const XML_SECRET_MAX_CHARS: usize = 500;

/// Secret-looking key words (matched inside longer identifiers).
const SECRET_KEY: &str = r"(?:passw(?:or)?d|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key|client[_-]?key|auth[_-]?key|credentials?|session[_-]?(?:id|key)|sessionid|x-api-key)";

/// Keywords that enable the key/value rules (the prefilter).
const SECRET_KEY_WORDS: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "session",
];

/// Rules that run before gitleaks' (specific formats with their own labels).
pub(crate) fn hand_rules() -> Vec<Rule> {
    vec![
        Rule::new(
            "private-key",
            r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|\z)",
            Secret::Whole,
            "[REDACTED:private-key]",
        )
        .keywords(&["private key"]),
        Rule::new(
            "slack-webhook",
            r"https://hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]+",
            Secret::Whole,
            "[REDACTED:slack-webhook]",
        )
        .keywords(&["hooks.slack"]),
        Rule::new(
            "teams-webhook",
            r"(?i)https://(?:[a-z0-9-]+\.webhook\.office\.com/webhookb2/[^\s<>\x22'\\]+|outlook\.office(?:365)?\.com/webhook/[^\s<>\x22'\\]+|[a-z0-9.-]+\.(?:logic\.azure\.com|powerplatform\.com|environment\.api\.powerplatform\.com)[^\s<>\x22'\\]*[?&]sig=[^\s<>\x22'\\&]+)",
            Secret::Whole,
            "[REDACTED:teams-webhook]",
        )
        .keywords(&["webhook.office", "outlook.office", "logic.azure", "powerplatform"]),
        Rule::new(
            "discord-webhook",
            r"(?i)https://(?:(?:canary|ptb)\.)?discord(?:app)?\.com/api/(?:v\d+/)?webhooks/\d+/[A-Za-z0-9_\-]+",
            Secret::Whole,
            "[REDACTED:discord-webhook]",
        )
        .keywords(&["discord"]),
        Rule::new(
            "aws-access-key-id",
            r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b",
            Secret::Whole,
            "[REDACTED:aws-access-key-id]",
        )
        .keywords(&[
            "a3t", "akia", "asia", "abia", "acca", "agpa", "aida", "aipa", "anpa", "anva", "aroa",
            "apka", "asca",
        ]),
        Rule::new(
            "jwt",
            r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*",
            Secret::Whole,
            "[REDACTED:jwt]",
        )
        .keywords(&["eyj"]),
    ]
    .into_iter()
    .chain(vendor_tokens())
    .collect()
}

/// Vendor token formats by their documented prefixes, with word boundaries on both sides (gitleaks'
/// versions of several of these need a quote, space or `;` after the token, which a token inside a
/// URL query or followed by `,` or `&` does not have).
fn vendor_tokens() -> Vec<Rule> {
    let token = |name: &'static str, re: &str, keywords: &[&str]| {
        Rule::new(name, re, Secret::Whole, &format!("[REDACTED:{name}]")).keywords(keywords)
    };
    vec![
        token(
            "github-token",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})\b",
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        ),
        token(
            "gitlab-token",
            r"\bgl(?:pat|dt|rt|ptt|cbt|soat|ft|imt|agent)-[A-Za-z0-9_\-]{20,}",
            &[
                "glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glsoat-", "glft-", "glimt-",
                "glagent-",
            ],
        ),
        token(
            "slack-token",
            r"\b(?:xox[bpaorse]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})",
            &["xox", "xapp-"],
        ),
        token(
            "stripe-key",
            r"\b(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,247}\b",
            &["sk_", "rk_"],
        ),
        token("google-api-key", r"\bAIza[A-Za-z0-9_\-]{35}", &["aiza"]),
        token("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b", &["npm_"]),
        token(
            "anthropic-api-key",
            r"\bsk-ant-[A-Za-z0-9_\-]{20,}",
            &["sk-ant-"],
        ),
        token(
            "openai-api-key",
            r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
            &["sk-"],
        )
        .check(Check::Random),
        token(
            "sendgrid-api-key",
            r"\bSG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}",
            &["sg."],
        ),
        token("twilio-api-key", r"\bSK[0-9a-fA-F]{32}\b", &["sk"]),
        token("twilio-account-sid", r"\bAC[0-9a-fA-F]{32}\b", &["ac"]),
        token(
            "shopify-token",
            r"\bshp(?:at|ss|ca|pa)_[A-Fa-f0-9]{32}\b",
            &["shpat_", "shpss_", "shpca_", "shppa_"],
        ),
    ]
}

/// Rules that run after gitleaks' (shapes rather than formats).
pub(crate) fn generic_rules() -> Vec<Rule> {
    vec![
        Rule::new(
            "url-credentials",
            // userinfo `user:password` (user may be empty); the password may hold `@` and `/`:
            // it ends at the last `@` (before any `?` or `#`) that is followed by a host and the
            // end of the authority.
            r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@?#<>\x22'\\]*:)(?P<secret>[^\s<>\x22'\\?#]*)@[A-Za-z0-9\-_.\[\]]+(?::\d*)?(?:[/?#\s<>\x22'\\,;)\]}]|$)",
            Secret::Named("secret"),
            "[REDACTED]",
        )
        .keywords(&["@"]),
        Rule::new(
            "url-token-user",
            r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<secret>[^\s:/@?#<>\x22'\\]+)@[A-Za-z0-9\-_.\[\]]+(?::\d*)?(?:[/?#\s<>\x22'\\,;)\]}]|$)",
            Secret::Named("secret"),
            "[REDACTED]",
        )
        .keywords(&["@"])
        .check(Check::TokenLike),
        Rule::new(
            "authorization",
            r#"(?i)\b(?:proxy-)?authori[sz]ation["']?\s*(?:[:=]|=>)\s*["']?(?:(?P<scheme>[^\s"',;\]\[}{<>\\]+)\s+)?(?P<secret>\[REDACTED[A-Za-z0-9:_-]*\]|[^\s"',;\]\[}{<>\\]+(?:,?\s*[A-Za-z][A-Za-z0-9_-]*=[^\s"',\]\[}{<>\\]+)*)"#,
            Secret::Named("secret"),
            "[REDACTED]",
        )
        .keywords(&["authori"])
        .check(Check::NotSchemeWord),
        Rule::new(
            "bearer",
            r"(?i)\b(?:bearer|basic)\s+(?P<secret>[A-Za-z0-9\-._~+/]{8,}=*)",
            Secret::Named("secret"),
            "[REDACTED]",
        )
        .keywords(&["bearer", "basic"])
        .check(Check::TokenShaped),
        Rule::new(
            "cookie",
            r#"(?i)\b(?:set-)?cookie["']?\s*(?:[:=]|=>)\s*["']?(?P<secret>[^\r\n"'\\]+)"#,
            Secret::CookieValues,
            "[REDACTED]",
        )
        .keywords(&["cookie"]),
        Rule::new(
            "azure-sas",
            r#"(?i)(?:\b(?:AccountKey|SharedAccessKey|SharedAccessSignature)\s*=\s*|[?&;]sig=)(?P<secret>[^\s;"'<>\\&]+(?:&[A-Za-z]+=[^\s;"'<>\\&]+)*)"#,
            Secret::Named("secret"),
            "[REDACTED]",
        )
        .keywords(&["accountkey", "sharedaccess", "sig="]),
        Rule::new(
            "secret-flag",
            format!(r#"(?i)(?:^|\s)--?[A-Za-z0-9_-]*{SECRET_KEY}[A-Za-z0-9_-]*\s+["']?(?P<secret>[^\s"'-][^\s"']*)"#),
            Secret::Named("secret"),
            "[REDACTED]",
        )
        .keywords(SECRET_KEY_WORDS)
        .check(Check::NotSchemeWord),
        Rule::new(
            "secret-xml",
            // The element's text is at most `XML_SECRET_MAX_CHARS` characters: checked after the
            // match (`Check::SecretElement`), not written `[^<]{1,500}`, which compiles to 500
            // copies of a Unicode class (~4 ms of every cold start). The same findings: the text
            // before `</` is the whole run of non-`<` characters either way.
            format!(r"(?i)<(?P<tag>[A-Za-z0-9_:.-]*{SECRET_KEY}[A-Za-z0-9_:.-]*)(?:\s[^<>]*)?>(?P<secret>[^<]+)</"),
            Secret::Named("secret"),
            "[REDACTED]",
        )
        .keywords(SECRET_KEY_WORDS)
        .check(Check::SecretElement),
        Rule::new(
            "key-value",
            format!(
                r#"(?i)(?P<key>[A-Za-z0-9_.\-]*{SECRET_KEY}[A-Za-z0-9_.\-]*)["']?\s*(?:=>|:=|[:=])\s*(?:"(?P<dq>(?:[^"\\]|\\.)*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s\x00-\x1f"',;&}}\])<>]+))"#
            ),
            Secret::AnyOf(&["dq", "sq", "bare"]),
            "[REDACTED]",
        )
        .keywords(SECRET_KEY_WORDS)
        .check(Check::SecretKeyValue),
        Rule::new(
            "card-number",
            r"\b[2-6](?:[ \-]?[0-9]){12,18}\b",
            Secret::CardNumber,
            "[REDACTED:card-number]",
        ),
    ]
}

/// Key names that name a property of a secret, not the secret (`token_count`, `password_reset`).
static NOT_A_SECRET_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:tokens|tokenizer|count|counts|type|length|len|size|name|names|limit|usage|expiry|expires|expires_in|expires_at|ttl|file|path|url|uri|endpoint|version|format|policy|enabled|required|changed|reset|strength|hint|rotation|rotated|arn|secretid|secret_id|provider|header|field|ref|location|store|vault|manager)$",
    )
    .expect("compiles")
});

/// Whether a key/value rule's key really names a secret.
pub(crate) fn secret_key_name(key: &str) -> bool {
    let key = key.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    !NOT_A_SECRET_KEY.is_match(key)
}

/// Digit group sizes of card numbers written with separators.
const CARD_LAYOUTS: &[&[usize]] = &[&[4, 4, 4, 4, 3], &[4, 4, 4, 4], &[4, 6, 5], &[4, 6, 4]];

/// The card number in `range` of `text` (digits, maybe with spaces or dashes): the whole run when
/// it has no separator, else the longest prefix of groups laid out like a card; `None` unless it
/// passes the Luhn check.
pub(crate) fn card_range(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let s = &text[range.clone()];
    if !s.contains([' ', '-']) {
        return super::luhn(s).then_some(range);
    }
    // (end offset in `s`, digits) of each group.
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut digits = 0;
    for (i, c) in s.char_indices() {
        if c.is_ascii_digit() {
            digits += 1;
            if s[i + 1..]
                .chars()
                .next()
                .is_none_or(|n| !n.is_ascii_digit())
            {
                groups.push((i + 1, digits));
                digits = 0;
            }
        }
    }
    CARD_LAYOUTS.iter().find_map(|layout| {
        let fits = groups.len() >= layout.len()
            && groups
                .iter()
                .zip(layout.iter())
                .all(|((_, n), want)| n == want);
        let end = groups.get(layout.len().checked_sub(1)?)?.0;
        (fits && super::luhn(&s[..end])).then(|| range.start..range.start + end)
    })
}

/// Names of `Set-Cookie` attributes (their values are not secrets).
const COOKIE_ATTRIBUTES: &[&str] = &[
    "path",
    "domain",
    "expires",
    "max-age",
    "samesite",
    "secure",
    "httponly",
    "priority",
    "partitioned",
    "version",
    "comment",
];

/// The value ranges of each `name=value` in a cookie header value (`range` within `text`). A
/// value ends where RFC 6265 says a cookie value cannot go on: whitespace, `,`, `;`, `"` or `\\`
/// (a quoted value at its closing quote).
pub(crate) fn cookie_values(text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
    let mut at = range.start;
    for part in text[range.clone()].split(';') {
        let start = at;
        at += part.len() + 1;
        let Some(eq) = part.find('=') else {
            continue;
        };
        let name = part[..eq].trim();
        if name.is_empty()
            || name.contains(char::is_whitespace)
            || COOKIE_ATTRIBUTES
                .iter()
                .any(|a| a.eq_ignore_ascii_case(name))
        {
            continue;
        }
        let value = &part[eq + 1..];
        let lead = value.len() - value.trim_start().len();
        let mut vstart = start + eq + 1 + lead;
        let v = value.trim_start();
        let v = match v.strip_prefix('"') {
            Some(quoted) => {
                vstart += 1;
                &quoted[..quoted.find('"').unwrap_or(quoted.len())]
            }
            None => {
                let end = v
                    .find(|c: char| c.is_whitespace() || matches!(c, ',' | '"' | '\\'))
                    .unwrap_or(v.len());
                &v[..end]
            }
        };
        if !v.is_empty() {
            out.push(vstart..vstart + v.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(header: &str) -> Vec<&str> {
        let mut out = Vec::new();
        cookie_values(header, 0..header.len(), &mut out);
        out.into_iter().map(|r| &header[r]).collect()
    }

    #[test]
    fn card_layouts() {
        fn card(s: &str) -> Option<&str> {
            card_range(s, 0..s.len()).map(|r| &s[r])
        }
        assert_eq!(card("4111111111111111"), Some("4111111111111111"));
        assert_eq!(card("4111 1111 1111 1111 42"), Some("4111 1111 1111 1111"));
        assert_eq!(card("4111-1111-1111-1111"), Some("4111-1111-1111-1111"));
        assert_eq!(card("3782 822463 10005"), Some("3782 822463 10005"));
        assert_eq!(card("3056 930902 5904"), Some("3056 930902 5904"));
        assert_eq!(
            card("6011 0009 9013 9425 123"),
            None,
            "fails Luhn at every layout"
        );
        assert_eq!(card("6011 0009 9013 9424 123"), Some("6011 0009 9013 9424"));
        assert_eq!(card("41 11 11 11 11 11 11 11"), None, "not a card layout");
        assert_eq!(card("4111111111111112"), None);
    }

    #[test]
    fn cookie_values_only() {
        assert_eq!(values("a=1; b=2"), ["1", "2"]);
        assert_eq!(values(" sid=\"x y\" ;Path=/; HttpOnly"), ["x y"]);
        assert_eq!(values("sid=abc next words"), ["abc"]);
        assert_eq!(
            values("s=v, other; Expires=Wed, 21 Oct 2015; Max-Age=1; SameSite=Lax"),
            ["v"]
        );
        assert_eq!(values("novalue; =x; a="), Vec::<&str>::new());
        assert_eq!(values("user name=x"), Vec::<&str>::new());
    }

    #[test]
    fn property_keys_are_not_secret_keys() {
        for k in [
            "token_count",
            "max_tokens",
            "password_reset",
            "secret_name",
            "\"SecretArn\"",
        ] {
            assert!(!secret_key_name(k), "{k}");
        }
        for k in [
            "password",
            "db_password",
            "\"api_key\"",
            "X-Auth-Token",
            "client_secret",
        ] {
            assert!(secret_key_name(k), "{k}");
        }
    }
}
