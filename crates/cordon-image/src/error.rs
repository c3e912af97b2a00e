//! Errors that stop an image read, and warnings about single entries that do not.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// An error that stops reading an image.
///
/// Every variant names the file, blob or layer it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The image path does not exist or cannot be opened.
    #[error("cannot open image {path}: {source}")]
    Open {
        /// Path given by the caller.
        path: PathBuf,
        /// Underlying I/O error.
        source: io::Error,
    },
    /// The path exists but is none of the supported image formats.
    #[error("unknown image format at {path}: expected a docker-archive or OCI archive tar, an OCI layout directory or a root filesystem directory")]
    UnknownFormat {
        /// Path given by the caller.
        path: PathBuf,
    },
    /// An image source string could not be parsed.
    #[error("invalid image source {source_string:?}: {reason}")]
    InvalidSource {
        /// The string as given.
        source_string: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A platform string such as `linux/arm64/v8` could not be parsed.
    #[error("invalid platform {value:?}: expected OS/ARCH[/VARIANT], for example linux/arm64/v8")]
    InvalidPlatform {
        /// The string as given.
        value: String,
    },
    /// A file the format requires is missing from the image.
    #[error("{image}: missing {file}")]
    MissingFile {
        /// Image path.
        image: PathBuf,
        /// Name of the missing file or blob inside the image.
        file: String,
    },
    /// A JSON document (manifest, index, config) is malformed.
    #[error("{image}: malformed {file}: {reason}")]
    Malformed {
        /// Image path.
        image: PathBuf,
        /// Name of the file or blob inside the image.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A digest is not of the form `sha256:<64 lower-case hex digits>`.
    #[error("{image}: invalid digest {digest:?} in {file}: expected sha256:<64 hex digits>")]
    InvalidDigest {
        /// Image path.
        image: PathBuf,
        /// File that contains the digest.
        file: String,
        /// The digest as written.
        digest: String,
    },
    /// A blob's content does not match the digest that names it.
    #[error("{image}: digest mismatch for {blob}: expected {expected}, found {actual}")]
    DigestMismatch {
        /// Image path.
        image: PathBuf,
        /// The blob or layer, for example `layer 2 (blobs/sha256/ab..)`.
        blob: String,
        /// Digest the manifest or config declares.
        expected: String,
        /// Digest of the bytes read.
        actual: String,
    },
    /// The docker-archive holds several images and none or more than one matches.
    #[error("{image}: {problem}; tags present: {}", list_or_none(.present))]
    TagSelection {
        /// Image path.
        image: PathBuf,
        /// What went wrong, for example `tag "app:1" not found`.
        problem: String,
        /// Tags present in the archive.
        present: Vec<String>,
    },
    /// The OCI layout holds several images and none or more than one matches.
    #[error("{image}: {problem}; refs present: {}", list_or_none(.present))]
    RefSelection {
        /// Image path.
        image: PathBuf,
        /// What went wrong.
        problem: String,
        /// `org.opencontainers.image.ref.name` values present.
        present: Vec<String>,
    },
    /// No manifest in an index matches the requested platform.
    #[error("{image}: platform {requested} not found; platforms present: {}", list_or_none(.present))]
    PlatformNotFound {
        /// Image path.
        image: PathBuf,
        /// Requested platform.
        requested: String,
        /// Platforms the index lists.
        present: Vec<String>,
    },
    /// A single-platform image was read with an explicit request for another platform.
    #[error("{image}: image platform is {actual}, but {requested} was requested")]
    PlatformMismatch {
        /// Image path.
        image: PathBuf,
        /// Requested platform.
        requested: String,
        /// Platform in the image config.
        actual: String,
    },
    /// A layer exceeds one of the [`Limits`](crate::Limits).
    #[error("{image}: layer {layer} exceeds the limit: {limit}")]
    LimitExceeded {
        /// Image path.
        image: PathBuf,
        /// Index of the layer.
        layer: usize,
        /// Which limit and its value.
        limit: String,
    },
    /// A layer could not be decompressed or parsed as tar.
    #[error("{image}: layer {layer} ({blob}) is corrupt: {reason}")]
    CorruptLayer {
        /// Image path.
        image: PathBuf,
        /// Index of the layer.
        layer: usize,
        /// Member or blob the layer was read from.
        blob: String,
        /// Decompressor or tar error.
        reason: String,
    },
    /// The outer tar file of a docker-archive or OCI archive could not be read.
    #[error("{image}: corrupt archive: {reason}")]
    CorruptArchive {
        /// Image path.
        image: PathBuf,
        /// Tar or I/O error.
        reason: String,
    },
    /// The outer archive file ends before its tar end-of-archive blocks: it was cut
    /// short, for example by an interrupted copy or download.
    #[error("{image}: truncated archive: {reason}")]
    TruncatedArchive {
        /// Image path.
        image: PathBuf,
        /// Offset where the file ends, and the part that is missing.
        reason: String,
    },
    /// A compressed outer archive (`docker save | gzip`) decompresses to more than one
    /// of the [`Limits`](crate::Limits) allow.
    #[error("{image}: archive exceeds the limit: {limit}")]
    ArchiveLimitExceeded {
        /// Image path.
        image: PathBuf,
        /// The limit passed and its value.
        limit: String,
    },
    /// Any other I/O failure while reading the image.
    #[error("{image}: cannot read {file}: {source}")]
    Io {
        /// Image path.
        image: PathBuf,
        /// File or blob being read.
        file: String,
        /// Underlying I/O error.
        source: io::Error,
    },
    /// The callback passed to [`Image::for_each_file`](crate::Image::for_each_file)
    /// returned an error.
    #[error("{image}: visiting {path} in layer {layer} failed: {source}")]
    Visitor {
        /// Image path.
        image: PathBuf,
        /// Index of the layer.
        layer: usize,
        /// Path of the file being visited.
        path: String,
        /// The callback's error.
        source: io::Error,
    },
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// A problem with one entry that was skipped or kept with care while reading went on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Index of the layer, `None` for problems outside layers.
    pub layer: Option<usize>,
    /// Entry name as written in the archive (lossy UTF-8 for non-UTF-8 names).
    pub path: String,
    /// What is wrong with the entry.
    pub kind: WarningKind,
}

/// Kind of a [`Warning`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningKind {
    /// The name contains `..` components that climb out of the image root; skipped.
    PathEscapesRoot,
    /// The name starts with `/`. It is read relative to the image root, where Docker and
    /// containerd extract it too.
    AbsolutePath,
    /// The name is not valid UTF-8; skipped.
    NonUtf8Name,
    /// A symlink target climbs above the image root; kept, because resolution in
    /// [`Rootfs`](crate::Rootfs) stops at the root.
    SymlinkEscapesRoot {
        /// Link target as written.
        target: String,
    },
    /// A hardlink names a member outside the archive; skipped.
    HardlinkEscapesRoot {
        /// Link target as written.
        target: String,
    },
    /// A hardlink names a member that is neither earlier in the same layer nor in a
    /// lower layer; skipped.
    HardlinkTargetMissing {
        /// Link target as written.
        target: String,
    },
    /// A character or block device; skipped.
    DeviceFile,
    /// A file matched the retain predicate but is larger than
    /// [`Limits::max_file_bytes_retained`](crate::Limits::max_file_bytes_retained), so its
    /// content was not kept.
    TooLargeToRetain {
        /// File size in bytes.
        size: u64,
    },
    /// A tar entry type that is not supported; skipped.
    UnsupportedEntry {
        /// Tar type flag byte.
        type_flag: u8,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(layer) = self.layer {
            write!(f, "layer {layer}: ")?;
        }
        write!(f, "{}: ", self.path)?;
        match &self.kind {
            WarningKind::PathEscapesRoot => write!(f, "path climbs out of the image root, skipped"),
            WarningKind::AbsolutePath => {
                write!(f, "absolute path, read relative to the image root")
            }
            WarningKind::NonUtf8Name => write!(f, "name is not valid UTF-8, skipped"),
            WarningKind::SymlinkEscapesRoot { target } => {
                write!(f, "symlink target {target:?} climbs above the image root")
            }
            WarningKind::HardlinkEscapesRoot { target } => {
                write!(
                    f,
                    "hardlink target {target:?} is outside the archive, skipped"
                )
            }
            WarningKind::HardlinkTargetMissing { target } => {
                write!(f, "hardlink target {target:?} not found, skipped")
            }
            WarningKind::DeviceFile => write!(f, "device file, skipped"),
            WarningKind::TooLargeToRetain { size } => {
                write!(
                    f,
                    "file of {size} bytes exceeds the retain limit, content not kept"
                )
            }
            WarningKind::UnsupportedEntry { type_flag } => {
                write!(
                    f,
                    "unsupported tar entry type {:?}, skipped",
                    char::from(*type_flag)
                )
            }
        }
    }
}
