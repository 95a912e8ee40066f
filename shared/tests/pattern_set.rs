//! `PatternSet` gives, for every pattern of a set, exactly what matching that pattern on its own
//! gives (`FilterPattern::matches`): random rule sets over random messages.

use logalert::pattern::{FilterPattern, Match, PatternSet, ValueRef};
use proptest::prelude::*;

/// Patterns of every kind, sharing literals, selectors and keys on purpose.
const POOL: &[&str] = &[
    "",
    " ",
    "ERROR",
    "ERROR -healthcheck",
    "?ERROR ?WARN",
    "?ERROR ?WARN timeout",
    "-ERROR",
    "\"two words\" ERROR",
    "timeout",
    "ERR",
    "é",
    "%ERROR|WARN%",
    "%^a{2,3}$%",
    r#"{ $.level = "ERROR" }"#,
    r#"{ $.level = "ERROR" && $.ms > 100 }"#,
    r#"{ $.level = ERR* || $.code = 500 }"#,
    r#"{ $.level != "ERROR" }"#,
    "{ $.ms >= 100 }",
    "{ $.ms NOT EXISTS }",
    "{ $.a[*] = 2 }",
    "{ $.a[*] != 2 }",
    "{ $.a IS NULL }",
    "{ $.a.b = * }",
    "{ $.* = timeout }",
    r#"{ $.level = %^E% }"#,
    "{ $.code = \"500\" }",
    "[a, b]",
    "[a = ERROR, ...]",
    "[..., last = timeout]",
    "[a, b = 5*, c]",
    "[]",
    "[a != x, rest]",
    "[a, b = 5*, ...]",
    "[a, ...]",
    "[a, b, c = timeout, ...]",
    r#"{ $.ms > 100 || $.level = "ERROR" }"#,
    "{ $.code != 500 }",
    // Non-ASCII literals (an escape of a non-ASCII character can spell them) and delimited
    // patterns gated on their conditions' literals.
    r#"{ $.level = "é*" }"#,
    r#"{ $.a = "*é*" && $.level = "ERROR" }"#,
    "[a = ERROR || a = WARN, ...]",
    "[a, b = timeout && b != x, ...]",
    "[a = ERR*, b = *out, ...]",
    "[a = *é*, ...]",
];

fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(POOL).prop_map(String::from),
        1 => "[A-Ea-c]{1,4}".prop_map(String::from),
        1 => ("[a-c]{1,2}", "[a-c]{1,3}").prop_map(|(k, v)| format!("{{ $.{k} = \"{v}\" }}")),
        1 => ("[a-c]{1,2}", -3i32..3).prop_map(|(k, n)| format!("{{ $.{k} > {n} }}")),
    ]
}

fn message() -> impl Strategy<Value = String> {
    let json_value = prop_oneof![
        Just("\"ERROR\"".to_string()),
        Just("\"ERRORS\"".to_string()),
        Just("\"\\u0045RROR\"".to_string()),
        // Escapes of non-ASCII characters (as `json.dumps` writes them), at the ASCII boundary
        // (`\u007f` is ASCII, `\u0080` is not), and an escaped quote.
        Just("\"\\u00e9\"".to_string()),
        Just("\"ERR\\u00e9\"".to_string()),
        Just("\"\\uc778ERROR\"".to_string()),
        Just("\"\\ud83d\\ude00 timeout\"".to_string()),
        Just("\"\\u007f\"".to_string()),
        Just("\"\\u0080\"".to_string()),
        Just("\"\\u00C9\"".to_string()),
        Just("\"a\\\"b\"".to_string()),
        Just("\"é\"".to_string()),
        Just("\"WARN\"".to_string()),
        Just("\"timeout\"".to_string()),
        Just("500".to_string()),
        Just("\"500\"".to_string()),
        Just("150".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("[1,2]".to_string()),
        Just("[null]".to_string()),
        Just("{\"b\":1}".to_string()),
        "[a-c]{0,3}".prop_map(|s| format!("\"{s}\"")),
        (-4i32..4).prop_map(|n| n.to_string()),
    ];
    let key = prop_oneof![
        Just("level"),
        Just("ms"),
        Just("code"),
        Just("a"),
        Just("b"),
        Just("c"),
        Just("ab"),
        Just("é"),
        Just("\\u00e9"),
        Just("m\\u0073"),
    ];
    let json = prop::collection::vec((key, json_value), 0..4).prop_map(|kv| {
        let body: Vec<String> = kv
            .into_iter()
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect();
        format!("{{{}}}", body.join(","))
    });
    let word = prop_oneof![
        Just("ERROR"),
        Just("WARN"),
        Just("timeout"),
        Just("healthcheck"),
        Just("two words"),
        Just("\"two words\""),
        Just("[x y]"),
        Just("5xx"),
        Just("aa"),
        Just("é"),
        Just("x"),
        Just(""),
    ];
    let text = prop::collection::vec(word, 0..6).prop_map(|w| w.join(" "));
    prop_oneof![3 => json, 3 => text, 1 => any::<String>()]
}

fn one_by_one(patterns: &[FilterPattern], msg: &str) -> Vec<(usize, Match)> {
    patterns
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.matches(msg).map(|m| (i, m)))
        .collect()
}

/// The set's answers on every message equal `one_by_one`'s.
fn answers_like_one_by_one(sources: &[String], messages: &[String]) -> Result<(), TestCaseError> {
    let patterns: Vec<FilterPattern> = sources
        .iter()
        .map(|s| FilterPattern::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}")))
        .collect();
    let set = PatternSet::new(patterns.iter());
    prop_assert_eq!(set.len(), patterns.len());
    // One scratch across messages, as a caller keeps it.
    let mut scratch = set.scratch();
    for msg in messages {
        let mut got = Vec::new();
        set.for_each_match(msg, &mut scratch, |i, m| got.push((i, m)));
        prop_assert_eq!(
            &got,
            &one_by_one(&patterns, msg),
            "{:?} on {:?}",
            sources,
            msg
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn a_set_answers_like_its_patterns_one_by_one(
        sources in prop::collection::vec(pattern(), 0..24),
        messages in prop::collection::vec(message(), 1..6),
    ) {
        answers_like_one_by_one(&sources, &messages)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Small sets take the shortcuts (a lone pattern of its kind is matched on its own, no
    /// search for fewer than two literal users, a split stopped early): same answers.
    #[test]
    fn a_small_set_answers_like_its_patterns_one_by_one(
        sources in prop::collection::vec(pattern(), 1..4),
        messages in prop::collection::vec(message(), 1..6),
    ) {
        answers_like_one_by_one(&sources, &messages)?;
    }
}

/// Query-key selectors, on the pool's paths and off them.
const VALUES: &[&str] = &[
    "level", "ms", "code", "a", "a.b", "b", "ab", "a[0]", "a[*]", "x",
];

/// Where a set serves a JSON value from its own walk (`PatternSet::value_slot`), the value is
/// what resolving it on the message gives (`CompiledValueRef::resolve_into`), for every match.
fn values_served_like_resolved(
    sources: &[String],
    messages: &[String],
) -> Result<(), TestCaseError> {
    // `""` matches every message, so the callback sees every message's walk.
    let patterns: Vec<FilterPattern> = std::iter::once("")
        .chain(sources.iter().map(String::as_str))
        .map(|s| FilterPattern::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}")))
        .collect();
    let set = PatternSet::new(patterns.iter());
    let values: Vec<_> = VALUES
        .iter()
        .map(|v| ValueRef::parse(&format!("$.{v}")).unwrap().compile())
        .filter_map(|v| set.value_slot(&v).map(|slot| (v, slot)))
        .collect();
    let mut scratch = set.scratch();
    for msg in messages {
        let mut result = Ok(());
        set.for_each_match_walked(msg, &mut scratch, |_, m, walked| {
            for (v, slot) in &values {
                let (mut served, mut resolved) = (String::new(), String::new());
                if let Some(found) = walked.value_into(*slot, &mut served) {
                    let own = v.resolve_into(msg, &m, &mut resolved);
                    if result.is_ok() && (found, &served) != (own, &resolved) {
                        result = Err(TestCaseError::fail(format!(
                            "{sources:?} {v:?} on {msg:?}: served {served:?}, resolved {resolved:?}"
                        )));
                    }
                }
            }
        });
        result?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn values_a_set_serves_are_the_values_resolved(
        sources in prop::collection::vec(pattern(), 0..12),
        messages in prop::collection::vec(message(), 1..6),
    ) {
        values_served_like_resolved(&sources, &messages)?;
    }
}

#[test]
fn a_set_serves_the_values_its_walk_finds() {
    let patterns: Vec<FilterPattern> = [
        r#"{ $.level = "ERROR" && $.code = "DA*" }"#,
        "{ $.ms > 100 }",
        "timeout",
    ]
    .iter()
    .map(|s| FilterPattern::parse(s).unwrap())
    .collect();
    let set = PatternSet::new(&patterns);
    let value = |v: &str| ValueRef::parse(v).unwrap().compile();
    let code = set
        .value_slot(&value("$.code"))
        .expect("a selector of the set");
    assert!(set.value_slot(&value("$.user")).is_none(), "not walked");
    assert!(
        set.value_slot(&value("$status")).is_none(),
        "a field, not JSON"
    );
    let mut scratch = set.scratch();
    let mut keys = Vec::new();
    for msg in [
        r#"{"level":"ERROR","code":"DA1","ms":5}"#,
        r#"{"level":"INFO","code":7,"ms":500}"#,
        r#"{"ms":500}"#,
        "timeout, not JSON",
    ] {
        set.for_each_match_walked(msg, &mut scratch, |i, _, walked| {
            let mut key = String::new();
            let served = walked.value_into(code, &mut key);
            keys.push((i, served, key));
        });
    }
    assert_eq!(
        keys,
        [
            (0, Some(true), "DA1".to_string()),
            (1, Some(true), "7".to_string()),
            (1, Some(false), String::new()),
            (2, None, String::new()), // not walked: the caller resolves it
        ]
    );
}

#[test]
fn an_empty_set_matches_nothing() {
    let set = PatternSet::new([]);
    assert!(set.is_empty());
    let mut scratch = set.scratch();
    let mut n = 0;
    set.for_each_match("anything", &mut scratch, |_, _| n += 1);
    assert_eq!(n, 0);
}

#[test]
fn a_set_knows_its_size() {
    let patterns = [FilterPattern::parse("ERROR").unwrap()];
    let set = PatternSet::new(&patterns);
    assert!(!set.is_empty());
    assert_eq!(set.len(), 1);
    assert_eq!(PatternSet::new([]).len(), 0);
}

/// One scratch, passed from set to set of different sizes (the engine keeps one per rule set,
/// but any scratch must do): each set resizes it and answers as its patterns one by one.
#[test]
fn a_scratch_serves_any_set() {
    let sets: Vec<Vec<FilterPattern>> = [
        &[
            "ERROR",
            "timeout -retry",
            r#"{ $.level = "ERROR" }"#,
            "?panic ?fatal",
        ][..],
        &["x"],
        &[
            "ERROR",
            "WARN",
            "INFO",
            "DEBUG",
            "a b c d e f",
            r#"{ $.msg = "*late*" }"#,
        ],
        &[],
    ]
    .iter()
    .map(|sources| {
        sources
            .iter()
            .map(|s| FilterPattern::parse(s).unwrap())
            .collect()
    })
    .collect();
    let compiled: Vec<PatternSet> = sets.iter().map(PatternSet::new).collect();
    let messages = [
        "ERROR timeout",
        "fatal: x ERROR",
        r#"{"level":"ERROR","msg":"too late"}"#,
        "INFO a b c d e f",
        "",
    ];
    let mut scratch = logalert::pattern::SetScratch::default();
    for round in 0..3 {
        for (set, patterns) in compiled.iter().zip(&sets).cycle().skip(round).take(8) {
            for msg in messages {
                let mut got = Vec::new();
                set.for_each_match(msg, &mut scratch, |i, m| got.push((i, m)));
                assert_eq!(got, one_by_one(patterns, msg), "{msg:?}");
            }
        }
    }
}

#[test]
fn shared_literals_and_selectors_serve_every_pattern() {
    let sources = [
        "ERROR",
        "ERROR -timeout",
        "-ERROR",
        r#"{ $.level = "ERROR" }"#,
        r#"{ $.level = "ERROR" && $.ms > 100 }"#,
        "{ $.ms > 100 }",
    ];
    let patterns: Vec<FilterPattern> = sources
        .iter()
        .map(|s| FilterPattern::parse(s).unwrap())
        .collect();
    let set = PatternSet::new(&patterns);
    let mut scratch = set.scratch();
    let hits = |msg: &str, scratch: &mut _| {
        let mut v = Vec::new();
        set.for_each_match(msg, scratch, |i, _| v.push(i));
        v
    };
    assert_eq!(
        hits(r#"{"level":"ERROR","ms":150}"#, &mut scratch),
        [0, 1, 3, 4, 5]
    );
    assert_eq!(
        hits(r#"{"level":"ERROR","ms":50}"#, &mut scratch),
        [0, 1, 3]
    );
    assert_eq!(
        hits(r#"{"level":"\u0045RROR","ms":150}"#, &mut scratch),
        [2, 3, 4, 5]
    );
    assert_eq!(hits("ERROR timeout", &mut scratch), [0]);
    assert_eq!(hits("INFO", &mut scratch), [2]);
}

/// A piece of a CloudWatch regular expression (`%…%` dialect: no groups, ASCII only).
fn regex_atom() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(&[
            "timeout", "deadline", "dead", "line", "time", "out", "ERROR", "err", "abc", "x",
        ][..])
        .prop_map(String::from),
        // Case-insensitive spellings, the dialect's only way: a class per letter.
        2 => prop::sample::select(&["[Tt]imeout", "[Tt][Ii][Mm][Ee]", "[Ee]rr", "[dD]ead"][..])
            .prop_map(String::from),
        2 => prop::sample::select(&[
            ".", r"\d", r"\w", r"\s", r"\S", "[a-c]", "[^x]", "[xyz]", r"\x41", r"\.", r"\-", " ",
        ][..])
        .prop_map(String::from),
    ]
}

fn regex_quantifier() -> impl Strategy<Value = &'static str> {
    prop::sample::select(
        &[
            "", "", "", "?", "*", "+", "{2}", "{1,3}", "{,2}", "+?", "*?",
        ][..],
    )
}

/// A `%…%` pattern: one to three branches of one to four quantified pieces, maybe anchored.
fn regex_pattern() -> impl Strategy<Value = String> {
    let branch = (
        prop::bool::weighted(0.2),
        prop::collection::vec((regex_atom(), regex_quantifier()), 1..5),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(start, pieces, end)| {
            let body: String = pieces.into_iter().map(|(a, q)| a + q).collect();
            format!(
                "{}{body}{}",
                if start { "^" } else { "" },
                if end { "$" } else { "" }
            )
        });
    prop::collection::vec(branch, 1..4).prop_map(|b| format!("%{}%", b.join("|")))
}

/// Messages made of the regexes' pieces, so that they contain the required literals, miss
/// them by a letter, or spell them in another case.
fn regex_message() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        prop::sample::select(
            &[
                "timeout",
                "Timeout",
                "TIMEOUT",
                "deadline",
                "dead line",
                "time",
                "TIME",
                "out",
                "timeou",
                "eadline",
                "ERROR",
                "Err",
                "err",
                "abc",
                "ab",
                "x",
                "A",
                "1",
                "12",
                ".",
                "-",
                " ",
                "\t",
                "é",
                "",
            ][..]
        )
        .prop_map(String::from),
        "[a-eTtx .0-9]{0,6}",
    ];
    prop_oneof![
        6 => prop::collection::vec(word, 0..6).prop_map(|w| w.concat()),
        1 => any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Regexes gated on the set's search (`regex.rs` `required_literals`) answer as they do on
    /// their own; the term patterns make the set build its search.
    #[test]
    fn gated_regexes_answer_like_their_patterns_one_by_one(
        regexes in prop::collection::vec(regex_pattern(), 1..4),
        others in prop::collection::vec(pattern(), 0..6),
        messages in prop::collection::vec(regex_message(), 1..8),
    ) {
        let regexes: Vec<String> = regexes
            .into_iter()
            .filter(|r| FilterPattern::parse(r).is_ok())
            .collect();
        let sources: Vec<String> = ["ERROR", "timeout"]
            .into_iter()
            .map(String::from)
            .chain(regexes)
            .chain(others)
            .collect();
        answers_like_one_by_one(&sources, &messages)?;
    }
}

/// Selectors with a wildcard at every level of one path: at depth `n`, `n + 1` of the set's trie
/// nodes apply at once (the exact path, and one per level the wildcard can stand at), more than
/// any fixed width. Each pattern keeps to the quotas (one wildcard per selector).
#[test]
fn a_wildcard_at_every_level_of_a_deep_path() {
    let keys = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    let mut sources = vec![format!("{{ $.{} = 1 }}", keys.join("."))];
    for w in 0..keys.len() {
        let mut path: Vec<&str> = keys.to_vec();
        path[w] = "*";
        sources.push(format!("{{ $.{} = 1 }}", path.join(".")));
    }
    let mut msg = "1".to_string();
    for k in keys.iter().rev() {
        msg = format!("{{\"{k}\":{msg}}}");
    }
    let other = msg.replace("\"j\":1", "\"j\":2");
    answers_like_one_by_one(&sources, &[msg.clone(), other]).unwrap();
    let patterns: Vec<FilterPattern> = sources
        .iter()
        .map(|s| FilterPattern::parse(s).unwrap())
        .collect();
    assert_eq!(
        one_by_one(&patterns, &msg).len(),
        sources.len(),
        "each matches alone"
    );
}
