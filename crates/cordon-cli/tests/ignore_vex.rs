//! Ignore files and OpenVEX documents on the shipped samples: suppressed findings leave
//! the gate and `findings` but stay listed in `ignored`.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{cordon, parse_json, repo_dir};

fn sample_image(name: &str) -> String {
    format!(
        "dir:{}",
        repo_dir().join("samples/rootfs").join(name).display()
    )
}

/// Builds a database from the sample feeds given as `KIND=FILE` under samples/vulndata.
fn sample_db(dir: &Path, sources: &[&str]) -> PathBuf {
    let output = dir.join("cordon.db");
    let mut command = cordon();
    command.args(["db", "build", "--output"]).arg(&output);
    for source in sources {
        let (kind, file) = source.split_once('=').unwrap();
        let path = repo_dir().join("samples/vulndata").join(file);
        command.args(["--source", &format!("{kind}={}", path.display())]);
    }
    assert!(command.output().unwrap().status.success());
    output
}

fn debian_db(dir: &Path) -> PathBuf {
    sample_db(dir, &["debian-tracker=debian-tracker-bullseye.json"])
}

/// Runs a vulnerability scan with `extra` arguments; returns the exit code, the report
/// and standard error.
fn scan(image: &str, db: &Path, extra: &[&str]) -> (i32, Value, String) {
    let output = cordon()
        .args([
            "scan",
            image,
            "--scanners",
            "vuln",
            "--format",
            "json",
            "--db",
        ])
        .arg(db)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    (
        output.status.code().unwrap_or(-1),
        parse_json(&output),
        stderr,
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn count_id(report: &Value, key: &str, id: &str) -> usize {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| {
            let finding = if key == "ignored" {
                &item["finding"]
            } else {
                item
            };
            finding["id"] == id
        })
        .count()
}

#[test]
fn ignore_by_id_leaves_gate() {
    let dir = tempfile::tempdir().unwrap();
    let db = debian_db(dir.path());
    let image = sample_image("debian-bullseye");
    // The tracker alone rates most findings Unknown, so the gate counts every level here.
    let (_, before, _) = scan(&image, &db, &["--fail-on", "Unknown"]);
    let git_findings = count_id(&before, "findings", "CVE-2024-32002");
    assert!(git_findings > 0, "the sample has git's CVE-2024-32002");

    let file = write(
        dir.path(),
        "ignore.yaml",
        "ignore:\n  - id: CVE-2024-32002\n    reason: no untrusted clones\n",
    );
    let (_, after, _) = scan(
        &image,
        &db,
        &["--fail-on", "Unknown", "--ignore-file", &file],
    );
    assert_eq!(count_id(&after, "findings", "CVE-2024-32002"), 0);
    assert_eq!(count_id(&after, "ignored", "CVE-2024-32002"), git_findings);
    assert_eq!(
        after["ignored"][0]["suppressed_by"]["reason"],
        "no untrusted clones"
    );
    let counted_before = before["gate"]["counted"].as_u64().unwrap();
    let counted_after = after["gate"]["counted"].as_u64().unwrap();
    assert_eq!(counted_before - counted_after, git_findings as u64);
}

#[test]
fn ignore_by_package_keeps_others() {
    let dir = tempfile::tempdir().unwrap();
    let db = debian_db(dir.path());
    let image = sample_image("debian-bullseye");
    let file = write(
        dir.path(),
        "ignore.yaml",
        "ignore:\n  - id: CVE-2024-5535\n    package: libssl1.1\n    reason: no NPN\n",
    );
    let (_, report, _) = scan(&image, &db, &["--ignore-file", &file]);
    let kept: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["id"] == "CVE-2024-5535")
        .map(|finding| finding["package"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(kept, ["openssl"]);
    assert_eq!(count_id(&report, "ignored", "CVE-2024-5535"), 1);
}

#[test]
fn ignore_by_alias_matches_osv() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path(), &["osv=osv-pypi.zip"]);
    let image = sample_image("python-app");
    let file = write(
        dir.path(),
        "ignore.yaml",
        "ignore:\n  - id: GHSA-v845-jxx5-vc9f\n    reason: cookies never sent cross-origin\n",
    );
    let (_, report, _) = scan(&image, &db, &["--ignore-file", &file]);
    assert_eq!(count_id(&report, "findings", "PYSEC-2023-192"), 0);
    assert_eq!(count_id(&report, "ignored", "PYSEC-2023-192"), 1);
}

#[test]
fn expired_entry_applies_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let db = debian_db(dir.path());
    let image = sample_image("debian-bullseye");
    let file = write(
        dir.path(),
        "ignore.yaml",
        "ignore:\n  - id: CVE-2024-32002\n    reason: r\n    expires: 2020-01-31\n",
    );
    let output = cordon()
        .args([
            "scan",
            &image,
            "--scanners",
            "vuln",
            "--format",
            "json",
            "--db",
        ])
        .arg(&db)
        .args(["--ignore-file", &file])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let report = parse_json(&output);
    assert!(count_id(&report, "findings", "CVE-2024-32002") > 0);
    assert_eq!(count_id(&report, "ignored", "CVE-2024-32002"), 0);
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|warning| warning.as_str().unwrap().contains("expired on 2020-01-31")),
        "{warnings:?}"
    );
}

#[test]
fn vex_not_affected_suppresses_package() {
    let dir = tempfile::tempdir().unwrap();
    let db = debian_db(dir.path());
    let image = sample_image("debian-bullseye");
    let vex = write(
        dir.path(),
        "image.openvex.json",
        r#"{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/bullseye-1",
  "author": "Platform team",
  "timestamp": "2026-11-01T00:00:00Z",
  "version": 1,
  "statements": [
    {
      "vulnerability": {"name": "CVE-2024-32002"},
      "products": [{"@id": "pkg:oci/bullseye",
                    "subcomponents": [{"@id": "pkg:deb/debian/git"}]}],
      "status": "not_affected",
      "justification": "vulnerable_code_not_in_execute_path"
    }
  ]
}"#,
    );
    let (_, report, _) = scan(&image, &db, &["--vex", &vex]);
    let kept: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["id"] == "CVE-2024-32002")
        .map(|finding| finding["package"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(kept, ["git-man"]);
    let ignored = &report["ignored"][0];
    assert_eq!(ignored["finding"]["package"]["name"], "git");
    assert_eq!(ignored["suppressed_by"]["source"], "vex");
    assert_eq!(ignored["suppressed_by"]["status"], "not_affected");
}

#[test]
fn malformed_ignore_file_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    let db = debian_db(dir.path());
    let file = write(
        dir.path(),
        "ignore.yaml",
        "ignore:\n  - id: CVE-2024-32002\n    reason: r\n    expires: next week\n",
    );
    let output = cordon()
        .args(["scan", &sample_image("debian-bullseye"), "--db"])
        .arg(&db)
        .args(["--ignore-file", &file])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&file), "{stderr}");
    assert!(stderr.contains("at line 2"), "{stderr}");
}
