//! Matching semantics per ecosystem, on databases built from small feed files in the
//! upstream formats.

use std::fs;
use std::path::Path;

use cordon_match::match_packages;
use cordon_model::{Distro, Ecosystem, Finding, FindingStatus};
use cordon_vulndb::SourceKind;
use serde_json::json;

mod common;

use common::{database, package};

fn alpine(version: &str) -> Distro {
    Distro {
        id: "alpine".into(),
        version_id: Some(version.into()),
        ..Distro::default()
    }
}

fn ids(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|finding| finding.id.as_str()).collect()
}

/// Writes an Alpine secdb document in the JSON shape secdb.alpinelinux.org publishes.
fn write_secdb(dir: &Path, branch: &str, packages: serde_json::Value) -> std::path::PathBuf {
    let path = dir.join("main.json");
    let document = json!({
        "apkurl": "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk",
        "archs": ["x86_64"],
        "reponame": "main",
        "urlprefix": "https://dl-cdn.alpinelinux.org/alpine",
        "distroversion": format!("v{branch}"),
        "packages": packages,
    });
    fs::write(&path, document.to_string()).expect("write secdb");
    path
}

#[test]
fn apk_rc_fix_is_older_than_release() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secdb = write_secdb(
        dir.path(),
        "3.11",
        json!([{"pkg": {"name": "jq", "secfixes": {"1.6_rc1-r0": ["CVE-2016-4074"]}}}]),
    );
    let db = database(dir.path(), &[(SourceKind::AlpineSecdb, &secdb)]);
    let jq = package(Ecosystem::Apk, "jq", "1.6-r0", Some("jq"));
    let result = match_packages(&db, Some(&alpine("3.11.6")), &[jq]).expect("matching runs");
    assert!(
        result.findings.is_empty(),
        "1.6_rc1-r0 < 1.6-r0: {:?}",
        ids(&result.findings)
    );

    let older = package(Ecosystem::Apk, "jq", "1.6_rc1-r0", None);
    let result = match_packages(&db, Some(&alpine("3.11.6")), &[older]).expect("matching runs");
    assert!(
        result.findings.is_empty(),
        "the fixed version itself is not vulnerable"
    );

    let oldest = package(Ecosystem::Apk, "jq", "1.6_alpha1-r0", None);
    let result = match_packages(&db, Some(&alpine("3.11.6")), &[oldest]).expect("matching runs");
    assert_eq!(ids(&result.findings), ["CVE-2016-4074"]);
}

#[test]
fn apk_secfix_zero_means_not_affected() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secdb = write_secdb(
        dir.path(),
        "3.15",
        json!([{"pkg": {"name": "busybox", "secfixes": {
            "0": ["CVE-2021-42377"],
            "1.35.0-r3": ["CVE-2099-0001"],
        }}}]),
    );
    let db = database(dir.path(), &[(SourceKind::AlpineSecdb, &secdb)]);
    let busybox = package(Ecosystem::Apk, "busybox", "1.35.0-r2", Some("busybox"));
    let result = match_packages(&db, Some(&alpine("3.15.0")), &[busybox]).expect("matching runs");
    assert_eq!(ids(&result.findings), ["CVE-2099-0001"]);
    assert_eq!(
        result.findings[0].fixed_version.as_deref(),
        Some("1.35.0-r3")
    );
    assert_eq!(result.findings[0].status, FindingStatus::Fixed);
}

#[test]
fn apk_matches_by_origin_and_branch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let secdb = write_secdb(
        dir.path(),
        "3.11",
        json!([{"pkg": {"name": "openssl", "secfixes": {"1.1.1g-r0": ["CVE-2020-1967"]}}}]),
    );
    let db = database(dir.path(), &[(SourceKind::AlpineSecdb, &secdb)]);
    let libssl = package(Ecosystem::Apk, "libssl1.1", "1.1.1d-r3", Some("openssl"));
    let result =
        match_packages(&db, Some(&alpine("3.11.3")), std::slice::from_ref(&libssl)).expect("runs");
    assert_eq!(ids(&result.findings), ["CVE-2020-1967"]);

    let result = match_packages(&db, Some(&alpine("3.10.4")), &[libssl]).expect("runs");
    assert!(
        result.findings.is_empty(),
        "another branch's fixes do not apply"
    );
}

/// Writes OSV records into a directory, one file per record.
fn write_osv(dir: &Path, records: &[serde_json::Value]) -> std::path::PathBuf {
    let osv = dir.join("osv");
    fs::create_dir_all(&osv).expect("mkdir");
    for record in records {
        let id = record["id"].as_str().expect("id");
        fs::write(osv.join(format!("{id}.json")), record.to_string()).expect("write record");
    }
    osv
}

#[test]
fn pypi_names_normalised_before_matching() {
    let dir = tempfile::tempdir().expect("temp dir");
    let osv = write_osv(
        dir.path(),
        &[json!({
            "id": "PYSEC-2020-96",
            "modified": "2021-01-01T00:00:00Z",
            "aliases": ["CVE-2020-1747"],
            "affected": [{
                "package": {"ecosystem": "PyPI", "name": "pyyaml"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "5.1"}, {"fixed": "5.3.1"}]}],
            }],
        })],
    );
    let db = database(dir.path(), &[(SourceKind::Osv, &osv)]);
    let pyyaml = package(Ecosystem::Pypi, "pyyaml", "5.3", None);
    let result = match_packages(&db, None, &[pyyaml]).expect("runs");
    assert_eq!(ids(&result.findings), ["PYSEC-2020-96"]);
    assert_eq!(result.findings[0].aliases, ["CVE-2020-1747"]);
    assert_eq!(result.findings[0].fixed_version.as_deref(), Some("5.3.1"));
}

#[test]
fn go_incompatible_suffix_does_not_affect_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let osv = write_osv(
        dir.path(),
        &[json!({
            "id": "GO-2026-4610",
            "modified": "2026-01-01T00:00:00Z",
            "affected": [{
                "package": {"ecosystem": "Go", "name": "github.com/docker/cli"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "29.2.0+incompatible"}]}],
            }],
        })],
    );
    let db = database(dir.path(), &[(SourceKind::Osv, &osv)]);
    for version in ["v29.4.3+incompatible", "29.2.1", "v29.2.0+incompatible"] {
        let cli = package(Ecosystem::Go, "github.com/docker/cli", version, None);
        let result = match_packages(&db, None, &[cli]).expect("runs");
        assert!(
            result.findings.is_empty(),
            "{version} is not vulnerable: {:?}",
            result.findings
        );
    }
    let old = package(
        Ecosystem::Go,
        "github.com/docker/cli",
        "v28.0.0+incompatible",
        None,
    );
    let result = match_packages(&db, None, &[old]).expect("runs");
    assert_eq!(ids(&result.findings), ["GO-2026-4610"]);
}

#[test]
fn maven_vendor_qualifier_sorts_after_release() {
    let dir = tempfile::tempdir().expect("temp dir");
    let osv = write_osv(
        dir.path(),
        &[json!({
            "id": "GHSA-5j46-5hwq-gwh7",
            "modified": "2024-01-01T00:00:00Z",
            "affected": [{
                "package": {"ecosystem": "Maven", "name": "org.jenkins-ci.main:jenkins-core"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.414.2"}]}],
                "database_specific": {"severity": "HIGH"},
            }],
        })],
    );
    let db = database(dir.path(), &[(SourceKind::Osv, &osv)]);
    let name = "org.jenkins-ci.main:jenkins-core";
    let vendor = package(Ecosystem::Maven, name, "2.414.2-cb-5", None);
    let result = match_packages(&db, None, &[vendor]).expect("runs");
    assert!(result.findings.is_empty(), "2.414.2-cb-5 > 2.414.2");
    let old = package(Ecosystem::Maven, name, "2.414.1", None);
    let result = match_packages(&db, None, &[old]).expect("runs");
    assert_eq!(ids(&result.findings), ["GHSA-5j46-5hwq-gwh7"]);
    assert_eq!(result.findings[0].severity, cordon_model::Severity::High);
}

#[test]
fn debian_statuses_kept_not_dropped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tracker = dir.path().join("tracker.json");
    let entry = |fields: serde_json::Value| json!({"releases": {"bullseye": fields}});
    let document = json!({
        "glibc": {
            "CVE-2020-0001": entry(json!({"status": "open", "urgency": "low", "nodsa": "Minor issue"})),
            "CVE-2020-0002": entry(json!({"status": "open", "urgency": "unimportant"})),
            "CVE-2020-0003": entry(json!({"status": "undetermined", "urgency": "not yet assigned"})),
            "CVE-2020-0004": entry(json!({"status": "open", "urgency": "end-of-life"})),
            "CVE-2020-0005": entry(json!({"status": "open", "urgency": "low", "nodsa": "", "nodsa_reason": "ignored"})),
            "CVE-2020-0006": entry(json!({"status": "resolved", "fixed_version": "0", "urgency": "unimportant"})),
            "CVE-2020-0007": entry(json!({"status": "open", "urgency": "high"})),
        }
    });
    fs::write(&tracker, document.to_string()).expect("write tracker");
    let db = database(dir.path(), &[(SourceKind::DebianTracker, &tracker)]);
    let libc = package(Ecosystem::Deb, "libc6", "2.31-13+deb11u5", Some("glibc"));
    let distro = Distro {
        id: "debian".into(),
        version_id: Some("11".into()),
        ..Distro::default()
    };
    let result = match_packages(&db, Some(&distro), &[libc]).expect("runs");

    let status_of = |id: &str| {
        result
            .findings
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.status)
    };
    assert_eq!(status_of("CVE-2020-0001"), Some(FindingStatus::NoDsa));
    assert_eq!(status_of("CVE-2020-0002"), Some(FindingStatus::NotFixed));
    assert_eq!(
        status_of("CVE-2020-0003"),
        Some(FindingStatus::Undetermined)
    );
    assert_eq!(status_of("CVE-2020-0004"), Some(FindingStatus::EndOfLife));
    assert_eq!(status_of("CVE-2020-0005"), Some(FindingStatus::WillNotFix));
    assert_eq!(
        status_of("CVE-2020-0006"),
        None,
        "fixed_version 0 is not affected"
    );
    assert_eq!(status_of("CVE-2020-0007"), Some(FindingStatus::NotFixed));
    assert_eq!(result.findings.len(), 6);
    assert_eq!(result.findings[0].id, "CVE-2020-0007", "most severe first");
}

#[test]
fn non_debian_dpkg_packages_warn() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tracker = dir.path().join("tracker.json");
    // A build needs one valid record; this one is for another release.
    let document = json!({"bash": {"CVE-2020-0001": {"releases": {"bookworm": {"status": "open", "urgency": "low"}}}}});
    fs::write(&tracker, document.to_string()).expect("write tracker");
    let db = database(dir.path(), &[(SourceKind::DebianTracker, &tracker)]);
    let bash = package(Ecosystem::Deb, "bash", "5.1-6ubuntu1", None);
    let distro = Distro {
        id: "ubuntu".into(),
        version_id: Some("22.04".into()),
        ..Distro::default()
    };
    let result = match_packages(&db, Some(&distro), &[bash]).expect("runs");
    assert!(result.findings.is_empty());
    assert_eq!(result.warnings.len(), 1);
    assert!(
        result.warnings[0].contains("ubuntu"),
        "{:?}",
        result.warnings
    );
}

#[test]
fn missing_advisory_data_warns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tracker = dir.path().join("tracker.json");
    let document = json!({"glibc": {"CVE-2020-0001": {"releases": {"bookworm": {"status": "open", "urgency": "low"}}}}});
    fs::write(&tracker, document.to_string()).expect("write tracker");
    let secdb = write_secdb(
        dir.path(),
        "3.11",
        json!([{"pkg": {"name": "jq", "secfixes": {"1.6-r1": ["CVE-2099-0002"]}}}]),
    );
    let db = database(
        dir.path(),
        &[
            (SourceKind::DebianTracker, &tracker),
            (SourceKind::AlpineSecdb, &secdb),
        ],
    );

    let libc = package(Ecosystem::Deb, "libc6", "2.31-13", Some("glibc"));
    let bullseye = Distro {
        id: "debian".into(),
        version_id: Some("11".into()),
        ..Distro::default()
    };
    let result = match_packages(&db, Some(&bullseye), &[libc]).expect("runs");
    assert!(result.findings.is_empty());
    assert_eq!(result.warnings.len(), 1, "{:?}", result.warnings);
    assert!(
        result.warnings[0].contains("no Debian Security Tracker data for bullseye"),
        "{:?}",
        result.warnings
    );

    let jq = package(Ecosystem::Apk, "jq", "1.6-r0", None);
    let result =
        match_packages(&db, Some(&alpine("3.20.1")), std::slice::from_ref(&jq)).expect("runs");
    assert_eq!(result.warnings.len(), 1, "{:?}", result.warnings);
    assert!(
        result.warnings[0].contains("branch 3.20"),
        "{:?}",
        result.warnings
    );
    let result = match_packages(&db, Some(&alpine("3.11.6")), &[jq]).expect("runs");
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
    assert_eq!(ids(&result.findings), ["CVE-2099-0002"]);

    let lodash = package(Ecosystem::Npm, "lodash", "4.17.4", None);
    let result = match_packages(&db, None, &[lodash]).expect("runs");
    assert_eq!(result.warnings.len(), 1, "{:?}", result.warnings);
    assert!(
        result.warnings[0].contains("no OSV records for npm"),
        "{:?}",
        result.warnings
    );
}
