//! Java archives: `.jar`, `.war`, `.ear`, `.jpi` and `.hpi` files, read as zip.
//!
//! An archive names the Maven artifacts it contains in `META-INF/maven/**/pom.properties`
//! (one archive may hold several, as shaded and fat jars do). When it has none, the
//! identity comes from `META-INF/MANIFEST.MF` (`Implementation-*`, then `Bundle-*`
//! fields), and last from the file name (`name-1.2.3.jar`). Archives nested in an archive
//! (`WEB-INF/lib`, `BOOT-INF/lib`, jars copied into fat jars) are opened too, up to
//! [`MAX_NESTING`] levels, and their packages carry the location `outer.jar!inner.jar`.
//!
//! Package names are `groupId:artifactId`, the form OSV Maven records use. A name found
//! only in a manifest or file name may have no group, and is then the artifact alone.

use std::collections::BTreeSet;
use std::io::{Cursor, Read};

use cordon_image::NodeKind;
use cordon_model::{Ecosystem, Package};
use thiserror::Error;

use crate::{purl, Context};

/// File name endings of Java archives, compared without regard to case.
pub const ARCHIVE_EXTENSIONS: [&str; 5] = [".jar", ".war", ".ear", ".jpi", ".hpi"];

/// Number of archive levels opened below a top-level file: 2 reaches a jar in
/// `BOOT-INF/lib` of a jar inside a `.war`.
pub const MAX_NESTING: usize = 2;

/// Largest nested archive that is decompressed into memory to be opened.
const MAX_NESTED_BYTES: u64 = 64 << 20;

/// Largest `pom.properties` or `MANIFEST.MF` that is read.
const MAX_METADATA_BYTES: u64 = 1 << 20;

/// Maximum number of zip entries examined per archive, nested ones included.
const MAX_ENTRIES: usize = 200_000;

/// Error reading a Java archive.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The bytes are not a readable zip archive.
    #[error("invalid zip archive: {0}")]
    Zip(String),
    /// An entry could not be decompressed.
    #[error("unreadable zip entry `{entry}`: {reason}")]
    Entry {
        /// Name of the entry inside the archive.
        entry: String,
        /// What failed.
        reason: String,
    },
}

/// Source of an artifact's identity, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Evidence {
    /// A `META-INF/maven/**/pom.properties` entry.
    PomProperties,
    /// `META-INF/MANIFEST.MF` fields.
    Manifest,
    /// The archive's file name.
    FileName,
}

/// One Maven artifact found in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// `groupId`, empty when the evidence names none.
    pub group_id: String,
    /// `artifactId`.
    pub artifact_id: String,
    /// Version as written.
    pub version: String,
    /// Archive location: the file path, followed by `!entry` per nesting level.
    pub location: String,
    /// Source of the identity.
    pub evidence: Evidence,
}

impl Artifact {
    /// Returns the OSV Maven package name, `groupId:artifactId`, or the artifact alone when
    /// the group is unknown.
    pub fn name(&self) -> String {
        if self.group_id.is_empty() {
            self.artifact_id.clone()
        } else {
            format!("{}:{}", self.group_id, self.artifact_id)
        }
    }
}

/// Returns true for a path whose file name ends in a Java archive extension.
pub fn is_archive_path(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    ARCHIVE_EXTENSIONS.iter().any(|extension| {
        name.len() > extension.len()
            && name
                .get(name.len() - extension.len()..)
                .is_some_and(|end| end.eq_ignore_ascii_case(extension))
    })
}

/// Parses `pom.properties`: `key=value` or `key:value` lines, `#` and `!` comments.
///
/// Returns `(groupId, artifactId, version)` when all three are present and non-empty.
pub fn parse_pom_properties(data: &[u8]) -> Option<(String, String, String)> {
    let text = String::from_utf8_lossy(data);
    let (mut group, mut artifact, mut version) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some(split) = line.find(['=', ':']) else {
            continue;
        };
        let (key, value) = (line[..split].trim(), line[split + 1..].trim());
        if value.is_empty() {
            continue;
        }
        match key {
            "groupId" => group = Some(value.to_string()),
            "artifactId" => artifact = Some(value.to_string()),
            "version" => version = Some(value.to_string()),
            _ => {}
        }
    }
    Some((group?, artifact?, version?))
}

/// Parses the main section of a `MANIFEST.MF`: `Name: value` headers, continuation lines
/// starting with one space, ending at the first blank line.
pub fn parse_manifest(data: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(data);
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if let Some(rest) = line.strip_prefix(' ') {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(rest);
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    headers
}

/// Derives an identity from manifest headers and the archive's file name:
/// `(group, artifact, version)`.
///
/// The artifact comes from `Implementation-Title` when it is an identifier (no spaces),
/// else the last dot-separated part of `Bundle-SymbolicName`, else the file name. The
/// group comes from `Implementation-Vendor-Id`, else the rest of `Bundle-SymbolicName`.
/// The version comes from `Implementation-Version`, else `Bundle-Version`, else
/// `Specification-Version`, else the file name.
fn identity_from_manifest(
    headers: &[(String, String)],
    file_name: &str,
) -> Option<(String, String, String)> {
    let field = |name: &str| {
        headers
            .iter()
            .find(|(key, value)| key.eq_ignore_ascii_case(name) && !value.is_empty())
            .map(|(_, value)| value.as_str())
    };
    let from_file_name = identity_from_file_name(file_name);
    let version = field("Implementation-Version")
        .or_else(|| field("Bundle-Version"))
        .or_else(|| field("Specification-Version"))
        .or(from_file_name.as_ref().map(|(_, version)| version.as_str()))?;
    // `Bundle-SymbolicName: org.example.core;singleton:=true` carries directives after `;`.
    let symbolic =
        field("Bundle-SymbolicName").map(|name| name.split(';').next().unwrap_or(name).trim());
    let (symbolic_group, symbolic_artifact) = match symbolic.and_then(|name| name.rsplit_once('.'))
    {
        Some((group, artifact)) => (Some(group), Some(artifact)),
        None => (None, symbolic),
    };
    let artifact = field("Implementation-Title")
        .filter(|title| !title.contains(char::is_whitespace))
        .or(symbolic_artifact)
        .or(from_file_name
            .as_ref()
            .map(|(artifact, _)| artifact.as_str()))?;
    let group = field("Implementation-Vendor-Id")
        .or(symbolic_group)
        .unwrap_or_default();
    Some((group.to_string(), artifact.to_string(), version.to_string()))
}

/// Splits an archive file name such as `log4j-core-2.14.1.jar` into artifact and version:
/// the version starts at the first `-` followed by a digit.
pub fn identity_from_file_name(file_name: &str) -> Option<(String, String)> {
    let stem = file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem);
    let bytes = stem.as_bytes();
    let split = (0..bytes.len().saturating_sub(1))
        .find(|&index| bytes[index] == b'-' && bytes[index + 1].is_ascii_digit())?;
    let (artifact, version) = (&stem[..split], &stem[split + 1..]);
    (!artifact.is_empty()).then(|| (artifact.to_string(), version.to_string()))
}

/// Reads the artifacts of the archive `data` located at `location`, opening nested
/// archives up to [`MAX_NESTING`] levels.
///
/// Problems inside nested archives are appended to `warnings` rather than failing the
/// outer one; only an unreadable outer archive is an error.
pub fn read_archive(
    data: &[u8],
    location: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Artifact>, ArchiveError> {
    let mut artifacts = Vec::new();
    let mut budget = MAX_ENTRIES;
    read_level(data, location, 0, &mut budget, &mut artifacts, warnings)?;
    Ok(artifacts)
}

fn read_level(
    data: &[u8],
    location: &str,
    depth: usize,
    budget: &mut usize,
    artifacts: &mut Vec<Artifact>,
    warnings: &mut Vec<String>,
) -> Result<(), ArchiveError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(data))
        .map_err(|error| ArchiveError::Zip(error.to_string()))?;

    let mut poms = Vec::new();
    let mut manifest = None;
    let mut nested = Vec::new();
    for index in 0..zip.len() {
        if *budget == 0 {
            warnings.push(format!(
                "{location}: stopped after {MAX_ENTRIES} zip entries; later entries were not cataloged"
            ));
            break;
        }
        *budget -= 1;
        let mut entry = match zip.by_index(index) {
            Ok(entry) => entry,
            Err(error) => {
                warnings.push(format!("{location}: unreadable zip entry {index}: {error}"));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_string();
        let is_pom = name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties");
        let is_manifest = name.eq_ignore_ascii_case("META-INF/MANIFEST.MF");
        let is_nested = depth < MAX_NESTING && is_archive_path(&name);
        if !(is_pom || is_manifest || is_nested) {
            continue;
        }
        let limit = if is_nested {
            MAX_NESTED_BYTES
        } else {
            MAX_METADATA_BYTES
        };
        if entry.size() > limit {
            warnings.push(format!(
                "{location}!{name}: {} bytes exceed the {limit}-byte limit for zip entries; not cataloged",
                entry.size()
            ));
            continue;
        }
        let mut content = Vec::new();
        // `take` bounds the read even when the entry's recorded size is false.
        if let Err(error) = (&mut entry).take(limit).read_to_end(&mut content) {
            warnings.push(format!("{location}!{name}: unreadable zip entry: {error}"));
            continue;
        }
        if is_pom {
            poms.push(content);
        } else if is_manifest {
            manifest = Some(content);
        } else {
            nested.push((name, content));
        }
    }

    let mut found = BTreeSet::new();
    for pom in &poms {
        if let Some((group_id, artifact_id, version)) = parse_pom_properties(pom) {
            if found.insert((group_id.clone(), artifact_id.clone(), version.clone())) {
                artifacts.push(Artifact {
                    group_id,
                    artifact_id,
                    version,
                    location: location.to_string(),
                    evidence: Evidence::PomProperties,
                });
            }
        }
    }
    if found.is_empty() {
        if let Some(artifact) = fallback_identity(manifest.as_deref(), location) {
            artifacts.push(artifact);
        }
    }

    for (name, content) in nested {
        let inner = format!("{location}!{name}");
        if let Err(error) = read_level(&content, &inner, depth + 1, budget, artifacts, warnings) {
            warnings.push(format!("{inner}: {error}"));
        }
    }
    Ok(())
}

/// Identifies an archive without `pom.properties` from its manifest, else its file name.
fn fallback_identity(manifest: Option<&[u8]>, location: &str) -> Option<Artifact> {
    let file_name = location.rsplit(['/', '!']).next().unwrap_or(location);
    let headers = manifest.map(parse_manifest).unwrap_or_default();
    let (group_id, artifact_id, version) = identity_from_manifest(&headers, file_name)?;
    // The identity counts as the file name's when the manifest added nothing to it.
    let from_file_name = group_id.is_empty()
        && identity_from_file_name(file_name).as_ref()
            == Some(&(artifact_id.clone(), version.clone()));
    Some(Artifact {
        group_id,
        artifact_id,
        version,
        location: location.to_string(),
        evidence: if from_file_name {
            Evidence::FileName
        } else {
            Evidence::Manifest
        },
    })
}

/// Catalogs the Maven artifacts of every Java archive in the image.
pub(crate) fn catalog(context: &Context<'_>, warnings: &mut Vec<String>) -> Vec<Package> {
    let mut packages = Vec::new();
    for (path, node) in context.rootfs.iter() {
        if node.kind != NodeKind::File || !is_archive_path(path) {
            continue;
        }
        let Some(content) = node.content.as_deref() else {
            if node.size > 0 {
                warnings.push(format!(
                    "{path}: Java archive of {} bytes was not retained by the image reader (over its size limit); not cataloged",
                    node.size
                ));
            }
            continue;
        };
        let artifacts = match read_archive(content, path, warnings) {
            Ok(artifacts) => artifacts,
            Err(error) => {
                warnings.push(format!("{path}: {error}"));
                continue;
            }
        };
        let layer = context.layer(node.layer);
        for artifact in artifacts {
            let name = artifact.name();
            let namespace = (!artifact.group_id.is_empty()).then_some(artifact.group_id.as_str());
            let purl = purl::build(
                Ecosystem::Maven.purl_type(),
                namespace,
                &artifact.artifact_id,
                &artifact.version,
                &[],
            );
            packages.push(Package {
                name,
                version: artifact.version,
                source_name: None,
                source_version: None,
                ecosystem: Ecosystem::Maven,
                purl,
                arch: None,
                layer: Some(layer.clone()),
                location: artifact.location,
                dev: false,
                direct: None,
                licenses: Vec::new(),
            });
        }
    }
    packages
}

#[cfg(test)]
mod tests;
