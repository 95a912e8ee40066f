//! Parser: any text either parses or is an error with a position inside the pattern; a parsed
//! pattern prints to a canonical form that parses again to the same canonical form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logalert::pattern::{FilterPattern, ValueRef};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match FilterPattern::parse(text) {
        Ok(p) => {
            let shown = p.to_string();
            let again = FilterPattern::parse(&shown).unwrap_or_else(|e| {
                panic!("canonical form {shown:?} of {text:?} does not parse:\n{e}")
            });
            assert_eq!(
                again.to_string(),
                shown,
                "display is not a fixpoint for {text:?}"
            );
            assert_eq!(again.kind(), p.kind());
        }
        Err(e) => {
            assert!(e.position <= text.chars().count(), "{e:?}");
            let _ = e.to_string();
        }
    }
    let _ = ValueRef::parse(text);
});
