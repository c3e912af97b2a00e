//! The report documents presenters render.

use std::collections::BTreeMap;

use cordon_model::{
    Distro, Finding, MalwareEngine, MalwareFinding, MalwareWarning, Package, Severity,
};
use cordon_policy::{GateResult, IgnoredFinding};
use serde::{Deserialize, Serialize};

/// Version of the JSON report schema; raised on any incompatible change.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// The program that wrote a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Always `cordon`.
    pub name: String,
    /// Cordon's version.
    pub version: String,
}

impl ToolInfo {
    /// Describes this build of Cordon.
    pub fn current() -> ToolInfo {
        ToolInfo {
            name: "cordon".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// One layer of the scanned image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerSummary {
    /// Position, 0 for the base layer.
    pub index: usize,
    /// Digest of the layer blob as stored.
    pub digest: String,
    /// Digest of the uncompressed layer tar.
    pub diff_id: String,
    /// Stored size in bytes.
    pub size: u64,
    /// The build step that created the layer, from the image history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// The scanned image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSummary {
    /// The image reference as given on the command line.
    pub source: String,
    /// Detected format (`docker-archive`, `oci-dir`, `oci-archive`, `dir`).
    pub format: String,
    /// Manifest digest, when the format has a manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// Config digest (the image id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<String>,
    /// Repository tags or OCI reference names.
    #[serde(default)]
    pub tags: Vec<String>,
    /// `os/architecture[/variant]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Layers, base first.
    #[serde(default)]
    pub layers: Vec<LayerSummary>,
}

/// Settings a scan ran with, so that its result can be reproduced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSettings {
    /// Lowest severity the gate counts.
    pub fail_on: Severity,
    /// Count at which the gate fails.
    pub max_count: usize,
    /// Whether findings without a fixed version were dropped.
    pub ignore_unfixed: bool,
    /// Scanners that ran (`vuln`, `malware`).
    pub scanners: Vec<String>,
    /// Requested platform, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Path of the vulnerability database.
    pub db_path: String,
    /// Ignore file applied, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_file: Option<String>,
    /// OpenVEX documents applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vex: Vec<String>,
}

/// One source in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSummary {
    /// Source name.
    pub name: String,
    /// Feed kind (`osv`, `debian-tracker`, `alpine-secdb`, `cve5`).
    pub kind: String,
    /// Path or URL the source was read from.
    pub location: String,
    /// Records imported.
    pub records: u64,
}

/// The vulnerability database a scan used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSummary {
    /// Database schema version.
    pub schema_version: u32,
    /// Build time, RFC 3339.
    pub built_at: String,
    /// Imported sources.
    pub sources: Vec<SourceSummary>,
}

/// Counts for the report header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Packages cataloged.
    pub packages: usize,
    /// Vulnerability findings reported.
    pub findings: usize,
    /// Vulnerability findings per severity, every level present (zero when none).
    pub by_severity: BTreeMap<Severity, usize>,
    /// Malware findings reported.
    #[serde(default)]
    pub malware: usize,
    /// Malware findings per severity, every level present (zero when none).
    #[serde(default)]
    pub malware_by_severity: BTreeMap<Severity, usize>,
}

impl Summary {
    /// Counts vulnerability and malware findings per severity.
    pub fn new(packages: usize, findings: &[Finding], malware: &[MalwareFinding]) -> Summary {
        let zeroes = || -> BTreeMap<Severity, usize> {
            Severity::ALL.iter().map(|level| (*level, 0)).collect()
        };
        let mut by_severity = zeroes();
        for finding in findings {
            *by_severity.entry(finding.severity).or_default() += 1;
        }
        let mut malware_by_severity = zeroes();
        for finding in malware {
            *malware_by_severity.entry(finding.severity).or_default() += 1;
        }
        Summary {
            packages,
            findings: findings.len(),
            by_severity,
            malware: malware.len(),
            malware_by_severity,
        }
    }
}

/// Coverage of a malware scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MalwareScanInfo {
    /// Regular files scanned, counting every layer's version and every archive member.
    pub files_scanned: u64,
    /// Bytes passed to the engines, counting archive members after decompression.
    pub bytes_scanned: u64,
    /// Engines that took part (`yara`, `hash`, `clamav`, `virustotal`).
    pub engines: Vec<MalwareEngine>,
    /// Everything that limited the scan: skipped or truncated files, archive limits,
    /// engine errors, rule files that failed to compile.
    pub warnings: Vec<MalwareWarning>,
}

/// Result of `cordon scan`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanReport {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The program that wrote the report.
    pub tool: ToolInfo,
    /// When the scan ran, RFC 3339 UTC.
    pub created_at: String,
    /// The scanned image.
    pub image: ImageSummary,
    /// Detected OS release.
    pub distro: Option<Distro>,
    /// Settings used.
    pub settings: ScanSettings,
    /// The vulnerability database used.
    pub database: Option<DatabaseSummary>,
    /// Counts.
    pub summary: Summary,
    /// Verdict of the severity and count gate.
    pub gate: GateResult,
    /// Vulnerability findings, most severe first.
    pub findings: Vec<Finding>,
    /// Malware findings, most severe first; empty when the malware scanner did not run.
    #[serde(default)]
    pub malware: Vec<MalwareFinding>,
    /// Coverage of the malware scan; `None` when it did not run.
    #[serde(default)]
    pub malware_scan: Option<MalwareScanInfo>,
    /// Findings an ignore file entry or a VEX statement suppressed; the gate does not
    /// count them and `findings`, `malware` and `summary` leave them out.
    #[serde(default)]
    pub ignored: Vec<IgnoredFinding>,
    /// Packages cataloged.
    pub packages: Vec<Package>,
    /// Non-fatal problems met while reading, cataloging and matching.
    pub warnings: Vec<String>,
}

/// Result of `cordon sbom`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SbomReport {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The program that wrote the report.
    pub tool: ToolInfo,
    /// When the catalog was made, RFC 3339 UTC.
    pub created_at: String,
    /// The cataloged image.
    pub image: ImageSummary,
    /// Detected OS release.
    pub distro: Option<Distro>,
    /// Packages cataloged.
    pub packages: Vec<Package>,
    /// Non-fatal problems met while reading and cataloging.
    pub warnings: Vec<String>,
}
