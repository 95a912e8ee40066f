//! Matcher: the first line is a pattern, every further line a message. Matching never panics,
//! `is_match` agrees with `matches`, and value references resolve without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logalert::pattern::{FilterPattern, ValueRef};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let Some(pattern) = lines.next() else { return };
    let Ok(p) = FilterPattern::parse(pattern) else {
        return;
    };
    let refs: Vec<ValueRef> = ["$.a", "$.a[0].b", "$.*", "$1", "$a", "1"]
        .iter()
        .map(|r| ValueRef::parse(r).unwrap())
        .collect();
    for msg in lines {
        let m = p.matches(msg);
        assert_eq!(p.is_match(msg), m.is_some(), "{pattern:?} on {msg:?}");
        if let Some(m) = m {
            for r in &refs {
                let _ = r.resolve(msg, &m);
            }
        }
    }
});
