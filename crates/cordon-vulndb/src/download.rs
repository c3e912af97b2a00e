//! HTTP(S) downloads of feed files.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::Duration;

use crate::error::error_chain;
use crate::DbError;

/// Timeouts and size cap of feed downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadOptions {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one whole download, from request to last byte.
    pub timeout: Duration,
    /// Maximum size in bytes of one downloaded file (after content decoding).
    pub max_bytes: u64,
}

impl Default for DownloadOptions {
    /// 30 s to connect, 10 minutes per file and 2 GiB per file: osv.dev's per-ecosystem
    /// `all.zip` files and the Debian tracker JSON are far smaller.
    fn default() -> Self {
        DownloadOptions {
            connect_timeout: Duration::from_secs(30),
            timeout: Duration::from_secs(600),
            max_bytes: 2 << 30,
        }
    }
}

/// Creates the HTTP client used for every download of one build or update.
pub(crate) fn http_client(options: &DownloadOptions) -> Result<reqwest::blocking::Client, DbError> {
    reqwest::blocking::Client::builder()
        .connect_timeout(options.connect_timeout)
        .timeout(options.timeout)
        .user_agent(concat!("cordon/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| DbError::Download {
            url: "(client setup)".to_owned(),
            reason: error_chain(&error),
        })
}

/// Downloads `url` to `destination`, failing on a non-success status, on a body larger
/// than `max_bytes` and on a body shorter than its `Content-Length`.
pub(crate) fn download(
    client: &reqwest::blocking::Client,
    url: &str,
    destination: &Path,
    max_bytes: u64,
) -> Result<u64, DbError> {
    let failed = |reason: String| DbError::Download {
        url: url.to_owned(),
        reason,
    };
    tracing::info!(url, "downloading");

    let response = client
        .get(url)
        .send()
        .map_err(|error| failed(error_chain(&error)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(DbError::HttpStatus {
            url: url.to_owned(),
            status: status.to_string(),
        });
    }
    let expected_len = response.content_length();
    if let Some(len) = expected_len.filter(|len| *len > max_bytes) {
        return Err(DbError::LimitExceeded {
            location: url.to_owned(),
            reason: format!("Content-Length {len} is over the download limit of {max_bytes} bytes"),
        });
    }

    let file =
        File::create(destination).map_err(|error| DbError::io(destination.display(), error))?;
    let mut writer = BufWriter::new(file);
    let received = std::io::copy(&mut response.take(max_bytes + 1), &mut writer)
        .map_err(|error| failed(error_chain(&error)))?;
    writer
        .flush()
        .map_err(|error| DbError::io(destination.display(), error))?;
    if received > max_bytes {
        return Err(DbError::LimitExceeded {
            location: url.to_owned(),
            reason: format!("body is over the download limit of {max_bytes} bytes"),
        });
    }
    if let Some(len) = expected_len.filter(|len| received < *len) {
        return Err(failed(format!(
            "truncated: received {received} of {len} bytes"
        )));
    }
    tracing::info!(url, bytes = received, "downloaded");
    Ok(received)
}
