//! Version ordering per ecosystem, each scheme implemented to its specification.
//!
//! [`compare`] is the entry point other crates use. Each scheme module also offers a parsed
//! `Version` type (`FromStr + Ord + Display`) for callers that compare one version many times.
//!
//! | Scheme | Module | Specification |
//! |---|---|---|
//! | [`Scheme::Dpkg`] | [`dpkg`] | Debian Policy 5.6.12, dpkg `verrevcmp` |
//! | [`Scheme::Apk`] | [`apk`] | apk-tools 2.x `version.c` |
//! | [`Scheme::Pep440`] | [`pep440`] | PEP 440 as `packaging.version` orders it |
//! | [`Scheme::Semver`] | [`semver`] | SemVer 2.0.0 with node-semver's loose parse |
//! | [`Scheme::Maven`] | [`maven`] | maven-artifact 3.x `ComparableVersion` |
//! | [`Scheme::Go`] | [`go`] | Go module versions (`golang.org/x/mod/semver`) |
#![forbid(unsafe_code)]

use std::cmp::Ordering;

use cordon_model::Ecosystem;

pub mod apk;
pub mod dpkg;
pub mod go;
pub mod maven;
pub mod pep440;
pub mod semver;

mod numeric;

pub use pep440::normalize_pypi_name;

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
    /// Reason for the rejection.
    pub reason: String,
}

impl VersionError {
    pub(crate) fn new(scheme: Scheme, version: &str, reason: impl Into<String>) -> VersionError {
        VersionError {
            scheme,
            version: version.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Compares two versions under `scheme`.
///
/// Both versions are parsed first, so an error names the first one the scheme rejects.
/// Versions that compare `Equal` may differ in text (`1.0` and `1.0.0` under PEP 440).
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    let ordering = match scheme {
        Scheme::Dpkg => a.parse::<dpkg::Version>()?.cmp(&b.parse()?),
        Scheme::Apk => a.parse::<apk::Version>()?.cmp(&b.parse()?),
        Scheme::Pep440 => a.parse::<pep440::Version>()?.cmp(&b.parse()?),
        Scheme::Semver => a.parse::<semver::Version>()?.cmp(&b.parse()?),
        Scheme::Maven => a.parse::<maven::Version>()?.cmp(&b.parse()?),
        Scheme::Go => a.parse::<go::Version>()?.cmp(&b.parse()?),
    };
    Ok(ordering)
}

/// Checks that `version` parses under `scheme`.
pub fn validate(scheme: Scheme, version: &str) -> Result<(), VersionError> {
    match scheme {
        Scheme::Dpkg => version.parse::<dpkg::Version>().map(drop),
        Scheme::Apk => version.parse::<apk::Version>().map(drop),
        Scheme::Pep440 => version.parse::<pep440::Version>().map(drop),
        Scheme::Semver => version.parse::<semver::Version>().map(drop),
        Scheme::Maven => version.parse::<maven::Version>().map(drop),
        Scheme::Go => version.parse::<go::Version>().map(drop),
    }
}

/// Implements `PartialEq`, `Eq` and `PartialOrd` for a type from its `Ord`, because
/// versions that differ in text can be equal in order (`1.0` and `1.00`).
macro_rules! order_by_cmp {
    ($type:ty) => {
        impl PartialEq for $type {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == std::cmp::Ordering::Equal
            }
        }

        impl Eq for $type {}

        impl PartialOrd for $type {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
    };
}
pub(crate) use order_by_cmp;
