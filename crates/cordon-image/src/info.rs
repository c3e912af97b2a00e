//! Image metadata: format, digests, tags, platform, layers and runtime configuration.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{ImageFormat, Platform};

/// What an image is, read from its manifest and config without touching its layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// The source string the image was opened from.
    pub source: String,
    /// Detected or requested storage format.
    pub format: ImageFormat,
    /// Digest of the image manifest; `None` for docker-archives and root filesystems,
    /// which carry no manifest blob.
    pub manifest_digest: Option<String>,
    /// Digest of the image config (the image id); `None` for root filesystems.
    pub config_digest: Option<String>,
    /// `RepoTags` of a docker-archive image.
    pub repo_tags: Vec<String>,
    /// `org.opencontainers.image.ref.name` of the selected OCI layout entry.
    pub ref_name: Option<String>,
    /// Platform from the image config; `None` for root filesystems.
    pub platform: Option<Platform>,
    /// Layers, base layer first.
    pub layers: Vec<LayerInfo>,
    /// Runtime configuration.
    pub config: ImageConfig,
}

/// One layer of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// Position of the layer, 0 for the base layer.
    pub index: usize,
    /// Digest of the stored blob (compressed for OCI layouts). For legacy
    /// docker-archive members, whose names carry no digest, this is the diff_id.
    pub digest: String,
    /// Digest of the uncompressed tar, from the config's `rootfs.diff_ids`; empty for a
    /// root filesystem directory.
    pub diff_id: String,
    /// Media type from the manifest; `None` for docker-archives.
    pub media_type: Option<String>,
    /// Stored size in bytes.
    pub size: u64,
    /// `created_by` of the history entry that produced this layer.
    pub created_by: Option<String>,
}

/// Runtime configuration of an image (the config's `config` object).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// `User`, for example `postgres` or `65534:65534`.
    pub user: Option<String>,
    /// `Env` entries as `NAME=VALUE`.
    pub env: Vec<String>,
    /// `Entrypoint`.
    pub entrypoint: Vec<String>,
    /// `Cmd`.
    pub cmd: Vec<String>,
    /// `ExposedPorts` keys such as `80/tcp`, sorted.
    pub exposed_ports: Vec<String>,
    /// `Volumes` keys, sorted.
    pub volumes: Vec<String>,
    /// `WorkingDir`.
    pub working_dir: Option<String>,
    /// `Labels`.
    pub labels: BTreeMap<String, String>,
    /// `StopSignal`, for example `SIGQUIT`.
    pub stop_signal: Option<String>,
}

impl ImageConfig {
    pub(crate) fn from_oci(config: Option<&oci_spec::image::Config>) -> ImageConfig {
        let Some(config) = config else {
            return ImageConfig::default();
        };
        let sorted = |values: &Option<Vec<String>>| {
            let mut values = values.clone().unwrap_or_default();
            values.sort();
            values
        };
        ImageConfig {
            user: config.user().clone().filter(|user| !user.is_empty()),
            env: config.env().clone().unwrap_or_default(),
            entrypoint: config.entrypoint().clone().unwrap_or_default(),
            cmd: config.cmd().clone().unwrap_or_default(),
            exposed_ports: sorted(config.exposed_ports()),
            volumes: sorted(config.volumes()),
            working_dir: config.working_dir().clone().filter(|dir| !dir.is_empty()),
            labels: config
                .labels()
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect(),
            stop_signal: config
                .stop_signal()
                .clone()
                .filter(|signal| !signal.is_empty()),
        }
    }
}
