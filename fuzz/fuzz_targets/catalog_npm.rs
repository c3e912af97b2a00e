//! Fuzzes the `package.json` and `package-lock.json` parsers with arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cordon_catalog::npm::parse_package_json(data);
    let _ = cordon_catalog::npm::parse_lockfile(data);
});
