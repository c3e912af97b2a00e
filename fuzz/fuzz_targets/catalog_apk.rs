//! Fuzzes the parser of apk's installed database (`lib/apk/db/installed`) with arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cordon_catalog::apk::parse_installed(data);
});
