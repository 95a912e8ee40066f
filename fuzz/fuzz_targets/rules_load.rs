//! The rules loader never panics, whatever the YAML; every error it reports has a position inside
//! the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(errors) = logalert::rules::load(text, "fuzz.yaml") {
        // Line breaks as YAML counts them: `\n`, `\r\n` and a lone `\r`.
        let lines =
            text.matches('\n').count() + text.replace("\r\n", "\n").matches('\r').count() + 1;
        for e in &errors.0 {
            assert!(
                e.line >= 1 && e.line <= lines + 1,
                "{e} (file has {lines} lines)"
            );
            assert!(e.column >= 1, "{e}");
        }
    }
});
