//! Go module versions, ordered as `golang.org/x/mod/semver.Compare` orders them.
//!
//! A version is `vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]`, where the shorthands `v1`
//! and `v1.2` mean `v1.0.0` and `v1.2.0` and cannot carry a pre-release or build. The `v`
//! is optional here because package databases and advisories often drop it. Numbers have
//! no leading zeros and no size limit. Build metadata, such as `+incompatible`, is ignored
//! for ordering. Pseudo-versions (`v0.0.0-20191109021931-daa7c04131f5`) are ordinary
//! pre-releases and sort as such.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::numeric::cmp_digits;
use crate::semver::{cmp_prerelease, write_suffixes, Identifier};
use crate::{order_by_cmp, Scheme, VersionError};

/// A parsed Go module version.
#[derive(Debug, Clone)]
pub struct Version {
    major: String,
    minor: String,
    patch: String,
    pre: Vec<Identifier>,
    build: Vec<String>,
}

impl Version {
    /// Returns `true` when the version has a pre-release part, as pseudo-versions do.
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// Returns `true` when the build metadata is `incompatible`, the mark of a module
    /// version at major 2 or above that has no `go.mod` file.
    pub fn is_incompatible(&self) -> bool {
        self.build == ["incompatible"]
    }
}

/// Splits a number without leading zeros off the front of `text`.
fn split_number(text: &str) -> Option<(&str, &str)> {
    let length = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, rest) = text.split_at(length);
    if number.is_empty() || (number.len() > 1 && number.starts_with('0')) {
        return None;
    }
    Some((number, rest))
}

/// Splits dot-separated identifiers made of `[0-9A-Za-z-]`, each non-empty.
fn split_identifiers(text: &str) -> Option<Vec<&str>> {
    let identifiers: Vec<&str> = text.split('.').collect();
    let valid = identifiers.iter().all(|identifier| {
        !identifier.is_empty()
            && identifier
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    });
    valid.then_some(identifiers)
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Version, VersionError> {
        let invalid = |reason: &str| VersionError::new(Scheme::Go, text, reason);
        let expected = "expected vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]] without leading zeros";

        let unprefixed = text.strip_prefix('v').unwrap_or(text);
        let (major, rest) = split_number(unprefixed).ok_or_else(|| invalid(expected))?;
        let mut version = Version {
            major: major.to_owned(),
            minor: "0".to_owned(),
            patch: "0".to_owned(),
            pre: Vec::new(),
            build: Vec::new(),
        };
        if rest.is_empty() {
            return Ok(version);
        }

        let rest = rest.strip_prefix('.').ok_or_else(|| invalid(expected))?;
        let (minor, rest) = split_number(rest).ok_or_else(|| invalid(expected))?;
        version.minor = minor.to_owned();
        if rest.is_empty() {
            return Ok(version);
        }

        let rest = rest.strip_prefix('.').ok_or_else(|| invalid(expected))?;
        let (patch, rest) = split_number(rest).ok_or_else(|| invalid(expected))?;
        version.patch = patch.to_owned();

        let (rest, build) = match rest.split_once('+') {
            Some((rest, build)) => (rest, Some(build)),
            None => (rest, None),
        };
        if let Some(pre) = rest.strip_prefix('-') {
            let identifiers =
                split_identifiers(pre).ok_or_else(|| invalid("invalid pre-release"))?;
            let leading_zero = identifiers.iter().any(|identifier| {
                identifier.len() > 1
                    && identifier.starts_with('0')
                    && identifier.bytes().all(|byte| byte.is_ascii_digit())
            });
            if leading_zero {
                return Err(invalid("numeric pre-release identifier has a leading zero"));
            }
            version.pre = identifiers.into_iter().map(Identifier::new).collect();
        } else if !rest.is_empty() {
            return Err(invalid(expected));
        }
        if let Some(build) = build {
            let identifiers =
                split_identifiers(build).ok_or_else(|| invalid("invalid build metadata"))?;
            version.build = identifiers.into_iter().map(str::to_owned).collect();
        }
        Ok(version)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        cmp_digits(&self.major, &other.major)
            .then_with(|| cmp_digits(&self.minor, &other.minor))
            .then_with(|| cmp_digits(&self.patch, &other.patch))
            .then_with(|| cmp_prerelease(&self.pre, &other.pre))
    }
}

order_by_cmp!(Version);

/// Writes the canonical form with a `v` prefix and all three numbers.
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)?;
        write_suffixes(f, &self.pre, &self.build)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        let a: Version = a.parse().unwrap();
        let b: Version = b.parse().unwrap();
        a.cmp(&b)
    }

    #[test]
    fn chain_sorts_ascending() {
        // Pre-releases, numeric and alphanumeric identifiers in ascending order.
        let chain = [
            "v1.0.0-alpha",
            "v1.0.0-alpha.1",
            "v1.0.0-alpha.beta",
            "v1.0.0-beta",
            "v1.0.0-beta.2",
            "v1.0.0-beta.11",
            "v1.0.0-rc.1",
            "v1.0.0",
            "v1.2.3-456",
            "v1.2.3-456.789",
            "v1.2.3-456-789",
            "v1.2.3-456a",
            "v1.2.3-pre",
            "v1.2.3-pre.1",
            "v1.2.3-zzz",
            "v1.2.3",
        ];
        for pair in chain.windows(2) {
            assert_eq!(
                cmp(pair[0], pair[1]),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
            assert_eq!(
                cmp(pair[1], pair[0]),
                Ordering::Greater,
                "{} > {}",
                pair[1],
                pair[0]
            );
        }
    }

    #[test]
    fn ordering_table() {
        use Ordering::{Equal, Greater, Less};
        let rows = [
            ("v29.2.0+incompatible", "29.2.0", Equal),
            ("v29.4.3+incompatible", "29.2.0+incompatible", Greater),
            ("v1", "v1.0.0", Equal),
            ("v1.2", "v1.2.0", Equal),
            ("v1.2.3+meta", "v1.2.3", Equal),
            ("v1.2.3-pre+meta", "v1.2.3-pre", Equal),
            ("v1.2.3+meta-pre.sha.256a", "v1.2.3", Equal),
            ("1.2.3", "v1.2.3", Equal),
            // Pseudo-versions sort as pre-releases.
            (
                "v0.0.0-20191109021931-daa7c04131f5",
                "v0.0.0-20200101000000-000000000000",
                Less,
            ),
            ("v0.0.0-20191109021931-daa7c04131f5", "v0.0.1", Less),
            ("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3", Greater),
            ("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4", Less),
            (
                "v1.2.4-0.20191109021931-daa7c04131f5",
                "v1.2.4-0.20200101000000-000000000000",
                Less,
            ),
            (
                "v1.2.3-pre.0.20191109021931-daa7c04131f5",
                "v1.2.3-pre",
                Greater,
            ),
            // Numbers of any length.
            (
                "v123456789012345678901234567890.0.0",
                "v123456789012345678901234567889.0.0",
                Greater,
            ),
            ("v1.10.0", "v1.9.0", Greater),
        ];
        for (a, b, expected) in rows {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn invalid_versions_rejected() {
        for text in [
            "",
            "v",
            "bad",
            "vv1.0.0",
            "v1-pre",
            "v1+meta",
            "v1.2-pre",
            "v1.2+meta",
            "v01.2.3",
            "v1.02.3",
            "v1.2.03",
            "v1.2.3-01",
            "v1.2.3-",
            "v1.2.3+",
            "v1.2.3-a..b",
            "v1.2.3.4",
            " v1.2.3",
            "v1.2.3_x",
        ] {
            assert!(
                text.parse::<Version>().is_err(),
                "{text:?} should be rejected"
            );
        }
    }

    #[test]
    fn incompatible_build_detected() {
        let version: Version = "v29.4.3+incompatible".parse().unwrap();
        assert!(version.is_incompatible());
        assert_eq!(version.to_string(), "v29.4.3+incompatible");
        let version: Version = "v1".parse().unwrap();
        assert_eq!(version.to_string(), "v1.0.0");
    }
}
