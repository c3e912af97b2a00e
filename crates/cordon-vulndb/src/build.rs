//! Building a database file from feeds.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use redb::Durability;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::download::{download, http_client, DownloadOptions};
use crate::import::{self, Import};
use crate::input::{sha256_of_file, Limits};
use crate::source::{Location, SourceKind, SourceSpec};
use crate::store::{self, Writer, SCHEMA_VERSION};
use crate::{DbError, Metadata, SourceInfo};

/// Outcome of a successful build.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildReport {
    /// Database file written.
    pub output: PathBuf,
    /// Metadata stored in the file, with per-source counts.
    pub metadata: Metadata,
    /// Warnings about skipped records (at most 100 messages; every skip is counted in
    /// [`SourceInfo::skipped`]).
    pub warnings: Vec<String>,
    /// Wall-clock time of the build, downloads included.
    pub elapsed: Duration,
}

/// Builds a database file from a list of feeds.
///
/// The file is written to a temporary file in the output's directory and renamed into
/// place once complete, so the output path contains either the previous file or a complete
/// new one, never a partial build.
#[derive(Debug, Clone, Default)]
pub struct Builder {
    sources: Vec<SourceSpec>,
    limits: Limits,
    strict: bool,
    download: DownloadOptions,
}

impl Builder {
    /// Creates a builder with no sources, default limits and lenient record handling.
    pub fn new() -> Self {
        Builder::default()
    }

    /// Adds a feed.
    pub fn source(mut self, source: SourceSpec) -> Self {
        self.sources.push(source);
        self
    }

    /// Adds several feeds.
    pub fn sources(mut self, sources: impl IntoIterator<Item = SourceSpec>) -> Self {
        self.sources.extend(sources);
        self
    }

    /// Sets the input size and zip entry limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Fails the build on the first malformed record instead of skipping it with a warning.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Sets the timeout and size cap of URL sources.
    pub fn download_options(mut self, options: DownloadOptions) -> Self {
        self.download = options;
        self
    }

    /// Imports every source and writes the database to `output`.
    pub fn build(&self, output: &Path) -> Result<BuildReport, DbError> {
        let started = Instant::now();
        let directory = output_directory(output)?;

        // URL sources are downloaded next to the output; the directory goes away on return.
        let mut downloads: Option<tempfile::TempDir> = None;
        let mut client = None;
        let mut prepared = Vec::with_capacity(self.sources.len());
        for (index, spec) in self.sources.iter().enumerate() {
            let path = match &spec.location {
                Location::Path(path) => path.clone(),
                Location::Url(url) => {
                    let temp = match &mut downloads {
                        Some(temp) => temp,
                        None => downloads.insert(download_directory(&directory)?),
                    };
                    let client = match &mut client {
                        Some(client) => client,
                        None => client.insert(http_client(&self.download)?),
                    };
                    let path = temp
                        .path()
                        .join(format!("{index}-{}", file_name_of_url(url)));
                    download(client, url, &path, self.download.max_bytes)?;
                    path
                }
            };
            prepared.push(PreparedSource {
                kind: spec.kind,
                path,
                location: spec.location.to_string(),
                name: None,
            });
        }

        let mut report = build_prepared(&prepared, output, &self.limits, self.strict)?;
        report.elapsed = started.elapsed();
        Ok(report)
    }
}

/// Imports `sources` and writes the database to `output`, with default limits, skipping
/// malformed records with a warning.
pub fn build(sources: &[SourceSpec], output: &Path) -> Result<BuildReport, DbError> {
    Builder::new()
        .sources(sources.iter().cloned())
        .build(output)
}

/// A source whose input is a local file or directory.
pub(crate) struct PreparedSource {
    pub kind: SourceKind,
    pub path: PathBuf,
    /// Location recorded in the metadata (the URL for a download).
    pub location: String,
    /// Source name; derived from the location when `None`.
    pub name: Option<String>,
}

/// Returns the directory of `output`, creating it when missing.
pub(crate) fn output_directory(output: &Path) -> Result<PathBuf, DbError> {
    let directory = match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&directory).map_err(|error| DbError::io(directory.display(), error))?;
    Ok(directory)
}

pub(crate) fn download_directory(directory: &Path) -> Result<tempfile::TempDir, DbError> {
    tempfile::Builder::new()
        .prefix(".cordon-download-")
        .tempdir_in(directory)
        .map_err(|error| DbError::io(directory.display(), error))
}

/// Returns the last path segment of a URL, reduced to characters safe in a file name.
fn file_name_of_url(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let segment = path
        .rsplit('/')
        .find(|segment| !segment.is_empty())
        .unwrap_or("download");
    segment
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || ".-_".contains(character) {
                character
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes the database from local inputs.
pub(crate) fn build_prepared(
    sources: &[PreparedSource],
    output: &Path,
    limits: &Limits,
    strict: bool,
) -> Result<BuildReport, DbError> {
    let started = Instant::now();
    let directory = output_directory(output)?;
    let temp = tempfile::Builder::new()
        .prefix(".cordon-db-")
        .suffix(".tmp")
        .tempfile_in(&directory)
        .map_err(|error| DbError::io(directory.display(), error))?;
    let temp_path = temp.path().to_path_buf();
    let file = temp
        .as_file()
        .try_clone()
        .map_err(|error| DbError::io(temp_path.display(), error))?;
    let db = redb::Database::builder()
        .create_file(file)
        .map_err(|error| DbError::storage(&temp_path, error))?;

    let mut warnings = Vec::new();
    let mut infos: Vec<SourceInfo> = Vec::with_capacity(sources.len());
    for source in sources {
        let name = unique_name(source, &infos);
        let info = import_source(&db, &temp_path, source, name, limits, strict, &mut warnings)?;
        tracing::info!(
            source = info.name,
            records = info.records,
            withdrawn = info.withdrawn,
            skipped = info.skipped,
            "imported source"
        );
        infos.push(info);
    }

    let metadata = Metadata {
        schema_version: SCHEMA_VERSION,
        built_at: OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default(),
        sources: infos,
    };
    let txn = db
        .begin_write()
        .map_err(|error| DbError::storage(&temp_path, error))?;
    store::write_metadata(&txn, &temp_path, &metadata)?;
    txn.commit()
        .map_err(|error| DbError::storage(&temp_path, error))?;
    drop(db);

    make_readable(&temp_path)?;
    temp.persist(output)
        .map_err(|error| DbError::io(output.display(), error.error))?;
    Ok(BuildReport {
        output: output.to_path_buf(),
        metadata,
        warnings,
        elapsed: started.elapsed(),
    })
}

fn import_source(
    db: &redb::Database,
    db_path: &Path,
    source: &PreparedSource,
    name: String,
    limits: &Limits,
    strict: bool,
    warnings: &mut Vec<String>,
) -> Result<SourceInfo, DbError> {
    // Fail early, with the path, when the input is missing.
    std::fs::metadata(&source.path).map_err(|error| DbError::io(source.path.display(), error))?;

    let mut txn = db
        .begin_write()
        .map_err(|error| DbError::storage(db_path, error))?;
    // Only the final metadata commit needs to reach the disk: a crash before it leaves a
    // temporary file that is never renamed into place.
    txn.set_durability(Durability::None);
    let mut import = Import {
        name: &name,
        location: &source.location,
        limits,
        strict,
        records: 0,
        withdrawn: 0,
        without_data: 0,
        skipped: 0,
        first_skip: None,
        updated_at: None,
        warnings,
    };
    {
        let mut writer = Writer::open(&txn, db_path)?;
        match source.kind {
            SourceKind::Osv => import::osv::import(&source.path, &mut import, &mut writer)?,
            SourceKind::DebianTracker => {
                import::debian::import(&source.path, &mut import, &mut writer)?
            }
            SourceKind::AlpineSecdb => {
                import::alpine::import(&source.path, &mut import, &mut writer)?
            }
            SourceKind::Cve5 => import::cve5::import(&source.path, &mut import, &mut writer)?,
            SourceKind::Nvd => import::nvd::import(&source.path, &mut import, &mut writer)?,
        }
    }
    txn.commit()
        .map_err(|error| DbError::storage(db_path, error))?;

    // A source with no valid record is almost always the wrong KIND, the wrong file or an
    // empty directory. A database built from it would scan as "no findings".
    check_not_empty(source, &import)?;
    if let Some(first) = &import.first_skip {
        tracing::warn!(
            source = name,
            skipped = import.skipped,
            first = first.as_str(),
            "skipped malformed records"
        );
    }

    Ok(SourceInfo {
        name: name.clone(),
        kind: source.kind,
        location: source.location.clone(),
        records: import.records,
        withdrawn: import.withdrawn,
        skipped: import.skipped,
        updated_at: import.updated_at,
        sha256: sha256_of_file(&source.path)?,
    })
}

/// Fails when `import` found no valid record in `source`: withdrawn OSV records and CVE
/// records without CVSS data count as valid.
fn check_not_empty(source: &PreparedSource, import: &Import<'_>) -> Result<(), DbError> {
    if import.records + import.withdrawn + import.without_data > 0 {
        return Ok(());
    }
    let kind = source.kind.as_str();
    let reason = if import.skipped > 0 {
        format!(
            "none of its {} records is valid (is `{kind}` the right kind for this file?)",
            import.skipped
        )
    } else {
        format!("no {kind} records found (is the path right, and is `{kind}` the right kind?)")
    };
    Err(DbError::InvalidInput {
        what: format!("{kind} feed"),
        location: source.location.clone(),
        reason,
    })
}

/// Names a source `KIND:LABEL`, the label being the input's file name (the parent folder
/// for osv.dev's `all.zip`), with `#N` appended when the name is taken.
fn unique_name(source: &PreparedSource, taken: &[SourceInfo]) -> String {
    let base = source.name.clone().unwrap_or_else(|| {
        let segments: Vec<&str> = source
            .location
            .split(['/', '\\'])
            .filter(|segment| !segment.is_empty())
            .collect();
        let label = match segments.as_slice() {
            [.., parent, "all.zip"] => *parent,
            [.., last] => *last,
            [] => "input",
        };
        format!("{}:{label}", source.kind)
    });
    let mut name = base.clone();
    let mut counter = 2;
    while taken.iter().any(|info| info.name == name) {
        name = format!("{base}#{counter}");
        counter += 1;
    }
    name
}

/// Gives the database the usual permissions of a data file; temporary files are created
/// readable by their owner only.
fn make_readable(path: &Path) -> Result<(), DbError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
            .map_err(|error| DbError::io(path.display(), error))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_file_names_are_sanitised() {
        assert_eq!(
            file_name_of_url("https://example.org/PyPI/all.zip"),
            "all.zip"
        );
        assert_eq!(
            file_name_of_url("https://example.org/tracker/data/json?x=1"),
            "json"
        );
        assert_eq!(file_name_of_url("https://example.org/"), "example.org");
        assert_eq!(file_name_of_url("http://h/a%20b"), "a_20b");
    }

    #[test]
    fn source_names_use_ecosystem_folder() {
        let source = PreparedSource {
            kind: SourceKind::Osv,
            path: PathBuf::new(),
            location: "/data/osv/PyPI/all.zip".to_owned(),
            name: None,
        };
        assert_eq!(unique_name(&source, &[]), "osv:PyPI");
    }
}
