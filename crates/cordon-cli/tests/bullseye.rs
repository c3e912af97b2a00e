//! The Debian 11 image against the Debian tracker data derived from Debian's own security
//! changelogs: every expected finding present, none unexpected.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::{assert_same_findings, build_db, image_from_env, scan_json, vulndata};

fn expected() -> Value {
    let text = std::fs::read_to_string(vulndata("debian-derived/expected-bullseye.json"))
        .expect("expected-bullseye.json is readable");
    serde_json::from_str(&text).expect("expected-bullseye.json is JSON")
}

fn database(dir: &std::path::Path) -> std::path::PathBuf {
    let tracker = vulndata("debian-derived/debian-tracker-derived.json");
    let cvss = vulndata("cve5/vulnrichment-subset.zip");
    build_db(
        dir,
        &[
            format!("debian-tracker={}", tracker.display()),
            format!("cve5={}", cvss.display()),
        ],
    )
}

/// Checks a scan report of the bullseye image against the expectation file.
fn check_report(label: &str, report: &Value) {
    let expected = expected();
    let key = |binary: &str, cve: &str| format!("{binary} {cve}");

    let mut must = BTreeSet::new();
    for item in expected["must_report"]
        .as_array()
        .expect("must_report list")
    {
        must.insert(key(
            item["binary"].as_str().unwrap_or(""),
            item["cve"].as_str().unwrap_or(""),
        ));
    }
    for item in expected["must_report_unfixed"]
        .as_array()
        .expect("must_report_unfixed list")
    {
        must.insert(key(
            item["binary"].as_str().unwrap_or(""),
            item["cve"].as_str().unwrap_or(""),
        ));
    }

    let findings = report["findings"].as_array().expect("findings array");
    let found: BTreeSet<String> = findings
        .iter()
        .map(|f| {
            key(
                f["package"]["name"].as_str().unwrap_or(""),
                f["id"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_same_findings(label, &must, &BTreeSet::new(), &found);

    // Fixed versions and statuses must match the expectation too.
    for item in expected["must_report"]
        .as_array()
        .expect("must_report list")
    {
        let finding = findings
            .iter()
            .find(|f| f["package"]["name"] == item["binary"] && f["id"] == item["cve"])
            .expect("finding present");
        assert_eq!(
            finding["fixed_version"], item["fixed_version"],
            "{label}: fixed version of {item}"
        );
        assert_eq!(finding["status"], "fixed", "{label}: status of {item}");
        assert_eq!(
            finding["installed_version"], item["installed_source_version"],
            "{label}: {item}"
        );
    }
    for item in expected["must_report_unfixed"]
        .as_array()
        .expect("must_report_unfixed list")
    {
        let finding = findings
            .iter()
            .find(|f| f["package"]["name"] == item["binary"] && f["id"] == item["cve"])
            .expect("finding present");
        assert_eq!(finding["fixed_version"], Value::Null, "{label}: {item}");
        assert_eq!(finding["status"], "not-fixed", "{label}: {item}");
    }
    assert_eq!(report["distro"]["codename"], "bullseye");
}

#[test]
fn bullseye_fixture_matches_expected_findings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database(dir.path());
    let rootfs = vulndata("debian-derived/fixtures/bullseye-main");
    let (code, report) = scan_json(&format!("dir:{}", rootfs.display()), &db, &[]);
    check_report("bullseye fixture", &report);

    // The tracker urgency is "not yet assigned" everywhere, so levels come from CVSS.
    let rated: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity_source"]["cvss_score"].is_number())
        .collect();
    assert!(
        !rated.is_empty(),
        "some findings are rated from CVE 5 CVSS data"
    );
    assert!(rated.iter().all(|f| f["severity"] != "Unknown"));
    assert_eq!(code, 1, "High findings fail the default gate");
    assert_eq!(report["summary"]["packages"], 209);
}

#[test]
fn bullseye_image_matches_expected_findings() {
    let Some(image) = image_from_env("CORDON_BULLSEYE_IMAGE", "") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database(dir.path());
    let (_, report) = scan_json(&format!("docker-archive:{}", image.display()), &db, &[]);
    check_report("bullseye image", &report);
    for finding in report["findings"].as_array().expect("findings") {
        assert_eq!(finding["layer"]["index"], 0, "single-layer image");
    }
}

#[test]
fn ignore_unfixed_drops_open_entries() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database(dir.path());
    let rootfs = vulndata("debian-derived/fixtures/bullseye-main");
    let (_, report) = scan_json(
        &format!("dir:{}", rootfs.display()),
        &db,
        &["--ignore-unfixed"],
    );
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(
        findings.len(),
        expected()["must_report"].as_array().map_or(0, Vec::len)
    );
    assert!(findings.iter().all(|f| f["fixed_version"].is_string()));
    assert_eq!(report["settings"]["ignore_unfixed"], true);
}

#[test]
fn unrated_findings_warn_once() {
    // Without CVSS data every finding is Unknown, because the derived tracker urgency is
    // always "not yet assigned". The gate then passes for lack of data, so the scan warns.
    let dir = tempfile::tempdir().expect("temp dir");
    let tracker = vulndata("debian-derived/debian-tracker-derived.json");
    let db = build_db(
        dir.path(),
        &[format!("debian-tracker={}", tracker.display())],
    );
    let rootfs = vulndata("debian-derived/fixtures/bullseye-main");
    let (code, report) = scan_json(&format!("dir:{}", rootfs.display()), &db, &[]);
    assert_eq!(code, 0, "Unknown findings do not fail the default gate");

    let total = report["findings"].as_array().expect("findings").len();
    let expected = expected();
    let listed = expected["must_report"]
        .as_array()
        .expect("must_report")
        .len()
        + expected["must_report_unfixed"]
            .as_array()
            .expect("must_report_unfixed")
            .len();
    assert_eq!(total, listed);
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(Value::as_str)
        .filter(|warning| warning.contains("have no severity"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with(&format!("{total} of {total} findings")),
        "{}",
        warnings[0]
    );
}
