//! Property tests: no input panics; parse → display → parse round-trips; the JSON walk agrees
//! with a reference evaluation over `serde_json::Value`.

use logalert::pattern::{FilterPattern, ValueRef};
use proptest::prelude::*;

/// Pattern-ish text: the characters the grammar cares about, plus some others.
fn patternish() -> impl Strategy<Value = String> {
    let atoms = prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("%".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("\\".to_string()),
        Just("$.".to_string()),
        Just("$".to_string()),
        Just(".".to_string()),
        Just("...".to_string()),
        Just(",".to_string()),
        Just("*".to_string()),
        Just(" ".to_string()),
        Just("=".to_string()),
        Just("!=".to_string()),
        Just("<".to_string()),
        Just(">=".to_string()),
        Just("&&".to_string()),
        Just("||".to_string()),
        Just("-".to_string()),
        Just("?".to_string()),
        Just(" IS NULL".to_string()),
        Just(" NOT EXISTS".to_string()),
        Just("[0]".to_string()),
        Just("[*]".to_string()),
        Just("1e3".to_string()),
        Just("é".to_string()),
        Just("인".to_string()),
        "[a-c]{1,3}",
        "[0-9]{1,3}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(atoms, 0..24).prop_map(|v| v.concat())
}

/// Syntactically valid patterns of every kind, built from a small grammar.
fn valid_pattern() -> impl Strategy<Value = String> {
    let word = "[A-Za-z_][A-Za-z0-9_]{0,5}";
    let phrase = "[ -~&&[^\"\\\\]]{1,8}".prop_map(|s| format!("\"{s}\""));
    let term = prop_oneof![word.prop_map(String::from), phrase.clone()];
    let terms = prop::collection::vec((prop_oneof![Just(""), Just("-"), Just("?")], term), 1..4)
        .prop_map(|v| {
            v.into_iter()
                .map(|(m, t)| format!("{m}{t}"))
                .collect::<Vec<_>>()
                .join(" ")
        });

    let value = prop_oneof![
        "-?[0-9]{1,3}(\\.[0-9]{1,2})?".prop_map(String::from),
        "\\*?[a-z]{1,4}\\*?".prop_map(String::from),
        phrase.clone(),
        "[a-z.]{1,4}".prop_map(|s| format!("%{s}%")),
    ];
    let selector = prop::collection::vec(
        prop_oneof![
            "[a-z]{1,3}".prop_map(|s| format!(".{s}")),
            (0..3usize).prop_map(|i| format!("[{i}]")),
            "[a-z.]{1,3}".prop_map(|s| format!("['{s}']")),
        ],
        1..3,
    )
    .prop_map(|segs| {
        let s = segs.concat();
        if s.starts_with('.') {
            format!("${s}")
        } else {
            format!("$.{s}")
        }
    });
    let cond = (
        selector,
        prop_oneof![
            value.clone().prop_map(|v| format!(" = {v}")),
            value.clone().prop_map(|v| format!(" != {v}")),
            "-?[0-9]{1,3}".prop_map(|n| format!(" > {n}")),
            "-?[0-9]{1,3}".prop_map(|n| format!(" <= {n}")),
            Just(" IS NULL".to_string()),
            Just(" IS TRUE".to_string()),
            Just(" NOT EXISTS".to_string()),
        ],
    )
        .prop_map(|(s, t)| format!("{s}{t}"));
    let json_expr = cond.prop_recursive(3, 8, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    });
    // At most 2 regexes per pattern: drop the rest.
    let json = json_expr
        .prop_map(|e| format!("{{ {e} }}"))
        .prop_filter("regex quota", |p| p.matches('%').count() <= 4);

    let field = prop_oneof![
        Just("...".to_string()),
        Just(String::new()),
        "[a-z]{1,3}".prop_map(String::from),
        ("[a-z]{1,3}", value).prop_map(|(n, v)| format!("{n} = {v}")),
        ("[a-z]{1,3}", "[0-9]{1,2}", "[0-9]{1,2}")
            .prop_map(|(n, a, b)| format!("{n} > {a} && {n} < {b}")),
    ];
    let delimited = prop::collection::vec(field, 0..5)
        .prop_map(|f| format!("[{}]", f.join(", ")))
        .prop_filter("regex quota", |p| p.matches('%').count() <= 4)
        .prop_filter("duplicate names", |p| FilterPattern::parse(p).is_ok());

    prop_oneof![
        terms,
        json.prop_filter("wildcard and other quotas", |p| FilterPattern::parse(p)
            .is_ok()),
        delimited,
        "[a-z.^$|]{1,6}".prop_map(|s| format!("%{s}%")),
    ]
}

fn message() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-c0-9 \\[\\]\"]{0,20}",
        r#"\{"a":(1|"x"|null|true|\[1,"b"\]|\{"b":2\}),"b":(2|"c")\}"#,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_patterns_never_panic(p in any::<String>(), m in any::<String>()) {
        if let Ok(p) = FilterPattern::parse(&p) {
            let _ = p.matches(&m);
        }
    }

    #[test]
    fn patternish_input_never_panics(p in patternish(), m in message()) {
        match FilterPattern::parse(&p) {
            Ok(pat) => {
                let a = pat.is_match(&m);
                let b = pat.matches(&m);
                prop_assert_eq!(a, b.is_some());
            }
            Err(e) => {
                prop_assert!(e.position <= p.chars().count());
                prop_assert!(!e.message.is_empty());
                let _ = e.to_string();
            }
        }
        let _ = ValueRef::parse(&p).map(|r| r.resolve(&m, &Default::default()));
    }

    #[test]
    fn parse_display_parse_round_trips(p in valid_pattern(), m in message()) {
        let first = FilterPattern::parse(&p).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let shown = first.to_string();
        let second = FilterPattern::parse(&shown)
            .map_err(|e| TestCaseError::fail(format!("{shown:?} does not re-parse:\n{e}")))?;
        prop_assert_eq!(second.to_string(), shown.clone(), "display is not a fixpoint");
        prop_assert_eq!(first.kind(), second.kind());
        prop_assert_eq!(first.matches(&m), second.matches(&m), "{} vs {}", p, shown);
    }
}

// ---- reference evaluation for single JSON conditions: the guided walk must agree with Value.

fn reference(selector: &[&str], op: &str, literal: &serde_json::Value, msg: &str) -> bool {
    use serde_json::Value;
    let Ok(Value::Object(root)) = serde_json::from_str::<Value>(msg) else {
        return false;
    };
    let mut v = Value::Object(root);
    for key in selector {
        v = match v.get(*key) {
            Some(x) => x.clone(),
            None => return false,
        };
    }
    // AWS's rules (module docs of `logalert::pattern`, "JSON values"): only strings and numbers
    // take part in comparisons, `!=` included; a string is compared as text, with a number
    // literal's spelling too; a number is compared by value, or as text with a string literal
    // (integers print as written).
    let text_cmp = |a: &str, b: &str| if op == "=" { a == b } else { a != b };
    match (&v, literal) {
        (Value::Number(n), Value::Number(l)) => {
            let (n, l) = (n.as_f64().unwrap(), l.as_f64().unwrap());
            if op == "=" { n == l } else { n != l }
        }
        (Value::String(s), Value::String(l)) => text_cmp(s, l),
        (Value::String(s), Value::Number(l)) => text_cmp(s, &l.to_string()),
        (Value::Number(n), Value::String(l)) => text_cmp(&n.to_string(), l),
        (Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_), _) => false,
        _ => unreachable!(),
    }
}

fn json_message() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (-3i64..3).prop_map(|n| n.to_string()),
        "[a-c]{0,2}".prop_map(|s| format!("\"{s}\"")),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("[1]".to_string()),
    ];
    let obj = leaf.prop_recursive(2, 8, 3, |inner| {
        prop::collection::vec(("[ab]", inner), 0..3).prop_map(|kv| {
            let body: Vec<String> = kv
                .into_iter()
                .map(|(k, v)| format!("\"{k}\":{v}"))
                .collect();
            format!("{{{}}}", body.join(","))
        })
    });
    prop_oneof![
        9 => obj,
        1 => "[ -~]{0,10}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn json_walk_agrees_with_a_value_reference(
        path in prop::collection::vec(prop_oneof![Just("a"), Just("b")], 1..3),
        eq in any::<bool>(),
        literal in prop_oneof![
            (-3i64..3).prop_map(|n| serde_json::json!(n)),
            "[a-c]{0,2}".prop_map(|s| serde_json::json!(s)),
        ],
        msg in json_message(),
    ) {
        let op = if eq { "=" } else { "!=" };
        let value = match &literal {
            serde_json::Value::String(s) => format!("\"{s}\""),
            other => other.to_string(),
        };
        let pattern = format!("{{ $.{} {op} {value} }}", path.join("."));
        let p = FilterPattern::parse(&pattern).unwrap();
        prop_assert_eq!(p.is_match(&msg), reference(&path, op, &literal, &msg), "{} on {}", pattern, msg);
    }
}

// ---- the literal prefilter (json.rs `Prefilter`): messages where the pattern's literal is
// present, absent, or spelled with escapes (`\u0045RROR`, `lev\u0065l`, `\/`), or that have
// escapes of non-ASCII characters only (`\u00e9`, which cannot spell an ASCII literal but can
// spell `é`), must get the same answer as a reference evaluation over `serde_json::Value`.

#[derive(Debug, Clone)]
enum RTest {
    /// `=`/`!=` a string pattern with optional leading/trailing `*`.
    Str {
        pat: &'static str,
        negate: bool,
    },
    /// `> n`
    Gt(f64),
    IsNull,
    NotExists,
}

#[derive(Debug, Clone)]
enum RExpr {
    Cond(&'static str, RTest),
    And(Box<RExpr>, Box<RExpr>),
    Or(Box<RExpr>, Box<RExpr>),
}

impl RExpr {
    fn pattern(&self) -> String {
        match self {
            RExpr::Cond(key, test) => match test {
                RTest::Str { pat, negate } => {
                    format!("$.{key} {} \"{pat}\"", if *negate { "!=" } else { "=" })
                }
                RTest::Gt(n) => format!("$.{key} > {n}"),
                RTest::IsNull => format!("$.{key} IS NULL"),
                RTest::NotExists => format!("$.{key} NOT EXISTS"),
            },
            RExpr::And(a, b) => format!("({} && {})", a.pattern(), b.pattern()),
            RExpr::Or(a, b) => format!("({} || {})", a.pattern(), b.pattern()),
        }
    }

    fn eval(&self, root: &serde_json::Map<String, serde_json::Value>) -> bool {
        use serde_json::Value;
        match self {
            RExpr::And(a, b) => a.eval(root) && b.eval(root),
            RExpr::Or(a, b) => a.eval(root) || b.eval(root),
            RExpr::Cond(key, test) => {
                let Some(v) = root.get(*key) else {
                    return matches!(test, RTest::NotExists);
                };
                match test {
                    RTest::NotExists => false,
                    // `IS NULL` also looks at the elements of an array.
                    RTest::IsNull => match v {
                        Value::Array(items) => items.iter().any(Value::is_null),
                        other => other.is_null(),
                    },
                    // Numbers only: strings never satisfy `<`, `>`.
                    RTest::Gt(n) => v.is_number() && v.as_f64().is_some_and(|x| x > *n),
                    RTest::Str { pat, negate } => {
                        let text = match v {
                            Value::String(s) => s.clone(),
                            // Integers, printed as written.
                            Value::Number(n) => n.to_string(),
                            // null, booleans, arrays and objects satisfy no comparison.
                            _ => return false,
                        };
                        let core = pat.trim_start_matches('*').trim_end_matches('*');
                        let hit = match (pat.starts_with('*'), pat.ends_with('*')) {
                            _ if *pat == "*" => true,
                            (true, true) => text.contains(core),
                            (true, false) => text.ends_with(core),
                            (false, true) => text.starts_with(core),
                            (false, false) => text == core,
                        };
                        hit != *negate
                    }
                }
            }
        }
    }
}

fn prefilter_cond() -> impl Strategy<Value = RExpr> {
    let key = prop_oneof![Just("level"), Just("code")];
    let test = prop_oneof![
        Just(RTest::Str {
            pat: "*é*",
            negate: false
        }),
        Just(RTest::Str {
            pat: "é",
            negate: false
        }),
        Just(RTest::Str {
            pat: "ÉRROR",
            negate: false
        }),
        Just(RTest::Str {
            pat: "ERROR",
            negate: false
        }),
        Just(RTest::Str {
            pat: "ERROR*",
            negate: false
        }),
        Just(RTest::Str {
            pat: "*ERROR",
            negate: false
        }),
        Just(RTest::Str {
            pat: "*ERROR*",
            negate: false
        }),
        Just(RTest::Str {
            pat: "ERROR",
            negate: true
        }),
        Just(RTest::Str {
            pat: "/ERROR",
            negate: false
        }),
        Just(RTest::Str {
            pat: "400",
            negate: false
        }),
        Just(RTest::Str {
            pat: "*",
            negate: false
        }),
        // A second literal, so that `a && b` has two clauses (`ERROR` and `WARN`) to check.
        Just(RTest::Str {
            pat: "WARN*",
            negate: false
        }),
        Just(RTest::Gt(450.0)),
        Just(RTest::IsNull),
        Just(RTest::NotExists),
    ];
    (key, test).prop_map(|(k, t)| RExpr::Cond(k, t))
}

fn prefilter_expr() -> impl Strategy<Value = RExpr> {
    prefilter_cond().prop_recursive(2, 4, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| RExpr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| RExpr::Or(Box::new(a), Box::new(b))),
        ]
    })
}

/// JSON objects whose keys and values spell the pattern's literals plainly, with escapes, or
/// not at all.
fn prefilter_message() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just(r#""level""#),
        Just(r#""lev\u0065l""#),
        Just(r#""code""#),
        Just(r#""c\u006fde""#),
        Just(r#""ERROR""#),
        Just(r#""other""#),
        Just(r#""é""#),
        Just(r#""\u00e9""#),
        Just(r#""lev\u00e9l""#),
    ];
    let value = prop_oneof![
        Just(r#""ERROR""#),
        Just(r#""\u0045RROR""#),
        Just(r#""\u0045RR\u004fR""#),
        Just(r#""x\/ERROR""#),
        Just(r#""/ERROR""#),
        Just(r#""\/ERROR""#),
        Just(r#""xERRORx""#),
        Just(r#""ERRORS""#),
        Just(r#""WARN""#),
        Just(r#""WARNING""#),
        Just(r#""W\u0041RN""#),
        Just(r#""a\\b""#),
        Just(r#""\u00e9""#),
        Just(r#""é""#),
        Just(r#""ERROR\u00e9""#),
        Just(r#""\u00e9ERROR""#),
        Just(r#""\uc778ERROR""#),
        Just(r#""\ud83d\ude00""#),
        Just(r#""\u00c9RROR""#),
        Just(r#""\u00C9RROR""#),
        Just(r#""ÉRROR""#),
        Just(r#""\u007fERROR""#),
        Just(r#""\u0080ERROR""#),
        Just(r#""x\u00e9\u0045RROR""#),
        Just(r#""400""#),
        Just("400"),
        Just("500"),
        // Numbers the prefilter's number probe reads (`$.code > 450`).
        Just(" 500"),
        Just("450"),
        Just("450.5"),
        Just("-1e3"),
        Just("1e3"),
        Just(r#"{"code":500}"#),
        Just("null"),
        Just("true"),
        Just(r#"["ERROR"]"#),
        Just(r#"["ERROR",null]"#),
        Just(r#"{"level":"ERROR"}"#),
    ];
    prop::collection::vec((key, value), 0..4).prop_map(|kv| {
        let body: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
        format!("{{{}}}", body.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn json_prefilter_agrees_with_a_value_reference(
        expr in prefilter_expr(),
        msg in prefilter_message(),
    ) {
        let pattern = format!("{{ {} }}", expr.pattern());
        let p = FilterPattern::parse(&pattern).unwrap();
        let root = match serde_json::from_str::<serde_json::Value>(&msg) {
            Ok(serde_json::Value::Object(root)) => root,
            other => return Err(TestCaseError::fail(format!("generated {msg}: {other:?}"))),
        };
        prop_assert_eq!(p.is_match(&msg), expr.eval(&root), "{} on {}", pattern, msg);
    }
}
