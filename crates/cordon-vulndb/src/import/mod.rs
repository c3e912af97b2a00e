//! Importers, one per feed kind. Each reads local files and writes records to the store.
//!
//! Bad-record policy: the record feeds (OSV, CVE JSON 5) skip a malformed record with a
//! warning that the build report counts, because one broken record among hundreds of
//! thousands should not block an update. The document feeds (Debian tracker JSON, Alpine
//! secdb files) fail on a malformed document, because a partly parsed document would
//! silently drop advisories. A single secdb entry with no recognisable id is skipped with
//! a warning. In strict mode every warning is an error.

pub(crate) mod alpine;
pub(crate) mod cve5;
pub(crate) mod debian;
pub(crate) mod nvd;
pub(crate) mod osv;

use serde::{Deserialize, Deserializer};

use crate::input::Limits;
use crate::DbError;

/// Maximum number of warning messages kept in a build report.
pub(crate) const MAX_REPORTED_WARNINGS: usize = 100;

/// State of one source's import.
pub(crate) struct Import<'a> {
    /// Source name stored in every record.
    pub name: &'a str,
    /// Location shown in messages (path, or URL of a download).
    pub location: &'a str,
    pub limits: &'a Limits,
    pub strict: bool,
    pub records: u64,
    pub withdrawn: u64,
    /// Valid records that carry nothing to store (CVE records without CVSS data).
    pub without_data: u64,
    pub skipped: u64,
    /// The first skipped record's error, logged once when the source is done.
    pub first_skip: Option<String>,
    /// Newest modification time named by the imported records (RFC 3339 text as published).
    pub updated_at: Option<String>,
    pub warnings: &'a mut Vec<String>,
}

impl Import<'_> {
    /// Skips a bad record with a warning, or fails in strict mode. Nothing is logged
    /// here: the build logs one line per source once it has counted the valid records,
    /// so a source of the wrong kind fails with its error alone.
    pub(crate) fn skip(&mut self, error: DbError) -> Result<(), DbError> {
        if self.strict {
            return Err(error);
        }
        self.skipped += 1;
        if self.first_skip.is_none() {
            self.first_skip = Some(error.to_string());
        }
        if self.warnings.len() < MAX_REPORTED_WARNINGS {
            self.warnings.push(error.to_string());
        }
        Ok(())
    }

    /// Keeps the newest of the modification times seen so far. RFC 3339 UTC texts of one
    /// feed compare correctly as strings.
    pub(crate) fn saw_update_time(&mut self, time: Option<&str>) {
        let Some(time) = time else { return };
        if self
            .updated_at
            .as_deref()
            .is_none_or(|newest| time > newest)
        {
            self.updated_at = Some(time.to_owned());
        }
    }
}

/// Deserialises `null` as the type's default (feeds write `"aliases": null` at times).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
