//! Random access to the files of an image: a directory, or a tar indexed once and read
//! by seeking, without extracting it.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use tar::EntryType;

use crate::{normalize_path, ImageError};

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
    },
}

impl Store {
    /// Indexes a tar file: one pass over its headers, seeking over member data. More
    /// than `max_entries` members is an error, which bounds the index's memory.
    pub(crate) fn index_tar(path: &Path, max_entries: u64) -> Result<Store, ImageError> {
        let file = File::open(path).map_err(|source| ImageError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let corrupt = |error: io::Error| ImageError::CorruptArchive {
            image: path.to_path_buf(),
            reason: error.to_string(),
        };
        let mut archive = tar::Archive::new(BufReader::with_capacity(64 * 1024, file));
        let mut members = HashMap::new();
        for entry in archive.entries_with_seek().map_err(corrupt)? {
            let entry = entry.map_err(corrupt)?;
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
            members.insert(name, member);
        }
        Ok(Store::Tar {
            path: path.to_path_buf(),
            members,
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
            Store::Tar { path, members } => {
                let Some((offset, size)) = self.locate(members, name) else {
                    return Ok(None);
                };
                let mut file = File::open(path).map_err(io_error)?;
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
