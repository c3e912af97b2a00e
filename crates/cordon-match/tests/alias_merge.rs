//! Findings of advisories that alias each other, and the CVSS fallback for advisories
//! without a rating, on databases built from the real feeds in `shared/vulndata`.

use std::path::{Path, PathBuf};

use cordon_match::match_packages;
use cordon_model::{Ecosystem, Finding, FindingStatus, Package, Severity};
use cordon_vulndb::{Database, SourceKind};

mod common;

use common::package;

fn vulndata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vulndata")
        .join(relative)
}

fn database(dir: &Path, sources: &[(SourceKind, &str)]) -> Database {
    let paths: Vec<(SourceKind, PathBuf)> = sources
        .iter()
        .map(|(kind, relative)| (*kind, vulndata(relative)))
        .collect();
    let borrowed: Vec<(SourceKind, &Path)> = paths
        .iter()
        .map(|(kind, path)| (*kind, path.as_path()))
        .collect();
    common::database(dir, &borrowed)
}

fn findings_for(db: &Database, package: Package) -> Vec<Finding> {
    match_packages(db, None, &[package]).unwrap().findings
}

#[test]
fn rustsec_duplicates_merge_under_cve() {
    // RUSTSEC-2022-0016 and RUSTSEC-2022-0099 both publish CVE-2022-24791 for wasmtime,
    // each fixed in 0.35.2 on the 0.35 line.
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), &[(SourceKind::Osv, "osv/crates.io/all.zip")]);
    let findings = findings_for(&db, package(Ecosystem::Cargo, "wasmtime", "0.35.0", None));

    let cve: Vec<&Finding> = findings
        .iter()
        .filter(|finding| {
            finding.id == "CVE-2022-24791"
                || finding
                    .aliases
                    .iter()
                    .any(|alias| alias == "CVE-2022-24791")
        })
        .collect();
    assert_eq!(cve.len(), 1, "{findings:#?}");
    let merged = cve[0];
    assert_eq!(merged.id, "CVE-2022-24791");
    for alias in [
        "GHSA-gwc9-348x-qwv2",
        "RUSTSEC-2022-0016",
        "RUSTSEC-2022-0099",
    ] {
        assert!(merged.aliases.iter().any(|a| a == alias), "{merged:#?}");
    }
    assert_eq!(merged.fixed_version.as_deref(), Some("0.35.2"));
    assert_eq!(merged.status, FindingStatus::Fixed);
    assert!(
        merged.matched_by.contains("RUSTSEC-2022-0016"),
        "{merged:#?}"
    );
    assert!(
        merged.matched_by.contains("RUSTSEC-2022-0099"),
        "{merged:#?}"
    );
}

#[test]
fn shared_alias_merges_transitively() {
    // PYSEC-2021-88 (CVE-2021-32633, fixed 5.2) and PYSEC-2021-104 (CVE-2021-32674, fixed
    // 5.2.1) both list GHSA-5pr9-v234-jw36 for Zope 5.x.
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), &[(SourceKind::Osv, "osv/PyPI/all.zip")]);
    let findings = findings_for(&db, package(Ecosystem::Pypi, "zope", "5.1", None));

    let shared: Vec<&Finding> = findings
        .iter()
        .filter(|finding| finding.aliases.iter().any(|a| a == "GHSA-5pr9-v234-jw36"))
        .collect();
    assert_eq!(shared.len(), 1, "{findings:#?}");
    let merged = shared[0];
    assert_eq!(merged.id, "CVE-2021-32633", "the lowest CVE id is primary");
    for alias in ["CVE-2021-32674", "PYSEC-2021-88", "PYSEC-2021-104"] {
        assert!(merged.aliases.iter().any(|a| a == alias), "{merged:#?}");
    }
    assert!(!merged.aliases.contains(&merged.id));
    assert_eq!(merged.fixed_version.as_deref(), Some("5.2"), "lowest fix");
    assert!(!findings
        .iter()
        .any(|finding| finding.id.starts_with("PYSEC-2021-88")));
}

#[test]
fn unrelated_advisories_stay_separate() {
    // Django 3.2 has many PYSEC advisories with distinct CVEs; none may merge.
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), &[(SourceKind::Osv, "osv/PyPI/all.zip")]);
    let findings = findings_for(&db, package(Ecosystem::Pypi, "django", "3.2", None));
    assert!(findings.len() > 10, "{}", findings.len());
    assert!(findings
        .iter()
        .all(|finding| finding.id.starts_with("PYSEC-")));
    assert!(findings
        .iter()
        .any(|finding| finding.id == "PYSEC-2023-100"));
}

#[test]
fn unrated_pysec_takes_alias_cvss() {
    // PYSEC-2023-100 has no severity of its own; CVE-2023-36053 has CVSS 3.1 base score
    // 7.5 in the CVE JSON 5 records.
    let dir = tempfile::tempdir().unwrap();
    let db = database(
        dir.path(),
        &[
            (SourceKind::Osv, "osv/PyPI/all.zip"),
            (SourceKind::Cve5, "cve5/vulnrichment-subset.zip"),
        ],
    );
    let findings = findings_for(&db, package(Ecosystem::Pypi, "django", "3.2", None));
    let finding = findings
        .iter()
        .find(|finding| finding.id == "PYSEC-2023-100")
        .unwrap();
    assert_eq!(finding.severity, Severity::High);
    let rating = finding.severity_source.as_ref().unwrap();
    assert_eq!(rating.cvss_score, Some(7.5));
    assert_eq!(rating.source, "cve5:vulnrichment-subset.zip");
}
