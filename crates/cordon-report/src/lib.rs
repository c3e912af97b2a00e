//! Presenters for scan results.
//!
//! The CLI and the server build one [`ScanReport`] (or [`SbomReport`]) and hand it to the
//! presenter for the requested [`Format`]. The JSON form of [`ScanReport`] is Cordon's
//! stable report schema, documented in `docs/report-format.md`.

#![forbid(unsafe_code)]

mod cyclonedx;
mod model;
mod sarif;
mod table;

use std::io::{self, Write};

pub use model::{
    DatabaseSummary, ImageSummary, LayerSummary, MalwareScanInfo, SbomReport, ScanReport,
    ScanSettings, SourceSummary, Summary, ToolInfo, REPORT_SCHEMA_VERSION,
};

/// Output format of `cordon scan` and `cordon sbom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable summary and findings table.
    Table,
    /// Cordon's JSON report.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// CycloneDX 1.6 JSON; with vulnerabilities for `scan`.
    CycloneDxJson,
}

/// Writes a scan report in `format`.
pub fn write_scan(
    report: &ScanReport,
    format: Format,
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Table => table::write_scan_table(report, out, color),
        Format::Json => write_json(report, out),
        Format::Sarif => write_json(&sarif::scan_to_sarif(report), out),
        Format::CycloneDxJson => write_json(&cyclonedx::scan_to_cyclonedx(report), out),
    }
}

/// Writes an SBOM in `format` (`Table` lists packages; `Sarif` is not an SBOM format and
/// falls back to JSON).
pub fn write_sbom(report: &SbomReport, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => table::write_package_table(report, out),
        Format::Json | Format::Sarif => write_json(report, out),
        Format::CycloneDxJson => write_json(&cyclonedx::sbom_to_cyclonedx(report), out),
    }
}

fn write_json<T: serde::Serialize>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::other)?;
    writeln!(out)
}
