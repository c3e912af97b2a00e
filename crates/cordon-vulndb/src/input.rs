//! Reading feed inputs: a single file, a directory tree or a zip archive, one document at
//! a time, within size and entry-count limits.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::DbError;

/// Limits that protect the import from hostile or broken inputs (zip bombs, endless files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum number of entries in one zip archive.
    pub max_zip_entries: u64,
    /// Maximum size in bytes of one document (a file or an uncompressed zip member).
    pub max_document_bytes: u64,
    /// Maximum total uncompressed size in bytes of one zip archive or directory.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    /// Limits well above today's feeds: osv.dev's largest per-ecosystem `all.zip` contains a
    /// few hundred thousand records, and the Debian tracker JSON is about 70 MB.
    fn default() -> Self {
        Limits {
            max_zip_entries: 2_000_000,
            max_document_bytes: 256 << 20,
            max_total_bytes: 16 << 30,
        }
    }
}

/// One document of an input.
pub(crate) struct Document<'a> {
    /// Zip member or path relative to the input directory; the file name for a single file.
    pub member: &'a str,
    pub bytes: &'a [u8],
}

/// Calls `handle` for every document of `location` whose name ends with one of
/// `extensions` (compared case-insensitively). A zip archive is recognised by its
/// signature, whatever its name; a single plain file is passed whatever its name.
pub(crate) fn for_each_document(
    location: &Path,
    extensions: &[&str],
    limits: &Limits,
    mut handle: impl FnMut(Document<'_>) -> Result<(), DbError>,
) -> Result<(), DbError> {
    let metadata =
        std::fs::metadata(location).map_err(|error| DbError::io(location.display(), error))?;
    if metadata.is_dir() {
        return for_each_file_in_directory(location, extensions, limits, &mut handle);
    }
    if is_zip(location)? {
        return for_each_zip_member(location, extensions, limits, &mut handle);
    }
    let bytes = read_limited(location, limits.max_document_bytes)?;
    let member = location
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    handle(Document {
        member: &member,
        bytes: &bytes,
    })
}

fn has_extension(name: &str, extensions: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    extensions
        .iter()
        .any(|extension| lower.ends_with(extension))
}

fn for_each_file_in_directory(
    directory: &Path,
    extensions: &[&str],
    limits: &Limits,
    handle: &mut impl FnMut(Document<'_>) -> Result<(), DbError>,
) -> Result<(), DbError> {
    let mut total = 0u64;
    let walker = walkdir::WalkDir::new(directory)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walker {
        let entry = entry.map_err(|error| {
            let path = error.path().unwrap_or(directory).display().to_string();
            DbError::io(path, error.into())
        })?;
        if !entry.file_type().is_file()
            || !has_extension(&entry.file_name().to_string_lossy(), extensions)
        {
            continue;
        }
        let bytes = read_limited(entry.path(), limits.max_document_bytes)?;
        total += bytes.len() as u64;
        if total > limits.max_total_bytes {
            return Err(DbError::LimitExceeded {
                location: directory.display().to_string(),
                reason: format!("more than {} bytes of documents", limits.max_total_bytes),
            });
        }
        let relative = entry.path().strip_prefix(directory).unwrap_or(entry.path());
        let member = relative.to_string_lossy();
        handle(Document {
            member: &member,
            bytes: &bytes,
        })?;
    }
    Ok(())
}

fn is_zip(path: &Path) -> Result<bool, DbError> {
    let mut file = File::open(path).map_err(|error| DbError::io(path.display(), error))?;
    let mut signature = [0u8; 4];
    let mut filled = 0;
    while filled < signature.len() {
        let read = file
            .read(&mut signature[filled..])
            .map_err(|error| DbError::io(path.display(), error))?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    // Local file header, or the end-of-central-directory record of an empty archive.
    Ok(signature == *b"PK\x03\x04" || signature == *b"PK\x05\x06")
}

fn for_each_zip_member(
    path: &Path,
    extensions: &[&str],
    limits: &Limits,
    handle: &mut impl FnMut(Document<'_>) -> Result<(), DbError>,
) -> Result<(), DbError> {
    let location = path.display().to_string();
    let file = File::open(path).map_err(|error| DbError::io(&location, error))?;
    let mut archive =
        zip::ZipArchive::new(BufReader::new(file)).map_err(|error| DbError::InvalidInput {
            what: "zip archive".to_owned(),
            location: location.clone(),
            reason: error.to_string(),
        })?;
    if archive.len() as u64 > limits.max_zip_entries {
        return Err(DbError::LimitExceeded {
            location,
            reason: format!(
                "{} entries, more than the limit of {}",
                archive.len(),
                limits.max_zip_entries
            ),
        });
    }

    let mut total = 0u64;
    let mut buffer = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|error| DbError::InvalidInput {
                what: format!("zip entry #{index}"),
                location: location.clone(),
                reason: error.to_string(),
            })?;
        let name = entry.name().to_owned();
        if entry.is_dir() || !has_extension(&name, extensions) {
            continue;
        }

        // The sizes in the zip headers are not trusted: the reader stops one byte past
        // the limit, whatever the header states.
        buffer.clear();
        (&mut entry)
            .take(limits.max_document_bytes + 1)
            .read_to_end(&mut buffer)
            .map_err(|error| DbError::InvalidInput {
                what: format!("zip member {name}"),
                location: location.clone(),
                reason: error.to_string(),
            })?;
        if buffer.len() as u64 > limits.max_document_bytes {
            return Err(DbError::LimitExceeded {
                location: format!("zip member {name} in {location}"),
                reason: format!("uncompressed size over {} bytes", limits.max_document_bytes),
            });
        }
        total += buffer.len() as u64;
        if total > limits.max_total_bytes {
            return Err(DbError::LimitExceeded {
                location,
                reason: format!("more than {} uncompressed bytes", limits.max_total_bytes),
            });
        }
        handle(Document {
            member: &name,
            bytes: &buffer,
        })?;
    }
    Ok(())
}

/// Reads a whole file, failing when it is larger than `max_bytes`.
pub(crate) fn read_limited(path: &Path, max_bytes: u64) -> Result<Vec<u8>, DbError> {
    let file = File::open(path).map_err(|error| DbError::io(path.display(), error))?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| DbError::io(path.display(), error))?;
    if bytes.len() as u64 > max_bytes {
        return Err(DbError::LimitExceeded {
            location: path.display().to_string(),
            reason: format!("file larger than {max_bytes} bytes"),
        });
    }
    Ok(bytes)
}

/// Returns the hex SHA-256 of a file, or `None` for a directory.
pub(crate) fn sha256_of_file(path: &Path) -> Result<Option<String>, DbError> {
    if path.is_dir() {
        return Ok(None);
    }
    let mut file = File::open(path).map_err(|error| DbError::io(path.display(), error))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|error| DbError::io(path.display(), error))?;
    Ok(Some(hex::encode(hasher.finalize())))
}
