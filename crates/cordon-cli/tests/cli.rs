//! Exit codes, output formats and error messages of `cordon scan` and `cordon sbom`,
//! on images and advisory files built by the tests.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use cordon_image::testing::{
    write_docker_archive, Compression, LayerBuilder, TestImage, TestLayer,
};
use serde_json::{json, Value};
use support::{build_db, cordon, parse_json, scan_json};

const DPKG_STATUS: &str = "\
Package: libssl1.1
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 1.1.1n-0+deb11u3

Package: postgresql-client
Status: install ok installed
Architecture: all
Source: postgresql-common (225)
Version: 13+225
Maintainer: Example Maintainer <m@example.test>
";

const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 11 (bullseye)\"\nID=debian\nVERSION_ID=\"11\"\nVERSION_CODENAME=bullseye\n";

/// A tracker file in the Security Tracker's JSON shape: two openssl CVEs (one high, one
/// low urgency) fixed after the installed version, one already fixed, and the
/// postgresql-common CVE fixed in 210, below the installed source version 225.
fn tracker() -> Value {
    let release = |status: &str, fixed: Option<&str>, urgency: &str| {
        let mut entry =
            json!({"status": status, "repositories": {"bullseye": "x"}, "urgency": urgency});
        if let Some(fixed) = fixed {
            entry["fixed_version"] = json!(fixed);
        }
        json!({"releases": {"bullseye": entry}})
    };
    json!({
        "openssl": {
            "CVE-2022-0778": release("resolved", Some("1.1.1n-0+deb11u4"), "high"),
            "CVE-2022-2068": release("resolved", Some("1.1.1n-0+deb11u5"), "low"),
            "CVE-2021-3711": release("resolved", Some("1.1.1k-1+deb11u1"), "high"),
            "CVE-2010-5298": release("resolved", Some("0"), "unimportant"),
        },
        "postgresql-common": {
            "CVE-2019-3466": release("resolved", Some("210"), "medium"),
        }
    })
}

struct Fixture {
    dir: tempfile::TempDir,
    db: PathBuf,
    archive: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let tracker_path = dir.path().join("tracker.json");
    fs::write(&tracker_path, tracker().to_string()).expect("write tracker");
    let db = build_db(
        dir.path(),
        &[format!("debian-tracker={}", tracker_path.display())],
    );

    let base = LayerBuilder::new()
        .dir("etc")
        .file("usr/lib/os-release", OS_RELEASE.as_bytes())
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file("var/lib/dpkg/status", DPKG_STATUS.as_bytes())
        .build();
    let app = LayerBuilder::new().file("srv/app.txt", b"hello").build();
    let image = TestImage::new(vec![
        TestLayer::new(base, Compression::Gzip),
        TestLayer::new(app, Compression::None),
    ]);
    let archive = dir.path().join("image.tar");
    write_docker_archive(&archive, &[(&["example/app:1.0"], &image)]);
    Fixture { dir, db, archive }
}

fn image_arg(path: &Path) -> String {
    format!("docker-archive:{}", path.display())
}

fn ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["package"]["name"].as_str().unwrap_or(""),
                f["id"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn source_version_decides_debian_match() {
    let fixture = fixture();
    let (_, report) = scan_json(&image_arg(&fixture.archive), &fixture.db, &[]);
    let found = ids(&report);
    assert_eq!(
        found,
        vec!["libssl1.1 CVE-2022-0778", "libssl1.1 CVE-2022-2068"]
    );
    let first = &report["findings"][0];
    assert_eq!(first["severity"], "High");
    assert_eq!(first["fixed_version"], "1.1.1n-0+deb11u4");
    assert_eq!(first["package"]["source_name"], "openssl");
    assert_eq!(first["layer"]["index"], 0);
    assert_eq!(report["findings"][1]["severity"], "Low");
}

#[test]
fn gate_exit_codes_follow_threshold() {
    let fixture = fixture();
    let image = image_arg(&fixture.archive);
    let cases: [(&[&str], i32); 5] = [
        (&[], 1),
        (&["--fail-on", "critical"], 0),
        (&["--fail-on", "Low", "--max-count", "2"], 1),
        (&["--fail-on", "Low", "--max-count", "3"], 0),
        (&["--fail-on", "Defcon1"], 0),
    ];
    for (extra, expected) in cases {
        let (code, report) = scan_json(&image, &fixture.db, extra);
        assert_eq!(code, expected, "cordon scan {extra:?}");
        assert_eq!(report["gate"]["passed"], expected == 0, "{extra:?}");
    }
}

#[test]
fn json_report_carries_settings_and_database() {
    let fixture = fixture();
    let (_, report) = scan_json(
        &image_arg(&fixture.archive),
        &fixture.db,
        &["--max-count", "5"],
    );
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["settings"]["fail_on"], "High");
    assert_eq!(report["settings"]["max_count"], 5);
    assert!(report["database"]["built_at"].is_string());
    assert_eq!(report["image"]["tags"], json!(["example/app:1.0"]));
    assert_eq!(report["image"]["layers"].as_array().map(Vec::len), Some(2));
    assert_eq!(report["summary"]["by_severity"]["High"], 1);
    assert_eq!(report["distro"]["codename"], "bullseye");
    for key in [
        "id",
        "aliases",
        "severity",
        "status",
        "fixed_version",
        "layer",
        "package",
    ] {
        assert!(
            report["findings"][0].get(key).is_some(),
            "finding has `{key}`"
        );
    }
    for key in [
        "name",
        "version",
        "ecosystem",
        "purl",
        "source_name",
        "source_version",
    ] {
        assert!(
            report["findings"][0]["package"].get(key).is_some(),
            "package has `{key}`"
        );
    }
}

#[test]
fn sarif_output_lists_each_finding() {
    let fixture = fixture();
    let output = cordon()
        .args([
            "scan",
            &image_arg(&fixture.archive),
            "--format",
            "sarif",
            "--db",
        ])
        .arg(&fixture.db)
        .output()
        .expect("cordon runs");
    assert_eq!(output.status.code(), Some(1));
    let sarif = parse_json(&output);
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "cordon");
    assert_eq!(run["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(run["results"][0]["level"], "error");
    assert_eq!(
        run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "var/lib/dpkg/status"
    );
    assert!(run["tool"]["driver"]["rules"][0]["properties"]["security-severity"].is_string());
}

#[test]
fn cyclonedx_output_has_vulnerabilities() {
    let fixture = fixture();
    let output = cordon()
        .args([
            "scan",
            &image_arg(&fixture.archive),
            "--format",
            "cyclonedx-json",
            "--db",
        ])
        .arg(&fixture.db)
        .output()
        .expect("cordon runs");
    let bom = parse_json(&output);
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    let vulnerabilities = bom["vulnerabilities"].as_array().expect("vulnerabilities");
    assert_eq!(vulnerabilities.len(), 2);
    let affected = vulnerabilities[0]["affects"][0]["ref"]
        .as_str()
        .expect("ref");
    let components = bom["components"].as_array().expect("components");
    assert!(
        components.iter().any(|c| c["bom-ref"] == affected),
        "affects points at a component"
    );
}

#[test]
fn sbom_lists_packages_as_cyclonedx() {
    let fixture = fixture();
    let output = cordon()
        .args(["sbom", &image_arg(&fixture.archive)])
        .output()
        .expect("cordon runs");
    assert!(output.status.success());
    let bom = parse_json(&output);
    let purls: Vec<&str> = bom["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    assert_eq!(purls.len(), 2);
    assert!(
        purls
            .iter()
            .any(|p| p.starts_with("pkg:deb/debian/libssl1.1@1.1.1n-0%2Bdeb11u3")),
        "{purls:?}"
    );
    assert!(bom.get("vulnerabilities").is_none());
}

#[test]
fn table_output_ends_with_gate_verdict() {
    let fixture = fixture();
    let output = cordon()
        .args([
            "scan",
            &image_arg(&fixture.archive),
            "--color",
            "never",
            "--db",
        ])
        .arg(&fixture.db)
        .output()
        .expect("cordon runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("CVE-2022-0778"), "{text}");
    assert!(
        text.contains("Findings: 2 (Defcon1: 0, Critical: 0, High: 1"),
        "{text}"
    );
    assert!(
        text.trim_end()
            .lines()
            .last()
            .is_some_and(|line| line.starts_with("Gate: FAIL")),
        "{text}"
    );
}

/// Runs `cordon` with `args`, expects exit code 2 and returns standard error.
fn expect_error(args: &[&str]) -> String {
    let output = cordon().args(args).output().expect("cordon runs");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(2), "cordon {args:?}: {stderr}");
    assert!(output.stdout.is_empty(), "no report on error");
    stderr
}

#[test]
fn unreadable_inputs_exit_two_with_one_line() {
    let fixture = fixture();
    let dir = fixture.dir.path();
    let db = fixture.db.display().to_string();

    let garbage = dir.join("garbage.bin");
    fs::write(&garbage, b"this is not an image").expect("write");
    let truncated = dir.join("truncated.tar");
    let bytes = fs::read(&fixture.archive).expect("read archive");
    fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    let missing = dir.join("missing.tar");

    let cases = [
        (
            format!("docker-archive:{}", dir.display()),
            "is a directory",
        ),
        ("registry.example.com/app:1.4".to_string(), "docker save"),
        (missing.display().to_string(), "missing.tar"),
        (garbage.display().to_string(), "garbage.bin"),
        (
            format!("docker-archive:{}", truncated.display()),
            "truncated.tar",
        ),
    ];
    for (image, name) in cases {
        let stderr = expect_error(&["scan", &image, "--db", &db]);
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(name), "names the input: {stderr}");
    }
}

#[test]
fn missing_database_explains_how_to_get_one() {
    let fixture = fixture();
    let absent = fixture.dir.path().join("absent.db");
    let stderr = expect_error(&[
        "scan",
        &image_arg(&fixture.archive),
        "--db",
        &absent.display().to_string(),
    ]);
    assert!(stderr.contains("cordon db update"), "{stderr}");
    assert!(stderr.contains("absent.db"), "{stderr}");
}

#[test]
fn invalid_options_exit_two() {
    let fixture = fixture();
    let image = image_arg(&fixture.archive);
    expect_error(&["scan", &image, "--fail-on", "severe"]);
    expect_error(&["scan", &image, "--max-count", "0"]);
    expect_error(&["scan", &image, "--format", "xml"]);
}
