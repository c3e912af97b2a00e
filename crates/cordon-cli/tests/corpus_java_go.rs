//! Maven and Go packages of the corpus's java-app, go-binary and distroless-like images
//! against real OSV records.
//!
//! The expected advisories were worked out from the OSV files alone. They are the records
//! in `osv/Maven/all.zip` or `osv/Go/all.zip` that are not withdrawn and have an `affected`
//! entry for the package whose ranges contain the installed version. Ranges follow the OSV
//! rules: an `introduced` event opens a range, `fixed` closes it before its version, and
//! `last_affected` closes it after its version. Versions are compared as semver, which
//! agrees with the Maven order on the log4j versions here.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::{assert_same_findings, build_db, image_from_env, scan_json, vulndata};

/// The three log4j-core advisories (Log4Shell and its follow-ups); each affects 2.14.1,
/// and none affects 2.19.0.
const LOG4J_CORE_2_14_1: [&str; 3] = [
    "GHSA-7rjr-3q55-vv33",
    "GHSA-jfh8-c2jp-5v3q",
    "GHSA-p6xc-xr62-6r2g",
];

const X_NET_0_7_0: [&str; 16] = [
    "GO-2023-1988",
    "GO-2023-2102",
    "GO-2024-2687",
    "GO-2024-3333",
    "GO-2025-3503",
    "GO-2025-3595",
    "GO-2026-4440",
    "GO-2026-4441",
    "GO-2026-4918",
    "GO-2026-5025",
    "GO-2026-5026",
    "GO-2026-5027",
    "GO-2026-5028",
    "GO-2026-5029",
    "GO-2026-5030",
    "GO-2026-5942",
];

const X_TEXT_0_7_0: [&str; 1] = ["GO-2026-5970"];

const STDLIB_1_19_8: [&str; 80] = [
    "GO-2023-1751",
    "GO-2023-1752",
    "GO-2023-1753",
    "GO-2023-1840",
    "GO-2023-1878",
    "GO-2023-1987",
    "GO-2023-2041",
    "GO-2023-2043",
    "GO-2023-2102",
    "GO-2023-2185",
    "GO-2023-2186",
    "GO-2023-2375",
    "GO-2023-2382",
    "GO-2024-2598",
    "GO-2024-2599",
    "GO-2024-2600",
    "GO-2024-2609",
    "GO-2024-2610",
    "GO-2024-2687",
    "GO-2024-2887",
    "GO-2024-2888",
    "GO-2024-2963",
    "GO-2024-3105",
    "GO-2024-3106",
    "GO-2024-3107",
    "GO-2025-3373",
    "GO-2025-3420",
    "GO-2025-3447",
    "GO-2025-3503",
    "GO-2025-3563",
    "GO-2025-3750",
    "GO-2025-3751",
    "GO-2025-3849",
    "GO-2025-3956",
    "GO-2025-4006",
    "GO-2025-4007",
    "GO-2025-4008",
    "GO-2025-4009",
    "GO-2025-4010",
    "GO-2025-4011",
    "GO-2025-4012",
    "GO-2025-4013",
    "GO-2025-4014",
    "GO-2025-4015",
    "GO-2025-4155",
    "GO-2025-4175",
    "GO-2026-4337",
    "GO-2026-4340",
    "GO-2026-4341",
    "GO-2026-4342",
    "GO-2026-4403",
    "GO-2026-4601",
    "GO-2026-4602",
    "GO-2026-4603",
    "GO-2026-4864",
    "GO-2026-4865",
    "GO-2026-4869",
    "GO-2026-4870",
    "GO-2026-4918",
    "GO-2026-4946",
    "GO-2026-4947",
    "GO-2026-4970",
    "GO-2026-4971",
    "GO-2026-4976",
    "GO-2026-4977",
    "GO-2026-4980",
    "GO-2026-4981",
    "GO-2026-4982",
    "GO-2026-4986",
    "GO-2026-5026",
    "GO-2026-5037",
    "GO-2026-5038",
    "GO-2026-5039",
    "GO-2026-5856",
    "GO-2026-5972",
    "GO-2026-6088",
    "GO-2026-6089",
    "GO-2026-6090",
    "GO-2026-6091",
    "GO-2026-6218",
];

/// Returns `package-name version advisory location` keys of the findings of `ecosystem`.
fn finding_keys(report: &Value, ecosystem: &str) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["package"]["ecosystem"] == ecosystem)
        .map(|finding| {
            format!(
                "{} {} {} {}",
                finding["package"]["name"].as_str().unwrap_or(""),
                finding["installed_version"].as_str().unwrap_or(""),
                finding["id"].as_str().unwrap_or(""),
                finding["package"]["location"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn keys(name: &str, version: &str, ids: &[&str], location: &str) -> Vec<String> {
    ids.iter()
        .map(|id| format!("{name} {version} {id} {location}"))
        .collect()
}

#[test]
fn java_app_reports_log4shell() {
    let Some(image) = image_from_env("CORDON_CORPUS_DIR", "java-app.docker.tar") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = build_db(
        dir.path(),
        &[format!("osv={}", vulndata("osv/Maven/all.zip").display())],
    );
    let (code, report) = scan_json(
        &format!("docker-archive:{}", image.display()),
        &db,
        &["--fail-on", "Critical", "--max-count", "1"],
    );

    let core = "org.apache.logging.log4j:log4j-core";
    let mut expected = BTreeSet::new();
    for location in [
        "opt/app/lib/log4j-core-2.14.1.jar",
        "opt/app/lib/logging-backend.jar",
        "opt/app/app.jar!BOOT-INF/lib/log4j-core-2.14.1.jar",
    ] {
        expected.extend(keys(core, "2.14.1", &LOG4J_CORE_2_14_1, location));
    }
    let found = finding_keys(&report, "maven");
    assert_same_findings("java-app", &expected, &BTreeSet::new(), &found);
    assert_eq!(code, 1, "Log4Shell is critical, so the gate fails");

    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        !warnings
            .iter()
            .any(|warning| warning.contains("Java archives")),
        "every jar in java-app is identified: {warnings:?}"
    );
}

#[test]
fn go_binary_reports_module_and_stdlib() {
    let Some(image) = image_from_env("CORDON_CORPUS_DIR", "go-binary.docker.tar") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = build_db(
        dir.path(),
        &[format!("osv={}", vulndata("osv/Go/all.zip").display())],
    );
    let (_, report) = scan_json(&format!("docker-archive:{}", image.display()), &db, &[]);

    let gotool = "usr/local/bin/gotool";
    let mut expected = BTreeSet::new();
    expected.extend(keys("golang.org/x/net", "v0.7.0", &X_NET_0_7_0, gotool));
    expected.extend(keys("golang.org/x/text", "v0.7.0", &X_TEXT_0_7_0, gotool));
    expected.extend(keys("stdlib", "1.19.8", &STDLIB_1_19_8, gotool));
    expected.extend(keys("stdlib", "1.19.8", &STDLIB_1_19_8, "usr/bin/restic"));
    let found = finding_keys(&report, "go");
    assert_same_findings("go-binary", &expected, &BTreeSet::new(), &found);
}

#[test]
fn distroless_app_reports_go_findings() {
    let Some(image) = image_from_env("CORDON_CORPUS_DIR", "distroless-like.docker.tar") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = build_db(
        dir.path(),
        &[format!("osv={}", vulndata("osv/Go/all.zip").display())],
    );
    let (_, report) = scan_json(&format!("docker-archive:{}", image.display()), &db, &[]);

    let mut expected = BTreeSet::new();
    expected.extend(keys("golang.org/x/net", "v0.7.0", &X_NET_0_7_0, "app"));
    expected.extend(keys("golang.org/x/text", "v0.7.0", &X_TEXT_0_7_0, "app"));
    expected.extend(keys("stdlib", "1.19.8", &STDLIB_1_19_8, "app"));
    let found = finding_keys(&report, "go");
    assert_same_findings("distroless-like", &expected, &BTreeSet::new(), &found);
}
