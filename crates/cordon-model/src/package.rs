use serde::{Deserialize, Serialize};

use crate::Ecosystem;

/// The image layer a package or file came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LayerRef {
    /// Position of the layer in the image, 0 for the base layer.
    pub index: usize,
    /// Digest of the uncompressed layer tar (`sha256:...`), as listed in the image
    /// config's `rootfs.diff_ids`; empty for a `dir:` root filesystem.
    pub diff_id: String,
}

/// Operating system release of an image, read from `os-release`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distro {
    /// `ID`, for example `debian` or `alpine`.
    pub id: String,
    /// `VERSION_ID`, for example `11` or `3.11.6`.
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`, for example `bullseye`.
    pub codename: Option<String>,
    /// `PRETTY_NAME`, for display.
    pub pretty_name: Option<String>,
}

/// One installed package and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Name as the ecosystem spells it (PyPI names normalised per PEP 503).
    pub name: String,
    /// Installed version, unchanged from the package database.
    pub version: String,
    /// Source package name of an OS package (dpkg `Source:`, apk `o:` origin), equal to
    /// `name` when the database names none; `None` for language packages.
    pub source_name: Option<String>,
    /// Source package version of an OS package (dpkg `Source: name (version)`), equal to
    /// `version` when the database names none; `None` for language packages.
    pub source_version: Option<String>,
    /// Ecosystem that installed the package.
    pub ecosystem: Ecosystem,
    /// Package URL (<https://github.com/package-url/purl-spec>).
    pub purl: String,
    /// CPU architecture when the package database records one.
    pub arch: Option<String>,
    /// Layer that last added or changed the file proving the package.
    pub layer: Option<LayerRef>,
    /// Path inside the image of the file that proves the package, without a leading `/`.
    pub location: String,
    /// True for npm development dependencies recorded in a lockfile.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dev: bool,
    /// Whether a lockfile lists the package as a direct dependency of its project,
    /// when the lockfile says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct: Option<bool>,
    /// Licenses declared by the package metadata.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
}

impl Package {
    /// Returns the source package name, falling back to the binary name.
    pub fn source_name_or_name(&self) -> &str {
        self.source_name.as_deref().unwrap_or(&self.name)
    }

    /// Returns the source package version, falling back to the installed version.
    pub fn source_version_or_version(&self) -> &str {
        self.source_version.as_deref().unwrap_or(&self.version)
    }
}
