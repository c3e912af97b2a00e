//! Content facts of changed files, read from the Engine's archive endpoint.

use std::io::Read;

use sha2::{Digest, Sha256};

use crate::events::FileKind;

/// Size limits for fetching file content.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FileLimits {
    /// Maximum number of files whose content is fetched.
    pub max_files: usize,
    /// Maximum size of one file's tar stream in bytes; larger files keep only their path.
    pub max_file_bytes: u64,
    /// Maximum total bytes fetched in one run.
    pub max_total_bytes: u64,
}

impl Default for FileLimits {
    fn default() -> Self {
        FileLimits {
            max_files: 2000,
            max_file_bytes: 64 << 20,
            max_total_bytes: 512 << 20,
        }
    }
}

/// One entry read from an archive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileContent {
    /// Path inside the archive, relative.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Mode bits including setuid.
    pub mode: u32,
    /// Content class.
    pub kind: FileKind,
    /// SHA-256 of the content for regular files.
    pub sha256: Option<String>,
    /// First 512 bytes as text, for scripts and other text.
    pub text_head: Option<String>,
    /// Content of regular files.
    pub content: Vec<u8>,
}

/// Classifies content by its first bytes.
pub fn classify(content: &[u8]) -> FileKind {
    const ARCHIVE_MAGIC: &[&[u8]] = &[
        b"\x1f\x8b",
        b"PK\x03\x04",
        b"\xfd7zXZ\x00",
        b"BZh",
        b"\x28\xb5\x2f\xfd",
        b"7z\xbc\xaf\x27\x1c",
    ];
    if content.starts_with(b"\x7fELF") {
        FileKind::Elf
    } else if content.starts_with(b"#!") {
        FileKind::Script
    } else if ARCHIVE_MAGIC.iter().any(|m| content.starts_with(m))
        || (content.len() > 262 && &content[257..262] == b"ustar")
    {
        FileKind::Archive
    } else {
        FileKind::Other
    }
}

/// Returns the first 512 bytes as text, or nothing when they hold a NUL byte.
pub fn text_head(content: &[u8]) -> Option<String> {
    let head = &content[..content.len().min(512)];
    (!head.contains(&0)).then(|| String::from_utf8_lossy(head).into_owned())
}

/// Reads every entry of a tar stream (the archive endpoint's output).
pub fn read_tar(bytes: &[u8]) -> std::io::Result<Vec<FileContent>> {
    let mut archive = tar::Archive::new(bytes);
    let mut out = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let header = entry.header().clone();
        let name = entry.path()?.to_string_lossy().into_owned();
        let mode = header.mode().unwrap_or(0);
        let size = header.size().unwrap_or(0);
        let kind_byte = header.entry_type();
        let mut item = FileContent {
            name,
            size,
            mode,
            ..Default::default()
        };
        if kind_byte.is_dir() {
            item.kind = FileKind::Directory;
        } else if kind_byte.is_symlink() || kind_byte.is_hard_link() {
            item.kind = FileKind::Symlink;
        } else if kind_byte.is_file() {
            let mut content = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut content)?;
            item.kind = classify(&content);
            item.sha256 = Some(hex::encode(Sha256::digest(&content)));
            item.text_head = text_head(&content);
            item.content = content;
        }
        out.push(item);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_select_kind() {
        assert_eq!(classify(b"\x7fELF\x02\x01"), FileKind::Elf);
        assert_eq!(classify(b"#!/bin/sh\n"), FileKind::Script);
        assert_eq!(classify(b"\x1f\x8b\x08"), FileKind::Archive);
        assert_eq!(classify(b"hello"), FileKind::Other);
    }

    #[test]
    fn tar_entry_has_hash_and_mode() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(10);
        header.set_mode(0o4755);
        header.set_cksum();
        builder
            .append_data(&mut header, "cmd.sh", &b"#!/bin/sh\n"[..])
            .unwrap();
        let bytes = builder.into_inner().unwrap();
        let entries = read_tar(&bytes).unwrap();
        assert_eq!(entries[0].name, "cmd.sh");
        assert_eq!(entries[0].mode & 0o7777, 0o4755);
        assert_eq!(entries[0].kind, FileKind::Script);
        assert_eq!(
            entries[0].sha256.as_deref(),
            Some("a8076d3d28d21e02012b20eaf7dbf75409a6277134439025f282e368e3305abf")
        );
    }
}
