//! Streaming one layer blob: decompression, digest checks, limits and classification of
//! its tar entries.

use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tar::EntryType;

use crate::limits::{HashingReader, LimitReader, Totals};
use crate::manifest::LayerBlob;
use crate::store::Store;
use crate::stream::{LayerStream, THREADED_HASH_MIN_BYTES};
use crate::{normalize_path, ImageError, Limits, Warning, WarningKind};

/// Buffer between the blob file and the decompressor.
const COMPRESSED_BUFFER: usize = 256 * 1024;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Compression of a layer blob or of a whole archive file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    fn from_media_type(media_type: &str) -> Option<Compression> {
        if media_type.ends_with("+gzip") || media_type.ends_with(".tar.gzip") {
            Some(Compression::Gzip)
        } else if media_type.ends_with("+zstd") || media_type.ends_with(".tar.zstd") {
            Some(Compression::Zstd)
        } else if media_type.ends_with(".tar") {
            Some(Compression::None)
        } else {
            None
        }
    }

    /// Returns the compression the first bytes of a stream show.
    pub(crate) fn from_magic(head: &[u8]) -> Compression {
        if head.starts_with(GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// Returns the compression whose magic number `head` is a proper prefix of: the
    /// first bytes of a stream cut inside its magic number.
    pub(crate) fn cut_magic(head: &[u8]) -> Option<Compression> {
        if head.is_empty() {
            return None;
        }
        [
            (GZIP_MAGIC, Compression::Gzip),
            (ZSTD_MAGIC, Compression::Zstd),
        ]
        .into_iter()
        .find(|(magic, _)| head.len() < magic.len() && magic.starts_with(head))
        .map(|(_, compression)| compression)
    }

    /// Returns the name used in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Compression::None => "tar",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

enum Decoder<R: BufRead> {
    Plain(R),
    Gzip(Box<flate2::bufread::MultiGzDecoder<R>>),
    Zstd(zstd::stream::read::Decoder<'static, R>),
}

impl<R: BufRead> Decoder<R> {
    fn into_inner(self) -> R {
        match self {
            Decoder::Plain(inner) => inner,
            Decoder::Gzip(decoder) => decoder.into_inner(),
            Decoder::Zstd(decoder) => decoder.finish(),
        }
    }
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(inner) => inner.read(buf),
            Decoder::Gzip(decoder) => decoder.read(buf),
            Decoder::Zstd(decoder) => decoder.read(buf),
        }
    }
}

/// One classified tar entry of a layer.
pub(crate) enum Event<'a> {
    /// Regular file; `reader` yields its content.
    File {
        path: String,
        size: u64,
        mode: u32,
        reader: &'a mut dyn Read,
    },
    Dir {
        path: String,
        mode: u32,
    },
    Symlink {
        path: String,
        target: String,
        mode: u32,
    },
    /// Hardlink whose target is an archive member name, normalised from the root.
    Hardlink {
        path: String,
        target: String,
    },
    /// FIFO or socket.
    Other {
        path: String,
        mode: u32,
    },
    /// `.wh.NAME`: removes `path` from lower layers.
    Whiteout {
        path: String,
    },
    /// `.wh..wh..opq`: removes the lower layers' children of `dir`.
    Opaque {
        dir: String,
    },
}

/// Callback receiving each entry of a layer and the warning list.
pub(crate) type EventHandler<'a> =
    dyn FnMut(Event<'_>, &mut Vec<Warning>) -> Result<(), ImageError> + 'a;

/// State shared by all layers of one read.
pub(crate) struct ReadContext<'a> {
    pub(crate) store: &'a Store,
    pub(crate) limits: &'a Limits,
    pub(crate) totals: Totals,
}

impl<'a> ReadContext<'a> {
    pub(crate) fn new(store: &'a Store, limits: &'a Limits) -> Self {
        ReadContext {
            store,
            limits,
            totals: Totals::default(),
        }
    }

    fn image(&self) -> &Path {
        self.store.path()
    }

    /// Streams layer `index`, calling `on_event` for each entry in archive order, then
    /// reads the rest of the stream and verifies the blob digest and the diff_id.
    pub(crate) fn read_layer(
        &self,
        index: usize,
        blob: &LayerBlob,
        warnings: &mut Vec<Warning>,
        on_event: &mut EventHandler<'_>,
    ) -> Result<(), ImageError> {
        let (raw, raw_size) =
            self.store
                .open(&blob.member)?
                .ok_or_else(|| ImageError::MissingFile {
                    image: self.image().to_path_buf(),
                    file: blob.member.clone(),
                })?;
        let corrupt = |reason: String| ImageError::CorruptLayer {
            image: self.image().to_path_buf(),
            layer: index,
            blob: blob.member.clone(),
            reason,
        };
        let io_error = |source: io::Error| ImageError::Io {
            image: self.image().to_path_buf(),
            file: blob.member.clone(),
            source,
        };

        // Pick the decompressor from the first bytes; the media type only has to agree.
        // The compressed bytes are hashed only for a compressed blob with a known digest.
        // An uncompressed blob's digest is its diff_id, which the layer stream computes.
        let mut raw = raw;
        let mut head = Vec::with_capacity(ZSTD_MAGIC.len());
        (&mut raw)
            .take(ZSTD_MAGIC.len() as u64)
            .read_to_end(&mut head)
            .map_err(io_error)?;
        let compression = Compression::from_magic(&head);
        if let Some(declared) = blob
            .media_type
            .as_deref()
            .and_then(Compression::from_media_type)
        {
            if declared != Compression::None && declared != compression {
                return Err(corrupt(format!(
                    "media type {} does not match the data, which starts with {:02x?}",
                    blob.media_type.as_deref().unwrap_or_default(),
                    head
                )));
            }
        }
        let hash_compressed = blob.blob_digest.is_some() && compression != Compression::None;
        let compressed_count = Arc::new(AtomicU64::new(0));
        let buffered = BufReader::with_capacity(
            COMPRESSED_BUFFER,
            HashingReader::new(
                io::Cursor::new(head).chain(raw),
                Arc::clone(&compressed_count),
                hash_compressed,
            ),
        );
        let decoder = match compression {
            Compression::None => Decoder::Plain(buffered),
            Compression::Gzip => {
                Decoder::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)))
            }
            Compression::Zstd => Decoder::Zstd(
                zstd::stream::read::Decoder::with_buffer(buffered)
                    .map_err(|error| corrupt(format!("zstd: {error}")))?,
            ),
        };
        let limited = LimitReader::new(decoder, compressed_count, self.limits, &self.totals);
        let threaded = raw_size >= THREADED_HASH_MIN_BYTES;

        let (limited, walked, drained) = std::thread::scope(|scope| {
            let mut archive = tar::Archive::new(LayerStream::new(limited, scope, threaded));
            let walked = self.walk_entries(index, &mut archive, warnings, on_event);
            let stream = archive.into_inner();
            // The diff_id covers the whole stream, including padding after the tar
            // end-of-archive blocks, so the rest is read too.
            match walked {
                Ok(()) => {
                    let (limited, finished) = stream.finish();
                    (limited, Ok(()), finished)
                }
                Err(error) => (stream.into_inner(), Err(error), Ok((String::new(), 0))),
            }
        });
        if let Some(limit) = limited.violation.clone() {
            return Err(ImageError::LimitExceeded {
                image: self.image().to_path_buf(),
                layer: index,
                limit,
            });
        }
        walked.map_err(|error| name_blob(error, &blob.member))?;
        let (diff_id, trailing) = drained.map_err(|error| corrupt(error.to_string()))?;
        // The tar reader stops after the first end-of-archive block, so the second one
        // must still be in the stream. A stream without it was cut short.
        let ends_early = trailing < 512;

        let mut buffered = limited.into_inner().into_inner();
        io::copy(&mut buffered, &mut io::sink()).map_err(io_error)?;
        let blob_digest = match buffered.into_inner().digest() {
            Some(digest) => digest,
            None => diff_id.clone(),
        };
        let digests_differ = diff_id != blob.diff_id
            || blob
                .blob_digest
                .as_ref()
                .is_some_and(|expected| *expected != blob_digest);
        // A stream without the end-of-archive blocks whose digests match is what its
        // writer made, so it is read as it is.
        if ends_early && digests_differ {
            return Err(corrupt(
                "truncated: the tar stream ends before its end-of-archive blocks".to_string(),
            ));
        }
        if let Some(expected) = &blob.blob_digest {
            if *expected != blob_digest {
                return Err(ImageError::DigestMismatch {
                    image: self.image().to_path_buf(),
                    blob: format!("layer {index} ({})", blob.member),
                    expected: expected.clone(),
                    actual: blob_digest,
                });
            }
        }
        if diff_id != blob.diff_id {
            return Err(ImageError::DigestMismatch {
                image: self.image().to_path_buf(),
                blob: format!("layer {index} ({}) diff_id", blob.member),
                expected: blob.diff_id.clone(),
                actual: diff_id,
            });
        }
        Ok(())
    }

    fn walk_entries<R: Read + Seek>(
        &self,
        index: usize,
        archive: &mut tar::Archive<R>,
        warnings: &mut Vec<Warning>,
        on_event: &mut EventHandler<'_>,
    ) -> Result<(), ImageError> {
        let corrupt = |error: io::Error| ImageError::CorruptLayer {
            image: self.image().to_path_buf(),
            layer: index,
            blob: String::new(),
            reason: error.to_string(),
        };
        for entry in archive.entries_with_seek().map_err(corrupt)? {
            let mut entry = entry.map_err(corrupt)?;
            let entries = self.totals.entries.fetch_add(1, Ordering::Relaxed) + 1;
            if entries > self.limits.max_entries {
                return Err(ImageError::LimitExceeded {
                    image: self.image().to_path_buf(),
                    layer: index,
                    limit: format!("more than {} tar entries", self.limits.max_entries),
                });
            }
            let Some(event) = classify(index, &mut entry, warnings) else {
                continue;
            };
            on_event(event, warnings)?;
        }
        Ok(())
    }
}

/// Fills in the blob name of a [`ImageError::CorruptLayer`] raised while walking entries.
fn name_blob(error: ImageError, member: &str) -> ImageError {
    match error {
        ImageError::CorruptLayer {
            image,
            layer,
            blob,
            reason,
        } if blob.is_empty() => ImageError::CorruptLayer {
            image,
            layer,
            blob: member.to_string(),
            reason,
        },
        other => other,
    }
}

/// Turns one tar entry into an [`Event`], or records a warning and returns `None`.
fn classify<'a, R: Read>(
    layer: usize,
    entry: &'a mut tar::Entry<'_, R>,
    warnings: &mut Vec<Warning>,
) -> Option<Event<'a>> {
    let raw_name = entry.path_bytes();
    let warn = |warnings: &mut Vec<Warning>, path: String, kind: WarningKind| {
        warnings.push(Warning {
            layer: Some(layer),
            path,
            kind,
        });
    };
    let Ok(name) = std::str::from_utf8(&raw_name) else {
        warn(
            warnings,
            String::from_utf8_lossy(&raw_name).into_owned(),
            WarningKind::NonUtf8Name,
        );
        return None;
    };
    let Some(path) = normalize_path(name) else {
        warn(warnings, name.to_string(), WarningKind::PathEscapesRoot);
        return None;
    };
    if path.is_empty() {
        return None;
    }
    if name.starts_with('/') {
        warn(warnings, name.to_string(), WarningKind::AbsolutePath);
    }
    drop(raw_name);

    let (dir, base) = match path.rsplit_once('/') {
        Some((dir, base)) => (dir, base),
        None => ("", path.as_str()),
    };
    if let Some(hidden) = base.strip_prefix(".wh.") {
        if hidden == ".wh..opq" {
            return Some(Event::Opaque {
                dir: dir.to_string(),
            });
        }
        // Other `.wh..wh.` names are AUFS bookkeeping with no meaning in the view.
        if hidden.is_empty() || hidden.starts_with(".wh.") {
            return None;
        }
        let removed = if dir.is_empty() {
            hidden.to_string()
        } else {
            format!("{dir}/{hidden}")
        };
        return Some(Event::Whiteout { path: removed });
    }

    let header = entry.header();
    let mode = header.mode().unwrap_or(0) & 0o7777;
    let link_target = |entry: &tar::Entry<'_, R>| {
        entry
            .link_name_bytes()
            .map(|bytes| match std::str::from_utf8(&bytes) {
                Ok(text) => Ok(text.to_string()),
                Err(_) => Err(String::from_utf8_lossy(&bytes).into_owned()),
            })
    };
    match header.entry_type() {
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
            let size = entry.size();
            Some(Event::File {
                path,
                size,
                mode,
                reader: entry,
            })
        }
        EntryType::Directory => Some(Event::Dir { path, mode }),
        EntryType::Symlink => match link_target(entry) {
            Some(Ok(target)) => {
                if symlink_escapes(&path, &target) {
                    let kind = WarningKind::SymlinkEscapesRoot {
                        target: target.clone(),
                    };
                    warn(warnings, path.clone(), kind);
                }
                Some(Event::Symlink { path, target, mode })
            }
            _ => {
                warn(warnings, path, WarningKind::NonUtf8Name);
                None
            }
        },
        EntryType::Link => match link_target(entry) {
            Some(Ok(target)) => match normalize_path(&target) {
                Some(normalized) if !normalized.is_empty() => Some(Event::Hardlink {
                    path,
                    target: normalized,
                }),
                _ => {
                    warn(warnings, path, WarningKind::HardlinkEscapesRoot { target });
                    None
                }
            },
            _ => {
                warn(warnings, path, WarningKind::NonUtf8Name);
                None
            }
        },
        // Base images made by debootstrap carry `/dev/null` and friends; a device node is
        // ordinary metadata here because nothing is ever created on disk.
        EntryType::Char | EntryType::Block | EntryType::Fifo => Some(Event::Other { path, mode }),
        EntryType::XGlobalHeader
        | EntryType::XHeader
        | EntryType::GNULongName
        | EntryType::GNULongLink => None,
        other => {
            warn(
                warnings,
                path,
                WarningKind::UnsupportedEntry {
                    type_flag: other.as_byte(),
                },
            );
            None
        }
    }
}

/// Returns true when a symlink at `path` with `target` climbs above the image root
/// lexically (absolute targets start at the root).
fn symlink_escapes(path: &str, target: &str) -> bool {
    let mut depth: i64 = if target.starts_with('/') {
        0
    } else {
        path.matches('/').count() as i64
    };
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlink_escape_detection() {
        assert!(!symlink_escapes("etc/os-release", "../usr/lib/os-release"));
        assert!(symlink_escapes(
            "etc/os-release",
            "../../usr/lib/os-release"
        ));
        assert!(symlink_escapes("etc/evil", "/../../etc/shadow"));
        assert!(!symlink_escapes("usr/lib/tool-abs", "/usr/bin/tool"));
    }

    #[test]
    fn compression_from_media_type() {
        let docker = "application/vnd.docker.image.rootfs.diff.tar.gzip";
        assert_eq!(
            Compression::from_media_type(docker),
            Some(Compression::Gzip)
        );
        let oci = "application/vnd.oci.image.layer.v1.tar+zstd";
        assert_eq!(Compression::from_media_type(oci), Some(Compression::Zstd));
        let plain = "application/vnd.oci.image.layer.v1.tar";
        assert_eq!(Compression::from_media_type(plain), Some(Compression::None));
    }
}
