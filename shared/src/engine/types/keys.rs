//! Each rule type's `Config` from the rule's parsed keys ([`crate::rules::schema::TYPES`] calls
//! these). The schema has already checked every key's own value and the keys a type requires;
//! what is left here are the checks across keys, reported at the key they name.

use std::time::Duration;

use super::select::{Selector, Selectors};
use super::{
    blacklist, cardinality, change, flatline, metric_aggregation, new_term, percentage_match,
    spike, spike_aggregation, whitelist,
};
use crate::rules::{QueryKeyPart, Report, RuleKind, Values};

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn query_key(v: &Values) -> Selectors {
    Selectors::from_parts(v.selectors("query_key").unwrap_or_default())
}

/// A key that takes exactly one selector.
fn one_selector(v: &Values, r: &mut Report, key: &str) -> Option<Selector> {
    let parts: &[(String, QueryKeyPart)] = v.selectors(key)?;
    match parts {
        [(_, p)] => Some(Selector::from(p)),
        _ => {
            r.error(
                v,
                key,
                format!("`{key}` takes one selector for this rule type, found a list"),
            );
            None
        }
    }
}

fn nonneg_u64(v: &Values, key: &str) -> Option<u64> {
    v.int(key).and_then(|n| u64::try_from(n).ok())
}

/// At least one of two bounds, and `lower` below `upper` when both are set.
fn bounds(
    v: &Values,
    r: &mut Report,
    lower: &str,
    upper: &str,
    read: impl Fn(&Values, &str) -> Option<f64>,
) -> Option<(Option<f64>, Option<f64>)> {
    let (lo, hi) = (read(v, lower), read(v, upper));
    match (lo, hi) {
        (None, None) => {
            r.error(
                v,
                "type",
                format!("this rule type needs `{upper}` or `{lower}` (or both)"),
            );
            None
        }
        (Some(l), Some(h)) if l > h => {
            r.error(v, lower, format!("`{lower}` must not be above `{upper}`"));
            None
        }
        _ => Some((lo, hi)),
    }
}

fn spike_type(v: &Values) -> Option<spike::SpikeType> {
    spike::SpikeType::parse(v.choice("spike_type")?)
}

fn agg_type(v: &Values, r: &mut Report) -> Option<metric_aggregation::AggType> {
    let name = v.choice("metric_agg_type")?;
    let pct = v.number("percentile_range");
    if name == "percentiles" && pct.is_none() {
        r.error(
            v,
            "metric_agg_type",
            "`metric_agg_type: percentiles` needs `percentile_range` (e.g. 95)",
        );
        return None;
    }
    if name != "percentiles" && pct.is_some() {
        r.error(
            v,
            "percentile_range",
            "`percentile_range` only applies to `metric_agg_type: percentiles`",
        );
        return None;
    }
    metric_aggregation::AggType::parse(name, pct)
}

pub fn blacklist(v: &Values, r: &mut Report) -> Option<RuleKind> {
    Some(RuleKind::Blacklist(Box::new(blacklist::Config {
        compare_key: one_selector(v, r, "compare_key")?,
        values: v.strings("blacklist")?.iter().cloned().collect(),
    })))
}

pub fn whitelist(v: &Values, r: &mut Report) -> Option<RuleKind> {
    Some(RuleKind::Whitelist(Box::new(whitelist::Config {
        compare_key: one_selector(v, r, "compare_key")?,
        values: v.strings("whitelist")?.iter().cloned().collect(),
        ignore_null: v.bool("ignore_null").unwrap_or(false),
    })))
}

pub fn change(v: &Values, _r: &mut Report) -> Option<RuleKind> {
    Some(RuleKind::Change(Box::new(change::Config {
        compare_key: Selectors::from_parts(v.selectors("compare_key")?),
        ignore_null: v.bool("ignore_null").unwrap_or(false),
        timeframe_ms: v.duration("timeframe").map(ms),
        query_key: query_key(v),
    })))
}

pub fn spike(v: &Values, _r: &mut Report) -> Option<RuleKind> {
    Some(RuleKind::Spike(Box::new(spike::Config {
        query_key: query_key(v),
        timeframe_ms: ms(v.duration("timeframe")?),
        spike_height: v.number("spike_height")?,
        spike_type: spike_type(v)?,
        threshold_cur: v.number("threshold_cur").unwrap_or(0.0).ceil() as u64,
        threshold_ref: v.number("threshold_ref").unwrap_or(0.0).ceil() as u64,
        alert_on_new_data: v.bool("alert_on_new_data").unwrap_or(false),
    })))
}

pub fn flatline(v: &Values, _r: &mut Report) -> Option<RuleKind> {
    Some(RuleKind::Flatline(Box::new(flatline::Config {
        query_key: query_key(v),
        threshold: nonneg_u64(v, "threshold")?,
        timeframe_ms: ms(v.duration("timeframe")?),
        forget_keys: v.bool("forget_keys").unwrap_or(false),
    })))
}

pub fn new_term(v: &Values, _r: &mut Report) -> Option<RuleKind> {
    let fields = v
        .selector_lists("fields")?
        .iter()
        .map(|parts| parts.iter().map(|(_, p)| Selector::from(p)).collect())
        .collect();
    let mut cfg = new_term::Config::new(fields);
    if let Some(d) = v.duration("terms_window_size") {
        cfg.terms_window_ms = ms(d);
    }
    if let Some(d) = v.duration("learning_period") {
        cfg.learning_period_ms = ms(d);
    }
    cfg.alert_on_missing_field = v.bool("alert_on_missing_field").unwrap_or(false);
    Some(RuleKind::NewTerm(Box::new(cfg)))
}

pub fn cardinality(v: &Values, r: &mut Report) -> Option<RuleKind> {
    let field = one_selector(v, r, "cardinality_field");
    let b = bounds(v, r, "min_cardinality", "max_cardinality", |v, k| {
        nonneg_u64(v, k).map(|n| n as f64)
    });
    let (min, max) = b?;
    Some(RuleKind::Cardinality(Box::new(cardinality::Config {
        field: field?,
        max: max.map(|x| x as u64),
        min: min.map(|x| x as u64),
        timeframe_ms: ms(v.duration("timeframe")?),
        query_key: query_key(v),
    })))
}

pub fn percentage_match(v: &Values, r: &mut Report) -> Option<RuleKind> {
    let (min, max) = bounds(v, r, "min_percentage", "max_percentage", |v, k| v.number(k))?;
    Some(RuleKind::PercentageMatch(Box::new(
        percentage_match::Config {
            bucket: v.pattern("match_bucket_filter")?.clone(),
            min_percentage: min,
            max_percentage: max,
            min_denominator: nonneg_u64(v, "min_denominator").unwrap_or(0),
            buffer_ms: ms(v.duration("buffer_time")?),
            query_key: query_key(v),
        },
    )))
}

pub fn metric_aggregation(v: &Values, r: &mut Report) -> Option<RuleKind> {
    let key = one_selector(v, r, "metric_agg_key");
    let agg = agg_type(v, r);
    let (min, max) = bounds(v, r, "min_threshold", "max_threshold", |v, k| v.number(k))?;
    Some(RuleKind::MetricAggregation(Box::new(
        metric_aggregation::Config {
            key: key?,
            agg: agg?,
            max_threshold: max,
            min_threshold: min,
            buffer_ms: ms(v.duration("buffer_time")?),
            unit: v.text("metric_unit").map(str::to_string),
            query_key: query_key(v),
        },
    )))
}

pub fn spike_aggregation(v: &Values, r: &mut Report) -> Option<RuleKind> {
    let key = one_selector(v, r, "metric_agg_key");
    let agg = agg_type(v, r);
    Some(RuleKind::SpikeAggregation(Box::new(
        spike_aggregation::Config {
            key: key?,
            agg: agg?,
            timeframe_ms: ms(v.duration("timeframe")?),
            spike_height: v.number("spike_height")?,
            spike_type: spike_type(v)?,
            threshold_cur: v.number("threshold_cur").unwrap_or(0.0),
            threshold_ref: v.number("threshold_ref").unwrap_or(0.0),
            unit: v.text("metric_unit").map(str::to_string),
            query_key: query_key(v),
        },
    )))
}
