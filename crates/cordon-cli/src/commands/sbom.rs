//! `cordon sbom`: list every package in an image.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use cordon_report::{SbomReport, ToolInfo, REPORT_SCHEMA_VERSION};

use super::image::{image_summary, now_rfc3339, open_output, ImageArgs};
use super::output::SbomFormatArg;
use super::Progress;

/// Arguments of `cordon sbom`.
#[derive(Debug, Args)]
pub(crate) struct SbomArgs {
    #[command(flatten)]
    image: ImageArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = SbomFormatArg::CyclonedxJson)]
    format: SbomFormatArg,

    /// Write the SBOM to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs `cordon sbom`.
pub(crate) fn run(args: SbomArgs, progress: &Progress) -> anyhow::Result<ExitCode> {
    progress.status(&format!("reading {}", args.image.image));
    let inventory = args.image.read_inventory()?;
    progress.status(&format!(
        "cataloged {} packages",
        inventory.catalog.packages.len()
    ));

    let report = SbomReport {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo::current(),
        created_at: now_rfc3339(),
        image: image_summary(&inventory.info),
        distro: inventory.catalog.distro,
        packages: inventory.catalog.packages,
        warnings: inventory.warnings,
    };
    let mut out = open_output(args.output.as_ref())?;
    let table = cordon_report::TableOptions::for_output(false, args.output.is_some());
    cordon_report::write_sbom(&report, args.format.into(), &mut out, &table)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
