//! The rules schema table ([`logalert::rules::schema`]): consistent with itself, with loading, and
//! with the README's key table.

use logalert::rules::schema::{self, KEYS, Need, TYPES, UsedBy};
use logalert::rules::{self, RuleKind};

const START: &str = "<!-- rule-keys:start";
const END: &str = "<!-- rule-keys:end -->";

fn errors(yaml: &str) -> Vec<String> {
    match rules::load(yaml, "r.yaml") {
        Ok(_) => panic!("expected errors for:\n{yaml}"),
        Err(e) => e.0.iter().map(|e| e.to_string()).collect(),
    }
}

/// The README's key table is generated from the schema. `LOGALERT_BLESS=1` rewrites it.
#[test]
fn readme_key_table_is_generated_from_the_schema() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let start = readme
        .find(START)
        .expect("README has the rule-keys:start marker");
    let body = start + readme[start..].find("-->\n").unwrap() + 4;
    let end = readme
        .find(END)
        .expect("README has the rule-keys:end marker");
    let want = schema::key_table_markdown();
    if std::env::var_os("LOGALERT_BLESS").is_some() {
        let updated = format!("{}{want}{}", &readme[..body], &readme[end..]);
        std::fs::write(path, updated).unwrap();
        return;
    }
    assert_eq!(
        &readme[body..end],
        want,
        "README's key table is stale: run `LOGALERT_BLESS=1 cargo test -p logalert --test rules_schema`"
    );
}

#[test]
fn keys_and_types_are_unique_and_every_type_a_key_names_exists() {
    let mut names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), KEYS.len(), "duplicate key rows");
    let mut types: Vec<&str> = TYPES.iter().map(|t| t.name).collect();
    types.sort();
    types.dedup();
    assert_eq!(types.len(), TYPES.len(), "duplicate type rows");
    for k in KEYS {
        assert!(!k.doc.is_empty(), "`{}` has no doc line", k.name);
        if let UsedBy::Types(list) = k.used_by {
            assert!(!list.is_empty(), "`{}` is used by no type", k.name);
            for (t, _) in list {
                assert!(
                    schema::rule_type(t).is_some(),
                    "`{}` names unknown type `{t}`",
                    k.name
                );
            }
        }
    }
}

/// Every key's default loads through the key's own parser and reaches the rule.
#[test]
fn every_default_applies() {
    let set = rules::load(
        "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n",
        "r",
    )
    .unwrap();
    let r = &set.rules[0];
    assert_eq!(schema::key("realert").unwrap().default, Some("1m"));
    assert_eq!(r.realert.as_secs(), 60);
    assert_eq!(r.max_samples, 5);
    assert_eq!(r.channel, "default");
    assert_eq!(r.severity.as_str(), "error");
    assert_eq!(r.kind, RuleKind::Any);
    assert!(r.enabled);
    // Every default written in the table is valid for its key: a rule that writes each default
    // explicitly loads.
    // (Keys of other types go in `defaults:`, which may hold any key.)
    for k in KEYS.iter().filter(|k| k.default.is_some()) {
        let yaml = if k.need("any").is_some() {
            format!(
                "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    {}: {}\n",
                k.name,
                k.default.unwrap()
            )
        } else {
            format!(
                "version: 1\ndefaults:\n  {}: {}\nrules:\n  - name: a\n    filter_pattern: x\n",
                k.name,
                k.default.unwrap()
            )
        };
        assert!(rules::load(&yaml, "r").is_ok(), "default of `{}`", k.name);
    }
}

/// The per-type checks follow from `used_by`: every type-only key is refused on an `any` rule,
/// and every type lists what it is missing.
#[test]
fn per_type_required_and_refused_keys_follow_the_table() {
    for k in KEYS {
        let UsedBy::Types(types) = k.used_by else {
            continue;
        };
        if k.need("any").is_none() {
            let e = errors(&format!(
                "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    {}: 1\n",
                k.name
            ));
            assert!(
                e.iter()
                    .any(|m| m.starts_with("r.yaml:5:5: ") && m.contains("is only used by")),
                "{}: {e:?}",
                k.name
            );
        }
        for (t, need) in types {
            // (filter_pattern is written by this very rule; its own message is tested in rules.rs.)
            if *need == Need::Required && k.name != "filter_pattern" {
                let e = errors(&format!(
                    "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    type: {t}\n"
                ));
                assert!(
                    e.iter().any(
                        |m| m.starts_with(&format!("r.yaml:5:11: a {t} rule needs "))
                            && m.contains(&format!("`{}`", k.name))
                    ),
                    "{t}/{}: {e:?}",
                    k.name
                );
            }
        }
    }
}

#[test]
fn did_you_mean_covers_every_key() {
    for k in KEYS.iter().filter(|k| k.name.len() >= 5) {
        // Drop one character in the middle: the hint finds the key again.
        let mut typo = k.name.to_string();
        typo.remove(k.name.len() / 2);
        let e = errors(&format!(
            "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    {typo}: 1\n"
        ));
        assert!(
            e[0].contains(&format!("(did you mean `{}`?)", k.name)),
            "{typo}: {e:?}"
        );
    }
}

#[test]
fn defaults_follow_the_table() {
    // `in_defaults: false` keys are refused in `defaults:`, others accepted.
    for k in KEYS.iter().filter(|k| !k.in_defaults) {
        let e = errors(&format!(
            "version: 1\ndefaults:\n  {}: x\nrules:\n  - name: a\n    filter_pattern: x\n",
            k.name
        ));
        assert_eq!(
            e,
            [format!("r.yaml:3:3: `{}` cannot have a default", k.name)]
        );
    }
    // A default that is invalid is reported once, and does not also count as missing.
    let e = errors(
        "version: 1\ndefaults:\n  type: frequency\n  num_events: many\n  timeframe: 5m\nrules:\n  - name: a\n    filter_pattern: x\n  - name: b\n    filter_pattern: x\n",
    );
    assert_eq!(
        e,
        ["r.yaml:4:15: `num_events` must be an integer, found a string"]
    );
}

#[test]
fn an_invalid_type_does_not_add_guesses() {
    let e = errors(
        "version: 1\nrules:\n  - name: a\n    filter_pattern: x\n    type: frequenzy\n    num_events: 3\n",
    );
    assert_eq!(
        e,
        [
            "r.yaml:5:11: unknown rule type `frequenzy` (expected any, frequency, blacklist, whitelist, change, spike, flatline, new_term, cardinality, percentage_match, metric_aggregation or spike_aggregation) (did you mean `frequency`?)"
        ]
    );
}
