//! Turns an image file (docker-archive, OCI layout directory or OCI archive) into a
//! docker-archive stream for the Engine that tags the image with a private per-run name
//! only, whatever tags the file declares.
//!
//! `docker load` applies the `RepoTags` of an archive's `manifest.json` (or its legacy
//! `repositories` file), so loading a file unchanged lets it re-point any local tag, such as
//! the base image of later builds. The stream written here carries one `manifest.json`
//! entry (the image `cordon scan` would select), with `RepoTags` set to the private name,
//! and no `repositories` file.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use cordon_image::{ImageFormat, ImageInfo};
use serde::{Deserialize, Serialize};

use crate::error::SandboxError;

/// Repository of the private tags of loaded images; the tag after `:` names the owner.
pub const PRIVATE_REPOSITORY_PREFIX: &str = "cordon-sandbox/sbx-";

/// Why a root filesystem directory (`dir:`) cannot be run.
pub(crate) const ROOTFS_UNSUPPORTED: &str = "a root filesystem directory has no image config (entrypoint, environment, user) to run; give a docker-archive or an OCI layout";

/// Largest `manifest.json` read.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// One entry of a docker-archive `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// Returns the hex part of a `sha256:HEX` digest.
fn digest_hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// Drops a leading `./` from a tar member name.
fn member_name(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

/// Returns whether a `manifest.json` config member name belongs to the image whose config digest
/// is `hex`: `HEX.json` (classic `docker save`) or `blobs/sha256/HEX` (Docker 25+).
fn config_member_matches(member: &str, hex: &str) -> bool {
    let name = member.strip_prefix("./").unwrap_or(member);
    name == format!("{hex}.json") || name == format!("blobs/sha256/{hex}")
}

/// Writes the docker-archive stream of the image `info` read from `path` to `out`, tagged
/// `tag` only.
pub fn write_docker_archive(
    path: &Path,
    info: &ImageInfo,
    tag: &str,
    out: impl Write,
) -> Result<(), SandboxError> {
    let config = info
        .config_digest
        .as_deref()
        .ok_or_else(|| unsupported(path, "the image has no config"))?;
    let mut builder = tar::Builder::new(out);
    match info.format {
        ImageFormat::DockerArchive => {
            copy_docker_archive(path, digest_hex(config), tag, &mut builder)?
        }
        ImageFormat::OciArchive => copy_oci_archive(path, info, tag, &mut builder)?,
        ImageFormat::OciDir => copy_oci_dir(path, info, tag, &mut builder)?,
        ImageFormat::Dir => return Err(unsupported(path, ROOTFS_UNSUPPORTED)),
    }
    builder
        .into_inner()
        .and_then(|mut w| w.flush())
        .map_err(|e| SandboxError::io(path, e))
}

fn unsupported(path: &Path, reason: &str) -> SandboxError {
    SandboxError::Invalid {
        what: "image",
        value: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Copies every member of the tar at `path` except `manifest.json` and `repositories`;
/// returns the `manifest.json` content (if any) and the names of the copied members.
fn copy_tar<W: Write>(
    path: &Path,
    builder: &mut tar::Builder<W>,
) -> Result<(Option<Vec<u8>>, BTreeSet<String>), SandboxError> {
    let io = |e| SandboxError::io(path, e);
    let file = std::fs::File::open(path).map_err(io)?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let mut manifest = None;
    let mut copied = BTreeSet::new();
    for entry in archive.entries().map_err(io)? {
        let mut entry = entry.map_err(io)?;
        let name = member_name(&entry.path().map_err(io)?);
        match name.as_str() {
            // The archive's own root directory entry (`./`).
            "" | "." => {}
            "manifest.json" => {
                let mut text = Vec::new();
                entry
                    .by_ref()
                    .take(MAX_MANIFEST_BYTES)
                    .read_to_end(&mut text)
                    .map_err(io)?;
                manifest = Some(text);
            }
            "repositories" => {}
            _ => {
                copy_entry(&mut entry, &name, builder).map_err(io)?;
                copied.insert(name);
            }
        }
    }
    Ok((manifest, copied))
}

/// Copies a docker-archive and writes a `manifest.json` holding only the selected image
/// under `tag`.
fn copy_docker_archive<W: Write>(
    path: &Path,
    config_hex: &str,
    tag: &str,
    builder: &mut tar::Builder<W>,
) -> Result<(), SandboxError> {
    let (manifest, _) = copy_tar(path, builder)?;
    let manifest = manifest.ok_or_else(|| unsupported(path, "the archive has no manifest.json"))?;
    let entries: Vec<ManifestEntry> = serde_json::from_slice(&manifest)
        .map_err(|e| unsupported(path, &format!("manifest.json is not valid: {e}")))?;
    let mut selected = entries
        .into_iter()
        .find(|e| config_member_matches(&e.config, config_hex))
        .ok_or_else(|| {
            unsupported(
                path,
                &format!("no manifest.json entry names the config sha256:{config_hex}"),
            )
        })?;
    selected.repo_tags = Some(vec![tag.to_string()]);
    append_manifest(builder, &selected).map_err(|e| SandboxError::io(path, e))
}

/// Copies the members of an OCI archive and adds a `manifest.json` for the selected image.
fn copy_oci_archive<W: Write>(
    path: &Path,
    info: &ImageInfo,
    tag: &str,
    builder: &mut tar::Builder<W>,
) -> Result<(), SandboxError> {
    let (_, copied) = copy_tar(path, builder)?;
    let entry = oci_manifest_entry(path, info, tag)?;
    for member in std::iter::once(&entry.config).chain(&entry.layers) {
        if !copied.contains(member) {
            return Err(unsupported(
                path,
                &format!("the archive lacks the blob {member}"),
            ));
        }
    }
    append_manifest(builder, &entry).map_err(|e| SandboxError::io(path, e))
}

/// Writes the config and layer blobs of an OCI layout directory and a `manifest.json`.
fn copy_oci_dir<W: Write>(
    path: &Path,
    info: &ImageInfo,
    tag: &str,
    builder: &mut tar::Builder<W>,
) -> Result<(), SandboxError> {
    let entry = oci_manifest_entry(path, info, tag)?;
    for member in std::iter::once(&entry.config).chain(&entry.layers) {
        let blob: PathBuf = path.join(member);
        // Only regular files: a blob that is a symbolic link could point anywhere on the host.
        let meta = std::fs::symlink_metadata(&blob).map_err(|e| SandboxError::io(&blob, e))?;
        if !meta.file_type().is_file() {
            return Err(unsupported(&blob, "the blob is not a regular file"));
        }
        let file = std::fs::File::open(&blob).map_err(|e| SandboxError::io(&blob, e))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(meta.len());
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, member, file)
            .map_err(|e| SandboxError::io(&blob, e))?;
    }
    append_manifest(builder, &entry).map_err(|e| SandboxError::io(path, e))
}

fn oci_manifest_entry(
    path: &Path,
    info: &ImageInfo,
    tag: &str,
) -> Result<ManifestEntry, SandboxError> {
    let config = info
        .config_digest
        .as_deref()
        .ok_or_else(|| unsupported(path, "the image has no config"))?;
    let blob = |digest: &str| -> Result<String, SandboxError> {
        let hex = digest_hex(digest);
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(unsupported(
                path,
                &format!("blob digest {digest:?} is not sha256"),
            ));
        }
        Ok(format!("blobs/sha256/{hex}"))
    };
    Ok(ManifestEntry {
        config: blob(config)?,
        repo_tags: Some(vec![tag.to_string()]),
        layers: info
            .layers
            .iter()
            .map(|l| blob(&l.digest))
            .collect::<Result<_, _>>()?,
    })
}

fn copy_entry<R: Read, W: Write>(
    entry: &mut tar::Entry<'_, R>,
    name: &str,
    builder: &mut tar::Builder<W>,
) -> std::io::Result<()> {
    let mut header = entry.header().clone();
    match header.entry_type() {
        tar::EntryType::Symlink | tar::EntryType::Link => {
            let target = entry
                .link_name()?
                .map(|p| p.into_owned())
                .unwrap_or_default();
            builder.append_link(&mut header, name, target)
        }
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::Directory => {
            builder.append_data(&mut header, name, entry)
        }
        // Extension headers are consumed by the reader; nothing else belongs in an image file.
        _ => Ok(()),
    }
}

fn append_manifest<W: Write>(
    builder: &mut tar::Builder<W>,
    entry: &ManifestEntry,
) -> std::io::Result<()> {
    let json = serde_json::to_vec(&[entry]).map_err(std::io::Error::other)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, "manifest.json", json.as_slice())
}

/// A writer that sends what it gets as chunks over a channel, for a blocking producer that
/// feeds an async request body.
pub(crate) struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    const CHUNK: usize = 1 << 20;

    pub(crate) fn new(
        sender: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    ) -> Self {
        ChannelWriter {
            sender,
            buffer: Vec::with_capacity(Self::CHUNK),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = bytes::Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(Self::CHUNK),
        ));
        self.sender.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the Engine stopped reading the image",
            )
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= Self::CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Returns the private tag of a run, `cordon-sandbox/sbx-RUN:PID-START`. The tag part names
/// the Cordon process that owns the image, so the reaper can find a crashed run's image.
pub fn private_tag(run_id: &str, owner: &str) -> String {
    let run = run_id.strip_prefix("sbx-").unwrap_or(run_id);
    format!(
        "{PRIVATE_REPOSITORY_PREFIX}{run}:{}",
        owner.replace(':', "-")
    )
}

/// Returns the owner label (`PID:START`) of a private tag, or `None` for any other name.
pub fn private_tag_owner(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix(PRIVATE_REPOSITORY_PREFIX)?;
    let (_, owner) = rest.split_once(':')?;
    let (pid, start) = owner.split_once('-')?;
    Some(format!("{pid}:{start}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_tag_round_trips_owner() {
        let tag = private_tag("sbx-0123456789ab", "42:9000");
        assert_eq!(tag, "cordon-sandbox/sbx-0123456789ab:42-9000");
        assert_eq!(private_tag_owner(&tag).as_deref(), Some("42:9000"));
        assert_eq!(private_tag_owner("cordon-sandbox/holder:1"), None);
        assert_eq!(private_tag_owner("debian:12"), None);
    }

    #[test]
    fn config_members_of_both_layouts_match() {
        assert!(config_member_matches("abc.json", "abc"));
        assert!(config_member_matches("blobs/sha256/abc", "abc"));
        assert!(!config_member_matches("abd.json", "abc"));
    }
}
