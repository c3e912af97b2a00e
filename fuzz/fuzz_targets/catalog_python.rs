//! Fuzzes the parser of Python core metadata (`METADATA`, `PKG-INFO`) with arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cordon_catalog::python::parse_metadata(data);
});
