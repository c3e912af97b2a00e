//! dpkg databases: `var/lib/dpkg/status` and the distroless `var/lib/dpkg/status.d/`.

use std::collections::BTreeSet;

use cordon_model::{Ecosystem, Package};

use crate::control::{self, ControlError};
use crate::{layer, purl, Context};

/// Path of the dpkg status database.
pub const STATUS_PATH: &str = "var/lib/dpkg/status";

/// Directory where distroless images record one control stanza per package instead of
/// a status database.
pub const STATUS_DIR: &str = "var/lib/dpkg/status.d";

/// One paragraph of a dpkg status database, with the fields the cataloger uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DpkgEntry {
    /// `Package`, the binary package name.
    pub package: Option<String>,
    /// `Version`, including any epoch (`1:2.36.1-8+deb11u2`).
    pub version: Option<String>,
    /// `Architecture`.
    pub architecture: Option<String>,
    /// Source package name from `Source: name` or `Source: name (version)`.
    pub source_name: Option<String>,
    /// Source package version from `Source: name (version)`.
    pub source_version: Option<String>,
    /// `Status` (`want flag status`), absent in distroless `status.d` stanzas.
    pub status: Option<String>,
    /// Line number of the paragraph's first field, starting at 1.
    pub line: usize,
}

impl DpkgEntry {
    /// Returns true when the package's files are installed: the third word of `Status`
    /// is `installed` (`install ok installed`, `hold ok installed`), or the stanza has no
    /// `Status` at all, as in distroless `status.d` files.
    ///
    /// `config-files`, `half-installed`, `unpacked`, `half-configured`, `triggers-*` and
    /// `not-installed` do not count.
    pub fn is_installed(&self) -> bool {
        match &self.status {
            None => true,
            Some(status) => status.split_whitespace().nth(2) == Some("installed"),
        }
    }

    /// Returns the key used to find the layer that added the package.
    fn key(&self) -> Option<(String, String, String)> {
        Some((
            self.package.clone()?,
            self.architecture.clone().unwrap_or_default(),
            self.version.clone()?,
        ))
    }
}

/// Parses a dpkg status database or a `status.d` stanza file.
///
/// Returns every paragraph, installed or not, and [`DpkgEntry::is_installed`] selects
/// the installed ones. Fails only when the text is not in control format.
pub fn parse_status(data: &[u8]) -> Result<Vec<DpkgEntry>, ControlError> {
    let paragraphs = control::parse_paragraphs(data)?;
    Ok(paragraphs.iter().map(entry_from_paragraph).collect())
}

/// Parses a dpkg status database, skipping only the stanzas that have a syntax error and
/// returning those errors beside the entries of every other stanza.
pub fn parse_status_lenient(data: &[u8]) -> (Vec<DpkgEntry>, Vec<ControlError>) {
    let (paragraphs, errors) = control::parse_paragraphs_lenient(data);
    (
        paragraphs.iter().map(entry_from_paragraph).collect(),
        errors,
    )
}

fn entry_from_paragraph(paragraph: &control::Paragraph) -> DpkgEntry {
    let (source_name, source_version) = match paragraph.get_nonempty("Source") {
        Some(source) => {
            let (name, version) = parse_source(source);
            (Some(name), version)
        }
        None => (None, None),
    };
    DpkgEntry {
        package: paragraph.get_nonempty("Package").map(str::to_string),
        version: paragraph.get_nonempty("Version").map(str::to_string),
        architecture: paragraph.get_nonempty("Architecture").map(str::to_string),
        source_name,
        source_version,
        status: paragraph.get_nonempty("Status").map(str::to_string),
        line: paragraph.line,
    }
}

/// Splits a `Source` value of the form `name` or `name (version)`.
fn parse_source(source: &str) -> (String, Option<String>) {
    match source.split_once('(') {
        Some((name, rest)) => {
            let version = rest.split(')').next().unwrap_or_default().trim();
            let version = (!version.is_empty()).then(|| version.to_string());
            (name.trim().to_string(), version)
        }
        None => (source.trim().to_string(), None),
    }
}

/// Returns true when `name`, a file directly inside [`STATUS_DIR`], can hold a package
/// stanza: `*.md5sums` lists and hidden files cannot.
pub fn is_status_d_entry(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && !name.starts_with('.') && !name.ends_with(".md5sums")
}

/// Catalogs the dpkg status database and the `status.d` stanzas of the image.
pub(crate) fn catalog(context: &Context<'_>, warnings: &mut Vec<String>) -> Vec<Package> {
    let mut packages = catalog_status(context, warnings);
    let mut seen: BTreeSet<(String, Option<String>, String)> = packages
        .iter()
        .map(|package| {
            (
                package.name.clone(),
                package.arch.clone(),
                package.version.clone(),
            )
        })
        .collect();

    for package in catalog_status_d(context, warnings) {
        let key = (
            package.name.clone(),
            package.arch.clone(),
            package.version.clone(),
        );
        if seen.insert(key) {
            packages.push(package);
        }
    }
    packages
}

fn catalog_status(context: &Context<'_>, warnings: &mut Vec<String>) -> Vec<Package> {
    let Some((path, node)) = context.rootfs.get_resolved(STATUS_PATH) else {
        return Vec::new();
    };
    if node.is_dir() {
        return Vec::new();
    }
    let Some(content) = context.rootfs.read(&path) else {
        warnings.push(format!(
            "{path}: dpkg status content was not retained by the image reader"
        ));
        return Vec::new();
    };
    let (entries, errors) = parse_status_lenient(content);
    for error in errors {
        warnings.push(format!("{path}: skipped a damaged dpkg stanza: {error}"));
    }

    // The layer that added each package: the first of its last unbroken run of status
    // file versions that list it at its current version.
    let added_in = layer::added_in(context.rootfs, &path, |version| {
        parse_status_lenient(version)
            .0
            .iter()
            .filter(|entry| entry.is_installed())
            .filter_map(DpkgEntry::key)
            .collect()
    });

    let mut packages = Vec::new();
    for entry in entries.iter().filter(|entry| entry.is_installed()) {
        let layer = entry
            .key()
            .and_then(|key| added_in.get(&key).copied())
            .unwrap_or(node.layer);
        if let Some(package) = to_package(context, entry, &path, layer, warnings) {
            packages.push(package);
        }
    }
    packages
}

fn catalog_status_d(context: &Context<'_>, warnings: &mut Vec<String>) -> Vec<Package> {
    let mut packages = Vec::new();
    let prefix = format!("{STATUS_DIR}/");
    for (path, node) in context.rootfs.descendants(STATUS_DIR) {
        let name = path.strip_prefix(&prefix).unwrap_or(path);
        if !is_status_d_entry(name) || node.is_dir() {
            continue;
        }
        let Some(content) = context.rootfs.read(path) else {
            warnings.push(format!(
                "{path}: dpkg stanza content was not retained by the image reader"
            ));
            continue;
        };
        let (entries, errors) = parse_status_lenient(content);
        for error in errors {
            warnings.push(format!("{path}: skipped a damaged dpkg stanza: {error}"));
        }
        for entry in entries.iter().filter(|entry| entry.is_installed()) {
            if let Some(package) = to_package(context, entry, path, node.layer, warnings) {
                packages.push(package);
            }
        }
    }
    packages
}

fn to_package(
    context: &Context<'_>,
    entry: &DpkgEntry,
    path: &str,
    layer: usize,
    warnings: &mut Vec<String>,
) -> Option<Package> {
    let (Some(name), Some(version)) = (&entry.package, &entry.version) else {
        let missing = if entry.package.is_none() {
            "Package"
        } else {
            "Version"
        };
        warnings.push(format!(
            "{path}: paragraph at line {}: missing {missing} field",
            entry.line
        ));
        return None;
    };

    let source_name = entry.source_name.clone().unwrap_or_else(|| name.clone());
    let source_version = entry
        .source_version
        .clone()
        .unwrap_or_else(|| version.clone());
    let upstream = if source_version != *version {
        Some(format!("{source_name}@{source_version}"))
    } else if source_name != *name {
        Some(source_name.clone())
    } else {
        None
    };

    let distro_id = context
        .distro
        .map(|distro| distro.id.as_str())
        .filter(|id| !id.is_empty());
    let distro_qualifier = context.distro.and_then(|distro| {
        let version_id = distro.version_id.as_deref()?;
        Some(format!("{}-{version_id}", distro.id))
    });
    let purl = purl::build(
        Ecosystem::Deb.purl_type(),
        Some(distro_id.unwrap_or("debian")),
        name,
        version,
        &[
            ("arch", entry.architecture.as_deref()),
            ("distro", distro_qualifier.as_deref()),
            ("upstream", upstream.as_deref()),
        ],
    );

    Some(Package {
        name: name.clone(),
        version: version.clone(),
        source_name: Some(source_name),
        source_version: Some(source_version),
        ecosystem: Ecosystem::Deb,
        purl,
        arch: entry.architecture.clone(),
        layer: Some(context.layer(layer)),
        location: path.to_string(),
        dev: false,
        direct: None,
        licenses: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &[u8] = b"\
Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.31-13+deb11u5
Description: GNU C Library
 Contains the standard libraries.
 .
 More text.

Package: old-conf
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: held
Status: hold ok installed
Architecture: all
Version: 2.0

Package: broken
Status: install reinstreq half-installed
Version: 3.0

Package: coreutils
Status: install ok installed
Architecture: amd64
Source: coreutils (8.32-4)
Version: 8.32-4+b1
";

    #[test]
    fn status_keeps_installed_states_only() {
        let entries = parse_status(STATUS).unwrap();
        let installed: Vec<_> = entries
            .iter()
            .filter(|entry| entry.is_installed())
            .filter_map(|entry| entry.package.as_deref())
            .collect();
        assert_eq!(installed, ["libc6", "held", "coreutils"]);
        assert_eq!(entries.len(), 5);
    }

    #[test]
    fn source_with_version_is_split() {
        let entries = parse_status(STATUS).unwrap();
        let coreutils = &entries[4];
        assert_eq!(coreutils.source_name.as_deref(), Some("coreutils"));
        assert_eq!(coreutils.source_version.as_deref(), Some("8.32-4"));
        assert_eq!(coreutils.version.as_deref(), Some("8.32-4+b1"));
        let libc = &entries[0];
        assert_eq!(libc.source_name.as_deref(), Some("glibc"));
        assert_eq!(libc.source_version, None);
    }

    #[test]
    fn missing_fields_stay_empty() {
        let entries = parse_status(b"Status: install ok installed\nVersion: 1\n").unwrap();
        assert_eq!(entries[0].package, None);
        assert_eq!(entries[0].version.as_deref(), Some("1"));
        assert_eq!(entries[0].architecture, None);
    }

    #[test]
    fn status_d_skips_md5sums_and_hidden_files() {
        assert!(is_status_d_entry("libssl1.1"));
        assert!(!is_status_d_entry("libssl1.1.md5sums"));
        assert!(!is_status_d_entry(".wh.libssl1.1"));
        assert!(!is_status_d_entry("sub/dir"));
    }
}
