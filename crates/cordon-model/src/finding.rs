use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{LayerRef, Package, Severity};

/// Vendor status of a vulnerability for the installed package.
///
/// Statuses that mean "not affected" never become findings; every other status the
/// sources publish is kept here rather than dropped or reported as fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingStatus {
    /// A fixed version exists and the installed version is older.
    Fixed,
    /// Affected and no fixed version is published yet (Debian `open`, OSV range without
    /// a `fixed` event).
    NotFixed,
    /// The vendor has not yet decided whether the package is affected (Debian
    /// `undetermined`).
    Undetermined,
    /// The release or package is past its end of life and will get no fix (Debian
    /// `<end-of-life>`).
    EndOfLife,
    /// The vendor will not issue a security update because the issue is minor (Debian
    /// `no-dsa`); a fix may come in a point release.
    NoDsa,
    /// The vendor decided to ignore the issue for this release (Debian `<ignored>` or
    /// `nodsa_reason: ignored`).
    WillNotFix,
    /// The vendor postponed the fix (Debian `<postponed>`).
    Postponed,
}

impl FindingStatus {
    /// Returns the status name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Fixed => "fixed",
            FindingStatus::NotFixed => "not-fixed",
            FindingStatus::Undetermined => "undetermined",
            FindingStatus::EndOfLife => "end-of-life",
            FindingStatus::NoDsa => "no-dsa",
            FindingStatus::WillNotFix => "will-not-fix",
            FindingStatus::Postponed => "postponed",
        }
    }
}

impl fmt::Display for FindingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity as one source rated it, kept next to the level Cordon derived from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityRating {
    /// Where the rating came from, for example `debian-tracker`, `osv`, `cve5`.
    pub source: String,
    /// The source's own rating text (Debian urgency, GHSA severity), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<String>,
    /// CVSS vector string, if the source gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_vector: Option<String>,
    /// CVSS base score, given by the source or computed from the vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f64>,
}

/// One vulnerability affecting one installed package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Advisory id as the data source names it (`CVE-2021-3711`, `PYSEC-2020-96`).
    pub id: String,
    /// Other ids of the same vulnerability (CVE, GHSA, ...), without `id` itself.
    pub aliases: Vec<String>,
    /// The affected package.
    pub package: Package,
    /// The version compared against the advisory: the source version for Debian
    /// packages matched by source, else the installed version.
    pub installed_version: String,
    /// First version that fixes the vulnerability, when one is published.
    pub fixed_version: Option<String>,
    /// Vendor status of the vulnerability for this package.
    pub status: FindingStatus,
    /// Level on the seven-level scale.
    pub severity: Severity,
    /// The rating the level was derived from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_source: Option<SeverityRating>,
    /// Data source the match came from (`debian-tracker`, `alpine-secdb`, `osv`).
    pub data_source: String,
    /// Layer that introduced the package.
    pub layer: Option<LayerRef>,
    /// One-line summary of the vulnerability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Human-readable reason the package matched (range or fixed version compared).
    pub matched_by: String,
}
