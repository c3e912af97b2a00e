//! `cordon db build` and `cordon db status` against real feed files.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::str::contains;

fn vulndata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

fn cordon() -> Command {
    let mut command = Command::cargo_bin("cordon").unwrap();
    command.env_remove("CORDON_DB");
    command
}

#[test]
fn db_build_then_status() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let npm = format!("osv={}", vulndata().join("osv/npm/all.zip").display());
    let alpine = format!(
        "alpine-secdb={}",
        vulndata()
            .join("alpine/secdb-json-converted/v3.11")
            .display()
    );

    cordon()
        .args([
            "db", "build", "--source", &npm, "--source", &alpine, "--output",
        ])
        .arg(&db)
        .assert()
        .code(0)
        .stdout(contains("osv:npm"))
        .stdout(contains("2 sources"));

    cordon()
        .args(["db", "status", "--db"])
        .arg(&db)
        .assert()
        .code(0)
        .stdout(contains("schema version: 1"))
        .stdout(contains("osv:npm"));

    let output = cordon()
        .args(["db", "status", "--format", "json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["schema_version"], 1);
    assert_eq!(status["sources"][0]["name"], "osv:npm");
    assert_eq!(status["sources"][0]["records"], 7);
    assert_eq!(status["sources"][1]["kind"], "alpine-secdb");
}

#[test]
fn db_status_reads_cordon_db_variable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("env.db");
    let maven = format!("osv={}", vulndata().join("osv/Maven/all.zip").display());
    cordon()
        .args(["db", "build", "--source", &maven, "--output"])
        .arg(&db)
        .assert()
        .code(0);

    cordon()
        .args(["db", "status"])
        .env("CORDON_DB", &db)
        .assert()
        .code(0)
        .stdout(contains("osv:Maven"));
}

#[test]
fn db_build_missing_source_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    cordon()
        .args([
            "db",
            "build",
            "--source",
            "osv=/nonexistent/all.zip",
            "--output",
        ])
        .arg(&db)
        .assert()
        .code(2)
        .stderr(contains("/nonexistent/all.zip"));
    assert!(!db.exists());
}

#[test]
fn db_build_unknown_kind_exits_2() {
    cordon()
        .args(["db", "build", "--source", "nvd2=/x", "--output", "x.db"])
        .assert()
        .code(2)
        .stderr(contains("unknown kind `nvd2`"));
}

#[test]
fn db_status_missing_database_exits_2() {
    cordon()
        .args(["db", "status", "--db", "/nonexistent/cordon.db"])
        .assert()
        .code(2)
        .stderr(contains("/nonexistent/cordon.db"));
}

#[test]
fn db_build_wrong_kind_for_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let tracker = vulndata().join("debian-derived/debian-tracker-derived.json");
    cordon()
        .args(["db", "build", "--source"])
        .arg(format!("osv={}", tracker.display()))
        .arg("--output")
        .arg(&db)
        .assert()
        .code(2)
        .stderr(contains("none of its"))
        .stderr(contains("debian-tracker-derived.json"));
    assert!(!db.exists(), "a failed build leaves no database");
}

#[test]
fn db_build_wrong_kind_prints_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let alpine = vulndata().join("alpine/secdb-json-converted/v3.11");
    let output = cordon()
        .args(["db", "build", "--source"])
        .arg(format!("osv={}", alpine.display()))
        .arg("--output")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("none of its 2 records is valid"),
        "{stderr}"
    );
}

#[test]
fn db_build_empty_directory_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let db = dir.path().join("cordon.db");
    cordon()
        .args(["db", "build", "--source"])
        .arg(format!("osv={}", empty.display()))
        .arg("--output")
        .arg(&db)
        .assert()
        .code(2)
        .stderr(contains("no osv records found"))
        .stderr(contains(empty.display().to_string()));
    assert!(!db.exists(), "a failed build leaves no database");
}
