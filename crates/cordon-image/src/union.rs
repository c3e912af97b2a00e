//! Per-layer change lists and their merge into a [`Rootfs`] with overlay semantics.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;

use crate::layer::{Event, ReadContext};
use crate::manifest::LayerBlob;
use crate::rootfs::MAX_SYMLINK_HOPS;
use crate::{ImageError, Node, NodeKind, Rootfs, Warning, WarningKind};

/// Predicate deciding whether the content of a path is kept.
pub(crate) type Retain<'a> = &'a (dyn Fn(&str) -> bool + Sync);

/// Effect of one tar entry on the view.
pub(crate) enum Change {
    Whiteout(String),
    Opaque(String),
    Put(String, Node),
    Hardlink { path: String, target: String },
}

/// Reads one layer into its change list, keeping the content of retained files.
pub(crate) fn collect_changes(
    context: &ReadContext<'_>,
    index: usize,
    blob: &LayerBlob,
    retain: Retain<'_>,
) -> Result<(Vec<Change>, Vec<Warning>), ImageError> {
    let max_retained = context.limits.max_file_bytes_retained;
    let mut changes = Vec::new();
    let mut warnings = Vec::new();
    context.read_layer(index, blob, &mut warnings, &mut |event, warnings| {
        let change = match event {
            Event::File {
                path,
                size,
                mode,
                reader,
            } => {
                let mut content = None;
                if retain(&path) {
                    if size <= max_retained {
                        let mut data = Vec::with_capacity(size as usize);
                        reader.take(size).read_to_end(&mut data).map_err(|error| {
                            ImageError::CorruptLayer {
                                image: context.store.path().to_path_buf(),
                                layer: index,
                                blob: blob.member.clone(),
                                reason: format!("reading {path}: {error}"),
                            }
                        })?;
                        content = Some(Arc::<[u8]>::from(data));
                    } else {
                        let kind = WarningKind::TooLargeToRetain { size };
                        warnings.push(Warning {
                            layer: Some(index),
                            path: path.clone(),
                            kind,
                        });
                    }
                }
                let node = Node {
                    kind: NodeKind::File,
                    size,
                    mode,
                    layer: index,
                    content,
                };
                Change::Put(path, node)
            }
            Event::Dir { path, mode } => Change::Put(
                path,
                Node {
                    mode,
                    ..Node::dir(index)
                },
            ),
            Event::Symlink { path, target, mode } => Change::Put(
                path,
                Node {
                    mode,
                    ..Node::symlink(index, target)
                },
            ),
            Event::Other { path, mode } => Change::Put(
                path,
                Node {
                    kind: NodeKind::Other,
                    size: 0,
                    mode,
                    layer: index,
                    content: None,
                },
            ),
            Event::Hardlink { path, target } => Change::Hardlink { path, target },
            Event::Whiteout { path } => Change::Whiteout(path),
            Event::Opaque { dir } => Change::Opaque(dir),
        };
        changes.push(change);
        Ok(())
    })?;
    fill_hardlink_targets(context, index, blob, retain, &mut changes)?;
    Ok((changes, warnings))
}

/// Keeps the content of same-layer hardlink targets whose link path is retained but
/// whose own path is not. The tar stream has passed those targets by the time the link
/// appears, so the layer is read a second time for them; this is rare in practice.
fn fill_hardlink_targets(
    context: &ReadContext<'_>,
    index: usize,
    blob: &LayerBlob,
    retain: Retain<'_>,
    changes: &mut [Change],
) -> Result<(), ImageError> {
    let max_retained = context.limits.max_file_bytes_retained;
    let linked: HashSet<&str> = changes
        .iter()
        .filter_map(|change| match change {
            Change::Hardlink { path, target } if retain(path) => Some(target.as_str()),
            _ => None,
        })
        .collect();
    if linked.is_empty() {
        return Ok(());
    }
    let missing: HashSet<String> = changes
        .iter()
        .filter_map(|change| match change {
            Change::Put(path, node)
                if node.kind == NodeKind::File
                    && node.content.is_none()
                    && node.size <= max_retained
                    && linked.contains(path.as_str()) =>
            {
                Some(path.clone())
            }
            _ => None,
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }

    let mut contents: HashMap<String, Arc<[u8]>> = HashMap::new();
    let second_pass = ReadContext::new(context.store, context.limits);
    let mut ignored = Vec::new();
    second_pass.read_layer(index, blob, &mut ignored, &mut |event, _| {
        let Event::File {
            path, size, reader, ..
        } = event
        else {
            return Ok(());
        };
        if !missing.contains(&path) {
            return Ok(());
        }
        let mut data = Vec::with_capacity(size.min(max_retained) as usize);
        reader
            .take(max_retained)
            .read_to_end(&mut data)
            .map_err(|error| ImageError::CorruptLayer {
                image: context.store.path().to_path_buf(),
                layer: index,
                blob: blob.member.clone(),
                reason: format!("reading {path}: {error}"),
            })?;
        contents.insert(path, Arc::from(data));
        Ok(())
    })?;
    for change in changes.iter_mut() {
        if let Change::Put(path, node) = change {
            if node.kind == NodeKind::File && node.content.is_none() {
                if let Some(content) = contents.get(path.as_str()) {
                    node.content = Some(Arc::clone(content));
                }
            }
        }
    }
    Ok(())
}

/// Applies layers in order to one view.
pub(crate) struct Merger {
    rootfs: Rootfs,
    /// A directory whose whole ancestry is known to be real directories, so entries
    /// directly inside it need no ancestor checks.
    verified_dir: Option<String>,
}

impl Merger {
    pub(crate) fn new() -> Self {
        Merger {
            rootfs: Rootfs::new(),
            verified_dir: None,
        }
    }

    pub(crate) fn finish(self) -> Rootfs {
        self.rootfs
    }

    /// Applies one layer: first its whiteouts and opaque markers, which hide entries of
    /// lower layers only, then its entries in archive order.
    pub(crate) fn apply(
        &mut self,
        index: usize,
        changes: Vec<Change>,
        warnings: &mut Vec<Warning>,
    ) {
        self.verified_dir = None;
        for change in &changes {
            match change {
                Change::Whiteout(path) => {
                    let path = self.place(path, index, false);
                    self.rootfs.remove(&path);
                }
                Change::Opaque(dir) => {
                    let dir = self.place(dir, index, false);
                    self.rootfs.remove_children(&dir);
                }
                Change::Put(..) | Change::Hardlink { .. } => {}
            }
        }
        self.verified_dir = None;
        for change in changes {
            match change {
                Change::Put(path, node) => self.put(&path, node, index),
                Change::Hardlink { path, target } => self.link(path, target, index, warnings),
                Change::Whiteout(_) | Change::Opaque(_) => {}
            }
        }
    }

    fn put(&mut self, path: &str, node: Node, index: usize) {
        let path = self.place(path, index, true);
        if let Some(content) = &node.content {
            self.rootfs
                .record_version(&path, index, Arc::clone(content));
        }
        if !node.is_dir() {
            let hides_verified = self.verified_dir.as_deref().is_some_and(|dir| {
                dir == path
                    || (dir.starts_with(path.as_str()) && dir.as_bytes()[path.len()] == b'/')
            });
            if hides_verified {
                self.verified_dir = None;
            }
        }
        self.rootfs.insert(path, node);
    }

    /// Turns a hardlink into a copy of its target, which is an archive member name
    /// written earlier in this layer or present in a lower layer.
    ///
    /// NOTE: a retained link to a lower-layer target whose own path was not retained
    /// gets no content, because only same-layer targets are read again.
    fn link(&mut self, path: String, target: String, index: usize, warnings: &mut Vec<Warning>) {
        let placed_target = self.place(&target, index, false);
        let found = self
            .rootfs
            .get(&placed_target)
            .filter(|node| !node.is_dir())
            .cloned();
        let Some(node) = found else {
            let kind = WarningKind::HardlinkTargetMissing { target };
            warnings.push(Warning {
                layer: Some(index),
                path,
                kind,
            });
            return;
        };
        self.put(
            &path,
            Node {
                layer: index,
                ..node
            },
            index,
        );
    }

    /// Returns where `path` lands in the view. A symlink in a parent directory is
    /// followed (inside the image), as extracting the tar onto a filesystem would do.
    /// With `create`, missing parents become directories and parents that are files
    /// are replaced by directories.
    fn place(&mut self, path: &str, index: usize, create: bool) -> String {
        let mut current = path.to_string();
        for _ in 0..MAX_SYMLINK_HOPS {
            let parent = current.rsplit_once('/').map(|(dir, _)| dir);
            let Some(parent) = parent else {
                return current;
            };
            if self.verified_dir.as_deref() == Some(parent) {
                return current;
            }
            match self.fix_ancestors(&current, index, create) {
                Some(redirected) => current = redirected,
                None => {
                    if create {
                        self.verified_dir = Some(parent.to_string());
                    }
                    return current;
                }
            }
        }
        current
    }

    /// Walks the ancestors of `path` from the root; returns the redirected path when an
    /// ancestor is a symlink to a directory.
    fn fix_ancestors(&mut self, path: &str, index: usize, create: bool) -> Option<String> {
        for (end, _) in path.match_indices('/') {
            let prefix = &path[..end];
            let kind = self.rootfs.get(prefix).map(|node| node.kind.clone());
            match kind {
                Some(NodeKind::Dir) => {}
                Some(NodeKind::Symlink(_)) => {
                    let target_dir = self.rootfs.resolve(prefix).filter(|resolved| {
                        resolved.is_empty() || self.rootfs.get(resolved).is_some_and(Node::is_dir)
                    });
                    match target_dir {
                        Some(resolved) if resolved.is_empty() => {
                            return Some(path[end + 1..].to_string());
                        }
                        Some(resolved) => return Some(format!("{resolved}/{}", &path[end + 1..])),
                        None if create => self.rootfs.insert(prefix.to_string(), Node::dir(index)),
                        None => {}
                    }
                }
                Some(_) | None if create => {
                    self.rootfs.insert(prefix.to_string(), Node::dir(index))
                }
                Some(_) | None => {}
            }
        }
        None
    }
}
