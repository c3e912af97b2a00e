//! Errors of opening, building, updating and querying the database.

use std::fmt::Write as _;

/// Errors of opening, building, updating or querying the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The database file could not be opened or read.
    #[error("cannot read vulnerability database `{path}`: {reason}")]
    Open {
        /// Database path.
        path: String,
        /// Cause of the failure.
        reason: String,
    },

    /// The database file was written with another schema version.
    #[error(
        "vulnerability database `{path}` has schema version {found}, but this build of cordon \
         reads version {expected}: rebuild it with `cordon db build` or run `cordon db update`"
    )]
    SchemaMismatch {
        /// Database path.
        path: String,
        /// Schema version stored in the file.
        found: String,
        /// Schema version this library reads and writes.
        expected: u32,
    },

    /// Reading or writing the database's storage failed.
    #[error("vulnerability database `{path}`: {reason}")]
    Storage {
        /// Database path.
        path: String,
        /// Cause of the failure.
        reason: String,
    },

    /// A file or directory could not be read or written.
    #[error("cannot access `{path}`: {source}")]
    Io {
        /// File or directory path.
        path: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A `KIND=PATH_OR_URL` source specification could not be parsed.
    #[error("invalid source `{spec}`: {reason}")]
    InvalidSource {
        /// The specification as given.
        spec: String,
        /// Problem found.
        reason: String,
    },

    /// An input file, or a record inside it, is malformed.
    #[error("invalid {what} in {location}: {reason}")]
    InvalidInput {
        /// Kind of input, with the record or zip member when known
        /// (`OSV record PYSEC-2020-96.json`).
        what: String,
        /// File (or URL) that contains it.
        location: String,
        /// Problem found.
        reason: String,
    },

    /// An input exceeded a size or entry-count limit.
    #[error("{location} exceeds a limit: {reason}")]
    LimitExceeded {
        /// File, zip member or URL.
        location: String,
        /// Limit exceeded and the value seen.
        reason: String,
    },

    /// A download failed before the server returned a response, or while reading it.
    #[error("download of {url} failed: {reason}")]
    Download {
        /// Requested URL.
        url: String,
        /// Cause of the failure.
        reason: String,
    },

    /// The server returned a status other than success.
    #[error("download of {url} failed: HTTP status {status}")]
    HttpStatus {
        /// Requested URL.
        url: String,
        /// Status code and reason phrase.
        status: String,
    },
}

impl DbError {
    pub(crate) fn io(path: impl std::fmt::Display, source: std::io::Error) -> DbError {
        DbError::Io {
            path: path.to_string(),
            source,
        }
    }

    pub(crate) fn storage(path: &std::path::Path, error: impl std::error::Error) -> DbError {
        DbError::Storage {
            path: path.display().to_string(),
            reason: error_chain(&error),
        }
    }
}

/// Formats an error and its sources as one line (`outer: inner: innermost`).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some libraries repeat the cause inside their own message.
        if !text.contains(&cause_text) {
            let _ = write!(text, ": {cause_text}");
        }
        source = cause.source();
    }
    text
}
