//! The rule types beyond any/frequency as the rules file declares them: examples/rules-types.yaml
//! loads into the configs each type's decisions use; cross-key mistakes get positioned errors.

use logalert::engine::types::metric_aggregation::AggType;
use logalert::engine::types::select::Selector;
use logalert::engine::types::spike::SpikeType;
use logalert::rules::{self, RuleKind};

fn load(yaml: &str) -> Result<rules::RuleSet, Vec<String>> {
    rules::load(yaml, "r.yaml").map_err(|e| e.0.iter().map(|e| e.to_string()).collect())
}

fn one(rule: &str) -> Result<RuleKind, Vec<String>> {
    let yaml = format!("version: 1\nrules:\n  - name: r\n{}", indent(rule));
    load(&yaml).map(|s| s.rules[0].kind.clone())
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

#[test]
fn the_example_file_loads_every_type() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/rules-types.yaml"
    ))
    .unwrap();
    let set = rules::load(&text, "rules-types.yaml").unwrap();
    let types: Vec<&str> = set.rules.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(
        types,
        [
            "blacklist",
            "whitelist",
            "change",
            "spike",
            "flatline",
            "new_term",
            "cardinality",
            "percentage_match",
            "metric_aggregation",
            "spike_aggregation",
            "any",
            "any"
        ]
    );
    let digest = &set.rules[10];
    assert_eq!(
        digest.aggregation,
        Some(std::time::Duration::from_secs(600))
    );
    assert_eq!(digest.summary_table_fields.len(), 2);
    assert_eq!(
        (digest.include.len(), digest.alert_missing_value.as_str()),
        (2, "-")
    );
    assert_eq!(
        set.rules[11].exponential_realert,
        Some(std::time::Duration::from_secs(7200))
    );
    assert_eq!(set.rules[11].realert.as_secs(), 300, "from defaults:");
    // filter_pattern is optional for these types: every event.
    assert_eq!(set.rules[0].filter_pattern.source(), "");
    match &set.rules[5].kind {
        RuleKind::NewTerm(c) => {
            assert_eq!(c.fields.len(), 3);
            assert_eq!(c.fields[0].0, vec![Selector::Fingerprint]);
            assert_eq!(c.fields[2].0.len(), 2, "a composite term");
            assert_eq!(c.learning_period_ms, 86_400_000);
        }
        k => panic!("{k:?}"),
    }
    match &set.rules[8].kind {
        RuleKind::MetricAggregation(c) => {
            assert_eq!(c.agg, AggType::Percentile(95.0));
            assert_eq!(c.max_threshold, Some(500.0));
            assert_eq!(c.unit.as_deref(), Some("ms"));
            assert_eq!(c.buffer_ms, 300_000);
            assert_eq!(c.query_key.0.len(), 1);
        }
        k => panic!("{k:?}"),
    }
}

/// Every YAML example in the README's "Rule types" section is a rule that loads, of the type it
/// documents, and every type has one.
#[test]
fn the_readme_shows_every_type_with_an_example_that_loads() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme
        .split_once("### Rule types")
        .unwrap()
        .1
        .split_once("\n### ")
        .unwrap()
        .0;
    let mut documented = Vec::new();
    for block in section.split("```yaml\n").skip(1) {
        let yaml = block.split_once("```").unwrap().0;
        let file = format!("version: 1\nrules:\n{}", indent(yaml));
        let set = rules::load(&file, "README.md").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        documented.push(set.rules[0].kind.as_str());
    }
    for t in rules::schema::TYPES {
        assert!(
            documented.contains(&t.name),
            "README: no example of `{}`",
            t.name
        );
        assert!(
            section.contains(&format!("**`{}`** — ", t.name)),
            "README: no line for `{}`",
            t.name
        );
    }
}

#[test]
fn defaults_of_the_type_keys() {
    let k = one("type: new_term\nfields: $.code\n").unwrap();
    let RuleKind::NewTerm(c) = k else { panic!() };
    assert_eq!(c.terms_window_ms, 30 * 86_400_000);
    assert!(!c.alert_on_missing_field);
    let k = one("type: spike\ntimeframe: 1m\nspike_height: 2\nspike_type: up\n").unwrap();
    let RuleKind::Spike(c) = k else { panic!() };
    assert_eq!(
        (
            c.threshold_cur,
            c.threshold_ref,
            c.alert_on_new_data,
            c.spike_type
        ),
        (0, 0, false, SpikeType::Up)
    );
    let k =
        one("type: flatline\nthreshold: 2\ntimeframe: 5m\nquery_key: \"@fingerprint\"\n").unwrap();
    let RuleKind::Flatline(c) = k else { panic!() };
    assert!(!c.forget_keys);
    assert_eq!(c.query_key.0, vec![Selector::Fingerprint]);
}

#[test]
fn required_keys_per_type() {
    assert_eq!(
        one("type: blacklist\n").unwrap_err(),
        ["r.yaml:4:11: a blacklist rule needs `compare_key` and `blacklist`"]
    );
    assert_eq!(
        one("type: spike\n").unwrap_err(),
        ["r.yaml:4:11: a spike rule needs `timeframe`, `spike_height` and `spike_type`"]
    );
    assert_eq!(
        one("type: any\n").unwrap_err(),
        ["r.yaml:3:5: a rule needs a `filter_pattern` (use \"\" to match every event)"]
    );
}

#[test]
fn cross_key_errors_point_at_the_key() {
    assert_eq!(
        one("type: cardinality\ncardinality_field: $.user\ntimeframe: 5m\n").unwrap_err(),
        ["r.yaml:4:11: this rule type needs `max_cardinality` or `min_cardinality` (or both)"]
    );
    assert_eq!(
        one(
            "type: cardinality\ncardinality_field: [$.a, $.b]\nmax_cardinality: 2\ntimeframe: 5m\n"
        )
        .unwrap_err(),
        ["r.yaml:5:24: `cardinality_field` takes one selector for this rule type, found a list"]
    );
    assert_eq!(
        one("type: percentage_match\nmatch_bucket_filter: ERROR\nmin_percentage: 50\nmax_percentage: 10\nbuffer_time: 5m\n").unwrap_err(),
        ["r.yaml:6:21: `min_percentage` must not be above `max_percentage`"]
    );
    assert_eq!(
        one("type: metric_aggregation\nmetric_agg_key: $.ms\nmetric_agg_type: percentiles\nmax_threshold: 1\nbuffer_time: 5m\n").unwrap_err(),
        ["r.yaml:6:22: `metric_agg_type: percentiles` needs `percentile_range` (e.g. 95)"]
    );
    assert!(
        one("type: spike\ntimeframe: 1m\nspike_height: 2\nspike_type: sideways\n").unwrap_err()[0]
            .contains("unknown spike type `sideways` (expected up, down or both)")
    );
    assert!(
        one("type: new_term\nfields: [\"@fingerprnt\"]\n").unwrap_err()[0]
            .contains("did you mean `@fingerprint`")
    );
    assert!(
        one("type: new_term\nfields: [[]]\n").unwrap_err()[0]
            .contains("a composite term needs at least one selector")
    );
}

#[test]
fn type_keys_are_refused_on_other_types() {
    let e = one("filter_pattern: x\nspike_height: 2\n").unwrap_err();
    assert_eq!(
        e,
        [
            "r.yaml:5:5: `spike_height` is only used by `type: spike` or `type: spike_aggregation` rules"
        ]
    );
}
