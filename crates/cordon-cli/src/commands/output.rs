//! Output options shared by the commands that write reports.

use std::io::IsTerminal;

use clap::ValueEnum;
use cordon_report::Format;

/// Report format on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatArg {
    /// Human-readable summary and table.
    Table,
    /// Cordon's JSON report (docs/report-format.md).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// CycloneDX 1.6 JSON.
    CyclonedxJson,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Format {
        match format {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::CyclonedxJson => Format::CycloneDxJson,
        }
    }
}

/// SBOM format on the command line: the report formats except SARIF, which describes
/// findings rather than packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SbomFormatArg {
    /// Package table for people.
    Table,
    /// Cordon's JSON package list (docs/report-format.md).
    Json,
    /// CycloneDX 1.6 JSON.
    CyclonedxJson,
}

impl From<SbomFormatArg> for Format {
    fn from(format: SbomFormatArg) -> Format {
        match format {
            SbomFormatArg::Table => Format::Table,
            SbomFormatArg::Json => Format::Json,
            SbomFormatArg::CyclonedxJson => Format::CycloneDxJson,
        }
    }
}

/// When to colour terminal output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorArg {
    /// Colour when standard output is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorArg {
    /// Decides whether to colour output written to standard output.
    pub(crate) fn enabled(self, to_file: bool) -> bool {
        match self {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => {
                !to_file
                    && std::env::var_os("NO_COLOR").is_none()
                    && std::io::stdout().is_terminal()
            }
        }
    }
}
