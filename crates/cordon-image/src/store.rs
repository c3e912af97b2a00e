//! Random access to the files of an image: a directory, or a tar indexed once and read
//! by seeking, without extracting it.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use tar::EntryType;

use crate::archive;
use crate::layer::Compression;
use crate::{normalize_path, ImageError, Limits};

/// Symlinks and hardlinks followed inside an outer archive before giving up.
const MAX_MEMBER_HOPS: usize = 8;

/// An opened file of an image and its size in bytes.
pub(crate) type BlobReader = (Box<dyn Read + Send>, u64);

/// A member of an indexed tar.
#[derive(Debug, Clone)]
pub(crate) enum Member {
    File { offset: u64, size: u64 },
    Symlink(String),
    Hardlink(String),
    Other,
}

/// Files of an image, addressed by relative names such as `index.json` or
/// `blobs/sha256/<hex>`.
#[derive(Debug)]
pub(crate) enum Store {
    /// A directory on disk.
    Dir(PathBuf),
    /// A tar file: member name → location of its data.
    Tar {
        path: PathBuf,
        members: HashMap<String, Member>,
        /// Decompressed copy of a compressed archive file, read in place of `path`.
        spool: Option<tempfile::TempPath>,
    },
}

/// Stop position of the tar reader in an outer archive, to tell an intact end from a cut.
struct ArchiveEnd {
    /// Name of the bytes read, for messages: `the file` or `the decompressed gzip stream`.
    data_name: String,
    /// Size in bytes of what was read.
    length: u64,
    /// Reader position after the last header read: just past the first end-of-archive
    /// block, or at or past the end of the file when the file ended first.
    position: u64,
    /// Name of the last regular member and the offset where its data ends.
    last_file: Option<(String, u64)>,
}

impl ArchiveEnd {
    /// Checks that the file holds both end-of-archive blocks. The tar reader stops after
    /// the first zero block, so the second must follow it; a file that ends before it
    /// was cut.
    fn check(&self, path: &Path) -> Result<(), ImageError> {
        if self.position.saturating_add(archive::BLOCK) <= self.length {
            return Ok(());
        }
        Err(ImageError::TruncatedArchive {
            image: path.to_path_buf(),
            reason: self.describe_cut("before the end-of-archive blocks"),
        })
    }

    /// Says where the file ends: inside the data of the last member when its data runs
    /// past the end, otherwise at `otherwise`.
    fn describe_cut(&self, otherwise: &str) -> String {
        match &self.last_file {
            Some((name, data_end)) if *data_end > self.length => format!(
                "{} ends at byte {} inside member {name}, whose data ends at byte {data_end}",
                self.data_name, self.length
            ),
            _ => format!(
                "{} ends at byte {} {otherwise}",
                self.data_name, self.length
            ),
        }
    }
}

impl Store {
    /// Opens the outer archive of a docker-archive or OCI archive and indexes it. A
    /// gzip- or zstd-compressed file is first decompressed into a temporary file, under
    /// `limits`.
    pub(crate) fn open_archive(path: &Path, limits: &Limits) -> Result<Store, ImageError> {
        let head = archive::read_head(path)?;
        if let Some(cut) = Compression::cut_magic(&head) {
            return Err(ImageError::TruncatedArchive {
                image: path.to_path_buf(),
                reason: format!(
                    "the file ends at byte {} inside the {} magic number",
                    head.len(),
                    cut.name()
                ),
            });
        }
        let compression = Compression::from_magic(&head);
        if compression == Compression::None {
            archive::check_tar_head(path, "the file", &head)?;
            return Store::index_tar(path, None, limits.max_entries);
        }
        let spool = archive::decompress_to_temp(path, compression, limits)?;
        archive::check_tar_head(
            path,
            &spooled_name(compression),
            &archive::read_head(&spool)?,
        )?;
        Store::index_tar(path, Some((spool, compression)), limits.max_entries)
    }

    /// Indexes a tar file: one pass over its headers, seeking over member data. More
    /// than `max_entries` members is an error, which bounds the index's memory. The tar
    /// is read from `spool`, the decompressed copy of a compressed file, when given,
    /// otherwise from `path`.
    fn index_tar(
        path: &Path,
        spool: Option<(tempfile::TempPath, Compression)>,
        max_entries: u64,
    ) -> Result<Store, ImageError> {
        let data_path = spool.as_ref().map_or(path, |(temp, _)| temp);
        let data_name = spool
            .as_ref()
            .map_or_else(|| "the file".to_string(), |(_, c)| spooled_name(*c));
        let file = File::open(data_path).map_err(|source| ImageError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let length = file
            .metadata()
            .map_err(|source| ImageError::Open {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        let corrupt = |error: io::Error| ImageError::CorruptArchive {
            image: path.to_path_buf(),
            reason: error.to_string(),
        };
        let mut archive = tar::Archive::new(BufReader::with_capacity(64 * 1024, file));
        let mut members = HashMap::new();
        // The last regular member: name and the offset where its data ends.
        let mut last_file: Option<(String, u64)> = None;
        let mut failure = None;
        for entry in archive.entries_with_seek().map_err(corrupt)? {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            };
            if members.len() as u64 >= max_entries {
                return Err(ImageError::CorruptArchive {
                    image: path.to_path_buf(),
                    reason: format!("more than {max_entries} members"),
                });
            }
            let Ok(name) = std::str::from_utf8(&entry.path_bytes()).map(str::to_string) else {
                continue;
            };
            let Some(name) = normalize_path(&name) else {
                continue;
            };
            let header = entry.header();
            let link = || {
                entry
                    .link_name_bytes()
                    .and_then(|bytes| std::str::from_utf8(&bytes).ok().map(str::to_string))
            };
            let member = match header.entry_type() {
                EntryType::Regular | EntryType::Continuous => Member::File {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                },
                EntryType::Symlink => match link() {
                    Some(target) => Member::Symlink(target),
                    None => continue,
                },
                EntryType::Link => match link() {
                    Some(target) => Member::Hardlink(target),
                    None => continue,
                },
                _ => Member::Other,
            };
            if let Member::File { offset, size } = member {
                last_file = Some((name.clone(), offset.saturating_add(size)));
            }
            members.insert(name, member);
        }
        let position = archive
            .into_inner()
            .stream_position()
            .map_err(|source| ImageError::Io {
                image: path.to_path_buf(),
                file: "tar index".to_string(),
                source,
            })?;
        let end = ArchiveEnd {
            data_name,
            length,
            position,
            last_file,
        };
        match failure {
            Some(error) if position < length => return Err(corrupt(error)),
            Some(_) => {
                return Err(ImageError::TruncatedArchive {
                    image: path.to_path_buf(),
                    reason: end.describe_cut("inside a tar header"),
                })
            }
            None => end.check(path)?,
        }
        Ok(Store::Tar {
            path: path.to_path_buf(),
            members,
            spool: spool.map(|(temp, _)| temp),
        })
    }

    /// Path of the image on disk.
    pub(crate) fn path(&self) -> &Path {
        match self {
            Store::Dir(path) | Store::Tar { path, .. } => path,
        }
    }

    /// Returns true when the file `name` exists.
    pub(crate) fn contains(&self, name: &str) -> bool {
        match self {
            Store::Dir(root) => root.join(name).is_file(),
            Store::Tar { members, .. } => self.locate(members, name).is_some(),
        }
    }

    /// Follows links inside the archive to the data of `name`.
    fn locate(&self, members: &HashMap<String, Member>, name: &str) -> Option<(u64, u64)> {
        let mut current = normalize_path(name)?;
        for _ in 0..=MAX_MEMBER_HOPS {
            match members.get(&current)? {
                Member::File { offset, size } => return Some((*offset, *size)),
                Member::Hardlink(target) => current = normalize_path(target)?,
                Member::Symlink(target) => {
                    let base = match current.rsplit_once('/') {
                        Some((dir, _)) if !target.starts_with('/') => format!("{dir}/{target}"),
                        _ => target.clone(),
                    };
                    current = normalize_lexically(&base)?;
                }
                Member::Other => return None,
            }
        }
        None
    }

    /// Opens the file `name` for reading; returns its reader and size, or `None` when
    /// it does not exist.
    pub(crate) fn open(&self, name: &str) -> Result<Option<BlobReader>, ImageError> {
        let io_error = |source: io::Error| ImageError::Io {
            image: self.path().to_path_buf(),
            file: name.to_string(),
            source,
        };
        match self {
            Store::Dir(root) => {
                let path = root.join(name);
                let file = match File::open(&path) {
                    Ok(file) => file,
                    Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(error) => return Err(io_error(error)),
                };
                let metadata = file.metadata().map_err(io_error)?;
                if !metadata.is_file() {
                    return Ok(None);
                }
                Ok(Some((Box::new(file), metadata.len())))
            }
            Store::Tar {
                path,
                members,
                spool,
            } => {
                let Some((offset, size)) = self.locate(members, name) else {
                    return Ok(None);
                };
                let mut file = File::open(spool.as_deref().unwrap_or(path)).map_err(io_error)?;
                file.seek(SeekFrom::Start(offset)).map_err(io_error)?;
                Ok(Some((Box::new(file.take(size)), size)))
            }
        }
    }

    /// Reads a whole small file such as a manifest, at most `max_bytes` long.
    pub(crate) fn read_small(&self, name: &str, max_bytes: u64) -> Result<Vec<u8>, ImageError> {
        let missing = || ImageError::MissingFile {
            image: self.path().to_path_buf(),
            file: name.to_string(),
        };
        let (reader, size) = self.open(name)?.ok_or_else(missing)?;
        if size > max_bytes {
            return Err(ImageError::Malformed {
                image: self.path().to_path_buf(),
                file: name.to_string(),
                reason: format!(
                    "{size} bytes, larger than the {max_bytes}-byte limit for JSON documents"
                ),
            });
        }
        let mut data = Vec::with_capacity(size as usize);
        reader
            .take(max_bytes)
            .read_to_end(&mut data)
            .map_err(|source| ImageError::Io {
                image: self.path().to_path_buf(),
                file: name.to_string(),
                source,
            })?;
        Ok(data)
    }
}

/// Names the decompressed copy of a compressed archive file in messages.
fn spooled_name(compression: Compression) -> String {
    format!("the decompressed {} stream", compression.name())
}

/// Resolves `.` and `..` in a relative member path, returning `None` if it climbs out.
fn normalize_lexically(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// Returns the blob path `blobs/sha256/<hex>` of a `sha256:<64 lower-case hex>` digest.
/// Any other form returns `None`, so a digest cannot name a path outside `blobs/sha256/`.
pub(crate) fn blob_path(digest: &str) -> Option<String> {
    let hex = digest.strip_prefix("sha256:")?;
    let valid = hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    valid.then(|| format!("blobs/sha256/{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_path_rejects_traversal() {
        assert_eq!(blob_path("sha256:../../etc/passwd"), None);
        assert_eq!(blob_path(&format!("sha256:{}", "A".repeat(64))), None);
        assert_eq!(blob_path(&format!("sha512:{}", "a".repeat(64))), None);
        assert_eq!(
            blob_path(&format!("sha256:{}", "a".repeat(64))),
            Some(format!("blobs/sha256/{}", "a".repeat(64)))
        );
    }

    #[test]
    fn lexical_normalisation_stops_at_root() {
        assert_eq!(normalize_lexically("a/b/../c").as_deref(), Some("a/c"));
        assert_eq!(normalize_lexically("a/../../c"), None);
    }
}
