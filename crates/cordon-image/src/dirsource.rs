//! Root filesystem directories (`dir:` sources) read as a single layer.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use walkdir::WalkDir;

use crate::union::Retain;
use crate::{
    normalize_path, FileVisit, ImageError, Limits, Node, NodeKind, Rootfs, Warning, WarningKind,
};

/// One entry of the walk: normalised path, path relative to the root, and metadata.
struct Walked {
    path: String,
    relative: std::path::PathBuf,
    metadata: std::fs::Metadata,
}

type EntryHandler<'a> = dyn FnMut(Walked, &mut Vec<Warning>) -> Result<(), ImageError> + 'a;

/// Walks `root` without following symlinks, calling `on_entry` for every entry below it.
fn walk(
    root: &Path,
    limits: &Limits,
    warnings: &mut Vec<Warning>,
    on_entry: &mut EntryHandler<'_>,
) -> Result<(), ImageError> {
    let mut count: u64 = 0;
    for entry in WalkDir::new(root).follow_links(false).min_depth(1) {
        let entry = entry.map_err(|error| ImageError::Io {
            image: root.to_path_buf(),
            file: error
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            source: io::Error::other(error.to_string()),
        })?;
        count += 1;
        if count > limits.max_entries {
            return Err(ImageError::LimitExceeded {
                image: root.to_path_buf(),
                layer: 0,
                limit: format!("more than {} entries", limits.max_entries),
            });
        }
        let relative = entry
            .path()
            .strip_prefix(root)
            .unwrap_or(entry.path())
            .to_path_buf();
        let Some(name) = relative.to_str() else {
            let path = relative.to_string_lossy().into_owned();
            warnings.push(Warning {
                layer: Some(0),
                path,
                kind: WarningKind::NonUtf8Name,
            });
            continue;
        };
        let Some(path) = normalize_path(name) else {
            continue;
        };
        let metadata = entry.metadata().map_err(|error| ImageError::Io {
            image: root.to_path_buf(),
            file: name.to_string(),
            source: io::Error::other(error.to_string()),
        })?;
        on_entry(
            Walked {
                path,
                relative,
                metadata,
            },
            warnings,
        )?;
    }
    Ok(())
}

/// Builds the view of a root filesystem directory; every node is in layer 0.
pub(crate) fn read_rootfs(
    root: &Path,
    limits: &Limits,
    retain: Retain<'_>,
) -> Result<(Rootfs, Vec<Warning>), ImageError> {
    let mut rootfs = Rootfs::new();
    let mut warnings = Vec::new();
    walk(root, limits, &mut warnings, &mut |walked, warnings| {
        let Walked {
            path,
            relative,
            metadata,
        } = walked;
        let mode = metadata.permissions().mode() & 0o7777;
        let file_type = metadata.file_type();
        let node = if file_type.is_dir() {
            Node {
                mode,
                ..Node::dir(0)
            }
        } else if file_type.is_symlink() {
            let target =
                std::fs::read_link(root.join(&relative)).map_err(|source| ImageError::Io {
                    image: root.to_path_buf(),
                    file: path.clone(),
                    source,
                })?;
            let Some(target) = target.to_str() else {
                warnings.push(Warning {
                    layer: Some(0),
                    path,
                    kind: WarningKind::NonUtf8Name,
                });
                return Ok(());
            };
            Node {
                mode,
                ..Node::symlink(0, target)
            }
        } else if file_type.is_file() {
            let size = metadata.len();
            let mut content = None;
            if retain(&path) {
                if size <= limits.max_file_bytes_retained {
                    let mut data = Vec::with_capacity(size as usize);
                    let read = File::open(root.join(&relative)).and_then(|file| {
                        file.take(limits.max_file_bytes_retained)
                            .read_to_end(&mut data)
                    });
                    read.map_err(|source| ImageError::Io {
                        image: root.to_path_buf(),
                        file: path.clone(),
                        source,
                    })?;
                    content = Some(Arc::<[u8]>::from(data));
                } else {
                    let kind = WarningKind::TooLargeToRetain { size };
                    warnings.push(Warning {
                        layer: Some(0),
                        path: path.clone(),
                        kind,
                    });
                }
            }
            Node {
                kind: NodeKind::File,
                size,
                mode,
                layer: 0,
                content,
            }
        } else {
            Node {
                kind: NodeKind::Other,
                size: 0,
                mode,
                layer: 0,
                content: None,
            }
        };
        if let Some(content) = &node.content {
            rootfs.record_version(&path, 0, Arc::clone(content));
        }
        rootfs.insert(path, node);
        Ok(())
    })?;
    Ok((rootfs, warnings))
}

/// Visits every regular file of a root filesystem directory as layer 0.
pub(crate) fn for_each_file(
    root: &Path,
    limits: &Limits,
    visit: &mut dyn FnMut(&FileVisit<'_>, &mut dyn Read) -> io::Result<()>,
) -> Result<Vec<Warning>, ImageError> {
    let mut warnings = Vec::new();
    walk(root, limits, &mut warnings, &mut |walked, _| {
        let Walked {
            path,
            relative,
            metadata,
        } = walked;
        if !metadata.file_type().is_file() {
            return Ok(());
        }
        // NOTE: the file is opened by path after the walk saw a regular file. A concurrent
        // swap for a symlink could redirect it, so the root must not change during a read.
        let mut file = File::open(root.join(&relative)).map_err(|source| ImageError::Io {
            image: root.to_path_buf(),
            file: path.clone(),
            source,
        })?;
        let entry = FileVisit {
            layer: 0,
            path: &path,
            size: metadata.len(),
            mode: metadata.permissions().mode() & 0o7777,
        };
        visit(&entry, &mut file).map_err(|source| ImageError::Visitor {
            image: root.to_path_buf(),
            layer: 0,
            path: path.clone(),
            source,
        })
    })?;
    Ok(warnings)
}
