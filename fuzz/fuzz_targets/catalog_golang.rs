//! Fuzzes the Go build information reader (ELF, both header layouts) and the module
//! information parser with arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cordon_catalog::golang::read_build_info(data);
    let _ = cordon_catalog::golang::parse_modinfo(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = cordon_catalog::golang::stdlib_version(text);
    }
});
