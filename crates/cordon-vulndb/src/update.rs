//! Updating the database from the feeds' public URLs.

use std::path::Path;
use std::time::Instant;

use crate::build::{
    build_prepared, download_directory, output_directory, BuildReport, PreparedSource,
};
use crate::download::{download, http_client, DownloadOptions};
use crate::input::Limits;
use crate::source::SourceKind;
use crate::DbError;

/// osv.dev's bucket with one `<Ecosystem>/all.zip` per ecosystem.
pub const DEFAULT_OSV_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// The Debian Security Tracker's JSON export.
pub const DEFAULT_DEBIAN_URL: &str = "https://security-tracker.debian.org/tracker/data/json";
/// Alpine's secdb, with `v3.NN/{main,community}.json` per branch.
pub const DEFAULT_ALPINE_BASE_URL: &str = "https://secdb.alpinelinux.org";
/// NVD's JSON 2.0 data feeds, with one `nvdcve-2.0-<YEAR>.json.gz` per CVE year.
pub const DEFAULT_NVD_BASE_URL: &str = "https://nvd.nist.gov/feeds/json/cve/2.0";
/// First year of NVD's yearly feeds; the 2002 feed also contains the CVEs of 1999 to 2001.
pub const NVD_FIRST_YEAR: i32 = 2002;

/// Feeds and URLs of an update.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateConfig {
    /// Base URL of the OSV bucket; `<base>/<Ecosystem>/all.zip` is fetched per ecosystem.
    pub osv_base_url: String,
    /// OSV ecosystem names as osv.dev spells them (`PyPI`, `crates.io`). Empty skips OSV.
    pub osv_ecosystems: Vec<String>,
    /// URL of the Debian tracker JSON; `None` skips Debian.
    pub debian_url: Option<String>,
    /// Base URL of the Alpine secdb; `<base>/v<branch>/<repository>.json` is fetched.
    pub alpine_base_url: String,
    /// Alpine branches (`3.20`). Empty skips Alpine.
    pub alpine_branches: Vec<String>,
    /// Alpine repositories fetched per branch.
    pub alpine_repositories: Vec<String>,
    /// Base URL of NVD's JSON 2.0 feeds; `<base>/nvdcve-2.0-<YEAR>.json.gz` is fetched per
    /// year. Its CVSS data rates the findings whose own source gives no severity.
    pub nvd_base_url: String,
    /// CVE years of the NVD feeds to fetch. Empty skips NVD.
    pub nvd_years: Vec<i32>,
    /// Optional CVE JSON 5 input (zip URL, local zip or directory) for CVSS enrichment.
    /// Imported after NVD, so a CVE's CNA or CISA ADP score replaces NVD's.
    pub cve5: Option<String>,
    /// Timeouts and size cap per download.
    pub download: DownloadOptions,
    /// Input size and zip entry limits of the import.
    pub limits: Limits,
}

impl Default for UpdateConfig {
    fn default() -> Self {
        UpdateConfig {
            osv_base_url: DEFAULT_OSV_BASE_URL.to_owned(),
            osv_ecosystems: ["PyPI", "npm", "Go", "crates.io", "Maven"]
                .map(String::from)
                .to_vec(),
            debian_url: Some(DEFAULT_DEBIAN_URL.to_owned()),
            alpine_base_url: DEFAULT_ALPINE_BASE_URL.to_owned(),
            // NOTE: Alpine supports each branch for about two years. This list is the set
            // of branches supported in late 2025, so it needs a bump with each release.
            alpine_branches: ["3.19", "3.20", "3.21", "3.22", "3.23"]
                .map(String::from)
                .to_vec(),
            alpine_repositories: ["main", "community"].map(String::from).to_vec(),
            nvd_base_url: DEFAULT_NVD_BASE_URL.to_owned(),
            nvd_years: (NVD_FIRST_YEAR..=time::OffsetDateTime::now_utc().year()).collect(),
            cve5: None,
            download: DownloadOptions::default(),
            limits: Limits::default(),
        }
    }
}

/// Downloads every configured feed into a temporary directory next to `output`, then
/// builds the database there and renames it into place. Any failed download aborts the
/// update and leaves an existing database untouched.
pub fn update(config: &UpdateConfig, output: &Path) -> Result<BuildReport, DbError> {
    let started = Instant::now();
    let directory = output_directory(output)?;
    let downloads = download_directory(&directory)?;
    let client = http_client(&config.download)?;
    let fetch = |url: &str, file_name: &str| -> Result<std::path::PathBuf, DbError> {
        let path = downloads.path().join(file_name);
        download(&client, url, &path, config.download.max_bytes)?;
        Ok(path)
    };

    let mut sources = Vec::new();
    let osv_base = config.osv_base_url.trim_end_matches('/');
    for ecosystem in &config.osv_ecosystems {
        let url = format!("{osv_base}/{ecosystem}/all.zip");
        let path = fetch(&url, &format!("osv-{}.zip", safe_file_name(ecosystem)))?;
        sources.push(PreparedSource {
            kind: SourceKind::Osv,
            path,
            location: url,
            name: Some(format!("osv:{ecosystem}")),
        });
    }

    if let Some(url) = &config.debian_url {
        let path = fetch(url, "debian-tracker.json")?;
        sources.push(PreparedSource {
            kind: SourceKind::DebianTracker,
            path,
            location: url.clone(),
            name: Some("debian-tracker".to_owned()),
        });
    }

    if !config.alpine_branches.is_empty() {
        let alpine_directory = downloads.path().join("alpine");
        std::fs::create_dir(&alpine_directory)
            .map_err(|error| DbError::io(alpine_directory.display(), error))?;
        let alpine_base = config.alpine_base_url.trim_end_matches('/');
        for branch in &config.alpine_branches {
            let branch = branch.trim_start_matches('v');
            for repository in &config.alpine_repositories {
                let url = format!("{alpine_base}/v{branch}/{repository}.json");
                let file_name = format!(
                    "alpine/v{}-{}.json",
                    safe_file_name(branch),
                    safe_file_name(repository)
                );
                fetch(&url, &file_name)?;
            }
        }
        sources.push(PreparedSource {
            kind: SourceKind::AlpineSecdb,
            path: alpine_directory,
            location: alpine_base.to_owned(),
            name: Some("alpine-secdb".to_owned()),
        });
    }

    if !config.nvd_years.is_empty() {
        let nvd_directory = downloads.path().join("nvd");
        std::fs::create_dir(&nvd_directory)
            .map_err(|error| DbError::io(nvd_directory.display(), error))?;
        let nvd_base = config.nvd_base_url.trim_end_matches('/');
        for year in &config.nvd_years {
            let file_name = format!("nvdcve-2.0-{year}.json.gz");
            fetch(
                &format!("{nvd_base}/{file_name}"),
                &format!("nvd/{file_name}"),
            )?;
        }
        sources.push(PreparedSource {
            kind: SourceKind::Nvd,
            path: nvd_directory,
            location: nvd_base.to_owned(),
            name: Some("nvd".to_owned()),
        });
    }

    if let Some(location) = &config.cve5 {
        let path = if location.starts_with("http://") || location.starts_with("https://") {
            fetch(location, "cve5.zip")?
        } else {
            location.into()
        };
        sources.push(PreparedSource {
            kind: SourceKind::Cve5,
            path,
            location: location.clone(),
            name: Some("cve5".to_owned()),
        });
    }

    let mut report = build_prepared(&sources, output, &config.limits, false)?;
    report.elapsed = started.elapsed();
    Ok(report)
}

fn safe_file_name(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || ".-_".contains(character) {
                character
            } else {
                '_'
            }
        })
        .collect()
}
