//! Fuzzes the dpkg status and control-file parsers with arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cordon_catalog::control::parse_paragraphs(data);
    let _ = cordon_catalog::dpkg::parse_status(data);
});
