//! Local vulnerability database.
#![forbid(unsafe_code)]

mod record;

use std::path::Path;

use cordon_model::Ecosystem;
use serde::{Deserialize, Serialize};

pub use record::{
    AlpineRecord, CvssRecord, DebianRecord, OsvAffected, OsvEvent, OsvRange, OsvRecord, OsvSeverity,
};

/// Errors of opening, building or querying the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The database file could not be opened or read.
    #[error("cannot read vulnerability database `{path}`: {reason}")]
    Open {
        /// Database path.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// Kind of upstream feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// OSV JSON records.
    Osv,
    /// Debian Security Tracker JSON.
    DebianTracker,
    /// Alpine secdb.
    AlpineSecdb,
    /// CVE JSON 5 records (CVSS enrichment).
    Cve5,
}

/// One imported source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Source name used in records' `source` field.
    pub name: String,
    /// Feed kind.
    pub kind: SourceKind,
    /// Path or URL it was read from.
    pub location: String,
    /// Number of records imported.
    pub records: u64,
}

/// Database metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Schema version of the file.
    pub schema_version: u32,
    /// Build time, RFC 3339.
    pub built_at: String,
    /// Imported sources.
    pub sources: Vec<SourceInfo>,
}

/// An opened database.
pub struct Database {
    metadata: Metadata,
}

impl Database {
    /// Opens a database file read-only.
    pub fn open(path: &Path) -> Result<Database, DbError> {
        Err(DbError::Open { path: path.display().to_string(), reason: "not implemented yet".into() })
    }

    /// Returns the database metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Returns the Debian tracker entries for a source package in a release.
    pub fn debian(&self, _release: &str, _source_package: &str) -> Result<Vec<DebianRecord>, DbError> {
        Ok(Vec::new())
    }

    /// Returns the Alpine secdb entries for a package in a branch (`3.11`).
    pub fn alpine(&self, _branch: &str, _package: &str) -> Result<Vec<AlpineRecord>, DbError> {
        Ok(Vec::new())
    }

    /// Returns the OSV records that affect a package, by ecosystem and name (PyPI names
    /// are compared after PEP 503 normalisation).
    pub fn osv(&self, _ecosystem: Ecosystem, _name: &str) -> Result<Vec<OsvRecord>, DbError> {
        Ok(Vec::new())
    }

    /// Returns CVSS data for a CVE from imported CVE JSON 5 records.
    pub fn cvss(&self, _cve: &str) -> Result<Option<CvssRecord>, DbError> {
        Ok(None)
    }
}
