//! Selecting one image in a docker-archive or OCI layout and reading its manifest and
//! config.

use std::collections::BTreeSet;

use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::info::{ImageConfig, ImageInfo, LayerInfo};
use crate::store::{blob_path, Store};
use crate::{ImageError, ImageFormat, Limits, Platform};

/// Annotation holding the tag or name of an image in an OCI layout.
const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Annotation containerd and Docker write with the full image name.
const CONTAINERD_NAME: &str = "io.containerd.image.name";
/// Index nesting followed before giving up.
const MAX_INDEX_DEPTH: usize = 4;

const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Location and expected digests of one layer blob.
#[derive(Debug, Clone)]
pub(crate) struct LayerBlob {
    /// Name of the blob in the store.
    pub(crate) member: String,
    /// Media type, when the manifest gives one.
    pub(crate) media_type: Option<String>,
    /// Digest of the stored bytes to verify, when the blob is content-addressed.
    pub(crate) blob_digest: Option<String>,
    /// Expected digest of the uncompressed tar.
    pub(crate) diff_id: String,
}

/// The platform a caller requested, and whether it was requested explicitly.
#[derive(Debug, Clone)]
pub(crate) struct PlatformRequest {
    pub(crate) platform: Platform,
    pub(crate) explicit: bool,
}

/// The selected image.
pub(crate) struct Resolved {
    pub(crate) info: ImageInfo,
    pub(crate) layers: Vec<LayerBlob>,
}

fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

fn malformed(store: &Store, file: &str, reason: impl ToString) -> ImageError {
    ImageError::Malformed {
        image: store.path().to_path_buf(),
        file: file.to_string(),
        reason: reason.to_string(),
    }
}

/// One entry of a docker-archive `manifest.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerArchiveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

/// Reduces an image reference to `name:tag` without the Docker Hub prefixes, so that
/// `nginx`, `nginx:latest` and `docker.io/library/nginx:latest` compare equal.
fn canonical_tag(reference: &str) -> String {
    let mut name = reference;
    for prefix in [
        "docker.io/library/",
        "docker.io/",
        "index.docker.io/library/",
    ] {
        if let Some(rest) = name.strip_prefix(prefix) {
            name = rest;
            break;
        }
    }
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || last.contains('@') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

/// Reads a docker-archive (`docker save` output, legacy and Docker 25+ layouts).
pub(crate) fn resolve_docker_archive(
    store: &Store,
    source: String,
    reference: Option<&str>,
    request: &PlatformRequest,
    limits: &Limits,
) -> Result<Resolved, ImageError> {
    let data = store.read_small("manifest.json", limits.max_json_bytes)?;
    let entries: Vec<DockerArchiveEntry> =
        serde_json::from_slice(&data).map_err(|error| malformed(store, "manifest.json", error))?;
    let all_tags: Vec<String> = entries
        .iter()
        .flat_map(|entry| entry.repo_tags.iter().flatten().cloned())
        .collect();
    let tag_error = |problem: String| ImageError::TagSelection {
        image: store.path().to_path_buf(),
        problem,
        present: all_tags.clone(),
    };

    let entry = match reference {
        Some(requested) => {
            let requested_canonical = canonical_tag(requested);
            let matches: Vec<&DockerArchiveEntry> =
                entries
                    .iter()
                    .filter(|entry| {
                        entry.repo_tags.iter().flatten().any(|tag| {
                            tag == requested || canonical_tag(tag) == requested_canonical
                        })
                    })
                    .collect();
            match matches.as_slice() {
                [entry] => *entry,
                [] => return Err(tag_error(format!("tag {requested:?} not found"))),
                _ => return Err(tag_error(format!("tag {requested:?} names several images"))),
            }
        }
        None => match entries.as_slice() {
            [entry] => entry,
            [] => return Err(malformed(store, "manifest.json", "no images listed")),
            _ => {
                return Err(tag_error(format!(
                    "archive holds {} images, choose one with docker-archive:PATH:NAME:TAG",
                    entries.len()
                )))
            }
        },
    };

    let config_name = entry.config.clone();
    let config_data = store.read_small(&config_name, limits.max_json_bytes)?;
    let config_digest = sha256_digest(&config_data);
    // Legacy archives name the config `<hex>.json`, Docker 25+ `blobs/sha256/<hex>`;
    // both encode the config digest, which is checked here.
    let declared = config_name
        .trim_end_matches(".json")
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if declared.len() == 64 && declared.bytes().all(|b| b.is_ascii_hexdigit()) {
        let expected = format!("sha256:{declared}");
        if expected != config_digest {
            return Err(ImageError::DigestMismatch {
                image: store.path().to_path_buf(),
                blob: format!("config {config_name}"),
                expected,
                actual: config_digest,
            });
        }
    }
    let config = parse_config(store, &config_name, &config_data)?;
    check_single_platform(store, &config, request)?;

    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != entry.layers.len() {
        return Err(malformed(
            store,
            &config_name,
            format!(
                "rootfs.diff_ids lists {} layers but manifest.json lists {}",
                diff_ids.len(),
                entry.layers.len()
            ),
        ));
    }
    let created_by = layer_history(&config);
    let mut layers = Vec::new();
    let mut infos = Vec::new();
    for (index, (member, diff_id)) in entry.layers.iter().zip(diff_ids).enumerate() {
        let blob_digest = member
            .strip_prefix("blobs/sha256/")
            .filter(|hex| hex.len() == 64)
            .map(|hex| format!("sha256:{hex}"));
        let size =
            store
                .open(member)?
                .map(|(_, size)| size)
                .ok_or_else(|| ImageError::MissingFile {
                    image: store.path().to_path_buf(),
                    file: member.clone(),
                })?;
        infos.push(LayerInfo {
            index,
            digest: blob_digest.clone().unwrap_or_else(|| diff_id.clone()),
            diff_id: diff_id.clone(),
            media_type: None,
            size,
            created_by: created_by.get(index).cloned().flatten(),
        });
        layers.push(LayerBlob {
            member: member.clone(),
            media_type: None,
            blob_digest,
            diff_id: diff_id.clone(),
        });
    }

    let info = ImageInfo {
        source,
        format: ImageFormat::DockerArchive,
        manifest_digest: None,
        config_digest: Some(config_digest),
        repo_tags: entry.repo_tags.clone().unwrap_or_default(),
        ref_name: None,
        platform: Some(config_platform(&config)),
        layers: infos,
        config: ImageConfig::from_oci(config.config().as_ref()),
    };
    Ok(Resolved { info, layers })
}

fn parse_config(store: &Store, name: &str, data: &[u8]) -> Result<ImageConfiguration, ImageError> {
    serde_json::from_slice(data).map_err(|error| malformed(store, name, error))
}

fn config_platform(config: &ImageConfiguration) -> Platform {
    Platform::new(
        &config.os().to_string(),
        &config.architecture().to_string(),
        config.variant().as_deref(),
    )
}

/// Rejects an image whose config names another platform than the one the caller
/// explicitly requested. Without an explicit request any platform is accepted.
fn check_single_platform(
    store: &Store,
    config: &ImageConfiguration,
    request: &PlatformRequest,
) -> Result<(), ImageError> {
    if !request.explicit {
        return Ok(());
    }
    let actual = config_platform(config);
    if request
        .platform
        .compatible()
        .iter()
        .any(|candidate| candidate.matches(&actual))
    {
        Ok(())
    } else {
        Err(ImageError::PlatformMismatch {
            image: store.path().to_path_buf(),
            requested: request.platform.to_string(),
            actual: actual.to_string(),
        })
    }
}

/// Returns `created_by` for each layer, pairing layers with the history entries that
/// are not marked `empty_layer`.
fn layer_history(config: &ImageConfiguration) -> Vec<Option<String>> {
    config
        .history()
        .iter()
        .flatten()
        .filter(|entry| !entry.empty_layer().unwrap_or(false))
        .map(|entry| entry.created_by().clone().filter(|text| !text.is_empty()))
        .collect()
}

fn ref_name(descriptor: &Descriptor) -> Option<&str> {
    let annotations = descriptor.annotations().as_ref()?;
    annotations.get(REF_NAME).map(String::as_str)
}

fn is_index(media_type: &MediaType) -> bool {
    matches!(media_type, MediaType::ImageIndex)
        || matches!(media_type, MediaType::Other(other) if other == DOCKER_MANIFEST_LIST)
}

fn is_manifest(media_type: &MediaType) -> bool {
    matches!(media_type, MediaType::ImageManifest)
        || matches!(media_type, MediaType::Other(other) if other == DOCKER_MANIFEST)
}

/// Returns true for the attestation manifests BuildKit adds to indexes, which are not
/// runnable images.
fn is_attestation(descriptor: &Descriptor) -> bool {
    let by_annotation = descriptor
        .annotations()
        .as_ref()
        .and_then(|annotations| annotations.get("vnd.docker.reference.type"))
        .is_some_and(|kind| kind == "attestation-manifest");
    let unknown_platform = descriptor
        .platform()
        .as_ref()
        .is_some_and(|platform| platform.os().to_string() == "unknown");
    by_annotation || unknown_platform
}

/// Reads a blob named by a descriptor and checks its digest.
fn read_blob(
    store: &Store,
    descriptor: &Descriptor,
    limits: &Limits,
) -> Result<(String, Vec<u8>), ImageError> {
    let digest = descriptor.digest().to_string();
    let name = blob_path(&digest).ok_or_else(|| ImageError::InvalidDigest {
        image: store.path().to_path_buf(),
        file: "a descriptor".to_string(),
        digest: digest.clone(),
    })?;
    let data = store.read_small(&name, limits.max_json_bytes)?;
    let actual = sha256_digest(&data);
    if actual != digest {
        return Err(ImageError::DigestMismatch {
            image: store.path().to_path_buf(),
            blob: name.clone(),
            expected: digest,
            actual,
        });
    }
    Ok((name, data))
}

/// Reads an OCI image layout (directory or archive).
pub(crate) fn resolve_oci(
    store: &Store,
    source: String,
    format: ImageFormat,
    reference: Option<&str>,
    request: &PlatformRequest,
    limits: &Limits,
) -> Result<Resolved, ImageError> {
    let data = store.read_small("index.json", limits.max_json_bytes)?;
    let index: ImageIndex =
        serde_json::from_slice(&data).map_err(|error| malformed(store, "index.json", error))?;
    let top = index.manifests();
    let refs: BTreeSet<String> = top
        .iter()
        .filter_map(ref_name)
        .map(str::to_string)
        .collect();
    let ref_error = |problem: String| ImageError::RefSelection {
        image: store.path().to_path_buf(),
        problem,
        present: refs.iter().cloned().collect(),
    };

    // Select the entries of index.json that belong to the requested image.
    let candidates: Vec<Descriptor> = match reference {
        Some(requested) => {
            let selected: Vec<Descriptor> = top
                .iter()
                .filter(|descriptor| {
                    let containerd_name = descriptor
                        .annotations()
                        .as_ref()
                        .and_then(|annotations| annotations.get(CONTAINERD_NAME));
                    ref_name(descriptor) == Some(requested)
                        || containerd_name.is_some_and(|name| {
                            name == requested || canonical_tag(name) == canonical_tag(requested)
                        })
                })
                .cloned()
                .collect();
            if selected.is_empty() {
                return Err(ref_error(format!("ref {requested:?} not found")));
            }
            selected
        }
        None if refs.len() > 1 => {
            return Err(ref_error(format!(
                "layout holds {} images, choose one with oci-dir:PATH:REF",
                refs.len()
            )))
        }
        None => top.clone(),
    };
    let ref_name_selected = candidates.iter().find_map(ref_name).map(str::to_string);

    // Follow nested indexes down to image manifests, then pick one by platform.
    let mut manifests = Vec::new();
    collect_manifests(store, &candidates, limits, 0, &mut manifests)?;
    let (descriptor, selected_by_platform) = select_platform(store, &manifests, request, limits)?;

    let (manifest_name, manifest_data) = read_blob(store, &descriptor, limits)?;
    let manifest: ImageManifest = serde_json::from_slice(&manifest_data)
        .map_err(|error| malformed(store, &manifest_name, error))?;
    let (config_name, config_data) = read_blob(store, manifest.config(), limits)?;
    let config = parse_config(store, &config_name, &config_data)?;
    if !selected_by_platform {
        check_single_platform(store, &config, request)?;
    }

    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != manifest.layers().len() {
        return Err(malformed(
            store,
            &config_name,
            format!(
                "rootfs.diff_ids lists {} layers but the manifest lists {}",
                diff_ids.len(),
                manifest.layers().len()
            ),
        ));
    }
    let created_by = layer_history(&config);
    let mut layers = Vec::new();
    let mut infos = Vec::new();
    for (index, (layer, diff_id)) in manifest.layers().iter().zip(diff_ids).enumerate() {
        let digest = layer.digest().to_string();
        let member = blob_path(&digest).ok_or_else(|| ImageError::InvalidDigest {
            image: store.path().to_path_buf(),
            file: manifest_name.clone(),
            digest: digest.clone(),
        })?;
        let media_type = layer.media_type().to_string();
        infos.push(LayerInfo {
            index,
            digest: digest.clone(),
            diff_id: diff_id.clone(),
            media_type: Some(media_type.clone()),
            size: layer.size(),
            created_by: created_by.get(index).cloned().flatten(),
        });
        layers.push(LayerBlob {
            member,
            media_type: Some(media_type),
            blob_digest: Some(digest),
            diff_id: diff_id.clone(),
        });
    }

    let info = ImageInfo {
        source,
        format,
        manifest_digest: Some(descriptor.digest().to_string()),
        config_digest: Some(manifest.config().digest().to_string()),
        repo_tags: Vec::new(),
        ref_name: ref_name_selected,
        platform: Some(config_platform(&config)),
        layers: infos,
        config: ImageConfig::from_oci(config.config().as_ref()),
    };
    Ok(Resolved { info, layers })
}

/// Expands index descriptors recursively into the image manifests they list.
fn collect_manifests(
    store: &Store,
    descriptors: &[Descriptor],
    limits: &Limits,
    depth: usize,
    out: &mut Vec<Descriptor>,
) -> Result<(), ImageError> {
    for descriptor in descriptors {
        let media_type = descriptor.media_type();
        if is_manifest(media_type) {
            out.push(descriptor.clone());
        } else if is_index(media_type) {
            if depth >= MAX_INDEX_DEPTH {
                return Err(malformed(
                    store,
                    descriptor.digest().as_ref(),
                    format!("indexes nested deeper than {MAX_INDEX_DEPTH} levels"),
                ));
            }
            let (name, data) = read_blob(store, descriptor, limits)?;
            let nested: ImageIndex =
                serde_json::from_slice(&data).map_err(|error| malformed(store, &name, error))?;
            collect_manifests(store, nested.manifests(), limits, depth + 1, out)?;
        } else {
            tracing::debug!(media_type = %media_type, "skipping descriptor that is neither index nor manifest");
        }
    }
    Ok(())
}

fn descriptor_platform(descriptor: &Descriptor) -> Option<Platform> {
    descriptor.platform().as_ref().map(|platform| {
        Platform::new(
            &platform.os().to_string(),
            &platform.architecture().to_string(),
            platform.variant().as_deref(),
        )
    })
}

/// Picks the manifest for the requested platform. The flag returned is true when the
/// index platform made the choice, so the config need not be checked again.
fn select_platform(
    store: &Store,
    manifests: &[Descriptor],
    request: &PlatformRequest,
    limits: &Limits,
) -> Result<(Descriptor, bool), ImageError> {
    let runnable: Vec<&Descriptor> = manifests.iter().filter(|d| !is_attestation(d)).collect();
    if let [only] = runnable.as_slice() {
        if only.platform().is_none() {
            return Ok(((*only).clone(), false));
        }
    }
    if runnable.is_empty() {
        return Err(malformed(store, "index.json", "no image manifest found"));
    }

    // Platforms of all candidates; a manifest without one in the index is looked up in
    // its config.
    let mut platforms = Vec::with_capacity(runnable.len());
    for descriptor in &runnable {
        let platform = match descriptor_platform(descriptor) {
            Some(platform) => platform,
            None => {
                let (name, data) = read_blob(store, descriptor, limits)?;
                let manifest: ImageManifest = serde_json::from_slice(&data)
                    .map_err(|error| malformed(store, &name, error))?;
                let (config_name, config_data) = read_blob(store, manifest.config(), limits)?;
                config_platform(&parse_config(store, &config_name, &config_data)?)
            }
        };
        platforms.push(platform);
    }

    for candidate in request.platform.compatible() {
        if let Some(position) = platforms
            .iter()
            .position(|platform| platform.matches(&candidate))
        {
            return Ok((runnable[position].clone(), true));
        }
    }
    if !request.explicit && runnable.len() == 1 {
        return Ok((runnable[0].clone(), true));
    }
    Err(ImageError::PlatformNotFound {
        image: store.path().to_path_buf(),
        requested: request.platform.to_string(),
        present: platforms.iter().map(Platform::to_string).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_tag_adds_latest_and_strips_hub() {
        assert_eq!(canonical_tag("nginx"), "nginx:latest");
        assert_eq!(canonical_tag("docker.io/library/nginx:1.25"), "nginx:1.25");
        assert_eq!(
            canonical_tag("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert_eq!(canonical_tag("corpus/app:latest"), "corpus/app:latest");
    }
}
