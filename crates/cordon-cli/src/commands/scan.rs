//! `cordon scan`: catalog an image, match it against the vulnerability database and gate
//! the result.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use cordon_model::Severity;
use cordon_policy::{IgnoreFile, Suppressions, ThresholdGate, VexDocument};
use cordon_report::{
    DatabaseSummary, MalwareScanInfo, ScanReport, ScanSettings, SourceSummary, Summary, ToolInfo,
    REPORT_SCHEMA_VERSION,
};
use cordon_vulndb::Database;

use super::image::{image_summary, now_rfc3339, open_output, ImageArgs};
use super::malware;
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
    #[arg(long, value_name = "N", default_value_t = 1, allow_negative_numbers = true, value_parser = clap::value_parser!(i64).range(1..))]
    max_count: i64,

    /// Drop findings that have no fixed version.
    #[arg(long)]
    ignore_unfixed: bool,

    /// Ignore file (YAML) of accepted findings, each with a reason and an optional expiry
    /// date [default: .cordonignore in the working directory, when present].
    #[arg(long, value_name = "PATH")]
    ignore_file: Option<PathBuf>,

    /// OpenVEX 0.2.0 document; findings it marks `not_affected` or `fixed` for the
    /// matching package are not counted. Repeatable.
    #[arg(long, value_name = "FILE")]
    vex: Vec<PathBuf>,

    /// Scanners to run, comma-separated: `vuln` (package vulnerabilities) and `malware`
    /// (every file of every layer against YARA rules and hash lists).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Scanner::Vuln, Scanner::Malware])]
    scanners: Vec<Scanner>,

    #[command(flatten)]
    malware: malware::MalwareArgs,

    /// When to colour the table.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
}

/// A scanner `--scanners` can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scanner {
    /// Package vulnerabilities.
    Vuln,
    /// Malware in every file of every layer.
    Malware,
}

impl Scanner {
    fn name(self) -> &'static str {
        match self {
            Scanner::Vuln => "vuln",
            Scanner::Malware => "malware",
        }
    }
}

/// Runs `cordon scan`.
pub(crate) fn run(args: ScanArgs, progress: &Progress) -> anyhow::Result<ExitCode> {
    let run_vuln = args.scanners.contains(&Scanner::Vuln);
    let run_malware = args.scanners.contains(&Scanner::Malware);

    // Open the database and compile the rules first, so that a missing database or a bad
    // rule file fails before the image is read.
    let db_path = match &args.db {
        Some(path) => Some(path.clone()),
        None => cordon_vulndb::default_db_path(),
    };
    let database = if run_vuln {
        let path = db_path
            .as_deref()
            .context("no default database location: pass --db PATH or set CORDON_DB")?;
        Some(open_database(path)?)
    } else {
        None
    };
    let scanner = if run_malware {
        Some(args.malware.scanner()?)
    } else {
        None
    };
    let suppressions = read_suppressions(args.ignore_file.as_deref(), &args.vex)?;

    progress.status(&format!("reading {}", args.image.image));
    let inventory = args.image.read_inventory()?;
    progress.status(&format!(
        "cataloged {} packages",
        inventory.catalog.packages.len()
    ));

    let mut warnings = inventory.warnings.clone();
    let mut findings = Vec::new();
    if let Some(database) = &database {
        let matched = cordon_match::match_packages(
            database,
            inventory.catalog.distro.as_ref(),
            &inventory.catalog.packages,
        )?;
        findings = matched.findings;
        warnings.extend(matched.warnings);
        if args.ignore_unfixed {
            cordon_match::drop_unfixed(&mut findings);
        }
    }

    let mut malware = Vec::new();
    let mut malware_scan = None;
    if let Some(scanner) = &scanner {
        progress.status("scanning every layer for malware");
        let mut result = malware::scan_image(
            scanner,
            &inventory.image,
            &inventory.rootfs,
            &inventory.layers,
        )?;
        result.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.path.cmp(&b.path))
        });
        malware = result.findings;
        malware_scan = Some(MalwareScanInfo {
            files_scanned: result.files_scanned,
            bytes_scanned: result.bytes_scanned,
            engines: result.engines,
            warnings: result.warnings,
        });
    }

    let suppressed = suppressions.apply(findings, malware, time::OffsetDateTime::now_utc().date());
    // A table on standard output prints the report's warnings itself.
    let table_on_stdout = args.format == FormatArg::Table && args.output.is_none();
    if !table_on_stdout {
        for warning in &suppressed.warnings {
            tracing::warn!("{warning}");
        }
    }
    warnings.extend(suppressed.warnings);
    let findings = suppressed.findings;
    let malware = suppressed.malware;
    if let Some(warning) = unrated_warning(&findings) {
        if !table_on_stdout {
            tracing::warn!("{warning}");
        }
        warnings.push(warning);
    }

    // Vulnerabilities and malware count together against the threshold, so a malware
    // finding at or above --fail-on fails the scan under the default High, 1.
    let gate = ThresholdGate {
        fail_on: args.fail_on,
        max_count: usize::try_from(args.max_count).unwrap_or(usize::MAX),
    };
    let severities = findings
        .iter()
        .map(|finding| finding.severity)
        .chain(malware.iter().map(|finding| finding.severity));
    let gate_result = gate.evaluate(severities);

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
            db_path: db_path
                .map(|path| path.display().to_string())
                .unwrap_or_default(),
            ignore_file: suppressions
                .ignore_files
                .first()
                .map(|file| file.path.display().to_string()),
            vex: suppressions
                .vex
                .iter()
                .map(|document| document.path.display().to_string())
                .collect(),
        },
        database: database.as_ref().map(database_summary),
        summary: Summary::new(inventory.catalog.packages.len(), &findings, &malware),
        gate: gate_result,
        findings,
        malware,
        malware_scan,
        ignored: suppressed.ignored,
        packages: inventory.catalog.packages,
        warnings,
    };

    let color = args.color.enabled(args.output.is_some());
    let mut out = open_output(args.output.as_ref())?;
    let table = cordon_report::TableOptions::for_output(color, args.output.is_some());
    cordon_report::write_scan(&report, args.format.into(), &mut out, &table)?;
    out.flush()?;

    // The table ends with the verdict; other formats and files get it on standard error
    // only, so that standard output stays machine-readable.
    if !table_on_stdout {
        progress.status(&report.gate.reason);
    }
    Ok(if report.gate.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Ignore file used when `--ignore-file` is not given and this file exists.
const DEFAULT_IGNORE_FILE: &str = ".cordonignore";

fn read_suppressions(
    ignore_file: Option<&std::path::Path>,
    vex: &[PathBuf],
) -> anyhow::Result<Suppressions> {
    let ignore_path = match ignore_file {
        Some(path) => Some(path.to_path_buf()),
        None => Some(PathBuf::from(DEFAULT_IGNORE_FILE)).filter(|path| path.is_file()),
    };
    let mut suppressions = Suppressions::default();
    if let Some(path) = ignore_path {
        suppressions.ignore_files.push(IgnoreFile::read(&path)?);
    }
    for path in vex {
        suppressions.vex.push(VexDocument::read(path)?);
    }
    Ok(suppressions)
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

/// Returns a warning when more than half of `findings` have no severity, because a
/// severity gate then passes for lack of CVSS data, not for lack of vulnerabilities.
fn unrated_warning(findings: &[cordon_model::Finding]) -> Option<String> {
    let unknown = findings
        .iter()
        .filter(|finding| finding.severity == Severity::Unknown)
        .count();
    (unknown * 2 > findings.len()).then(|| {
        format!(
            "{unknown} of {} findings have no severity: the database has no CVSS data for \
             them; rebuild it with `cordon db update` (NVD feeds) or add an nvd or cve5 source",
            findings.len()
        )
    })
}
