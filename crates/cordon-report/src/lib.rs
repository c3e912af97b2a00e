//! Presenters for scan results.
//!
//! The CLI and the server build one [`ScanReport`] (or [`SbomReport`]) and hand it to the
//! presenter for the requested [`Format`]. The JSON form of [`ScanReport`] is Cordon's
//! stable report schema, documented in `docs/report-format.md`.

#![forbid(unsafe_code)]

mod cyclonedx;
mod fit;
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

/// Width of table output when standard output is not a terminal, in columns.
pub const DEFAULT_TABLE_WIDTH: usize = 120;

/// Presentation of the `table` format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableOptions {
    /// Colour severities with ANSI escapes.
    pub color: bool,
    /// Terminal columns the tables must fit in. Package, version, status and path cells
    /// are truncated with an ellipsis to fit; ids and severities never are.
    pub width: usize,
}

impl Default for TableOptions {
    /// No colour, [`DEFAULT_TABLE_WIDTH`] columns.
    fn default() -> Self {
        TableOptions {
            color: false,
            width: DEFAULT_TABLE_WIDTH,
        }
    }
}

impl TableOptions {
    /// Returns options for output written to standard output, or to a file when
    /// `to_file` is set: the terminal's width when standard output is a terminal,
    /// otherwise [`DEFAULT_TABLE_WIDTH`].
    pub fn for_output(color: bool, to_file: bool) -> Self {
        let terminal = if to_file {
            None
        } else {
            // comfy-table reads the terminal size only when standard output is a terminal.
            comfy_table::Table::new().width()
        };
        TableOptions {
            color,
            width: terminal
                .map(usize::from)
                .filter(|&columns| columns > 0)
                .unwrap_or(DEFAULT_TABLE_WIDTH),
        }
    }
}

/// Writes a scan report in `format`; `table` applies to [`Format::Table`] only.
pub fn write_scan(
    report: &ScanReport,
    format: Format,
    out: &mut dyn Write,
    table: &TableOptions,
) -> io::Result<()> {
    match format {
        Format::Table => table::write_scan_table(report, out, table),
        Format::Json => write_json(report, out),
        Format::Sarif => write_json(&sarif::scan_to_sarif(report), out),
        Format::CycloneDxJson => write_json(&cyclonedx::scan_to_cyclonedx(report), out),
    }
}

/// Writes an SBOM in `format` (`Table` lists packages; `Sarif` is not an SBOM format and
/// falls back to JSON). `table` applies to [`Format::Table`] only.
pub fn write_sbom(
    report: &SbomReport,
    format: Format,
    out: &mut dyn Write,
    table: &TableOptions,
) -> io::Result<()> {
    match format {
        Format::Table => table::write_package_table(report, out, table),
        Format::Json | Format::Sarif => write_json(report, out),
        Format::CycloneDxJson => write_json(&cyclonedx::sbom_to_cyclonedx(report), out),
    }
}

fn write_json<T: serde::Serialize>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::other)?;
    writeln!(out)
}
