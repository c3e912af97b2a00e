//! Local vulnerability database.
//!
//! [`build`] (or [`Builder`]) imports OSV, Debian Security Tracker, Alpine secdb, CVE
//! JSON 5 and NVD JSON 2.0 feeds into one redb file; [`update`] downloads the feeds from their public URLs
//! first. [`Database::open`] opens the file read-only and serves the matcher's lookups.
//!
//! ```no_run
//! use std::path::Path;
//! use cordon_vulndb::{build, Database, SourceSpec};
//!
//! let sources: Vec<SourceSpec> = vec!["osv=feeds/PyPI/all.zip".parse()?];
//! build(&sources, Path::new("cordon.db"))?;
//! let db = Database::open(Path::new("cordon.db"))?;
//! for record in db.osv(cordon_model::Ecosystem::Pypi, "PyYAML")? {
//!     println!("{}", record.id);
//! }
//! # Ok::<(), cordon_vulndb::DbError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod build;
mod download;
mod error;
mod import;
mod input;
mod record;
mod source;
mod store;
mod update;

use std::path::{Path, PathBuf};

use cordon_model::Ecosystem;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use build::{build, BuildReport, Builder};
pub use download::DownloadOptions;
pub use error::DbError;
pub use input::Limits;
pub use record::{
    AlpineRecord, CvssRecord, DebianRecord, OsvAffected, OsvEvent, OsvRange, OsvRecord, OsvSeverity,
};
pub use source::{Location, SourceKind, SourceSpec};
pub use store::{normalize_package_name, SCHEMA_VERSION};
pub use update::{
    update, UpdateConfig, DEFAULT_ALPINE_BASE_URL, DEFAULT_DEBIAN_URL, DEFAULT_NVD_BASE_URL,
    DEFAULT_OSV_BASE_URL, NVD_FIRST_YEAR,
};

/// Environment variable that overrides the default database path.
pub const DB_PATH_ENV: &str = "CORDON_DB";

/// Returns the default database path: `$CORDON_DB` when set and non-empty, else
/// `cordon.db` in the user's cache directory (`~/.cache/cordon/` on Linux). Returns
/// `None` when neither is available.
pub fn default_db_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(DB_PATH_ENV).filter(|path| !path.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let dirs = directories::ProjectDirs::from("", "", "cordon")?;
    Some(dirs.cache_dir().join("cordon.db"))
}

/// One imported source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Source name used in records' `source` field (`osv:PyPI`, `debian-tracker`).
    pub name: String,
    /// Feed kind.
    pub kind: SourceKind,
    /// Path or URL it was read from.
    pub location: String,
    /// Number of records imported: OSV advisories, Debian (CVE, source package, release)
    /// entries, Alpine (id, package, fixed version) entries or CVEs with CVSS data (CVE
    /// JSON 5, NVD).
    pub records: u64,
    /// OSV records skipped because they are withdrawn.
    #[serde(default)]
    pub withdrawn: u64,
    /// Malformed records skipped with a warning.
    #[serde(default)]
    pub skipped: u64,
    /// Newest `modified` (OSV), `dateUpdated` (CVE JSON 5) or `lastModified` (NVD) time among the records, as
    /// published.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// SHA-256 of the input file (the downloaded file for a URL); `None` for a directory.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// Database metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Schema version of the file.
    pub schema_version: u32,
    /// Build time, RFC 3339 UTC.
    pub built_at: String,
    /// Imported sources.
    pub sources: Vec<SourceInfo>,
}

/// An opened database.
pub struct Database {
    db: redb::Database,
    path: PathBuf,
    metadata: Metadata,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Opens a database file read-only, checking its schema version.
    ///
    /// The file is never written and not locked, so several processes can read it while
    /// a build or update renames a new file into place.
    pub fn open(path: &Path) -> Result<Database, DbError> {
        let open_error = |reason: String| DbError::Open {
            path: path.display().to_string(),
            reason,
        };
        let backend = store::ReadOnlyBackend::open(path).map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                open_error(
                    "file not found (create it with `cordon db update` or `cordon db build`)"
                        .to_owned(),
                )
            } else {
                open_error(error.to_string())
            }
        })?;
        let db = redb::Database::builder()
            .create_with_backend(backend)
            .map_err(|error| {
                open_error(format!(
                    "{} (not a Cordon vulnerability database, or damaged)",
                    error::error_chain(&error)
                ))
            })?;
        let metadata = store::read_metadata(&db, path)?;
        Ok(Database {
            db,
            path: path.to_path_buf(),
            metadata,
        })
    }

    /// Returns the database metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Returns the Debian tracker entries for a source package in a release (`bullseye`).
    pub fn debian(
        &self,
        release: &str,
        source_package: &str,
    ) -> Result<Vec<DebianRecord>, DbError> {
        let groups: Vec<store::DebianGroup> =
            self.multimap_get(store::DEBIAN, &store::key(release, source_package))?;
        if groups.is_empty() {
            return Ok(Vec::new());
        }

        let txn = self.db.begin_read().map_err(|error| self.storage(error))?;
        let descriptions = txn
            .open_table(store::DEBIAN_DESCRIPTION)
            .map_err(|error| self.storage(error))?;
        let mut records = Vec::new();
        for group in groups {
            for entry in group.entries {
                let description = descriptions
                    .get(store::key(source_package, &entry.id).as_str())
                    .map_err(|error| self.storage(error))?
                    .map(|value| value.value().to_owned());
                records.push(DebianRecord {
                    id: entry.id,
                    package: source_package.to_owned(),
                    release: release.to_owned(),
                    status: entry.status,
                    fixed_version: entry.fixed_version,
                    urgency: entry.urgency,
                    nodsa: entry.nodsa,
                    nodsa_reason: entry.nodsa_reason,
                    description,
                    source: group.source.clone(),
                });
            }
        }
        Ok(records)
    }

    /// Returns the Alpine secdb entries for a package in a branch (`3.11`; a leading `v`
    /// is ignored).
    pub fn alpine(&self, branch: &str, package: &str) -> Result<Vec<AlpineRecord>, DbError> {
        let branch = branch.strip_prefix('v').unwrap_or(branch);
        self.multimap_get(store::ALPINE, &store::key(branch, package))
    }

    /// Returns the OSV records that affect a package, by ecosystem and name (PyPI names
    /// are compared after PEP 503 normalisation). Each record's `affected` lists only the
    /// entries for this package.
    pub fn osv(&self, ecosystem: Ecosystem, name: &str) -> Result<Vec<OsvRecord>, DbError> {
        self.osv_by_ecosystem_name(ecosystem.osv_name(), name)
    }

    /// Returns the OSV records for an ecosystem named as OSV spells it, including names
    /// with a release suffix (`Debian:11`, `Alpine:v3.18`) and ecosystems that Cordon has
    /// no [`Ecosystem`] variant for (`Bitnami`, `RubyGems`).
    pub fn osv_by_ecosystem_name(
        &self,
        ecosystem: &str,
        name: &str,
    ) -> Result<Vec<OsvRecord>, DbError> {
        let record_key = store::key(ecosystem, &normalize_package_name(ecosystem, name));
        self.multimap_get(store::OSV, &record_key)
    }

    /// Returns CVSS data for a CVE from imported CVE JSON 5 or NVD records.
    pub fn cvss(&self, cve: &str) -> Result<Option<CvssRecord>, DbError> {
        let txn = self.db.begin_read().map_err(|error| self.storage(error))?;
        let table = txn
            .open_table(store::CVSS)
            .map_err(|error| self.storage(error))?;
        let Some(value) = table.get(cve).map_err(|error| self.storage(error))? else {
            return Ok(None);
        };
        self.decode(value.value()).map(Some)
    }

    /// Tells whether the database contains Debian tracker entries for `release` at all, so
    /// that a scan can warn instead of silently finding nothing.
    pub fn has_debian_release(&self, release: &str) -> Result<bool, DbError> {
        self.has_key_prefix(store::DEBIAN, release)
    }

    /// Tells whether the database contains Alpine secdb entries for `branch` (`3.11`).
    pub fn has_alpine_branch(&self, branch: &str) -> Result<bool, DbError> {
        self.has_key_prefix(store::ALPINE, branch.strip_prefix('v').unwrap_or(branch))
    }

    /// Tells whether the database contains OSV records for `ecosystem`, spelled as OSV
    /// spells it (`PyPI`, `npm`).
    pub fn has_osv_ecosystem(&self, ecosystem: &str) -> Result<bool, DbError> {
        self.has_key_prefix(store::OSV, ecosystem)
    }

    /// Tells whether `table` has a key that starts with `first` followed by the key
    /// separator.
    fn has_key_prefix(
        &self,
        table: redb::MultimapTableDefinition<&str, &[u8]>,
        first: &str,
    ) -> Result<bool, DbError> {
        let txn = self.db.begin_read().map_err(|error| self.storage(error))?;
        let table = match txn.open_multimap_table(table) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(false),
            Err(error) => return Err(self.storage(error)),
        };
        // Keys are `first\0second`, so every key of `first` sorts in [`first\0`, `first\x01`).
        let start = format!("{first}\0");
        let end = format!("{first}\u{1}");
        let mut range = table
            .range::<&str>(start.as_str()..end.as_str())
            .map_err(|error| self.storage(error))?;
        Ok(range.next().is_some())
    }

    fn multimap_get<T: DeserializeOwned>(
        &self,
        table: redb::MultimapTableDefinition<&str, &[u8]>,
        key: &str,
    ) -> Result<Vec<T>, DbError> {
        let txn = self.db.begin_read().map_err(|error| self.storage(error))?;
        let table = txn
            .open_multimap_table(table)
            .map_err(|error| self.storage(error))?;
        let values = table.get(key).map_err(|error| self.storage(error))?;
        let mut records = Vec::new();
        for value in values {
            let value = value.map_err(|error| self.storage(error))?;
            records.push(self.decode(value.value())?);
        }
        Ok(records)
    }

    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, DbError> {
        serde_json::from_slice(bytes).map_err(|error| DbError::Storage {
            path: self.path.display().to_string(),
            reason: format!("invalid stored record: {error}"),
        })
    }

    fn storage(&self, error: impl Into<redb::Error>) -> DbError {
        DbError::storage(&self.path, error.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npm_feed() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata/osv/npm/all.zip")
    }

    #[test]
    fn other_schema_version_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cordon.db");
        build(&[SourceSpec::path(SourceKind::Osv, npm_feed())], &path).unwrap();
        {
            let db = redb::Database::open(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(store::META)
                .unwrap()
                .insert(store::META_SCHEMA_VERSION, "0")
                .unwrap();
            txn.commit().unwrap();
        }

        let error = Database::open(&path).unwrap_err();
        assert!(matches!(error, DbError::SchemaMismatch { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("schema version 0"), "{message}");
        assert!(message.contains("cordon db update"), "{message}");
    }

    #[test]
    fn default_path_prefers_environment() {
        // Only reads the variable when it is set by the caller's environment; setting it
        // here would race with other tests.
        let path = default_db_path().unwrap();
        match std::env::var_os(DB_PATH_ENV).filter(|value| !value.is_empty()) {
            Some(value) => assert_eq!(path, PathBuf::from(value)),
            None => assert!(path.ends_with("cordon/cordon.db"), "{}", path.display()),
        }
    }
}
