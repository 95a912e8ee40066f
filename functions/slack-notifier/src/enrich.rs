//! Enrich: for a CloudWatch alarm whose metric is published by a log metric filter, find that filter
//! (DescribeMetricFilters by metric name + namespace) and fetch a few log events it matched in the
//! alarm's evaluation window (FilterLogEvents with the filter's pattern). Failures are reported in the
//! result (the message then says it could not fetch them), never as a missing message.

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::DisplayErrorContext;
use logalert::alarm::{AlarmEnrichment, AlarmLogEvent, AlarmLogs, AlarmNotification};

/// Metrics looked up per alarm, filters per metric, FilterLogEvents pages per filter.
const MAX_METRICS: usize = 3;
const MAX_FILTERS: usize = 2;
const MAX_PAGES: usize = 3;

/// Find the log events behind `alarm`. `None` when there is nothing to look for (no metric, or no
/// state-change time); `Some` with empty `sources` when no metric filter publishes the metric.
pub async fn alarm_logs(
    client: &Client,
    alarm: &AlarmNotification,
    max_events: usize,
) -> Option<AlarmEnrichment> {
    let metrics = alarm.metrics();
    if metrics.is_empty() {
        return None;
    }
    let (start_ms, end_ms) = alarm.evaluation_window_ms()?;
    let mut result = AlarmEnrichment {
        start_ms,
        end_ms,
        sources: Vec::new(),
        failure: None,
    };
    for (namespace, metric) in metrics.into_iter().take(MAX_METRICS) {
        let filters = match client
            .describe_metric_filters()
            .metric_name(&metric)
            .metric_namespace(&namespace)
            .send()
            .await
        {
            Ok(out) => out.metric_filters.unwrap_or_default(),
            Err(e) => {
                result.failure = Some(format!(
                    "DescribeMetricFilters {namespace}/{metric}: {}",
                    DisplayErrorContext(&e)
                ));
                return Some(result);
            }
        };
        for filter in filters.into_iter().take(MAX_FILTERS) {
            let (Some(log_group), Some(filter_name)) = (filter.log_group_name, filter.filter_name)
            else {
                continue;
            };
            let pattern = filter.filter_pattern.unwrap_or_default();
            match events(client, &log_group, &pattern, start_ms, end_ms, max_events).await {
                Ok(events) => result.sources.push(AlarmLogs {
                    filter_name,
                    log_group,
                    filter_pattern: pattern,
                    events,
                }),
                Err(message) => {
                    result.failure = Some(format!("FilterLogEvents on {log_group}: {message}"));
                    return Some(result);
                }
            }
        }
    }
    Some(result)
}

async fn events(
    client: &Client,
    log_group: &str,
    pattern: &str,
    start_ms: i64,
    end_ms: i64,
    max_events: usize,
) -> Result<Vec<AlarmLogEvent>, String> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut req = client
            .filter_log_events()
            .log_group_name(log_group)
            .start_time(start_ms)
            .end_time(end_ms)
            .limit(i32::try_from(max_events.max(1)).unwrap_or(10))
            .set_next_token(token.take());
        if !pattern.trim().is_empty() {
            req = req.filter_pattern(pattern);
        }
        let out = req
            .send()
            .await
            .map_err(|e| DisplayErrorContext(&e).to_string())?;
        for e in out.events.unwrap_or_default() {
            if found.len() >= max_events {
                break;
            }
            found.push(AlarmLogEvent {
                log_stream: e.log_stream_name.unwrap_or_default(),
                timestamp: e.timestamp.unwrap_or(0),
                message: e.message.unwrap_or_default(),
            });
        }
        token = out.next_token;
        if found.len() >= max_events || token.is_none() {
            break;
        }
    }
    Ok(found)
}
