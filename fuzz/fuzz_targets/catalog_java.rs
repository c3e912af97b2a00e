//! Fuzzes the Java archive reader (zip, nested jars, `pom.properties`, `MANIFEST.MF`)
//! with arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cordon_catalog::java::parse_pom_properties(data);
    let _ = cordon_catalog::java::parse_manifest(data);
    let _ = cordon_catalog::java::read_archive(data, "fuzz.jar", &mut Vec::new());
});
