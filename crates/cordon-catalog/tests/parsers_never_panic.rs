//! The byte parsers accept any input without panicking.

use cordon_catalog::{apk, control, dpkg, golang, java, npm, os, python};
use proptest::prelude::*;

fn control_like() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        "[A-Za-z-]{1,12}: [ -~]{0,20}",
        " [ -~]{0,20}",
        "",
        "[ -~]{0,20}",
        "[A-Za-z]:[ -~]{0,10}",
    ];
    proptest::collection::vec(line, 0..20).prop_map(|lines| lines.join("\n").into_bytes())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = control::parse_paragraphs(&data);
        let _ = dpkg::parse_status(&data);
        let _ = apk::parse_installed(&data);
        let _ = python::parse_metadata(&data);
        let _ = npm::parse_package_json(&data);
        let _ = npm::parse_lockfile(&data);
        let _ = os::parse_os_release(&data);
        let _ = java::parse_pom_properties(&data);
        let _ = java::parse_manifest(&data);
        let _ = java::read_archive(&data, "fuzz.jar", &mut Vec::new());
        let _ = golang::read_build_info(&data);
        let _ = golang::parse_modinfo(&data);
    }

    #[test]
    fn control_like_text_never_panics(data in control_like()) {
        let _ = dpkg::parse_status(&data);
        let _ = apk::parse_installed(&data);
        let _ = python::parse_metadata(&data);
        let _ = os::parse_os_release(&data);
    }
}

#[test]
fn deeply_nested_lockfile_is_rejected_not_overflowed() {
    let depth = 10_000;
    let mut text = String::from(r#"{"lockfileVersion":1,"dependencies":"#);
    for _ in 0..depth {
        text.push_str(r#"{"a":{"version":"1.0.0","dependencies":"#);
    }
    text.push_str("{}");
    for _ in 0..depth {
        text.push_str("}}");
    }
    text.push('}');
    assert!(npm::parse_lockfile(text.as_bytes()).is_err());
}
