//! File-change list computed from an overlayfs upper directory.
//!
//! The Engine's change list reports an opaque directory (one that carries
//! `trusted.overlay.opaque=y` because it was removed and created again, or created where no
//! lower layer had it) as deleted. The functions here rebuild the list from the upper directory
//! and the lower layers' paths, the way overlayfs itself merges them: an opaque directory hides
//! the lower directory's children, and a 0/0 character device is a whiteout that deletes the
//! lower path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::events::ChangeKind;

/// What one path of the upper directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpperKind {
    /// Directory; `opaque` is true when it carries `trusted.overlay.opaque=y`.
    Directory {
        /// Whether the directory hides the lower layers' directory of the same path.
        opaque: bool,
    },
    /// Character device 0/0: overlayfs's whiteout marking a deleted lower path.
    Whiteout,
    /// Regular file, symlink or other non-directory.
    File,
}

/// One entry of the upper directory, with an absolute container path (`/etc/hosts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpperEntry {
    /// Absolute path inside the container.
    pub path: String,
    /// Entry type.
    pub kind: UpperKind,
}

/// One line of a change list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PathChange {
    /// Absolute path inside the container.
    pub path: String,
    /// Kind of change.
    pub change: ChangeKind,
}

/// Paths that exist in the merged lower layers (the image), as absolute container paths.
pub trait LowerListing {
    /// Returns true when `path` exists in the image.
    fn contains(&self, path: &str) -> bool;
    /// Returns the absolute paths of the direct children of directory `path` in the image.
    fn children(&self, path: &str) -> Vec<String>;
}

impl LowerListing for BTreeSet<String> {
    fn contains(&self, path: &str) -> bool {
        BTreeSet::contains(self, path)
    }

    fn children(&self, path: &str) -> Vec<String> {
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        self.range(prefix.clone()..)
            .take_while(|p| p.starts_with(&prefix))
            .filter(|p| !p[prefix.len()..].contains('/') && p.len() > prefix.len())
            .cloned()
            .collect()
    }
}

/// Lower layers read from disk: overlay2's `LowerDir` list, topmost first.
#[derive(Debug, Clone)]
pub struct LowerDirs {
    dirs: Vec<std::path::PathBuf>,
}

impl LowerDirs {
    /// Wraps the colon-separated `LowerDir` value of the overlay2 driver.
    pub fn from_lowerdir_value(value: &str) -> Self {
        LowerDirs {
            dirs: value
                .split(':')
                .filter(|d| !d.is_empty())
                .map(std::path::PathBuf::from)
                .collect(),
        }
    }

    /// Returns the layer directories, topmost first.
    pub fn dirs(&self) -> &[std::path::PathBuf] {
        &self.dirs
    }

    fn host_path(dir: &Path, path: &str) -> std::path::PathBuf {
        dir.join(path.trim_start_matches('/'))
    }
}

impl LowerListing for LowerDirs {
    // NOTE: whiteouts inside the lower layers themselves are not applied, so a path deleted by a
    // higher image layer still counts as present when a lower image layer has it.
    fn contains(&self, path: &str) -> bool {
        self.dirs
            .iter()
            .any(|dir| std::fs::symlink_metadata(Self::host_path(dir, path)).is_ok())
    }

    fn children(&self, path: &str) -> Vec<String> {
        let mut names = BTreeSet::new();
        for dir in &self.dirs {
            let Ok(entries) = std::fs::read_dir(Self::host_path(dir, path)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(".wh.") {
                    continue;
                }
                names.insert(join(path, &name));
            }
        }
        names.into_iter().collect()
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// Computes the change list from an upper-directory listing and the image's lower listing.
///
/// Every upper entry becomes `Added` when the image lacks its path and `Changed` when the image
/// has it. A whiteout becomes `Deleted` when the image has the path and is dropped otherwise.
/// An opaque directory that the image also has is `Changed`, and each of the image's direct
/// children that the upper directory does not list again becomes `Deleted`. Parent directories
/// of changed paths that the upper listing omits are added as `Changed`, as `docker diff` does.
pub fn changes_from_upper(upper: &[UpperEntry], lower: &dyn LowerListing) -> Vec<PathChange> {
    let upper_paths: BTreeMap<&str, UpperKind> =
        upper.iter().map(|e| (e.path.as_str(), e.kind)).collect();
    let mut out: BTreeMap<String, ChangeKind> = BTreeMap::new();

    for entry in upper {
        let in_lower = lower.contains(&entry.path);
        match entry.kind {
            UpperKind::Whiteout => {
                if in_lower {
                    out.insert(entry.path.clone(), ChangeKind::Deleted);
                }
            }
            UpperKind::File | UpperKind::Directory { opaque: false } => {
                let change = if in_lower {
                    ChangeKind::Changed
                } else {
                    ChangeKind::Added
                };
                out.insert(entry.path.clone(), change);
            }
            UpperKind::Directory { opaque: true } => {
                if !in_lower {
                    out.insert(entry.path.clone(), ChangeKind::Added);
                    continue;
                }
                out.insert(entry.path.clone(), ChangeKind::Changed);
                for child in lower.children(&entry.path) {
                    if !upper_paths.contains_key(child.as_str()) {
                        out.insert(child, ChangeKind::Deleted);
                    }
                }
            }
        }
    }

    let listed: Vec<String> = out.keys().cloned().collect();
    for path in listed {
        let mut parent = parent_of(&path);
        while let Some(p) = parent {
            if p == "/" {
                break;
            }
            out.entry(p.to_string()).or_insert(ChangeKind::Changed);
            parent = parent_of(p);
        }
    }

    out.into_iter()
        .map(|(path, change)| PathChange { path, change })
        .collect()
}

fn parent_of(path: &str) -> Option<&str> {
    let index = path.rfind('/')?;
    if index == 0 {
        Some("/")
    } else {
        Some(&path[..index])
    }
}

/// Lists an overlay upper directory on disk as container paths.
///
/// Reading `trusted.*` extended attributes needs CAP_SYS_ADMIN on the host; without it every
/// directory is treated as not opaque.
pub fn read_upper_dir(upper: &Path) -> std::io::Result<Vec<UpperEntry>> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};

    let mut entries = Vec::new();
    let mut stack = vec![(upper.to_path_buf(), "/".to_string())];
    while let Some((dir, container_dir)) = stack.pop() {
        for item in std::fs::read_dir(&dir)? {
            let item = item?;
            let name = item.file_name().to_string_lossy().into_owned();
            let path = join(&container_dir, &name);
            let meta = std::fs::symlink_metadata(item.path())?;
            let ft = meta.file_type();
            let kind = if ft.is_dir() {
                let opaque = matches!(
                    xattr_value(&item.path(), "trusted.overlay.opaque"),
                    Some(ref v) if v.as_slice() == b"y"
                );
                stack.push((item.path(), path.clone()));
                UpperKind::Directory { opaque }
            } else if ft.is_char_device() && meta.rdev() == 0 {
                UpperKind::Whiteout
            } else {
                UpperKind::File
            };
            entries.push(UpperEntry { path, kind });
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

/// Reads one extended attribute with `getfattr`, which avoids unsafe code in this crate.
fn xattr_value(path: &Path, name: &str) -> Option<Vec<u8>> {
    let output = std::process::Command::new("getfattr")
        .args(["--only-values", "--absolute-names", "-n", name])
        .arg(path)
        .output()
        .ok()?;
    output.status.success().then_some(output.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: UpperKind) -> UpperEntry {
        UpperEntry {
            path: path.to_string(),
            kind,
        }
    }

    fn change(path: &str, change: ChangeKind) -> PathChange {
        PathChange {
            path: path.to_string(),
            change,
        }
    }

    /// Upper directory after a run: a new opaque `foo/`, a modified `etc/hosts`, an opaque
    /// `var/cache/nginx/` recreated with `client_temp/`, and a whiteout for `tmp/gone.txt`.
    fn fixture() -> (Vec<UpperEntry>, BTreeSet<String>) {
        let upper = vec![
            entry("/foo", UpperKind::Directory { opaque: true }),
            entry("/etc", UpperKind::Directory { opaque: false }),
            entry("/etc/hosts", UpperKind::File),
            entry("/var", UpperKind::Directory { opaque: false }),
            entry("/var/cache", UpperKind::Directory { opaque: false }),
            entry("/var/cache/nginx", UpperKind::Directory { opaque: true }),
            entry(
                "/var/cache/nginx/client_temp",
                UpperKind::Directory { opaque: false },
            ),
            entry("/tmp", UpperKind::Directory { opaque: false }),
            entry("/tmp/gone.txt", UpperKind::Whiteout),
        ];
        let lower: BTreeSet<String> = [
            "/etc",
            "/etc/hosts",
            "/var",
            "/var/cache",
            "/var/cache/nginx",
            "/var/cache/nginx/old.tmp",
            "/tmp",
            "/tmp/gone.txt",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        (upper, lower)
    }

    #[test]
    fn opaque_new_directory_is_added() {
        let (upper, lower) = fixture();
        let changes = changes_from_upper(&upper, &lower);
        assert!(changes.contains(&change("/foo", ChangeKind::Added)));
        assert!(!changes.contains(&change("/foo", ChangeKind::Deleted)));
    }

    #[test]
    fn modified_file_and_parent_are_changed() {
        let (upper, lower) = fixture();
        let changes = changes_from_upper(&upper, &lower);
        assert!(changes.contains(&change("/etc", ChangeKind::Changed)));
        assert!(changes.contains(&change("/etc/hosts", ChangeKind::Changed)));
    }

    #[test]
    fn opaque_recreated_directory_hides_lower_children() {
        let (upper, lower) = fixture();
        let changes = changes_from_upper(&upper, &lower);
        assert!(changes.contains(&change("/var/cache/nginx", ChangeKind::Changed)));
        assert!(changes.contains(&change("/var/cache/nginx/old.tmp", ChangeKind::Deleted)));
        assert!(changes.contains(&change("/var/cache/nginx/client_temp", ChangeKind::Added)));
        assert!(!changes.contains(&change("/var/cache/nginx", ChangeKind::Deleted)));
    }

    #[test]
    fn whiteout_device_is_deletion_not_file() {
        let (upper, lower) = fixture();
        let changes = changes_from_upper(&upper, &lower);
        assert!(changes.contains(&change("/tmp/gone.txt", ChangeKind::Deleted)));
        let gone: Vec<_> = changes
            .iter()
            .filter(|c| c.path == "/tmp/gone.txt")
            .collect();
        assert_eq!(gone.len(), 1);
    }

    #[test]
    fn fixture_yields_exact_change_list() {
        let (upper, lower) = fixture();
        let changes = changes_from_upper(&upper, &lower);
        let expected = vec![
            change("/etc", ChangeKind::Changed),
            change("/etc/hosts", ChangeKind::Changed),
            change("/foo", ChangeKind::Added),
            change("/tmp", ChangeKind::Changed),
            change("/tmp/gone.txt", ChangeKind::Deleted),
            change("/var", ChangeKind::Changed),
            change("/var/cache", ChangeKind::Changed),
            change("/var/cache/nginx", ChangeKind::Changed),
            change("/var/cache/nginx/client_temp", ChangeKind::Added),
            change("/var/cache/nginx/old.tmp", ChangeKind::Deleted),
        ];
        assert_eq!(changes, expected);
    }

    #[test]
    fn whiteout_without_lower_path_is_dropped() {
        let upper = vec![entry("/x", UpperKind::Whiteout)];
        let lower = BTreeSet::new();
        assert!(changes_from_upper(&upper, &lower).is_empty());
    }

    #[test]
    fn upper_dir_on_disk_reads_whiteout_and_opaque() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/hosts"), b"127.0.0.1 x\n").unwrap();
        std::fs::create_dir_all(dir.path().join("foo")).unwrap();
        let status = std::process::Command::new("setfattr")
            .args(["-n", "trusted.overlay.opaque", "-v", "y"])
            .arg(dir.path().join("foo"))
            .status();
        let opaque_supported = matches!(status, Ok(s) if s.success());
        let entries = read_upper_dir(dir.path()).unwrap();
        assert!(entries.contains(&entry("/etc/hosts", UpperKind::File)));
        if opaque_supported {
            assert!(entries.contains(&entry("/foo", UpperKind::Directory { opaque: true })));
        } else {
            eprintln!("skipping the opaque check: setfattr trusted.* is unavailable here");
        }
    }
}
