//! Package catalogers: find what an image has installed.
//!
//! [`catalog`] reads a merged filesystem view ([`Rootfs`]) and returns the OS release
//! ([`Distro`]) and every installed package found by the catalogers:
//!
//! - [`dpkg`] reads `var/lib/dpkg/status` and distroless `var/lib/dpkg/status.d/*`;
//! - [`apk`] reads `lib/apk/db/installed`;
//! - [`python`] reads `*.dist-info/METADATA`, `*.egg-info/PKG-INFO` and single-file
//!   `*.egg-info`;
//! - [`npm`] reads `node_modules/**/package.json`, `package-lock.json` and
//!   `node_modules/.package-lock.json`;
//! - [`java`] reads Java archives (`.jar`, `.war`, `.ear`, `.jpi`, `.hpi`) and the
//!   archives nested in them, for Maven artifacts;
//! - [`golang`] reads the build information of Go binaries (ELF) for Go modules and the
//!   standard library.
//!
//! The image reader keeps file contents only for paths accepted by [`wants_content`], so
//! the catalogers see exactly the files they parse. A package database that cannot be
//! read or parsed becomes a warning in [`Catalog::warnings`], never an error of the
//! whole catalog.
//!
//! Every parser is a public function over bytes that returns an error rather than
//! panicking on malformed input, including bytes that are not UTF-8; property tests feed
//! them random bytes.
#![forbid(unsafe_code)]

pub mod apk;
pub mod control;
pub mod dpkg;
pub mod golang;
pub mod java;
mod layer;
pub mod npm;
pub mod os;
mod purl;
pub mod python;

use cordon_image::Rootfs;
use cordon_model::{Distro, LayerRef, Package};

/// Result of cataloging one image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// OS release, when the image has an `os-release` file or a distribution release file.
    pub distro: Option<Distro>,
    /// Installed packages, sorted by ecosystem, name, version and location.
    pub packages: Vec<Package>,
    /// Problems that left some packages out, each naming the file concerned.
    pub warnings: Vec<String>,
}

/// Returns true when the image reader must keep the content of `path` for [`catalog`].
///
/// `path` is a normalised path inside the image (`var/lib/dpkg/status`, no leading `/`).
/// The check looks only at the path text, because the reader calls it for every entry of
/// every layer.
pub fn wants_content(path: &str) -> bool {
    let path = path.trim_start_matches('/');
    match path {
        "etc/os-release" | "usr/lib/os-release" | "etc/alpine-release" | "etc/debian_version" => {
            return true
        }
        dpkg::STATUS_PATH | apk::INSTALLED_PATH => return true,
        _ => {}
    }
    if let Some(name) = path
        .strip_prefix(dpkg::STATUS_DIR)
        .and_then(|rest| rest.strip_prefix('/'))
    {
        return dpkg::is_status_d_entry(name);
    }
    python::is_metadata_path(path)
        || npm::is_npm_path(path)
        || java::is_archive_path(path)
        || golang::is_candidate_path(path)
}

/// Catalogs the OS release and installed packages of `rootfs`.
///
/// `layers` maps layer indexes ([`cordon_image::Node::layer`]) to the image's layers. An
/// index with no entry gets a [`LayerRef`] with an empty `diff_id`, as for a directory
/// scanned as a root filesystem.
pub fn catalog(rootfs: &Rootfs, layers: &[LayerRef]) -> Catalog {
    let mut warnings = Vec::new();
    let distro = os::detect(rootfs);
    let context = Context {
        rootfs,
        layers,
        distro: distro.as_ref(),
    };

    let mut packages = Vec::new();
    packages.extend(dpkg::catalog(&context, &mut warnings));
    packages.extend(apk::catalog(&context, &mut warnings));
    packages.extend(python::catalog(&context, &mut warnings));
    packages.extend(npm::catalog(&context, &mut warnings));
    packages.extend(java::catalog(&context, &mut warnings));
    packages.extend(golang::catalog(&context, &mut warnings));

    packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.location, &a.arch).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.location,
            &b.arch,
        ))
    });
    tracing::debug!(
        packages = packages.len(),
        warnings = warnings.len(),
        "cataloged image"
    );
    Catalog {
        distro,
        packages,
        warnings,
    }
}

/// Inputs shared by the catalogers.
pub(crate) struct Context<'a> {
    pub(crate) rootfs: &'a Rootfs,
    pub(crate) layers: &'a [LayerRef],
    pub(crate) distro: Option<&'a Distro>,
}

impl Context<'_> {
    /// Returns the image layer with index `index`.
    pub(crate) fn layer(&self, index: usize) -> LayerRef {
        self.layers
            .iter()
            .find(|layer| layer.index == index)
            .cloned()
            .unwrap_or(LayerRef {
                index,
                diff_id: String::new(),
            })
    }
}
