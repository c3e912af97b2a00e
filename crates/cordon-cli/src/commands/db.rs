//! `cordon db`: build, update and inspect the vulnerability database.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use cordon_vulndb::{BuildReport, Builder, Database, SourceSpec, UpdateConfig};

/// Arguments of `cordon db`.
#[derive(Debug, Args)]
pub(crate) struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Build a database from local feed files or URLs.
    Build(BuildArgs),
    /// Download the feeds from their public URLs (or mirrors) and rebuild the database.
    Update(UpdateArgs),
    /// Print the database's schema version, build time and per-source record counts.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
struct BuildArgs {
    /// Feed to import, as KIND=PATH_OR_URL; KIND is osv, debian-tracker, alpine-secdb, cve5
    /// or nvd. Repeat the option for several feeds. A URL is downloaded first.
    #[arg(long = "source", value_name = "KIND=PATH_OR_URL", required = true)]
    sources: Vec<SourceSpec>,

    /// Database file to write; replaced atomically when the build succeeds.
    #[arg(long, short, value_name = "PATH")]
    output: PathBuf,

    /// Fail on the first malformed record instead of skipping it with a warning.
    #[arg(long)]
    strict: bool,
}

#[derive(Debug, Args)]
struct UpdateArgs {
    /// Database file [default: $CORDON_DB, else cordon.db in the user's cache directory].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,

    /// Base URL of the OSV bucket; <BASE>/<Ecosystem>/all.zip is fetched.
    #[arg(long, value_name = "BASE", default_value = cordon_vulndb::DEFAULT_OSV_BASE_URL)]
    osv_url: String,

    /// URL of the Debian Security Tracker JSON.
    #[arg(long, value_name = "URL", default_value = cordon_vulndb::DEFAULT_DEBIAN_URL)]
    debian_url: String,

    /// Base URL of the Alpine secdb; <BASE>/v<BRANCH>/{main,community}.json is fetched.
    #[arg(long, value_name = "BASE", default_value = cordon_vulndb::DEFAULT_ALPINE_BASE_URL)]
    alpine_url: String,

    /// OSV ecosystem to fetch, as osv.dev names it (PyPI, npm, Go, crates.io, Maven, ...).
    /// Repeat for several; replaces the default list.
    #[arg(long = "osv-ecosystem", value_name = "NAME")]
    osv_ecosystems: Vec<String>,

    /// Alpine branch to fetch (3.20). Repeat for several; replaces the default list.
    #[arg(long = "alpine-branch", value_name = "3.NN")]
    alpine_branches: Vec<String>,

    /// Base URL of NVD's JSON 2.0 feeds; <BASE>/nvdcve-2.0-<YEAR>.json.gz is fetched for
    /// the CVSS scores of CVEs whose feed gives no severity.
    #[arg(long, value_name = "BASE", default_value = cordon_vulndb::DEFAULT_NVD_BASE_URL)]
    nvd_url: String,

    /// CVE year of the NVD feeds to fetch (2024). Repeat for several; replaces the default
    /// list, 2002 to the current year.
    #[arg(long = "nvd-year", value_name = "YEAR")]
    nvd_years: Vec<i32>,

    /// CVE JSON 5 records (zip URL, local zip or directory) for CVSS scores, imported after
    /// NVD so that a CVE's CNA score replaces NVD's.
    #[arg(long, value_name = "PATH_OR_URL")]
    cve5: Option<String>,

    /// Feed to leave out of the update. Repeat for several.
    #[arg(long = "skip", value_enum, value_name = "FEED")]
    skip: Vec<Feed>,
}

/// Feeds that `cordon db update` downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Feed {
    /// OSV per-ecosystem archives.
    Osv,
    /// Debian Security Tracker JSON.
    Debian,
    /// Alpine secdb.
    Alpine,
    /// NVD JSON 2.0 feeds (CVSS scores).
    Nvd,
}

#[derive(Debug, Args)]
struct StatusArgs {
    /// Database file [default: $CORDON_DB, else cordon.db in the user's cache directory].
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
    format: StatusFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StatusFormat {
    /// Lines for people.
    Text,
    /// The database metadata as JSON.
    Json,
}

/// Runs `cordon db`.
pub(crate) fn run(args: DbArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DbCommand::Build(args) => run_build(args),
        DbCommand::Update(args) => run_update(args),
        DbCommand::Status(args) => run_status(args),
    }
}

fn run_build(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let report = Builder::new()
        .sources(args.sources)
        .strict(args.strict)
        .build(&args.output)
        .with_context(|| format!("failed to build {}", args.output.display()))?;
    print_report(&report);
    Ok(ExitCode::SUCCESS)
}

fn run_update(args: UpdateArgs) -> anyhow::Result<ExitCode> {
    let path = db_path(args.db)?;
    let mut config = UpdateConfig {
        osv_base_url: args.osv_url,
        debian_url: Some(args.debian_url),
        alpine_base_url: args.alpine_url,
        nvd_base_url: args.nvd_url,
        cve5: args.cve5,
        ..UpdateConfig::default()
    };
    if !args.osv_ecosystems.is_empty() {
        config.osv_ecosystems = args.osv_ecosystems;
    }
    if !args.alpine_branches.is_empty() {
        config.alpine_branches = args.alpine_branches;
    }
    if !args.nvd_years.is_empty() {
        config.nvd_years = args.nvd_years;
    }
    for feed in args.skip {
        match feed {
            Feed::Osv => config.osv_ecosystems.clear(),
            Feed::Debian => config.debian_url = None,
            Feed::Alpine => config.alpine_branches.clear(),
            Feed::Nvd => config.nvd_years.clear(),
        }
    }

    let report = cordon_vulndb::update(&config, &path)
        .with_context(|| format!("failed to update {}", path.display()))?;
    print_report(&report);
    Ok(ExitCode::SUCCESS)
}

fn run_status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let path = db_path(args.db)?;
    let db = Database::open(&path)?;
    let metadata = db.metadata();
    match args.format {
        StatusFormat::Json => {
            let mut value = serde_json::to_value(metadata)?;
            if let Some(object) = value.as_object_mut() {
                object.insert("path".to_owned(), path.display().to_string().into());
            }
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        StatusFormat::Text => {
            println!("database:       {}", path.display());
            println!("schema version: {}", metadata.schema_version);
            println!("built at:       {}", metadata.built_at);
            println!("sources:");
            for source in &metadata.sources {
                println!(
                    "  {:<40} {:>9} records  {}",
                    source.name, source.records, source.location
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn db_path(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    explicit.or_else(cordon_vulndb::default_db_path).context(
        "cannot find a default database path (no cache directory): set CORDON_DB or pass --db",
    )
}

fn print_report(report: &BuildReport) {
    let records: u64 = report
        .metadata
        .sources
        .iter()
        .map(|source| source.records)
        .sum();
    println!(
        "wrote {} ({} sources, {records} records) in {:.1} s",
        report.output.display(),
        report.metadata.sources.len(),
        report.elapsed.as_secs_f64()
    );
    for source in &report.metadata.sources {
        let mut line = format!("  {:<40} {:>9} records", source.name, source.records);
        if source.withdrawn > 0 {
            line.push_str(&format!(", {} withdrawn skipped", source.withdrawn));
        }
        if source.skipped > 0 {
            line.push_str(&format!(", {} malformed skipped", source.skipped));
        }
        println!("{line}");
    }

    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    // The report keeps a limited number of messages; every skip is counted.
    let skipped: u64 = report
        .metadata
        .sources
        .iter()
        .map(|source| source.skipped)
        .sum();
    let listed = report.warnings.len() as u64;
    if skipped > listed {
        eprintln!(
            "warning: {} more malformed records skipped",
            skipped - listed
        );
    }
}
