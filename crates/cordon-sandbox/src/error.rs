//! Errors of the sandbox.

use std::path::{Path, PathBuf};

/// Failure of a sandbox run.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A Docker Engine API call failed.
    #[error("docker engine: failed to {action}: {source}")]
    Engine {
        /// What the call tried to do.
        action: String,
        /// Error from bollard.
        #[source]
        source: bollard::errors::Error,
    },
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// File or directory involved.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A downloaded file exceeded the size limit.
    #[error("{path} is larger than the {limit}-byte limit")]
    TooLarge {
        /// Path inside the container.
        path: String,
        /// Limit in bytes.
        limit: u64,
    },
    /// The image reference or an option value is invalid.
    #[error("invalid {what} {value:?}: {reason}")]
    Invalid {
        /// Which input.
        what: &'static str,
        /// The value given.
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The image has neither ENTRYPOINT nor CMD and no command was given.
    #[error("image {image} has no command (no ENTRYPOINT or CMD); give one with --cmd ARG, once per argument")]
    NoCommand {
        /// Image reference as given.
        image: String,
    },
    /// The requested runtime is not registered with the Engine.
    #[error("docker runtime {runtime:?} is not registered; run crates/cordon-sandbox/tests/register-runsc-runtime.sh as root or pass --runtime runc")]
    MissingRuntime {
        /// Runtime name.
        runtime: String,
    },
    /// The fake network failed.
    #[error("fake network: {0}")]
    Network(String),
    /// The report could not be serialized.
    #[error("failed to serialize the report: {0}")]
    Json(#[from] serde_json::Error),
}

impl SandboxError {
    pub(crate) fn engine(action: &str, source: bollard::errors::Error) -> Self {
        SandboxError::Engine {
            action: action.to_string(),
            source,
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        SandboxError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
