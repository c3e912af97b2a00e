//! Checks on the outer file of a docker-archive or OCI archive: compression of the
//! whole file (`docker save | gzip`), the first tar header, and truncation.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use crate::layer::Compression;
use crate::{ImageError, Limits};

/// Size of a tar header and of each end-of-archive block.
pub(crate) const BLOCK: u64 = 512;

/// Reads up to one tar block from the start of `path`.
pub(crate) fn read_head(path: &Path) -> Result<Vec<u8>, ImageError> {
    let file = File::open(path).map_err(|source| ImageError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut head = Vec::with_capacity(BLOCK as usize);
    file.take(BLOCK)
        .read_to_end(&mut head)
        .map_err(|source| ImageError::Io {
            image: path.to_path_buf(),
            file: "first tar header".to_string(),
            source,
        })?;
    Ok(head)
}

/// Checks that `head`, the first bytes of the (decompressed) archive, start a tar
/// archive. `image` is the file named in errors, and `what` names the bytes read in
/// messages, for example `the file` or `the decompressed gzip stream`.
pub(crate) fn check_tar_head(image: &Path, what: &str, head: &[u8]) -> Result<(), ImageError> {
    let truncated = |reason: String| ImageError::TruncatedArchive {
        image: image.to_path_buf(),
        reason,
    };
    if head.is_empty() {
        return Err(truncated(format!("{what} is empty")));
    }
    if head.len() < BLOCK as usize {
        if is_tar_header_prefix(head) {
            return Err(truncated(format!(
                "{what} ends at byte {} inside the first tar header",
                head.len()
            )));
        }
        return Err(ImageError::UnknownFormat {
            path: image.to_path_buf(),
        });
    }
    if head.iter().all(|&byte| byte == 0) || header_checksum_ok(head) {
        return Ok(());
    }
    Err(ImageError::UnknownFormat {
        path: image.to_path_buf(),
    })
}

/// Returns true when the 512-byte ustar header in `block` carries a valid checksum: the
/// octal sum of all header bytes, with the checksum field itself counted as spaces.
fn header_checksum_ok(block: &[u8]) -> bool {
    let sum: u64 = block[..148]
        .iter()
        .chain(&block[156..512])
        .map(|&byte| u64::from(byte))
        .sum::<u64>()
        + 8 * u64::from(b' ');
    parse_octal(&block[148..156]) == Some(sum)
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(field).ok()?;
    let digits = text.trim_matches(|c: char| c == ' ' || c == '\0');
    u64::from_str_radix(digits, 8).ok()
}

/// Returns true when `prefix`, shorter than one block, can be the start of a tar
/// header of an image archive: a member name of the characters `docker save`,
/// `skopeo` and `podman` write, NUL padding, then well-formed numeric fields.
fn is_tar_header_prefix(prefix: &[u8]) -> bool {
    let name_len = prefix.len().min(100);
    let name = &prefix[..name_len];
    let text_end = name.iter().position(|&byte| byte == 0).unwrap_or(name_len);
    let name_ok = text_end > 0
        && name[..text_end]
            .iter()
            .all(|&byte| byte.is_ascii_alphanumeric() || b"._-/+:@".contains(&byte))
        && name[text_end..].iter().all(|&byte| byte == 0);
    if !name_ok {
        return false;
    }
    // mode, uid, gid, size, mtime and checksum: octal digits padded with spaces or NULs.
    // A size in base-256 sets the high bit of its first byte.
    let numeric = prefix.get(100..prefix.len().min(156)).unwrap_or_default();
    numeric.iter().enumerate().all(|(offset, &byte)| {
        let base256_size = offset == 24 && byte & 0x80 != 0;
        base256_size || byte.is_ascii_digit() || byte == b' ' || byte == 0
    })
}

/// Decompresses a gzip- or zstd-compressed archive file into a temporary file under
/// the system temporary directory, which is deleted when the returned path is dropped.
///
/// The decompressed size is capped by [`Limits::max_total_bytes`] and, past
/// [`Limits::ratio_grace_bytes`], the ratio by [`Limits::max_ratio`].
///
/// NOTE: a process killed by a signal leaves its `cordon-archive-*` file behind, because
/// the store reopens the copy by path for every member it reads.
pub(crate) fn decompress_to_temp(
    image: &Path,
    compression: Compression,
    limits: &Limits,
) -> Result<tempfile::TempPath, ImageError> {
    let stream = match compression {
        Compression::Gzip => "gzip",
        Compression::Zstd => "zstd",
        Compression::None => return Err(ImageError::UnknownFormat { path: image.into() }),
    };
    let file = File::open(image).map_err(|source| ImageError::Open {
        path: image.to_path_buf(),
        source,
    })?;
    let compressed_size = file.metadata().map(|m| m.len()).unwrap_or(0).max(1);
    let input = BufReader::with_capacity(256 * 1024, file);
    let mut decoder: Box<dyn Read> = match compression {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
        _ => Box::new(
            zstd::stream::read::Decoder::with_buffer(input)
                .map_err(|error| stream_error(image, stream, &error))?,
        ),
    };
    let temp_error = |source| temp_file_error(image, source);
    let mut temp = tempfile::NamedTempFile::with_prefix("cordon-archive-").map_err(temp_error)?;
    let written = copy_limited(
        image,
        stream,
        &mut decoder,
        &mut temp,
        limits,
        compressed_size,
    )?;
    tracing::debug!(
        image = %image.display(),
        stream,
        bytes = written,
        "decompressed outer archive to a temporary file"
    );
    Ok(temp.into_temp_path())
}

/// Copies the decompressed `stream` of `image` into `temp` under the size and ratio
/// limits, and returns the number of bytes written.
fn copy_limited(
    image: &Path,
    stream: &str,
    decoder: &mut dyn Read,
    temp: &mut tempfile::NamedTempFile,
    limits: &Limits,
    compressed_size: u64,
) -> Result<u64, ImageError> {
    let temp_error = |source| temp_file_error(image, source);
    let mut buffer = vec![0u8; 256 * 1024];
    let mut written: u64 = 0;
    loop {
        let n = match decoder.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(stream_error(image, stream, &error)),
        };
        written += n as u64;
        if written > limits.max_total_bytes {
            return Err(ImageError::ArchiveLimitExceeded {
                image: image.to_path_buf(),
                limit: format!(
                    "decompressed {stream} stream over {} bytes",
                    limits.max_total_bytes
                ),
            });
        }
        // The whole file's size is at least the compressed bytes read so far, so this
        // ratio is at most the real one and rejects no stream that the real one passes.
        if written > limits.ratio_grace_bytes && written / compressed_size > limits.max_ratio {
            return Err(ImageError::ArchiveLimitExceeded {
                image: image.to_path_buf(),
                limit: format!(
                    "compression ratio over {}:1 ({written} bytes from {compressed_size} compressed)",
                    limits.max_ratio
                ),
            });
        }
        temp.write_all(&buffer[..n]).map_err(temp_error)?;
    }
    temp.flush().map_err(temp_error)?;
    Ok(written)
}

fn temp_file_error(image: &Path, source: io::Error) -> ImageError {
    ImageError::Io {
        image: image.to_path_buf(),
        file: "temporary file for the decompressed archive".to_string(),
        source,
    }
}

/// Turns a decompressor error into a truncated or corrupt archive error.
fn stream_error(image: &Path, stream: &str, error: &io::Error) -> ImageError {
    if error.kind() == io::ErrorKind::UnexpectedEof || error.to_string().contains("incomplete") {
        ImageError::TruncatedArchive {
            image: image.to_path_buf(),
            reason: format!("{stream} stream ends early: {error}"),
        }
    } else {
        ImageError::CorruptArchive {
            image: image.to_path_buf(),
            reason: format!("corrupt {stream} stream: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str) -> Vec<u8> {
        let mut header = tar::Header::new_ustar();
        header.set_path(name).unwrap();
        header.set_size(1234);
        header.set_mode(0o644);
        header.set_cksum();
        header.as_bytes().to_vec()
    }

    #[test]
    fn checksum_of_tar_header_accepted() {
        let block = header("manifest.json");
        assert!(header_checksum_ok(&block));
        let mut broken = block.clone();
        broken[0] = b'X';
        assert!(!header_checksum_ok(&broken));
    }

    #[test]
    fn header_prefixes_recognised() {
        let block = header("blobs/sha256/0123abcd");
        for cut in [1, 20, 99, 100, 130, 200, 300, 511] {
            assert!(is_tar_header_prefix(&block[..cut]), "cut at {cut}");
        }
        assert!(!is_tar_header_prefix(b"this is not an image"));
        assert!(!is_tar_header_prefix(b"{\"schemaVersion\": 2}"));
        assert!(!is_tar_header_prefix(b"\0\0\0"));
    }
}
