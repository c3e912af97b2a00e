//! Debian package versions: `[epoch:]upstream_version[-debian_revision]`.
//!
//! Ordering follows Debian Policy 5.6.12 and dpkg's `verrevcmp` (lib/dpkg/version.c): the
//! epoch compares numerically, then the upstream version, then the revision. Within each
//! part, non-digit runs compare character by character, where `~` sorts before everything
//! (even the end of the string), letters sort before every other character, and digit
//! runs compare numerically at any length.
//!
//! Parsing rejects what dpkg's `parseversion` rejects as an error: an empty string,
//! embedded whitespace, an empty or non-numeric or too large epoch, an empty upstream
//! version and an empty revision after a trailing `-`. dpkg only warns about an upstream
//! version that does not start with a digit and about characters outside
//! `[A-Za-z0-9.+~-:]`, and this parser accepts both, because installed packages carry
//! such versions and `verrevcmp` orders them all.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::{order_by_cmp, Scheme, VersionError};

/// Largest epoch dpkg accepts (`INT_MAX`).
const MAX_EPOCH: u32 = i32::MAX.unsigned_abs();

/// A parsed dpkg version.
#[derive(Debug, Clone)]
pub struct Version {
    epoch: u32,
    upstream: String,
    revision: String,
}

impl Version {
    /// Epoch, `0` when the version has none.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Upstream version: the text between the epoch and the last `-`.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// Debian revision: the text after the last `-`, empty when there is none.
    pub fn revision(&self) -> &str {
        &self.revision
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Version, VersionError> {
        let invalid = |reason: &str| VersionError::new(Scheme::Dpkg, text, reason);

        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(invalid("version string is empty"));
        }
        if trimmed.chars().any(char::is_whitespace) {
            return Err(invalid("version string has embedded spaces"));
        }

        let (epoch, rest) = match trimmed.split_once(':') {
            Some((epoch, rest)) => (parse_epoch(epoch).map_err(invalid)?, rest),
            None => (0, trimmed),
        };
        if rest.is_empty() {
            return Err(invalid("nothing after colon in version number"));
        }

        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((upstream, revision)) => {
                if revision.is_empty() {
                    return Err(invalid("revision number is empty"));
                }
                (upstream, revision)
            }
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(invalid("version number is empty"));
        }

        Ok(Version {
            epoch,
            upstream: upstream.to_owned(),
            revision: revision.to_owned(),
        })
    }
}

fn parse_epoch(epoch: &str) -> Result<u32, &'static str> {
    if epoch.is_empty() {
        return Err("epoch in version is empty");
    }
    if epoch.starts_with('-') {
        return Err("epoch in version is negative");
    }
    if !epoch.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err("epoch in version is not number");
    }
    epoch
        .parse::<u32>()
        .ok()
        .filter(|value| *value <= MAX_EPOCH)
        .ok_or("epoch in version is too big")
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(&self.upstream, &other.upstream))
            .then_with(|| verrevcmp(&self.revision, &other.revision))
    }
}

order_by_cmp!(Version);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A colon after the epoch needs an explicit epoch, or it would read as one.
        if self.epoch != 0 || self.upstream.contains(':') || self.revision.contains(':') {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.upstream)?;
        if !self.revision.is_empty() {
            write!(f, "-{}", self.revision)?;
        }
        Ok(())
    }
}

/// Weight of one character in a non-digit run. The end of the string and a digit weigh 0.
fn order(byte: Option<u8>) -> i32 {
    match byte {
        None => 0,
        Some(b'~') => -1,
        Some(byte) if byte.is_ascii_digit() => 0,
        Some(byte) if byte.is_ascii_alphabetic() => i32::from(byte),
        Some(byte) => i32::from(byte) + 256,
    }
}

/// Compares two upstream versions or two revisions the way dpkg's `verrevcmp` does.
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let is_digit_at = |text: &[u8], index: usize| text.get(index).is_some_and(u8::is_ascii_digit);

    while i < a.len() || j < b.len() {
        // Non-digit run: compare character weights until both sides reach a digit or the end.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let (weight_a, weight_b) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if weight_a != weight_b {
                return weight_a.cmp(&weight_b);
            }
            i += 1;
            j += 1;
        }

        // Digit run: skip leading zeros, then the longer run is larger, else the first
        // differing digit decides.
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_difference = Ordering::Equal;
        while is_digit_at(a, i) && is_digit_at(b, j) {
            if first_difference == Ordering::Equal {
                first_difference = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if is_digit_at(a, i) {
            return Ordering::Greater;
        }
        if is_digit_at(b, j) {
            return Ordering::Less;
        }
        if first_difference != Ordering::Equal {
            return first_difference;
        }
    }
    Ordering::Equal
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
    fn ordering_table() {
        use Ordering::{Equal, Greater, Less};
        let rows = [
            // Epochs.
            ("1.0", "0:1.0", Equal),
            ("1:1.0", "2.0", Greater),
            ("1:1.0", "1:1.0", Equal),
            ("2:0.1", "1:99", Greater),
            ("0:1.0-1", "1.0-1", Equal),
            // Tilde sorts before everything, even the end of the string.
            ("1.0~rc1", "1.0", Less),
            ("1.0~~", "1.0~~a", Less),
            ("1.0~~a", "1.0~", Less),
            ("1.0~", "1.0", Less),
            ("1.0", "1.0a", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0~beta", "1.0~alpha", Greater),
            ("2.30-21ubuntu1~18.04.4", "2.30-21ubuntu1~18.04.5", Less),
            ("2.30-21ubuntu1~18.04.4", "2.30-21ubuntu1", Less),
            ("1.0-1~bpo1", "1.0-1", Less),
            // Letters sort before non-letters.
            ("1.0a", "1.0+", Less),
            ("1.0a", "1.0.1", Less),
            ("1.0+dfsg", "1.0.1", Less),
            ("1.2.3+dfsg-1", "1.2.3-1", Greater),
            ("1.0-1ubuntu1", "1.0-1", Greater),
            ("1.0-1+deb10u1", "1.0-1", Greater),
            ("1.0-1+deb10u1", "1.0-1+deb11u1", Less),
            ("a", "b", Less),
            ("A", "a", Less),
            ("Z", "a", Less),
            // Digit runs compare numerically.
            ("1.10", "1.9", Greater),
            ("1.001", "1.1", Equal),
            ("1.0", "1.00", Equal),
            ("1.0", "1", Greater),
            ("1.2.3-10", "1.2.3-9", Greater),
            ("7.64.0-4+deb10u2", "7.64.0-4+deb10u10", Less),
            ("1.1.1n-0+deb11u5", "1.1.1w-0+deb11u1", Less),
            ("2.7.4+dfsg1-3", "2.7.4-3", Greater),
            (
                "99999999999999999999999999",
                "99999999999999999999999998",
                Greater,
            ),
            (
                "1.0.99999999999999999999999999",
                "1.0.100000000000000000000000000",
                Less,
            ),
            // Revision compares only when the upstream versions tie.
            ("1.0-2", "1.0-10", Less),
            ("1.0", "1.0-0", Equal),
            ("1.0-a", "1.0-1", Greater),
            // Hyphens in the upstream version: the last hyphen starts the revision.
            ("1.0-1-1", "1.0-1", Greater),
            ("1.0-1-1", "1.0-2", Greater),
            // Colons in the upstream version are allowed after an epoch.
            ("1:2:3", "1:2:4", Less),
            // Leading whitespace is ignored, as dpkg does.
            ("  1.0 ", "1.0", Equal),
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
            "   ",
            "1.0 1",
            ":1.0",
            "a:1.0",
            "-1:1.0",
            "1:",
            "1.0-",
            "-1",
            "99999999999:1.0",
            "2147483648:1",
        ] {
            assert!(
                text.parse::<Version>().is_err(),
                "{text:?} should be rejected"
            );
        }
    }

    #[test]
    fn lenient_upstream_accepted() {
        // dpkg only warns about these.
        for text in ["a1.0", "1.0_beta", "1.0@x", "~1"] {
            assert!(text.parse::<Version>().is_ok(), "{text:?} should parse");
        }
        assert_eq!(cmp("~1", "1"), Ordering::Less);
    }

    #[test]
    fn parts_split_at_colon_and_last_hyphen() {
        let version: Version = "3:1.2-3-4".parse().unwrap();
        assert_eq!(version.epoch(), 3);
        assert_eq!(version.upstream(), "1.2-3");
        assert_eq!(version.revision(), "4");
        assert_eq!(version.to_string(), "3:1.2-3-4");
    }

    #[test]
    fn display_keeps_zero_epoch_before_colon() {
        let version: Version = "0:1:2".parse().unwrap();
        assert_eq!(version.to_string(), "0:1:2");
        let version: Version = "0:1-2:3".parse().unwrap();
        assert_eq!(version.to_string(), "0:1-2:3");
        let version: Version = "0:1.2".parse().unwrap();
        assert_eq!(version.to_string(), "1.2");
    }

    #[test]
    fn max_epoch_accepted() {
        let version: Version = "2147483647:1".parse().unwrap();
        assert_eq!(version.epoch(), 2_147_483_647);
    }
}
