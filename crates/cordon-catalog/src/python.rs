//! Installed Python distributions: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO` and
//! single-file `*.egg-info`.
//!
//! Distributions that Debian packages install under `usr/lib/python3/dist-packages` are
//! reported too: the file proves the distribution is importable, and the
//! matcher can tell them apart by location.

use cordon_image::NodeKind;
use cordon_model::{Ecosystem, Package};
use thiserror::Error;

use crate::{purl, Context};

/// Error in a core metadata file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// A required header is absent or empty.
    #[error("missing {0} header")]
    MissingField(&'static str),
}

/// The fields of Python core metadata that the cataloger uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// `Name` as written, for example `PyYAML`.
    pub name: String,
    /// `Version` as written.
    pub version: String,
    /// Licenses from `License-Expression`, else `License`, else `License ::` classifiers.
    pub licenses: Vec<String>,
}

/// Parses Python core metadata (`METADATA` or `PKG-INFO`): RFC 822 headers up to the
/// first blank line.
///
/// Continuation lines (starting with a space or tab) extend the previous header, and a
/// line that is not a header ends the headers. Bytes that are not valid UTF-8 are
/// replaced with U+FFFD. Fails when `Name` or `Version` is missing.
pub fn parse_metadata(data: &[u8]) -> Result<Metadata, MetadataError> {
    let text = String::from_utf8_lossy(data);
    let mut headers: Vec<(&str, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, value)) = headers.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            break;
        };
        headers.push((name.trim(), value.trim().to_string()));
    }

    let first = |field: &str| {
        headers
            .iter()
            .find(|(name, value)| name.eq_ignore_ascii_case(field) && !value.is_empty())
            .map(|(_, value)| value.clone())
    };
    let name = first("Name").ok_or(MetadataError::MissingField("Name"))?;
    let version = first("Version").ok_or(MetadataError::MissingField("Version"))?;

    let licenses = if let Some(expression) = first("License-Expression") {
        vec![expression]
    } else if let Some(license) = first("License").filter(|license| is_license_name(license)) {
        vec![license]
    } else {
        headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Classifier"))
            .filter_map(|(_, value)| {
                let rest = value.strip_prefix("License ::")?;
                let license = rest.rsplit("::").next()?.trim();
                (!license.is_empty()).then(|| license.to_string())
            })
            .collect()
    };
    Ok(Metadata {
        name,
        version,
        licenses,
    })
}

/// Returns true for a `License` value that names a license rather than `UNKNOWN` or a
/// pasted license text.
fn is_license_name(license: &str) -> bool {
    !license.eq_ignore_ascii_case("UNKNOWN") && !license.contains('\n')
}

/// Normalises a distribution name as PEP 503 specifies: lowercase, with every run of
/// `-`, `_` and `.` replaced by a single `-`.
pub fn normalize_name(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    let mut in_separator_run = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator_run {
                normalized.push('-');
            }
            in_separator_run = true;
        } else {
            normalized.extend(c.to_lowercase());
            in_separator_run = false;
        }
    }
    normalized
}

/// Returns true for a path that may hold Python core metadata: `*.dist-info/METADATA`,
/// `*.egg-info/PKG-INFO` or a `*.egg-info` file.
pub fn is_metadata_path(path: &str) -> bool {
    path.ends_with(".dist-info/METADATA")
        || path.ends_with(".egg-info/PKG-INFO")
        || path.ends_with(".egg-info")
}

/// Catalogs every installed Python distribution of the image.
pub(crate) fn catalog(context: &Context<'_>, warnings: &mut Vec<String>) -> Vec<Package> {
    let mut packages = Vec::new();
    for (path, node) in context.rootfs.iter() {
        // `X.egg-info` is a directory in the common layout, and only its `PKG-INFO` counts.
        if !is_metadata_path(path) || node.kind != NodeKind::File {
            continue;
        }
        let Some(content) = node.content.as_deref() else {
            warnings.push(format!(
                "{path}: Python metadata content was not retained by the image reader"
            ));
            continue;
        };
        let metadata = match parse_metadata(content) {
            Ok(metadata) => metadata,
            Err(error) => {
                warnings.push(format!("{path}: invalid Python metadata: {error}"));
                continue;
            }
        };

        let name = normalize_name(&metadata.name);
        let purl = purl::build(
            Ecosystem::Pypi.purl_type(),
            None,
            &name,
            &metadata.version,
            &[],
        );
        packages.push(Package {
            name,
            version: metadata.version,
            source_name: None,
            source_version: None,
            ecosystem: Ecosystem::Pypi,
            purl,
            arch: None,
            layer: Some(context.layer(node.layer)),
            location: path.to_string(),
            dev: false,
            direct: None,
            licenses: metadata.licenses,
        });
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_normalization() {
        assert_eq!(normalize_name("PyYAML"), "pyyaml");
        assert_eq!(normalize_name("Friendly_Bard"), "friendly-bard");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_name("a-_.-b__c"), "a-b-c");
    }

    #[test]
    fn metadata_headers_stop_at_body() {
        let text =
            b"Metadata-Version: 2.1\nName: Example\nVersion: 1.0\nLicense: MIT\n\nName: Body\n";
        let metadata = parse_metadata(text).unwrap();
        assert_eq!(metadata.name, "Example");
        assert_eq!(metadata.version, "1.0");
        assert_eq!(metadata.licenses, ["MIT"]);
    }

    #[test]
    fn license_from_classifiers_when_unknown() {
        let text = b"Name: a\nVersion: 1\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: BSD License\n";
        assert_eq!(parse_metadata(text).unwrap().licenses, ["BSD License"]);
    }

    #[test]
    fn license_expression_wins() {
        let text =
            b"Name: a\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\nLicense: long\n text\n";
        assert_eq!(
            parse_metadata(text).unwrap().licenses,
            ["MIT OR Apache-2.0"]
        );
    }

    #[test]
    fn missing_version_is_error() {
        assert_eq!(
            parse_metadata(b"Name: a\n"),
            Err(MetadataError::MissingField("Version"))
        );
    }

    #[test]
    fn metadata_paths_are_recognized() {
        assert!(is_metadata_path("site-packages/a-1.dist-info/METADATA"));
        assert!(is_metadata_path("site-packages/a-1.egg-info/PKG-INFO"));
        assert!(is_metadata_path("dist-packages/a-1.egg-info"));
        assert!(!is_metadata_path("site-packages/a-1.dist-info/RECORD"));
    }
}
