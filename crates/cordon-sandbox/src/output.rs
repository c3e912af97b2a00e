//! The output directory of a run. A directory with files is rejected, so two runs never mix,
//! unless the caller forces it, which clears the files the report layout names.

use std::path::{Path, PathBuf};

use crate::error::SandboxError;

/// Files a run writes, relative to the output directory. Besides these, `raw/executables/`
/// contains files named by their SHA-256.
pub const LAYOUT_FILES: &[&str] = &[
    "report.json",
    "capture.pcapng",
    "raw/engine-changes.txt",
    "raw/runsc-boot.log",
    "raw/file-accesses.json",
    "raw/socket-calls.json",
    "raw/exec-attempts.json",
    "raw/stdout.log",
    "raw/stderr.log",
    "raw/fakenet/fakenet-report.json",
    "raw/fakenet/fakenet.pcapng",
];

/// Directories of the layout, deepest first, removed when they end up empty.
const LAYOUT_DIRS: &[&str] = &["raw/executables", "raw/fakenet", "raw"];

/// Prepares `dir` for a run. A missing or empty directory is accepted. A directory with
/// files is rejected unless `force` is set, which removes the files the layout names. The
/// directory is still rejected when any other file remains.
pub fn prepare_output_dir(dir: &Path, force: bool) -> Result<(), SandboxError> {
    if force && dir.is_dir() {
        clear_layout(dir)?;
    }
    if let Some(first) = first_file(dir)? {
        let reason = if force {
            format!(
                "it contains {}, which no sandbox run writes; choose an empty directory",
                first.display()
            )
        } else {
            format!(
                "it is not empty ({}); choose an empty directory or pass --force to replace an earlier run's files",
                first.display()
            )
        };
        return Err(SandboxError::Invalid {
            what: "output directory",
            value: dir.display().to_string(),
            reason,
        });
    }
    std::fs::create_dir_all(dir.join("raw")).map_err(|e| SandboxError::io(dir, e))
}

fn clear_layout(dir: &Path) -> Result<(), SandboxError> {
    let remove = |path: PathBuf| match std::fs::symlink_metadata(&path) {
        Ok(meta) if !meta.is_dir() => {
            std::fs::remove_file(&path).map_err(|e| SandboxError::io(&path, e))
        }
        _ => Ok(()),
    };
    for name in LAYOUT_FILES {
        remove(dir.join(name))?;
    }
    let executables = dir.join("raw/executables");
    if let Ok(entries) = std::fs::read_dir(&executables) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                remove(entry.path())?;
            }
        }
    }
    for sub in LAYOUT_DIRS {
        // Fails when the directory contains another file, which is the expected outcome.
        let _ = std::fs::remove_dir(dir.join(sub));
    }
    Ok(())
}

/// Returns the first non-directory entry under `dir` (depth first), or `None`.
fn first_file(dir: &Path) -> Result<Option<PathBuf>, SandboxError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(SandboxError::io(dir, e)),
    };
    let mut names: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| SandboxError::io(dir, e))?;
    names.sort();
    for path in names {
        let meta = std::fs::symlink_metadata(&path).map_err(|e| SandboxError::io(&path, e))?;
        if !meta.is_dir() {
            return Ok(Some(path));
        }
        if let Some(found) = first_file(&path)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn earlier_run(dir: &Path) {
        std::fs::create_dir_all(dir.join("raw/executables")).unwrap();
        std::fs::create_dir_all(dir.join("raw/fakenet")).unwrap();
        std::fs::write(dir.join("report.json"), b"{}").unwrap();
        std::fs::write(dir.join("capture.pcapng"), b"x").unwrap();
        std::fs::write(dir.join("raw/stdout.log"), b"x").unwrap();
        std::fs::write(dir.join("raw/fakenet/fakenet-report.json"), b"{}").unwrap();
        std::fs::write(dir.join("raw/executables").join("ab".repeat(32)), b"x").unwrap();
    }

    #[test]
    fn missing_or_empty_directory_is_used() {
        let dir = tempfile::tempdir().unwrap();
        prepare_output_dir(&dir.path().join("new"), false).unwrap();
        assert!(dir.path().join("new/raw").is_dir());
        prepare_output_dir(&dir.path().join("new"), false).unwrap();
    }

    #[test]
    fn earlier_run_rejected_without_force() {
        let dir = tempfile::tempdir().unwrap();
        earlier_run(dir.path());
        let error = prepare_output_dir(dir.path(), false)
            .unwrap_err()
            .to_string();
        assert!(error.contains("--force"), "{error}");
        assert!(error.contains(&dir.path().display().to_string()), "{error}");
        assert!(!error.contains('\n'));
        assert!(dir.path().join("capture.pcapng").exists());
    }

    #[test]
    fn force_removes_only_layout_files() {
        let dir = tempfile::tempdir().unwrap();
        earlier_run(dir.path());
        prepare_output_dir(dir.path(), true).unwrap();
        assert!(first_file(dir.path()).unwrap().is_none());

        earlier_run(dir.path());
        std::fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
        std::fs::write(dir.path().join("raw/executables/readme"), b"mine").unwrap();
        let error = prepare_output_dir(dir.path(), true)
            .unwrap_err()
            .to_string();
        assert!(error.contains("notes.txt"), "{error}");
        assert_eq!(
            std::fs::read(dir.path().join("notes.txt")).unwrap(),
            b"mine"
        );
        assert!(dir.path().join("raw/executables/readme").exists());
        assert!(!dir.path().join("report.json").exists());
        assert!(!dir.path().join("capture.pcapng").exists());
    }
}
