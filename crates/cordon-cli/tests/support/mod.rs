//! Helpers shared by the CLI's integration tests.
//!
//! Tests run the real `cordon` binary. Real advisory data and images come from `shared/`
//! next to the repository and from the image cache that `scripts/ci-setup.sh` fills. A
//! test whose image is missing skips with a message, unless `CORDON_REQUIRE_E2E` is set
//! (as CI sets it), in which case it fails.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// Returns the `shared/` folder beside the repository.
pub fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// Returns the repository root.
pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Returns a path under `shared/vulndata`.
pub fn vulndata(relative: &str) -> PathBuf {
    shared_dir().join("vulndata").join(relative)
}

/// Returns a `cordon` command with progress lines silenced.
pub fn cordon() -> Command {
    let mut command = Command::cargo_bin("cordon").expect("cordon binary is built");
    command.arg("--quiet");
    // Compiled malware rules are cached; keep the cache out of the user's home directory.
    command.env(
        "CORDON_RULES_CACHE",
        std::env::temp_dir().join("cordon-test-rules"),
    );
    command
}

/// Builds a database from `sources` (`KIND=PATH` strings) into `dir` and returns its path.
pub fn build_db(dir: &Path, sources: &[String]) -> PathBuf {
    let output = dir.join("cordon.db");
    let mut command = cordon();
    command.args(["db", "build", "--output"]).arg(&output);
    for source in sources {
        command.args(["--source", source]);
    }
    let result = command.output().expect("cordon db build runs");
    assert!(
        result.status.success(),
        "cordon db build failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    output
}

/// Runs `cordon scan IMAGE --db DB --format json` plus `extra` and returns the exit code
/// and the parsed report.
pub fn scan_json(image: &str, db: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let output = cordon()
        .args(["scan", image, "--format", "json", "--db"])
        .arg(db)
        .args(extra)
        .output()
        .expect("cordon scan runs");
    let code = output.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "cordon scan {image} exited {code}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (code, parse_json(&output))
}

/// Parses a command's standard output as JSON.
pub fn parse_json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "output is not JSON ({error}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Returns the image path in environment variable `var`, or `None` after printing why
/// the test is skipped. Panics instead when `CORDON_REQUIRE_E2E` is set.
pub fn image_from_env(var: &str, relative: &str) -> Option<PathBuf> {
    let path = std::env::var_os(var).map(|base| {
        let base = PathBuf::from(base);
        if relative.is_empty() {
            base
        } else {
            base.join(relative)
        }
    });
    match path {
        Some(path) if path.exists() => Some(path),
        _ => {
            let message = format!(
                "skipped: {var} is unset or {relative} is missing; run scripts/ci-setup.sh to build the test images"
            );
            if std::env::var_os("CORDON_REQUIRE_E2E").is_some() {
                panic!("{message}");
            }
            eprintln!("{message}");
            None
        }
    }
}

/// Prints recall and precision of `found` against `expected` and fails on any missing
/// or unexpected key.
pub fn assert_same_findings(
    label: &str,
    expected: &std::collections::BTreeSet<String>,
    allowed_extra: &std::collections::BTreeSet<String>,
    found: &std::collections::BTreeSet<String>,
) {
    let missing: Vec<&String> = expected.difference(found).collect();
    let unexpected: Vec<&String> = found
        .iter()
        .filter(|key| !expected.contains(*key) && !allowed_extra.contains(*key))
        .collect();
    let true_positives = expected.len() - missing.len();
    let recall = true_positives as f64 / expected.len().max(1) as f64;
    let precision = true_positives as f64 / (true_positives + unexpected.len()).max(1) as f64;
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "{label}: recall {recall:.3}, precision {precision:.3}; {} missing (first: {:?}), {} unexpected (first: {:?})",
        missing.len(),
        missing.iter().take(10).collect::<Vec<_>>(),
        unexpected.len(),
        unexpected.iter().take(10).collect::<Vec<_>>(),
    );
}
