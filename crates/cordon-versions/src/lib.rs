//! Version ordering per ecosystem.
#![forbid(unsafe_code)]

use std::cmp::Ordering;

use cordon_model::Ecosystem;

/// Version scheme: the ordering rules of one ecosystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Debian's dpkg ordering (epoch, upstream version, revision, `~`).
    Dpkg,
    /// Alpine's apk ordering (suffixes, `-rN` revisions).
    Apk,
    /// PEP 440 (Python).
    Pep440,
    /// Semantic Versioning 2.0.0 as npm applies it.
    Semver,
    /// Maven `ComparableVersion`.
    Maven,
    /// Go module versions (semver with a `v` prefix, `+incompatible` ignored).
    Go,
}

impl Scheme {
    /// Returns the scheme an ecosystem's versions follow.
    pub fn for_ecosystem(ecosystem: Ecosystem) -> Scheme {
        match ecosystem {
            Ecosystem::Deb => Scheme::Dpkg,
            Ecosystem::Apk => Scheme::Apk,
            Ecosystem::Pypi => Scheme::Pep440,
            Ecosystem::Npm | Ecosystem::Cargo => Scheme::Semver,
            Ecosystem::Maven => Scheme::Maven,
            Ecosystem::Go => Scheme::Go,
        }
    }
}

/// Error for a version string that the scheme cannot parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme:?} version `{version}`: {reason}")]
pub struct VersionError {
    /// Scheme that rejected the version.
    pub scheme: Scheme,
    /// The rejected text.
    pub version: String,
    /// Why it was rejected.
    pub reason: String,
}

/// Compares two versions under `scheme`.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    // Placeholder until the per-scheme parsers land.
    let _ = scheme;
    Ok(a.cmp(b))
}
