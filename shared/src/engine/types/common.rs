//! What several rule types share: bucketed event counts over event time, the per-minute
//! sparkline, and the formatting of figures in observations.
//!
//! ```
//! use logalert::engine::types::common::{Counts, fmt_duration, sparkline};
//! let mut c = Counts::for_timeframe(5 * 60_000);
//! for t in [0, 1_000, 61_000, 250_000] { c.add(t, 1); }
//! assert_eq!(c.count_window(250_000, 5 * 60_000), 4);
//! assert_eq!(sparkline(&[0, 1, 4, 8]), "▁▂▄█");
//! assert_eq!(fmt_duration(300_000), "5 min");
//! ```

use serde::{Deserialize, Serialize};

use super::MatchView;

pub use super::MAX_TRIGGER_SAMPLES;

/// Buckets per timeframe: windows are quantised to 1/60 of the timeframe (at least 1 s).
pub const BUCKETS_PER_TIMEFRAME: i64 = 60;

/// Longest sparkline, in characters.
pub const MAX_SPARKLINE: usize = 60;

/// Event counts in fixed-width buckets of event time, oldest first. A window ending at `end`
/// covers the bucket holding `end` and the ones before it, `timeframe` in all (rounded up to
/// whole buckets), so it spans between `timeframe` and `timeframe + width` of event time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Bucket width, ms.
    #[serde(rename = "w")]
    pub width_ms: i64,
    /// (bucket index = timestamp div width, count), sorted by index.
    #[serde(rename = "b", default)]
    pub buckets: Vec<(i64, u64)>,
}

impl Counts {
    /// Buckets of `timeframe / 60` (whole seconds, at least 1 s).
    pub fn for_timeframe(timeframe_ms: i64) -> Counts {
        let width = (timeframe_ms / BUCKETS_PER_TIMEFRAME / 1000 * 1000).max(1000);
        Counts {
            width_ms: width,
            buckets: Vec::new(),
        }
    }

    fn index(&self, ts: i64) -> i64 {
        ts.div_euclid(self.width_ms.max(1))
    }

    /// Buckets a window of `timeframe` covers.
    pub fn span(&self, timeframe_ms: i64) -> i64 {
        let w = self.width_ms.max(1);
        ((timeframe_ms + w - 1) / w).max(1)
    }

    /// Count `n` events at `ts` (any order).
    pub fn add(&mut self, ts: i64, n: u64) {
        let i = self.index(ts);
        match self.buckets.binary_search_by_key(&i, |(b, _)| *b) {
            Ok(pos) => self.buckets[pos].1 += n,
            Err(pos) => self.buckets.insert(pos, (i, n)),
        }
    }

    /// Drop buckets that end at or before `ts`.
    pub fn prune_before(&mut self, ts: i64) {
        let keep_from = self.index(ts);
        self.buckets.retain(|(b, _)| *b >= keep_from);
    }

    /// Events in the window of `timeframe` ending at `end` (see the type docs).
    pub fn count_window(&self, end: i64, timeframe_ms: i64) -> u64 {
        let last = self.index(end);
        let first = last - self.span(timeframe_ms) + 1;
        self.sum_indices(first, last)
    }

    /// Events in the window of `timeframe` just before the one ending at `end`.
    pub fn count_previous_window(&self, end: i64, timeframe_ms: i64) -> u64 {
        let span = self.span(timeframe_ms);
        let last = self.index(end) - span;
        self.sum_indices(last - span + 1, last)
    }

    fn sum_indices(&self, first: i64, last: i64) -> u64 {
        self.buckets
            .iter()
            .filter(|(b, _)| (first..=last).contains(b))
            .map(|(_, c)| c)
            .sum()
    }

    /// The newest bucket's start, if any.
    pub fn newest_ms(&self) -> Option<i64> {
        self.buckets.last().map(|(b, _)| b * self.width_ms)
    }

    /// Counts per column over `[from, to)`: columns of one minute, or wider so that there are
    /// at most [`MAX_SPARKLINE`] (and at least one bucket wide).
    pub fn columns(&self, from: i64, to: i64) -> Vec<u64> {
        let span = (to - from).max(1);
        let mut col = 60_000.max(self.width_ms);
        while span / col > MAX_SPARKLINE as i64 {
            col *= 2;
        }
        let n = ((span + col - 1) / col) as usize;
        let mut out = vec![0u64; n];
        for (b, c) in &self.buckets {
            let t = b * self.width_ms;
            if t >= from && t < to {
                let i = ((t - from) / col) as usize;
                out[i.min(n - 1)] += c;
            }
        }
        out
    }

    /// The sparkline of `[from, to)` ([`Counts::columns`]).
    pub fn sparkline(&self, from: i64, to: i64) -> String {
        sparkline(&self.columns(from, to))
    }
}

/// `▁▂▃▄▅▆▇█`: 0 is `▁`, the largest value `█`, others in proportion (any non-zero value at
/// least `▂`, so an event always shows).
pub fn sparkline(values: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| {
            if v == 0 || max == 0 {
                BARS[0]
            } else {
                // 1..=max onto 1..=7.
                let level = 1 + ((v - 1) as u128 * 6 / (max.max(2) - 1) as u128) as usize;
                BARS[level.min(7)]
            }
        })
        .collect()
}

/// `5 min`, `1 h`, `30 s`, `2 d`, `90 s`, `1500 ms`: the largest unit that divides exactly.
pub fn fmt_duration(ms: i64) -> String {
    const UNITS: [(i64, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "min"),
        (1000, "s"),
    ];
    for (size, name) in UNITS {
        if ms != 0 && ms % size == 0 {
            return format!("{} {name}", ms / size);
        }
    }
    format!("{ms} ms")
}

/// A figure for a sentence: integers without decimals, others with at most 2 (`903`, `0.5`,
/// `12.35`), large ones grouped (`1,234,567`).
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let rounded = (v * 100.0).round() / 100.0;
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        return group_thousands(rounded as i64);
    }
    let s = format!("{rounded:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `1,234` for counts.
pub fn fmt_count(n: u64) -> String {
    group_thousands(n as i64)
}

fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `event` / `events`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", fmt_count(n), if n == 1 { one } else { many })
}

/// The ids of up to [`MAX_TRIGGER_SAMPLES`] matches.
/// The positions in `m` of `listed`, which are elements of `m` (a trigger's
/// [`super::Trigger::events`]). By address: each element's offset from the slice's start over the
/// element size, so listing n events costs n steps (a search by id would cost n × |m|).
pub fn positions<'a, 'b: 'a>(
    m: &'a [MatchView<'b>],
    listed: impl IntoIterator<Item = &'a MatchView<'b>>,
) -> Vec<usize> {
    let base = m.as_ptr() as usize;
    let size = std::mem::size_of::<MatchView>().max(1);
    listed
        .into_iter()
        .map(|e| (e as *const MatchView as usize).wrapping_sub(base) / size)
        .filter(|&i| i < m.len())
        .collect()
}

pub fn sample_ids<'a>(matches: impl IntoIterator<Item = &'a MatchView<'a>>) -> Vec<String> {
    matches
        .into_iter()
        .take(MAX_TRIGGER_SAMPLES)
        .map(|m| m.id.to_string())
        .collect()
}

/// Parse a number given as a field value (`"903"`, `"0.5"`, `"1e3"`); `None` when it is not one.
pub fn parse_number(s: &str) -> Option<f64> {
    let v: f64 = s.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::MatchView;
    use crate::pattern::Extracted;

    /// Owned events to build [`MatchView`]s from in tests.
    pub struct Ev {
        pub id: String,
        pub ts: i64,
        pub message: String,
        pub extracted: Extracted,
    }

    pub fn ev(id: impl ToString, ts: i64, message: impl ToString) -> Ev {
        Ev {
            id: id.to_string(),
            ts,
            message: message.to_string(),
            extracted: Vec::new(),
        }
    }

    pub fn views(evs: &[Ev]) -> Vec<MatchView<'_>> {
        let mut v: Vec<MatchView> = evs
            .iter()
            .map(|e| MatchView {
                id: &e.id,
                timestamp: e.ts,
                log_group: "/g",
                log_stream: "s1",
                message: &e.message,
                extracted: &e.extracted,
            })
            .collect();
        v.sort_by(|a, b| (a.timestamp, a.id).cmp(&(b.timestamp, b.id)));
        v
    }

    pub const MIN: i64 = 60_000;
    /// 2026-12-01T00:00:00Z, a minute boundary.
    pub const T0: i64 = 1_796_083_200_000;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_width_follows_the_timeframe() {
        assert_eq!(Counts::for_timeframe(5 * 60_000).width_ms, 5_000);
        assert_eq!(Counts::for_timeframe(30_000).width_ms, 1_000);
        assert_eq!(Counts::for_timeframe(3_600_000).width_ms, 60_000);
        assert_eq!(Counts::for_timeframe(61_000).width_ms, 1_000);
    }

    #[test]
    fn windows_are_whole_buckets_ending_at_the_last_event() {
        let tf = 60_000;
        let mut c = Counts::for_timeframe(tf); // 1 s buckets
        c.add(0, 1); // bucket 0
        c.add(59_999, 1); // bucket 59
        c.add(60_000, 1); // bucket 60
        assert_eq!(c.count_window(59_999, tf), 2);
        assert_eq!(c.count_window(60_000, tf), 2, "bucket 0 left the window");
        assert_eq!(c.count_window(60_999, tf), 2);
        assert_eq!(c.count_window(119_000, tf), 1);
        assert_eq!(c.count_window(120_000, tf), 0);
        assert_eq!(c.count_previous_window(60_000, tf), 1);
        assert_eq!(c.count_previous_window(119_999, tf), 2);
    }

    #[test]
    fn out_of_order_adds_and_pruning() {
        let mut c = Counts::for_timeframe(60_000);
        c.add(5_000, 2);
        c.add(1_000, 1);
        c.add(5_500, 1);
        assert_eq!(c.buckets, vec![(1, 1), (5, 3)]);
        c.prune_before(5_000);
        assert_eq!(c.buckets, vec![(5, 3)]);
        assert_eq!(c.newest_ms(), Some(5_000));
    }

    #[test]
    fn negative_times_bucket_downwards() {
        let mut c = Counts::for_timeframe(60_000);
        c.add(-1, 1);
        assert_eq!(c.buckets, vec![(-1, 1)]);
    }

    #[test]
    fn sparkline_levels() {
        assert_eq!(sparkline(&[]), "");
        assert_eq!(sparkline(&[0, 0]), "▁▁");
        assert_eq!(sparkline(&[1]), "▂");
        assert_eq!(sparkline(&[1, 2]), "▂█");
        assert_eq!(sparkline(&[0, 1, 60, 120]), "▁▂▄█");
        assert_eq!(sparkline(&[u64::MAX, 1]), "█▂");
    }

    #[test]
    fn columns_are_minutes_up_to_sixty() {
        let mut c = Counts::for_timeframe(5 * 60_000);
        c.add(0, 1);
        c.add(61_000, 3);
        c.add(299_999, 2);
        assert_eq!(c.columns(0, 300_000), vec![1, 3, 0, 0, 2]);
        assert_eq!(c.sparkline(0, 300_000), "▂█▁▁▅");
        let wide = Counts::for_timeframe(24 * 3_600_000);
        assert!(wide.columns(0, 2 * 86_400_000).len() <= MAX_SPARKLINE);
    }

    #[test]
    fn figures() {
        assert_eq!(fmt_duration(300_000), "5 min");
        assert_eq!(fmt_duration(90_000), "90 s");
        assert_eq!(fmt_duration(3_600_000), "1 h");
        assert_eq!(fmt_duration(2 * 86_400_000), "2 d");
        assert_eq!(fmt_duration(1500), "1500 ms");
        assert_eq!(fmt_duration(0), "0 ms");
        assert_eq!(fmt_num(903.0), "903");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(12.346), "12.35");
        assert_eq!(fmt_num(-1234567.0), "-1,234,567");
        assert_eq!(fmt_count(1200), "1,200");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(plural(1, "event", "events"), "1 event");
        assert_eq!(plural(2, "event", "events"), "2 events");
        assert_eq!(parse_number(" 1e3 "), Some(1000.0));
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("abc"), None);
    }
}
