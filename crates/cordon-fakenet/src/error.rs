//! Error type of the crate.

use std::path::PathBuf;

/// Errors returned by [`crate::FakeNet`] and the pcapng decoder.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The run id cannot name a namespace or an interface.
    #[error("invalid run id {0:?}: use 1 to 40 characters from [a-z0-9-], starting with a letter or digit")]
    InvalidRunId(String),

    /// A fakenet with this run id already exists on this host.
    #[error("network namespace {0} already exists; stop that run or call reap_stale first")]
    AlreadyExists(String),

    /// A command such as `ip` or `nft` could not be started.
    #[error("failed to run {command}: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A command such as `ip` or `nft` exited with a failure status.
    #[error("{command} failed with {status}: {stderr}")]
    Command {
        /// The command line.
        command: String,
        /// The exit status as text.
        status: String,
        /// The command's standard error, trimmed.
        stderr: String,
    },

    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A namespace, socket or thread operation failed.
    #[error("{context}: {source}")]
    Sys {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },

    /// The target network namespace path is not usable.
    #[error("invalid target network namespace {path}: {reason}")]
    InvalidTarget {
        /// The path given to `attach`.
        path: PathBuf,
        /// Why it is rejected.
        reason: String,
    },

    /// `attach` was called twice.
    #[error("fakenet {0} is already attached to a target namespace")]
    AlreadyAttached(String),

    /// A pcapng file could not be read.
    #[error("invalid pcapng file {path}: {reason}")]
    Pcap {
        /// The capture file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A background thread of the fakenet ended unexpectedly.
    #[error("fakenet {what} thread failed: {reason}")]
    Thread {
        /// Which thread (capture or services).
        what: &'static str,
        /// What happened.
        reason: String,
    },
}

/// Result type of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn sys(context: impl Into<String>, source: impl Into<std::io::Error>) -> Self {
        Error::Sys {
            context: context.into(),
            source: source.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
