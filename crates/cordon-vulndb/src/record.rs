//! Advisory records as the database stores them, one shape per upstream feed.

use serde::{Deserialize, Serialize};

/// One Debian Security Tracker entry: a CVE for one source package in one release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DebianRecord {
    /// Vulnerability id (`CVE-2021-3711`, `TEMP-0000000-0F9E73`, ...).
    pub id: String,
    /// Source package name.
    pub package: String,
    /// Release codename (`bullseye`).
    pub release: String,
    /// Tracker status exactly as published: `resolved`, `open` or `undetermined`.
    pub status: String,
    /// `fixed_version` as published; `"0"` means the release was never affected.
    pub fixed_version: Option<String>,
    /// Tracker urgency as published (`low`, `medium**`, `unimportant`, `end-of-life`,
    /// `not yet assigned`, ...).
    pub urgency: Option<String>,
    /// `nodsa` text when the security team decided against a DSA.
    pub nodsa: Option<String>,
    /// `nodsa_reason` (`ignored`, `postponed`) when published.
    pub nodsa_reason: Option<String>,
    /// Description of the CVE.
    pub description: Option<String>,
    /// Name of the source the record was imported from (see [`crate::SourceInfo`]).
    pub source: String,
}

/// One Alpine secdb fix: a CVE fixed in one version of one package of one branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlpineRecord {
    /// Vulnerability id as listed under `secfixes`.
    pub id: String,
    /// Package (origin) name.
    pub package: String,
    /// Branch, as `distroversion` without the `v` (`3.11`).
    pub branch: String,
    /// Repository (`main`, `community`).
    pub repository: String,
    /// The `secfixes` key; `"0"` means the CVE does not affect this branch.
    pub fixed_version: String,
    /// Name of the source the record was imported from.
    pub source: String,
}

/// An OSV record, reduced to what matching needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsvRecord {
    /// Record id (`PYSEC-2020-96`, `GHSA-...`).
    pub id: String,
    /// `aliases` as published.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `summary`, or the first line of `details` when there is no summary.
    pub summary: Option<String>,
    /// `severity[]` entries (CVSS vectors) as published.
    #[serde(default)]
    pub severity: Vec<OsvSeverity>,
    /// The `affected[]` entries that name the package this record was looked up for.
    #[serde(default)]
    pub affected: Vec<OsvAffected>,
    /// Name of the source the record was imported from.
    pub source: String,
}

/// An OSV `severity[]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsvSeverity {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Vector string or rating.
    pub score: String,
}

/// An OSV `affected[]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsvAffected {
    /// `package.ecosystem` as published (`PyPI`, `npm`, `Debian:11`).
    pub ecosystem: String,
    /// `package.name` as published.
    pub name: String,
    /// `package.purl` when published.
    pub purl: Option<String>,
    /// `ranges[]`.
    #[serde(default)]
    pub ranges: Vec<OsvRange>,
    /// `versions[]`: explicit affected versions.
    #[serde(default)]
    pub versions: Vec<String>,
    /// `database_specific.severity` of this entry or of the record (GHSA `HIGH`,
    /// `MODERATE`, ...).
    pub database_severity: Option<String>,
    /// `ecosystem_specific.severity` or `database_specific.cvss` vectors, if any.
    #[serde(default)]
    pub severity: Vec<OsvSeverity>,
}

/// An OSV `ranges[]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsvRange {
    /// `ECOSYSTEM`, `SEMVER` or `GIT` (git ranges are kept but never match a version).
    #[serde(rename = "type")]
    pub kind: String,
    /// Events in published order.
    pub events: Vec<OsvEvent>,
}

/// One OSV range event; exactly one field is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvEvent {
    /// Version at which the vulnerability starts (`"0"` for all versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// First fixed version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Last affected version, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// Upper limit of the range, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// CVSS data for one CVE from CVE JSON 5 records (CNA and CISA ADP containers) or NVD
/// JSON 2.0 feeds, used to rate vulnerabilities whose own source gives no severity. When
/// several sources rate a CVE, the last source imported wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvssRecord {
    /// CVE id.
    pub id: String,
    /// CVSS vector string, the newest CVSS version published.
    pub vector: String,
    /// Base score as published.
    pub score: Option<f64>,
    /// Name of the source the record was imported from.
    pub source: String,
}
