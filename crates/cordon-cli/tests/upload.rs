//! `cordon sandbox --upload` against moto in server mode on a loopback port.
//!
//! The sandbox runs need root, a running Docker Engine with the `cordon-runsc` runtime, and
//! the corpus archives in `$CORDON_CORPUS_DIR`. A test skips with a printed reason when moto,
//! root, the Engine or the image is missing. With `CORDON_REQUIRE_E2E` set it fails instead.

mod support;

use std::path::PathBuf;

use cordon_upload::testing::{MotoServer, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY};
use support::cordon;

const AWS_VARIABLES: [&str; 7] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
];

/// Returns a `cordon` command with every AWS variable of the caller removed.
fn cordon_without_aws() -> assert_cmd::Command {
    let mut command = cordon();
    for name in AWS_VARIABLES {
        command.env_remove(name);
    }
    command
}

/// Returns the go-binary corpus archive: a static program that exits at once.
fn small_image() -> Option<PathBuf> {
    let dir = std::env::var_os("CORDON_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/cordon/images/corpus"));
    let archive = dir.join("go-binary.docker.tar");
    let engine_up = std::process::Command::new("docker")
        .arg("info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    let reason = if !running_as_root() {
        "the sandbox needs root".to_string()
    } else if !engine_up {
        "no Docker Engine (`docker info` failed)".to_string()
    } else if !archive.is_file() {
        format!("corpus image {} is missing", archive.display())
    } else {
        return Some(archive);
    };
    assert!(
        std::env::var_os("CORDON_REQUIRE_E2E").is_none(),
        "CORDON_REQUIRE_E2E is set but {reason}"
    );
    eprintln!("skipping: {reason}");
    None
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|status| {
            status
                .lines()
                .any(|line| line.starts_with("Uid:") && line.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn missing_credentials_stop_before_run() {
    let output = cordon_without_aws()
        .args([
            "sandbox",
            "docker:cordon-test/never-run:1",
            "--upload",
            "s3://cordon-artifacts/runs",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("missing S3 credentials"), "{stderr}");
    assert!(stderr.contains("AWS_ACCESS_KEY_ID"), "{stderr}");
    assert!(output.stdout.is_empty(), "no run starts");
}

#[test]
fn invalid_upload_target_rejected() {
    let output = cordon_without_aws()
        .args([
            "sandbox",
            "docker:cordon-test/never-run:1",
            "--upload",
            "https://cordon-artifacts/runs",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("s3://BUCKET/PREFIX"), "{stderr}");
}

#[test]
fn sandbox_run_uploads_artifacts() {
    let Some(server) = MotoServer::start() else {
        return;
    };
    let Some(image) = small_image() else {
        return;
    };
    server.create_bucket("cordon-artifacts");
    let out = tempfile::tempdir().unwrap();

    let output = cordon_without_aws()
        .env("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", TEST_SECRET_ACCESS_KEY)
        .env("AWS_ENDPOINT_URL", server.endpoint())
        .arg("sandbox")
        .arg(&image)
        .args(["--duration", "5s", "--output"])
        .arg(out.path())
        .args(["--upload", "s3://cordon-artifacts/ci", "--s3-path-style"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let run_id = report["run_id"].as_str().unwrap();
    let prefix = format!("ci/{run_id}/");
    let keys = server.list_keys("cordon-artifacts", &prefix);
    let mut local: Vec<String> = walk_files(out.path())
        .into_iter()
        .map(|relative| format!("{prefix}{relative}"))
        .collect();
    local.sort();
    let mut stored = keys.clone();
    stored.sort();
    assert_eq!(stored, local, "every local file is uploaded");

    let report_key = format!("{prefix}report.json");
    let object = server.get("cordon-artifacts", &report_key);
    assert_eq!(
        object.body,
        std::fs::read(out.path().join("report.json")).unwrap()
    );
    assert_eq!(object.content_type.as_deref(), Some("application/json"));
    let url = format!("{}/cordon-artifacts/{report_key}", server.endpoint());
    assert!(
        stdout.lines().any(|line| line.trim() == url),
        "{url} not printed:\n{stdout}"
    );
}

#[test]
fn missing_bucket_exits_two_keeps_local() {
    let Some(server) = MotoServer::start() else {
        return;
    };
    let Some(image) = small_image() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();

    let output = cordon_without_aws()
        .env("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", TEST_SECRET_ACCESS_KEY)
        .arg("sandbox")
        .arg(&image)
        .args(["--duration", "5s", "--output"])
        .arg(out.path())
        .args(["--upload", "s3://no-such-bucket/ci", "--s3-path-style"])
        .args(["--s3-endpoint", server.endpoint()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("s3://no-such-bucket/ci/sbx-"),
        "{stderr}"
    );
    assert!(errors[0].contains("NoSuchBucket"), "{stderr}");
    assert!(
        out.path().join("report.json").is_file(),
        "local report kept"
    );
}

/// Lists the regular files under `dir` as `/`-separated relative paths.
fn walk_files(dir: &std::path::Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|entry| entry.file_type().is_file())
        .map(|entry| {
            let relative = entry.path().strip_prefix(dir).unwrap();
            relative.to_str().unwrap().to_string()
        })
        .collect()
}
