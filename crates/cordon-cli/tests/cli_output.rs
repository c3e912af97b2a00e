//! Command-line behaviour people see: one-line usage errors, `--quiet`, help text, and
//! each message printed once.

mod support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use support::{cordon, repo_dir};

/// Returns a `cordon` command without `--quiet`.
fn cordon_loud() -> Command {
    let mut command = Command::cargo_bin("cordon").unwrap();
    command.env_remove("RUST_LOG").env(
        "CORDON_RULES_CACHE",
        std::env::temp_dir().join("cordon-test-rules"),
    );
    command
}

fn bullseye() -> String {
    format!(
        "dir:{}",
        repo_dir().join("samples/rootfs/debian-bullseye").display()
    )
}

fn tracker_db(dir: &Path) -> PathBuf {
    let output = dir.join("cordon.db");
    let tracker = repo_dir().join("samples/vulndata/debian-tracker-bullseye.json");
    let status = cordon()
        .args(["db", "build", "--output"])
        .arg(&output)
        .args(["--source", &format!("debian-tracker={}", tracker.display())])
        .output()
        .unwrap()
        .status;
    assert!(status.success());
    output
}

fn expired_ignore_file(dir: &Path) -> PathBuf {
    let path = dir.join("ignore.yaml");
    std::fs::write(
        &path,
        "ignore:\n  - id: CVE-2024-32002\n    reason: r\n    expires: 2020-01-31\n",
    )
    .unwrap();
    path
}

#[test]
fn usage_errors_are_one_line() {
    let cases: [&[&str]; 4] = [
        &["scan", "x", "--max-count", "-1"],
        &["scan", "x", "--format", "xml"],
        &["scan", "x", "--fromat", "json"],
        &["sbom", "x", "--format", "sarif"],
    ];
    for args in cases {
        let output = cordon().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert!(lines.len() <= 2, "{args:?}: {stderr}");
        assert!(lines[0].starts_with("error: "), "{args:?}: {stderr}");
        if let Some(hint) = lines.get(1) {
            assert!(hint.contains("--help"), "{args:?}: {stderr}");
        }
    }
}

#[test]
fn invalid_format_lists_possible_values() {
    let output = cordon()
        .args(["scan", "x", "--format", "xml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("table, json, sarif, cyclonedx-json"),
        "{stderr}"
    );
}

#[test]
fn top_level_help_names_every_subcommand() {
    let output = cordon().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for name in ["scan", "sbom", "db", "sandbox", "rules"] {
        assert!(help.contains(&format!("({name})")), "{name}: {help}");
    }
}

#[test]
fn sbom_help_omits_sarif() {
    let output = cordon().args(["sbom", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("cyclonedx-json"), "{help}");
    assert!(!help.contains("sarif"), "{help}");
}

#[test]
fn quiet_silences_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let db = tracker_db(dir.path());
    let ignore = expired_ignore_file(dir.path());
    let output = cordon()
        .args([
            "scan",
            &bullseye(),
            "--scanners",
            "vuln",
            "--format",
            "json",
        ])
        .args(["--fail-on", "Unknown", "--db"])
        .arg(&db)
        .arg("--ignore-file")
        .arg(&ignore)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn warning_and_gate_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = tracker_db(dir.path());
    let ignore = expired_ignore_file(dir.path());
    for format in ["table", "json"] {
        let output = cordon_loud()
            .args([
                "scan",
                &bullseye(),
                "--scanners",
                "vuln",
                "--format",
                format,
            ])
            .args(["--color", "never", "--db"])
            .arg(&db)
            .arg("--ignore-file")
            .arg(&ignore)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let human = if format == "table" {
            format!("{stdout}{stderr}")
        } else {
            // The JSON report carries both as data; only standard error is for people.
            stderr.to_string()
        };
        assert_eq!(
            human.matches("expired on 2020-01-31").count(),
            1,
            "{format}: {human}"
        );
        assert_eq!(
            human.matches("the gate fails at").count(),
            1,
            "{format}: {human}"
        );
    }
}

#[test]
fn malware_only_scan_omits_findings_line() {
    let output = cordon()
        .args([
            "scan",
            &bullseye(),
            "--scanners",
            "malware",
            "--format",
            "table",
        ])
        .args(["--color", "never"])
        .output()
        .unwrap();
    let code = output.status.code();
    assert!(code == Some(0) || code == Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Malware:"), "{stdout}");
    assert!(!stdout.contains("Findings:"), "{stdout}");
}

#[test]
fn rule_compile_warning_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("bad.yar"), "rule bad { condition: nonsense }\n").unwrap();
    let output = cordon_loud()
        .args([
            "scan",
            &bullseye(),
            "--scanners",
            "malware",
            "--format",
            "table",
        ])
        .args(["--color", "never", "--rules"])
        .arg(&rules)
        .env("CORDON_RULES_CACHE", dir.path().join("cache"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let both = format!("{stdout}{stderr}");
    assert_eq!(
        both.matches("unknown identifier `nonsense`").count(),
        1,
        "{both}"
    );
}
