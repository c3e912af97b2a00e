//! On-disk layout: redb tables with JSON values, and the read-only storage backend.
//!
//! Tables:
//! - `meta`: `schema_version` and `metadata` (JSON [`Metadata`](crate::Metadata)).
//! - `debian` (multimap): `release\0source` to one JSON [`DebianGroup`] per feed.
//! - `debian_description`: `source\0id` to the tracker's description, stored once per CVE
//!   and source package instead of once per release.
//! - `alpine` (multimap): `branch\0package` to JSON [`AlpineRecord`]s.
//! - `osv` (multimap): `ecosystem\0normalised name` to JSON [`OsvRecord`]s whose `affected`
//!   only names that package.
//! - `cvss`: CVE id to a JSON [`CvssRecord`].

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;

use redb::{MultimapTableDefinition, TableDefinition, WriteTransaction};

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use crate::record::DebianRecord;
use crate::record::{AlpineRecord, CvssRecord, OsvRecord};
use crate::DbError;

/// Version of the table layout and record encoding. Bump it whenever either changes, so
/// that an old binary rejects a new file and the reverse.
pub const SCHEMA_VERSION: u32 = 1;

pub(crate) const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
pub(crate) const DEBIAN: MultimapTableDefinition<&str, &[u8]> =
    MultimapTableDefinition::new("debian");
pub(crate) const DEBIAN_DESCRIPTION: TableDefinition<&str, &str> =
    TableDefinition::new("debian_description");
pub(crate) const ALPINE: MultimapTableDefinition<&str, &[u8]> =
    MultimapTableDefinition::new("alpine");
pub(crate) const OSV: MultimapTableDefinition<&str, &[u8]> = MultimapTableDefinition::new("osv");
pub(crate) const CVSS: TableDefinition<&str, &[u8]> = TableDefinition::new("cvss");

pub(crate) const META_SCHEMA_VERSION: &str = "schema_version";
pub(crate) const META_METADATA: &str = "metadata";

/// Joins the parts of a composite key with NUL, which no feed uses inside a name.
pub(crate) fn key(first: &str, second: &str) -> String {
    let mut key = String::with_capacity(first.len() + second.len() + 1);
    key.push_str(first);
    key.push('\0');
    key.push_str(second);
    key
}

/// Normalises a package name for the OSV table: PEP 503 for PyPI (lower case, every run
/// of `-`, `_` and `.` becomes one `-`), unchanged for every other ecosystem.
pub fn normalize_package_name(ecosystem: &str, name: &str) -> String {
    if ecosystem != "PyPI" {
        return name.to_owned();
    }
    let mut normalized = String::with_capacity(name.len());
    let mut in_separator_run = false;
    for character in name.chars() {
        if matches!(character, '-' | '_' | '.') {
            if !in_separator_run {
                normalized.push('-');
            }
            in_separator_run = true;
        } else {
            normalized.extend(character.to_lowercase());
            in_separator_run = false;
        }
    }
    normalized
}

/// Debian tracker entries of one source package in one release, from one feed.
///
/// The tracker lists hundreds of thousands of (CVE, package, release) entries, so they
/// are stored as one value per source package and release with short field names, and
/// the fields that the key already names are left out.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct DebianGroup {
    /// Source name of the feed.
    pub source: String,
    pub entries: Vec<DebianEntry>,
}

/// One entry of a [`DebianGroup`]; see [`DebianRecord`] for the fields.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct DebianEntry {
    #[serde(rename = "i")]
    pub id: String,
    #[serde(rename = "s")]
    pub status: String,
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub nodsa: Option<String>,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub nodsa_reason: Option<String>,
}

/// The write side of one build: all tables opened in one write transaction.
pub(crate) struct Writer<'txn> {
    path: &'txn Path,
    debian: redb::MultimapTable<'txn, &'static str, &'static [u8]>,
    debian_description: redb::Table<'txn, &'static str, &'static str>,
    alpine: redb::MultimapTable<'txn, &'static str, &'static [u8]>,
    osv: redb::MultimapTable<'txn, &'static str, &'static [u8]>,
    cvss: redb::Table<'txn, &'static str, &'static [u8]>,
}

impl<'txn> Writer<'txn> {
    /// Opens (and so creates) every record table.
    pub(crate) fn open(txn: &'txn WriteTransaction, path: &'txn Path) -> Result<Self, DbError> {
        let storage = |error: redb::TableError| DbError::storage(path, error);
        Ok(Writer {
            path,
            debian: txn.open_multimap_table(DEBIAN).map_err(storage)?,
            debian_description: txn.open_table(DEBIAN_DESCRIPTION).map_err(storage)?,
            alpine: txn.open_multimap_table(ALPINE).map_err(storage)?,
            osv: txn.open_multimap_table(OSV).map_err(storage)?,
            cvss: txn.open_table(CVSS).map_err(storage)?,
        })
    }

    /// Stores the entries of one source package in one release.
    pub(crate) fn insert_debian_group(
        &mut self,
        release: &str,
        package: &str,
        group: &DebianGroup,
    ) -> Result<(), DbError> {
        let value = to_json(group);
        self.debian
            .insert(key(release, package).as_str(), value.as_slice())
            .map_err(|error| DbError::storage(self.path, error))?;
        Ok(())
    }

    /// Stores the description of a CVE for a source package.
    pub(crate) fn insert_debian_description(
        &mut self,
        package: &str,
        id: &str,
        description: &str,
    ) -> Result<(), DbError> {
        self.debian_description
            .insert(key(package, id).as_str(), description)
            .map_err(|error| DbError::storage(self.path, error))?;
        Ok(())
    }

    pub(crate) fn insert_alpine(&mut self, record: &AlpineRecord) -> Result<(), DbError> {
        let value = to_json(record);
        self.alpine
            .insert(
                key(&record.branch, &record.package).as_str(),
                value.as_slice(),
            )
            .map_err(|error| DbError::storage(self.path, error))?;
        Ok(())
    }

    /// Stores an OSV record under `ecosystem` (as published, `Debian:11` included) and the
    /// normalised package name.
    pub(crate) fn insert_osv(
        &mut self,
        ecosystem: &str,
        name: &str,
        record: &OsvRecord,
    ) -> Result<(), DbError> {
        let value = to_json(record);
        let record_key = key(ecosystem, &normalize_package_name(ecosystem, name));
        self.osv
            .insert(record_key.as_str(), value.as_slice())
            .map_err(|error| DbError::storage(self.path, error))?;
        Ok(())
    }

    /// Stores a CVSS record, replacing any earlier one for the same CVE.
    pub(crate) fn insert_cvss(&mut self, record: &CvssRecord) -> Result<(), DbError> {
        let value = to_json(record);
        self.cvss
            .insert(record.id.as_str(), value.as_slice())
            .map_err(|error| DbError::storage(self.path, error))?;
        Ok(())
    }
}

/// Writes the schema version and the metadata.
pub(crate) fn write_metadata(
    txn: &WriteTransaction,
    path: &Path,
    metadata: &crate::Metadata,
) -> Result<(), DbError> {
    let storage = |error: redb::Error| DbError::storage(path, error);
    let mut table = txn
        .open_table(META)
        .map_err(|error| storage(error.into()))?;
    let version = SCHEMA_VERSION.to_string();
    table
        .insert(META_SCHEMA_VERSION, version.as_str())
        .map_err(|error| storage(error.into()))?;
    let json = String::from_utf8(to_json(metadata)).unwrap_or_default();
    table
        .insert(META_METADATA, json.as_str())
        .map_err(|error| storage(error.into()))?;
    Ok(())
}

/// Reads the schema version and metadata, rejecting other schema versions.
pub(crate) fn read_metadata(db: &redb::Database, path: &Path) -> Result<crate::Metadata, DbError> {
    let not_cordon = |reason: String| DbError::Open {
        path: path.display().to_string(),
        reason: format!("{reason} (not a Cordon vulnerability database, or damaged)"),
    };
    let txn = db
        .begin_read()
        .map_err(|error| DbError::storage(path, error))?;
    let table = txn
        .open_table(META)
        .map_err(|error| not_cordon(error.to_string()))?;

    let version = table
        .get(META_SCHEMA_VERSION)
        .map_err(|error| DbError::storage(path, error))?
        .map(|value| value.value().to_owned())
        .ok_or_else(|| not_cordon("missing schema version".to_owned()))?;
    if version != SCHEMA_VERSION.to_string() {
        return Err(DbError::SchemaMismatch {
            path: path.display().to_string(),
            found: version,
            expected: SCHEMA_VERSION,
        });
    }

    let json = table
        .get(META_METADATA)
        .map_err(|error| DbError::storage(path, error))?
        .map(|value| value.value().to_owned())
        .ok_or_else(|| not_cordon("missing metadata".to_owned()))?;
    serde_json::from_str(&json).map_err(|error| not_cordon(format!("invalid metadata: {error}")))
}

fn to_json(value: &impl Serialize) -> Vec<u8> {
    // Serialising these structs to memory cannot fail, because they contain only
    // strings, numbers, options and vectors of them, and no map with non-string keys.
    serde_json::to_vec(value).unwrap_or_default()
}

/// A redb storage backend over a file opened read-only.
///
/// redb 2 writes to the file header while a database is open (it marks the file as in
/// use and clears the mark on close). This backend keeps such writes in memory, so the
/// file itself is never modified, needs no write permission and takes no lock: any number
/// of processes can read one database at a time.
#[derive(Debug)]
pub(crate) struct ReadOnlyBackend {
    file: Mutex<File>,
    state: Mutex<Overlay>,
}

#[derive(Debug)]
struct Overlay {
    len: u64,
    /// Writes in the order they were made; later writes take precedence.
    writes: Vec<(u64, Vec<u8>)>,
}

impl ReadOnlyBackend {
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(ReadOnlyBackend {
            file: Mutex::new(file),
            state: Mutex::new(Overlay {
                len,
                writes: Vec::new(),
            }),
        })
    }
}

fn poisoned() -> io::Error {
    io::Error::other("storage lock poisoned")
}

impl redb::StorageBackend for ReadOnlyBackend {
    fn len(&self) -> io::Result<u64> {
        Ok(self.state.lock().map_err(|_| poisoned())?.len)
    }

    fn read(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let state = self.state.lock().map_err(|_| poisoned())?;
        let end = offset
            .checked_add(len as u64)
            .filter(|end| *end <= state.len)
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end"))?;

        let mut buffer = vec![0; len];
        {
            let mut file = self.file.lock().map_err(|_| poisoned())?;
            let file_len = file.metadata()?.len();
            let readable = file_len.saturating_sub(offset).min(len as u64) as usize;
            if readable > 0 {
                file.seek(SeekFrom::Start(offset))?;
                file.read_exact(&mut buffer[..readable])?;
            }
        }

        for (write_offset, data) in &state.writes {
            let write_end = write_offset + data.len() as u64;
            if write_end <= offset || *write_offset >= end {
                continue;
            }
            let from = offset.max(*write_offset);
            let to = end.min(write_end);
            let target = (from - offset) as usize..(to - offset) as usize;
            let source = (from - write_offset) as usize..(to - write_offset) as usize;
            buffer[target].copy_from_slice(&data[source]);
        }
        Ok(buffer)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        state.len = len;
        Ok(())
    }

    fn sync_data(&self, _eventual: bool) -> io::Result<()> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        state.writes.push((offset, data.to_vec()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pypi_names_follow_pep_503() {
        assert_eq!(normalize_package_name("PyPI", "PyYAML"), "pyyaml");
        assert_eq!(
            normalize_package_name("PyPI", "zope.interface"),
            "zope-interface"
        );
        assert_eq!(
            normalize_package_name("PyPI", "Foo__Bar-.-baz"),
            "foo-bar-baz"
        );
    }

    #[test]
    fn other_ecosystem_names_unchanged() {
        assert_eq!(normalize_package_name("npm", "@Babel/Core"), "@Babel/Core");
        assert_eq!(
            normalize_package_name("crates.io", "serde_json"),
            "serde_json"
        );
    }
}
