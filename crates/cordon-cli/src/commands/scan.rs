//! `cordon scan`: catalog an image, match it against the vulnerability database and gate
//! the result.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use cordon_model::Severity;
use cordon_policy::ThresholdGate;
use cordon_report::{
    DatabaseSummary, ScanReport, ScanSettings, SourceSummary, Summary, ToolInfo,
    REPORT_SCHEMA_VERSION,
};
use cordon_vulndb::Database;

use super::image::{image_summary, now_rfc3339, open_output, ImageArgs};
use super::output::{ColorArg, FormatArg};
use super::Progress;

/// Arguments of `cordon scan`.
#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    #[command(flatten)]
    image: ImageArgs,

    /// Vulnerability database file [default: $CORDON_DB, else cordon.db in the user's
    /// cache directory].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,

    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Lowest severity the gate counts: Unknown, Negligible, Low, Medium, High, Critical
    /// or Defcon1.
    #[arg(long, value_name = "SEVERITY", default_value = "High")]
    fail_on: Severity,

    /// Number of counted findings at which the scan fails (exit code 1).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    max_count: u64,

    /// Drop findings that have no fixed version.
    #[arg(long)]
    ignore_unfixed: bool,

    /// Scanners to run, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Scanner::Vuln])]
    scanners: Vec<Scanner>,

    /// When to colour the table.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
}

/// A scanner `--scanners` can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scanner {
    /// Package vulnerabilities.
    Vuln,
}

impl Scanner {
    fn name(self) -> &'static str {
        match self {
            Scanner::Vuln => "vuln",
        }
    }
}

/// Runs `cordon scan`.
pub(crate) fn run(args: ScanArgs, progress: &Progress) -> anyhow::Result<ExitCode> {
    let db_path = match &args.db {
        Some(path) => path.clone(),
        None => cordon_vulndb::default_db_path()
            .context("no default database location: pass --db PATH or set CORDON_DB")?,
    };
    let database = open_database(&db_path)?;

    progress.status(&format!("reading {}", args.image.image));
    let inventory = args.image.read_inventory()?;
    progress.status(&format!(
        "cataloged {} packages",
        inventory.catalog.packages.len()
    ));

    let matched = cordon_match::match_packages(
        &database,
        inventory.catalog.distro.as_ref(),
        &inventory.catalog.packages,
    )?;
    let mut findings = matched.findings;
    if args.ignore_unfixed {
        cordon_match::drop_unfixed(&mut findings);
    }

    let gate = ThresholdGate {
        fail_on: args.fail_on,
        max_count: usize::try_from(args.max_count).unwrap_or(usize::MAX),
    };
    let gate_result = gate.evaluate(findings.iter().map(|finding| finding.severity));

    let mut warnings = inventory.warnings;
    warnings.extend(matched.warnings);
    let report = ScanReport {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo::current(),
        created_at: now_rfc3339(),
        image: image_summary(&inventory.info),
        distro: inventory.catalog.distro.clone(),
        settings: ScanSettings {
            fail_on: args.fail_on,
            max_count: gate.max_count,
            ignore_unfixed: args.ignore_unfixed,
            scanners: args
                .scanners
                .iter()
                .map(|scanner| scanner.name().to_string())
                .collect(),
            platform: args.image.platform.clone(),
            db_path: db_path.display().to_string(),
        },
        database: Some(database_summary(&database)),
        summary: Summary::new(inventory.catalog.packages.len(), &findings),
        gate: gate_result,
        findings,
        packages: inventory.catalog.packages,
        warnings,
    };

    let color = args.color.enabled(args.output.is_some());
    let mut out = open_output(args.output.as_ref())?;
    cordon_report::write_scan(&report, args.format.into(), &mut out, color)?;
    out.flush()?;

    progress.status(&report.gate.reason);
    Ok(if report.gate.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn open_database(path: &std::path::Path) -> anyhow::Result<Database> {
    if !path.exists() {
        anyhow::bail!(
            "vulnerability database `{}` not found: run `cordon db update`, or `cordon db build` with local feeds, or pass --db",
            path.display()
        );
    }
    Ok(Database::open(path)?)
}

fn database_summary(database: &Database) -> DatabaseSummary {
    let metadata = database.metadata();
    DatabaseSummary {
        schema_version: metadata.schema_version,
        built_at: metadata.built_at.clone(),
        sources: metadata
            .sources
            .iter()
            .map(|source| SourceSummary {
                name: source.name.clone(),
                kind: serde_json::to_value(source.kind)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_string))
                    .unwrap_or_default(),
                location: source.location.clone(),
                records: source.records,
            })
            .collect(),
    }
}
