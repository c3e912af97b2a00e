//! The merged filesystem view of an image.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

/// Symlinks followed while resolving one path before giving up, as Linux's `MAXSYMLINKS`.
pub const MAX_SYMLINK_HOPS: usize = 40;

/// Type of a filesystem entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// Regular file (hardlinks are stored as regular files with their target's content).
    File,
    /// Directory.
    Dir,
    /// Symbolic link with its target as written in the archive.
    Symlink(String),
    /// Device, FIFO or socket.
    Other,
}

/// Content one layer wrote at a path: layer index and bytes.
pub type LayerVersion = (usize, Arc<[u8]>);

/// Metadata of one path in the merged view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Entry type.
    pub kind: NodeKind,
    /// Size in bytes for regular files, 0 otherwise.
    pub size: u64,
    /// Permission bits and set-id bits (`0o7777` mask).
    pub mode: u32,
    /// Index of the layer that last wrote this path.
    pub layer: usize,
    /// File content, kept only for paths the reader was asked to retain.
    pub content: Option<Arc<[u8]>>,
}

impl Node {
    /// Builds a directory node.
    pub fn dir(layer: usize) -> Node {
        Node {
            kind: NodeKind::Dir,
            size: 0,
            mode: 0o755,
            layer,
            content: None,
        }
    }

    /// Builds a regular-file node whose content is retained.
    pub fn file(layer: usize, content: impl Into<Arc<[u8]>>) -> Node {
        let content: Arc<[u8]> = content.into();
        Node {
            kind: NodeKind::File,
            size: content.len() as u64,
            mode: 0o644,
            layer,
            content: Some(content),
        }
    }

    /// Builds a symlink node.
    pub fn symlink(layer: usize, target: impl Into<String>) -> Node {
        Node {
            kind: NodeKind::Symlink(target.into()),
            size: 0,
            mode: 0o777,
            layer,
            content: None,
        }
    }

    /// Returns true for directories.
    pub fn is_dir(&self) -> bool {
        self.kind == NodeKind::Dir
    }
}

/// Merged filesystem view: normalised relative paths (`etc/os-release`, no leading `/`)
/// mapped to their metadata.
///
/// Parent directories are not required to exist as entries, because layer tars often omit
/// them; [`Rootfs::insert`] does not create them either.
#[derive(Debug, Clone, Default)]
pub struct Rootfs {
    nodes: BTreeMap<String, Node>,
    /// Every retained version of a path, one per layer that wrote it, oldest first.
    history: BTreeMap<String, Vec<LayerVersion>>,
}

impl Rootfs {
    /// Creates an empty view.
    pub fn new() -> Rootfs {
        Rootfs::default()
    }

    /// Number of paths in the view.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Returns true when the view has no paths.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Inserts or replaces one path.
    ///
    /// A non-directory replacing a directory hides everything below it, as overlay
    /// filesystems do. `path` must already be normalised (see [`normalize_path`]).
    pub fn insert(&mut self, path: impl Into<String>, node: Node) {
        let path = path.into();
        if !node.is_dir() {
            self.remove_children(&path);
        }
        self.nodes.insert(path, node);
    }

    /// Removes one path and everything below it (a whiteout `.wh.NAME`).
    pub fn remove(&mut self, path: &str) {
        self.nodes.remove(path);
        self.remove_children(path);
    }

    /// Removes everything below `dir` but keeps `dir` itself (an opaque whiteout).
    pub fn remove_children(&mut self, dir: &str) {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let doomed: Vec<String> = self
            .nodes
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .take_while(|(path, _)| path.starts_with(&prefix))
            .map(|(path, _)| path.clone())
            .collect();
        for path in doomed {
            self.nodes.remove(&path);
        }
    }

    /// Returns the node stored at `path` without following symlinks.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path.trim_start_matches('/'))
    }

    /// Iterates over all paths in lexical order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(path, node)| (path.as_str(), node))
    }

    /// Iterates over the paths strictly below `dir`, at any depth, in lexical order.
    pub fn descendants<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a str, &'a Node)> + 'a {
        let dir = dir.trim_matches('/');
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.nodes
            .range::<str, _>((Bound::Included(prefix.clone().as_str()), Bound::Unbounded))
            .take_while(move |(path, _)| path.starts_with(&prefix))
            .filter(|(path, _)| !path.is_empty())
            .map(|(path, node)| (path.as_str(), node))
    }

    /// Resolves `path` to the path of the entry it finally names, following symlinks in
    /// every component.
    ///
    /// Relative link targets resolve against the link's directory and absolute ones
    /// against the image root; `..` never climbs above the root, so resolution cannot
    /// leave the image. Returns `None` for a dangling path or a symlink loop.
    pub fn resolve(&self, path: &str) -> Option<String> {
        let mut hops = 0;
        let mut pending: Vec<String> = components(path).rev().map(str::to_string).collect();
        let mut resolved: Vec<String> = Vec::new();
        while let Some(component) = pending.pop() {
            match component.as_str() {
                "." => continue,
                ".." => {
                    resolved.pop();
                    continue;
                }
                _ => {}
            }
            resolved.push(component);
            let current = resolved.join("/");
            let node = self.nodes.get(&current);
            if let Some(Node {
                kind: NodeKind::Symlink(target),
                ..
            }) = node
            {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return None;
                }
                resolved.pop();
                if target.starts_with('/') {
                    resolved.clear();
                }
                pending.extend(components(target).rev().map(str::to_string));
            } else if node.is_none() && !pending.is_empty() && !self.has_descendants(&current) {
                return None;
            }
        }
        let final_path = resolved.join("/");
        if final_path.is_empty() || self.nodes.contains_key(&final_path) {
            Some(final_path)
        } else {
            None
        }
    }

    /// Returns the retained content of the file `path` names, following symlinks.
    ///
    /// Returns `None` when the path does not resolve to a regular file or its content was
    /// not retained.
    pub fn read(&self, path: &str) -> Option<&[u8]> {
        let resolved = self.resolve(path)?;
        let node = self.nodes.get(&resolved)?;
        match node.kind {
            NodeKind::File => node.content.as_deref(),
            _ => None,
        }
    }

    /// Returns the node that `path` finally names, following symlinks.
    pub fn get_resolved(&self, path: &str) -> Option<(String, &Node)> {
        let resolved = self.resolve(path)?;
        let node = self.nodes.get(&resolved)?;
        Some((resolved, node))
    }

    /// Records the content a layer wrote at `path`, so that catalogers can tell in which
    /// layer a package first appeared in a shared database file such as
    /// `var/lib/dpkg/status`.
    pub fn record_version(&mut self, path: &str, layer: usize, content: Arc<[u8]>) {
        self.history
            .entry(path.to_string())
            .or_default()
            .push((layer, content));
    }

    /// Returns the retained versions of `path` (not following symlinks), oldest layer
    /// first; empty when the reader kept none.
    pub fn versions(&self, path: &str) -> &[(usize, Arc<[u8]>)] {
        self.history
            .get(path.trim_start_matches('/'))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Returns true when the final view shows the version of `path` that `layer` wrote,
    /// so that a file visited in that layer is what a container would see.
    pub fn is_visible(&self, path: &str, layer: usize) -> bool {
        self.get(path).is_some_and(|node| node.layer == layer)
    }

    fn has_descendants(&self, dir: &str) -> bool {
        self.descendants(dir).next().is_some()
    }
}

fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|component| !component.is_empty())
}

/// Normalises an archive member name to the form [`Rootfs`] stores: no leading `/` or
/// `./`, no empty or `.` components, no trailing `/`.
///
/// Returns `None` when the name contains a `..` component, because such a name could
/// point outside the image root.
pub fn normalize_path(name: &str) -> Option<String> {
    let mut parts = Vec::new();
    for component in name.split('/') {
        match component {
            "" | "." => {}
            ".." => return None,
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Rootfs {
        let mut fs = Rootfs::new();
        fs.insert("usr", Node::dir(0));
        fs.insert("usr/bin", Node::dir(0));
        fs.insert("usr/bin/tool", Node::file(0, b"T".to_vec()));
        fs.insert("usr/bin/tool-sym", Node::symlink(0, "tool"));
        fs.insert("usr/lib/tool-abs", Node::symlink(0, "/usr/bin/tool"));
        fs.insert("etc/os-release", Node::symlink(0, "../usr/lib/os-release"));
        fs.insert("usr/lib/os-release", Node::file(0, b"ID=debian\n".to_vec()));
        fs.insert("bin", Node::symlink(0, "usr/bin"));
        fs.insert("escape", Node::symlink(0, "../../../../etc/passwd"));
        fs.insert("loop-a", Node::symlink(0, "loop-b"));
        fs.insert("loop-b", Node::symlink(0, "loop-a"));
        fs
    }

    #[test]
    fn relative_symlink_resolves_against_link_dir() {
        assert_eq!(tree().read("usr/bin/tool-sym"), Some(&b"T"[..]));
    }

    #[test]
    fn absolute_symlink_resolves_against_image_root() {
        assert_eq!(tree().read("/usr/lib/tool-abs"), Some(&b"T"[..]));
        assert_eq!(tree().read("etc/os-release"), Some(&b"ID=debian\n"[..]));
    }

    #[test]
    fn directory_symlink_in_middle_of_path() {
        assert_eq!(tree().resolve("bin/tool").as_deref(), Some("usr/bin/tool"));
    }

    #[test]
    fn dotdot_cannot_leave_root() {
        assert_eq!(tree().resolve("escape"), None);
        let mut fs = tree();
        fs.insert("etc/passwd", Node::file(0, b"root".to_vec()));
        assert_eq!(fs.read("escape"), Some(&b"root"[..]));
    }

    #[test]
    fn symlink_loop_is_dangling() {
        assert_eq!(tree().resolve("loop-a"), None);
    }

    #[test]
    fn file_replacing_directory_hides_children() {
        let mut fs = tree();
        fs.insert("usr/bin", Node::file(1, b"x".to_vec()));
        assert!(fs.get("usr/bin/tool").is_none());
        assert!(fs.get("usr/lib/os-release").is_some());
    }

    #[test]
    fn remove_children_keeps_siblings_with_common_prefix() {
        let mut fs = tree();
        fs.insert("usr/binary", Node::file(0, b"y".to_vec()));
        fs.remove_children("usr/bin");
        assert!(fs.get("usr/bin").is_some());
        assert!(fs.get("usr/bin/tool").is_none());
        assert!(fs.get("usr/binary").is_some());
    }

    #[test]
    fn normalize_rejects_parent_components() {
        assert_eq!(normalize_path("./etc//app/").as_deref(), Some("etc/app"));
        assert_eq!(normalize_path("/abs/path").as_deref(), Some("abs/path"));
        assert_eq!(normalize_path("a/../../b"), None);
    }
}
