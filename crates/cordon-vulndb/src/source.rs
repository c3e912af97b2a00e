//! Feed kinds and `KIND=PATH_OR_URL` source specifications.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DbError;

/// Kind of upstream feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// OSV JSON records.
    Osv,
    /// Debian Security Tracker JSON.
    DebianTracker,
    /// Alpine secdb.
    AlpineSecdb,
    /// CVE JSON 5 records (CVSS enrichment).
    Cve5,
    /// NVD JSON 2.0 feeds (CVSS enrichment).
    Nvd,
}

impl SourceKind {
    /// Every kind, in the order `--source` help lists them.
    pub const ALL: [SourceKind; 5] = [
        SourceKind::Osv,
        SourceKind::DebianTracker,
        SourceKind::AlpineSecdb,
        SourceKind::Cve5,
        SourceKind::Nvd,
    ];

    /// Returns the name used in `KIND=...` specifications and in metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Osv => "osv",
            SourceKind::DebianTracker => "debian-tracker",
            SourceKind::AlpineSecdb => "alpine-secdb",
            SourceKind::Cve5 => "cve5",
            SourceKind::Nvd => "nvd",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceKind {
    type Err = DbError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        SourceKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| DbError::InvalidSource {
                spec: text.to_owned(),
                reason:
                    "unknown kind, expected one of osv, debian-tracker, alpine-secdb, cve5, nvd"
                        .to_owned(),
            })
    }
}

/// Location of a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local file or directory.
    Path(PathBuf),
    /// An `http://` or `https://` URL, downloaded before the import.
    Url(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Path(path) => write!(f, "{}", path.display()),
            Location::Url(url) => f.write_str(url),
        }
    }
}

/// One feed to import: its kind and where to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpec {
    /// Feed kind.
    pub kind: SourceKind,
    /// File, directory or URL.
    pub location: Location,
}

impl SourceSpec {
    /// Creates a specification for a local file or directory.
    pub fn path(kind: SourceKind, path: impl Into<PathBuf>) -> Self {
        SourceSpec {
            kind,
            location: Location::Path(path.into()),
        }
    }
}

impl FromStr for SourceSpec {
    type Err = DbError;

    /// Parses `KIND=PATH_OR_URL`, for example `osv=feeds/PyPI/all.zip`.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| DbError::InvalidSource {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let (kind, location) = spec
            .split_once('=')
            .ok_or_else(|| invalid("expected KIND=PATH_OR_URL"))?;
        let kind = kind.parse::<SourceKind>().map_err(|_| {
            invalid(&format!(
                "unknown kind `{kind}`, expected one of osv, debian-tracker, alpine-secdb, cve5, nvd"
            ))
        })?;
        if location.is_empty() {
            return Err(invalid("empty path or URL"));
        }
        let location = if location.starts_with("http://") || location.starts_with("https://") {
            Location::Url(location.to_owned())
        } else {
            Location::Path(PathBuf::from(location))
        };
        Ok(SourceSpec { kind, location })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_kind_and_path() {
        let spec: SourceSpec = "debian-tracker=/data/tracker.json".parse().unwrap();
        assert_eq!(spec.kind, SourceKind::DebianTracker);
        assert_eq!(spec.location, Location::Path("/data/tracker.json".into()));
    }

    #[test]
    fn spec_recognises_urls() {
        let spec: SourceSpec = "osv=https://example.org/PyPI/all.zip".parse().unwrap();
        assert_eq!(
            spec.location,
            Location::Url("https://example.org/PyPI/all.zip".into())
        );
    }

    #[test]
    fn spec_rejects_unknown_kind() {
        let error = "nvd2=/x".parse::<SourceSpec>().unwrap_err().to_string();
        assert!(error.contains("unknown kind `nvd2`"), "{error}");
    }

    #[test]
    fn spec_rejects_missing_separator() {
        assert!("osv".parse::<SourceSpec>().is_err());
        assert!("osv=".parse::<SourceSpec>().is_err());
    }
}
