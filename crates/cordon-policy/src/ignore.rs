//! Ignore files: YAML lists of accepted findings, each with a reason and an optional
//! expiry date.
//!
//! ```yaml
//! ignore:
//!   - id: CVE-2021-3711          # advisory id or alias, or a malware rule id
//!     package: openssl           # optional: package name, source name or purl
//!     reason: not reachable, SM2 is never used
//!     expires: 2027-01-31        # optional: applies through this day (UTC)
//!   - id: eicar-test-file
//!     path: "usr/share/doc/**"   # optional: glob over the path in the image
//!     layer: 2                   # optional: layer index or diff_id
//!     reason: test fixture shipped on purpose
//! ```

use std::path::{Path, PathBuf};

use cordon_model::{Finding, LayerRef, MalwareFinding};
use globset::{GlobBuilder, GlobMatcher};
use serde::{Deserialize, Deserializer};
use time::Date;

use crate::purl::PurlPattern;

/// Error reading or parsing an ignore file.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreFileError {
    /// The file could not be read.
    #[error("cannot read ignore file `{path}`: {source}")]
    Read {
        /// The ignore file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid ignore file.
    #[error("invalid ignore file `{path}` at line {line}: {message}")]
    Invalid {
        /// The ignore file.
        path: PathBuf,
        /// Line of the problem, 1-based, or 0 when the parser names no position.
        line: usize,
        /// Description of the problem.
        message: String,
    },
}

/// Layer an entry applies to: its index (0 for the base layer) or its diff_id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum LayerSelector {
    /// Position of the layer in the image.
    Index(usize),
    /// Digest of the uncompressed layer tar, `sha256:...`.
    DiffId(String),
}

impl LayerSelector {
    fn matches(&self, layer: Option<&LayerRef>) -> bool {
        let Some(layer) = layer else {
            return false;
        };
        match self {
            LayerSelector::Index(index) => layer.index == *index,
            LayerSelector::DiffId(diff_id) => layer.diff_id.eq_ignore_ascii_case(diff_id),
        }
    }
}

/// A package an entry is narrowed to: a package URL, or a binary or source package name.
#[derive(Debug, Clone)]
enum PackageSelector {
    Purl(PurlPattern),
    Name(String),
}

impl<'de> Deserialize<'de> for PackageSelector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.starts_with("pkg:") {
            PurlPattern::parse(&text)
                .map(PackageSelector::Purl)
                .map_err(serde::de::Error::custom)
        } else {
            Ok(PackageSelector::Name(text))
        }
    }
}

/// A compiled path glob; `*` stays inside one path component and `**` crosses them.
#[derive(Debug, Clone)]
struct PathGlob {
    pattern: String,
    matcher: GlobMatcher,
}

impl<'de> Deserialize<'de> for PathGlob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // Paths in findings carry no leading `/`, so one in the pattern is dropped.
        let pattern = text.trim_start_matches('/').to_string();
        let glob = GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|error| serde::de::Error::custom(format!("invalid path glob: {error}")))?;
        Ok(PathGlob {
            pattern: text,
            matcher: glob.compile_matcher(),
        })
    }
}

/// One accepted finding.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    /// Advisory id (CVE, GHSA, OSV), matched against a finding's id and aliases, or a
    /// malware rule id. Compared without regard to ASCII case.
    pub id: String,
    package: Option<PackageSelector>,
    path: Option<PathGlob>,
    /// Layer the finding must come from.
    pub layer: Option<LayerSelector>,
    /// Reason the finding is accepted. It is required.
    pub reason: String,
    /// Last day (UTC) on which the entry applies, `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "deserialize_date")]
    pub expires: Option<Date>,
}

impl IgnoreEntry {
    /// Returns the package selector as written, if any.
    pub fn package(&self) -> Option<String> {
        self.package.as_ref().map(|selector| match selector {
            PackageSelector::Purl(pattern) => pattern.text().to_string(),
            PackageSelector::Name(name) => name.clone(),
        })
    }

    /// Returns the path glob as written, if any.
    pub fn path(&self) -> Option<&str> {
        self.path.as_ref().map(|glob| glob.pattern.as_str())
    }

    /// Tells whether the entry has expired on `today`: it applies through its `expires`
    /// day and stops the day after.
    pub fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|last_day| today > last_day)
    }

    /// Tells whether the entry matches a vulnerability finding, ignoring expiry. A path
    /// glob is matched against the file that proves the package.
    pub fn matches_finding(&self, finding: &Finding) -> bool {
        let id_matches = finding.id.eq_ignore_ascii_case(&self.id)
            || finding
                .aliases
                .iter()
                .any(|alias| alias.eq_ignore_ascii_case(&self.id));
        if !id_matches {
            return false;
        }
        if let Some(selector) = &self.package {
            let package = &finding.package;
            let package_matches = match selector {
                PackageSelector::Purl(pattern) => pattern.matches(&package.purl),
                PackageSelector::Name(name) => {
                    package.name == *name || package.source_name.as_deref() == Some(name)
                }
            };
            if !package_matches {
                return false;
            }
        }
        if let Some(glob) = &self.path {
            if !glob.matcher.is_match(&finding.package.location) {
                return false;
            }
        }
        self.layer_matches(finding.layer.as_ref())
    }

    /// Tells whether the entry matches a malware finding, ignoring expiry. An entry
    /// narrowed to a package never matches malware, which belongs to no package.
    pub fn matches_malware(&self, finding: &MalwareFinding) -> bool {
        if !finding.rule_id.eq_ignore_ascii_case(&self.id) || self.package.is_some() {
            return false;
        }
        if let Some(glob) = &self.path {
            if !glob.matcher.is_match(&finding.path) {
                return false;
            }
        }
        self.layer_matches(finding.layer.as_ref())
    }

    fn layer_matches(&self, layer: Option<&LayerRef>) -> bool {
        self.layer
            .as_ref()
            .is_none_or(|selector| selector.matches(layer))
    }
}

fn deserialize_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Date>, D::Error> {
    let text = String::deserialize(deserializer)?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(&text, &format).map(Some).map_err(|_| {
        serde::de::Error::custom(format!("invalid date `{text}`, expected YYYY-MM-DD"))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreDocument {
    #[serde(default)]
    ignore: Vec<IgnoreEntry>,
}

/// A parsed ignore file.
#[derive(Debug, Clone)]
pub struct IgnoreFile {
    /// Path the file was read from.
    pub path: PathBuf,
    /// Entries in file order.
    pub entries: Vec<IgnoreEntry>,
}

impl IgnoreFile {
    /// Reads and parses the ignore file at `path`.
    pub fn read(path: &Path) -> Result<IgnoreFile, IgnoreFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| IgnoreFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        IgnoreFile::parse(path, &text)
    }

    /// Parses ignore file text; `path` names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<IgnoreFile, IgnoreFileError> {
        let invalid = |line: usize, message: String| IgnoreFileError::Invalid {
            path: path.to_path_buf(),
            line,
            message,
        };
        // An empty file or one holding only comments is a valid file with no entries.
        let document: Option<IgnoreDocument> = serde_norway::from_str(text).map_err(|error| {
            let line = error.location().map_or(0, |location| location.line());
            invalid(line, crate::without_location(&error.to_string()))
        })?;
        let entries = document.map(|document| document.ignore).unwrap_or_default();
        for (index, entry) in entries.iter().enumerate() {
            if entry.id.trim().is_empty() {
                return Err(invalid(0, format!("entry {} has an empty `id`", index + 1)));
            }
            if entry.reason.trim().is_empty() {
                return Err(invalid(
                    0,
                    format!("entry {} ({}) has an empty `reason`", index + 1, entry.id),
                ));
            }
        }
        Ok(IgnoreFile {
            path: path.to_path_buf(),
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use cordon_model::{Ecosystem, FindingStatus, MalwareEngine, Package, Severity};
    use time::macros::date;

    use super::*;

    fn parse(text: &str) -> Result<IgnoreFile, IgnoreFileError> {
        IgnoreFile::parse(Path::new(".cordonignore"), text)
    }

    fn entry(text: &str) -> IgnoreEntry {
        let file = parse(text).unwrap();
        assert_eq!(file.entries.len(), 1);
        file.entries.into_iter().next().unwrap()
    }

    fn openssl_finding() -> Finding {
        Finding {
            id: "CVE-2021-3711".to_string(),
            aliases: vec!["DSA-4963-1".to_string()],
            package: Package {
                name: "libssl1.1".to_string(),
                version: "1.1.1k-1+deb11u1".to_string(),
                source_name: Some("openssl".to_string()),
                source_version: Some("1.1.1k-1+deb11u1".to_string()),
                ecosystem: Ecosystem::Deb,
                purl: "pkg:deb/debian/libssl1.1@1.1.1k-1%2Bdeb11u1?arch=amd64&distro=debian-11"
                    .to_string(),
                arch: Some("amd64".to_string()),
                layer: Some(LayerRef {
                    index: 0,
                    diff_id: "sha256:aaaa".to_string(),
                }),
                location: "var/lib/dpkg/status".to_string(),
                dev: false,
                direct: None,
                licenses: Vec::new(),
            },
            installed_version: "1.1.1k-1+deb11u1".to_string(),
            fixed_version: Some("1.1.1l-1".to_string()),
            status: FindingStatus::Fixed,
            severity: Severity::Critical,
            severity_source: None,
            data_source: "debian-tracker".to_string(),
            layer: Some(LayerRef {
                index: 0,
                diff_id: "sha256:aaaa".to_string(),
            }),
            summary: None,
            matched_by: "fixed in 1.1.1l-1".to_string(),
        }
    }

    fn eicar_in(path: &str, layer: usize) -> MalwareFinding {
        MalwareFinding {
            rule_id: "eicar-test-file".to_string(),
            namespace: "builtin".to_string(),
            engine: MalwareEngine::Yara,
            severity: Severity::High,
            description: "EICAR test file".to_string(),
            attack_id: None,
            reference: None,
            path: path.to_string(),
            layer: Some(LayerRef {
                index: layer,
                diff_id: format!("sha256:{layer:064}"),
            }),
            hidden_in_final_image: false,
            also_in_layers: Vec::new(),
            sha256: String::new(),
            archive_member: None,
            matches: Vec::new(),
        }
    }

    #[test]
    fn id_matches_case_insensitively() {
        let rule = entry("ignore:\n  - id: cve-2021-3711\n    reason: accepted\n");
        assert!(rule.matches_finding(&openssl_finding()));
    }

    #[test]
    fn alias_matches_finding() {
        let rule = entry("ignore:\n  - id: DSA-4963-1\n    reason: accepted\n");
        assert!(rule.matches_finding(&openssl_finding()));
    }

    #[test]
    fn other_id_does_not_match() {
        let rule = entry("ignore:\n  - id: CVE-2021-3712\n    reason: accepted\n");
        assert!(!rule.matches_finding(&openssl_finding()));
    }

    #[test]
    fn package_by_binary_or_source_name() {
        for name in ["libssl1.1", "openssl"] {
            let text =
                format!("ignore:\n  - id: CVE-2021-3711\n    package: {name}\n    reason: r\n");
            assert!(entry(&text).matches_finding(&openssl_finding()), "{name}");
        }
        let other = entry("ignore:\n  - id: CVE-2021-3711\n    package: libssl3\n    reason: r\n");
        assert!(!other.matches_finding(&openssl_finding()));
    }

    #[test]
    fn package_by_purl_with_and_without_version() {
        let bare = entry(
            "ignore:\n  - id: CVE-2021-3711\n    package: pkg:deb/debian/libssl1.1\n    reason: r\n",
        );
        assert!(bare.matches_finding(&openssl_finding()));
        let same = entry(
            "ignore:\n  - id: CVE-2021-3711\n    package: \"pkg:deb/debian/libssl1.1@1.1.1k-1%2Bdeb11u1\"\n    reason: r\n",
        );
        assert!(same.matches_finding(&openssl_finding()));
        let other = entry(
            "ignore:\n  - id: CVE-2021-3711\n    package: pkg:deb/debian/libssl1.1@1.1.1n-0\n    reason: r\n",
        );
        assert!(!other.matches_finding(&openssl_finding()));
    }

    #[test]
    fn layer_by_index_and_diff_id() {
        let by_index = entry("ignore:\n  - id: CVE-2021-3711\n    layer: 0\n    reason: r\n");
        assert!(by_index.matches_finding(&openssl_finding()));
        let by_digest =
            entry("ignore:\n  - id: CVE-2021-3711\n    layer: \"sha256:aaaa\"\n    reason: r\n");
        assert!(by_digest.matches_finding(&openssl_finding()));
        let other = entry("ignore:\n  - id: CVE-2021-3711\n    layer: 3\n    reason: r\n");
        assert!(!other.matches_finding(&openssl_finding()));
    }

    #[test]
    fn malware_path_glob_and_layer() {
        let rule = entry(
            "ignore:\n  - id: eicar-test-file\n    path: /usr/share/doc/**\n    layer: 1\n    reason: fixture\n",
        );
        assert!(rule.matches_malware(&eicar_in("usr/share/doc/eicar/eicar.com", 1)));
        assert!(!rule.matches_malware(&eicar_in("usr/share/doc/eicar/eicar.com", 2)));
        assert!(!rule.matches_malware(&eicar_in("root/eicar.com", 1)));
    }

    #[test]
    fn single_star_stays_in_directory() {
        let rule = entry("ignore:\n  - id: eicar-test-file\n    path: \"tmp/*\"\n    reason: r\n");
        assert!(rule.matches_malware(&eicar_in("tmp/eicar.com", 0)));
        assert!(!rule.matches_malware(&eicar_in("tmp/sub/eicar.com", 0)));
    }

    #[test]
    fn package_entry_never_matches_malware() {
        let rule = entry("ignore:\n  - id: eicar-test-file\n    package: busybox\n    reason: r\n");
        assert!(!rule.matches_malware(&eicar_in("bin/busybox", 0)));
    }

    #[test]
    fn expiry_applies_through_last_day() {
        let rule =
            entry("ignore:\n  - id: CVE-2021-3711\n    reason: r\n    expires: 2026-12-04\n");
        assert!(!rule.is_expired(date!(2026 - 12 - 04)));
        assert!(rule.is_expired(date!(2026 - 12 - 05)));
        let forever = entry("ignore:\n  - id: CVE-2021-3711\n    reason: r\n");
        assert!(!forever.is_expired(date!(2999 - 01 - 01)));
    }

    #[test]
    fn empty_file_has_no_entries() {
        assert!(parse("").unwrap().entries.is_empty());
        assert!(parse("# nothing accepted yet\n")
            .unwrap()
            .entries
            .is_empty());
    }

    #[test]
    fn invalid_date_names_line() {
        let error = parse("ignore:\n  - id: CVE-1\n    reason: r\n    expires: 31/12/2026\n")
            .unwrap_err()
            .to_string();
        // The YAML parser places errors from a value's own check at the entry's start.
        assert!(error.contains("`.cordonignore` at line 2"), "{error}");
        assert!(error.contains("31/12/2026"), "{error}");
        assert!(!error.contains('\n'), "{error}");
    }

    #[test]
    fn missing_reason_rejected() {
        let error = parse("ignore:\n  - id: CVE-1\n").unwrap_err().to_string();
        assert!(error.contains("reason"), "{error}");
    }

    #[test]
    fn unknown_field_rejected() {
        let error = parse("ignore:\n  - id: CVE-1\n    reason: r\n    pakage: x\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("pakage"), "{error}");
        assert!(error.contains("line 4"), "{error}");
    }

    #[test]
    fn invalid_glob_rejected() {
        let error = parse("ignore:\n  - id: x\n    reason: r\n    path: \"a[\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("invalid path glob"), "{error}");
    }
}
