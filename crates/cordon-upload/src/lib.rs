//! Copies a directory of sandbox artifacts to S3-compatible object storage.
//!
//! Every regular file under the directory becomes one object at
//! `PREFIX/<run id>/<relative path>`, with a `Content-Type` taken from its extension. The
//! client is `object_store`'s S3 implementation. Credentials are always given by the caller
//! (the CLI reads the standard `AWS_*` environment variables), so no request ever goes to an
//! instance-metadata or STS endpoint: the only host contacted is the configured endpoint.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cordon_upload::UploadError> {
//! use cordon_upload::{Credentials, S3Settings, S3Url, Uploader};
//!
//! let target: S3Url = "s3://artifacts/sandbox".parse()?;
//! let settings = S3Settings::default();
//! let uploader = Uploader::new(&target, &settings, Credentials::from_env()?)?;
//! for object in uploader.upload_dir("cordon-sandbox-out".as_ref(), "sbx-0123456789ab").await? {
//!     println!("{}", object.url);
//! }
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod error;
mod location;
#[cfg(feature = "testing")]
pub mod testing;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, AttributeValue, Attributes, ClientOptions, ObjectStore, PutMultipartOptions,
    PutOptions, PutPayload, RetryConfig, WriteMultipart,
};
use tokio::io::AsyncReadExt;
use url::Url;

pub use error::UploadError;
pub use location::{S3Settings, S3Url};

/// Files up to this size go up in one `PutObject`; larger ones in a multipart upload.
pub const SINGLE_PUT_MAX_BYTES: u64 = 16 << 20;

/// Part size of multipart uploads. S3 requires at least 5 MiB for every part but the last.
const PART_BYTES: usize = 8 << 20;

/// Parts of one file in flight at once.
const PARTS_IN_FLIGHT: usize = 2;

/// Files uploaded at once.
const FILES_IN_FLIGHT: usize = 4;

/// Static S3 credentials.
#[derive(Clone)]
pub struct Credentials {
    /// Access key id (`AWS_ACCESS_KEY_ID`).
    pub access_key_id: String,
    /// Secret access key (`AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: String,
    /// Session token of temporary credentials (`AWS_SESSION_TOKEN`).
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Credentials {
    /// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
    ///
    /// Profiles, SSO and instance metadata are not consulted.
    pub fn from_env() -> Result<Self, UploadError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the same variables as [`Credentials::from_env`] through `lookup`; an empty
    /// value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, UploadError> {
        let read = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let access_key_id = read("AWS_ACCESS_KEY_ID");
        let secret_access_key = read("AWS_SECRET_ACCESS_KEY");
        match (access_key_id, secret_access_key) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(Self {
                access_key_id,
                secret_access_key,
                session_token: read("AWS_SESSION_TOKEN"),
            }),
            (None, None) => Err(UploadError::MissingCredentials {
                missing: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are",
            }),
            (None, Some(_)) => Err(UploadError::MissingCredentials {
                missing: "AWS_ACCESS_KEY_ID is",
            }),
            (Some(_), None) => Err(UploadError::MissingCredentials {
                missing: "AWS_SECRET_ACCESS_KEY is",
            }),
        }
    }
}

/// One object written by [`Uploader::upload_dir`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedObject {
    /// Path of the source file relative to the uploaded directory.
    pub relative_path: PathBuf,
    /// Object key in the bucket.
    pub key: String,
    /// HTTP(S) URL of the object at the configured endpoint.
    pub url: String,
    /// Bytes uploaded.
    pub size: u64,
    /// `Content-Type` stored with the object.
    pub content_type: &'static str,
}

/// Client for one bucket and key prefix.
#[derive(Debug)]
pub struct Uploader {
    store: Arc<AmazonS3>,
    bucket: String,
    prefix: String,
    bucket_url: Url,
}

impl Uploader {
    /// Builds the S3 client for `target`. No request is sent until an upload starts.
    pub fn new(
        target: &S3Url,
        settings: &S3Settings,
        credentials: Credentials,
    ) -> Result<Self, UploadError> {
        let bucket_url = settings.bucket_url(target.bucket())?;
        let client_options = ClientOptions::new()
            .with_allow_http(bucket_url.scheme() == "http")
            .with_connect_timeout(Duration::from_secs(10))
            .with_timeout(Duration::from_secs(300));
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(60),
            ..RetryConfig::default()
        };
        // The bucket URL is computed here for both addressing styles and passed as a
        // virtual-hosted endpoint, which object_store uses unchanged.
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(target.bucket())
            .with_region(settings.region())
            .with_endpoint(bucket_url.as_str().trim_end_matches('/'))
            .with_virtual_hosted_style_request(true)
            .with_access_key_id(credentials.access_key_id)
            .with_secret_access_key(credentials.secret_access_key)
            .with_client_options(client_options)
            .with_retry(retry);
        if let Some(token) = credentials.session_token {
            builder = builder.with_token(token);
        }
        let store = builder.build().map_err(|error| UploadError::Client {
            bucket: target.bucket().to_string(),
            problem: error::describe_store_error(&error),
        })?;
        Ok(Self {
            store: Arc::new(store),
            bucket: target.bucket().to_string(),
            prefix: target.prefix().to_string(),
            bucket_url,
        })
    }

    /// Uploads every regular file under `dir` to `PREFIX/<run_id>/<relative path>`.
    ///
    /// Symbolic links are skipped with a warning. The first failure stops the upload and is
    /// returned; objects already written stay in the bucket. On success the objects are
    /// returned sorted by key.
    pub async fn upload_dir(
        &self,
        dir: &Path,
        run_id: &str,
    ) -> Result<Vec<UploadedObject>, UploadError> {
        location::check_key_segment(run_id).map_err(|reason| UploadError::InvalidRunId {
            run_id: run_id.to_string(),
            reason,
        })?;
        let files = list_files(dir)?;
        if files.is_empty() {
            tracing::warn!(dir = %dir.display(), "no files to upload");
        }
        let mut objects: Vec<UploadedObject> = futures_util::stream::iter(files)
            .map(|file| self.upload_file(dir, file, run_id))
            .buffer_unordered(FILES_IN_FLIGHT)
            .try_collect()
            .await?;
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(objects)
    }

    /// Returns the object key of `relative_path` in the run `run_id`.
    pub fn key(&self, run_id: &str, relative_path: &Path) -> Result<String, UploadError> {
        let mut segments: Vec<&str> = Vec::new();
        if !self.prefix.is_empty() {
            segments.push(&self.prefix);
        }
        segments.push(run_id);
        for component in relative_path.components() {
            let std::path::Component::Normal(name) = component else {
                return Err(UploadError::InvalidFileName {
                    path: relative_path.to_path_buf(),
                });
            };
            let name = name.to_str().ok_or_else(|| UploadError::InvalidFileName {
                path: relative_path.to_path_buf(),
            })?;
            segments.push(name);
        }
        Ok(segments.join("/"))
    }

    /// Returns the HTTP(S) URL of `key` at the configured endpoint.
    pub fn object_url(&self, key: &str) -> String {
        let mut url = self.bucket_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(key.split('/'));
        }
        url.to_string()
    }

    async fn upload_file(
        &self,
        dir: &Path,
        relative_path: PathBuf,
        run_id: &str,
    ) -> Result<UploadedObject, UploadError> {
        let key = self.key(run_id, &relative_path)?;
        let location = ObjectPath::parse(&key).map_err(|_| UploadError::InvalidFileName {
            path: relative_path.clone(),
        })?;
        let source = dir.join(&relative_path);
        let content_type = content_type(&relative_path);
        let attributes =
            Attributes::from_iter([(Attribute::ContentType, AttributeValue::from(content_type))]);
        let read_error = |error| UploadError::Read {
            path: source.clone(),
            source: error,
        };
        let mut file = tokio::fs::File::open(&source).await.map_err(read_error)?;
        let length = file.metadata().await.map_err(read_error)?.len();

        let put_error = |error: object_store::Error| UploadError::Put {
            path: source.clone(),
            bucket: self.bucket.clone(),
            key: key.clone(),
            problem: error::describe_store_error(&error),
        };
        let size = if length <= SINGLE_PUT_MAX_BYTES {
            let mut data = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
            file.read_to_end(&mut data).await.map_err(read_error)?;
            let size = data.len() as u64;
            let options = PutOptions {
                attributes,
                ..PutOptions::default()
            };
            self.store
                .put_opts(&location, PutPayload::from(data), options)
                .await
                .map_err(put_error)?;
            size
        } else {
            let options = PutMultipartOptions {
                attributes,
                ..PutMultipartOptions::default()
            };
            let upload = self
                .store
                .put_multipart_opts(&location, options)
                .await
                .map_err(put_error)?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
            match copy_file(&mut file, &mut writer).await {
                Ok(size) => {
                    writer.finish().await.map_err(put_error)?;
                    size
                }
                Err(failure) => {
                    // Parts of an unfinished upload are stored (and billed) until aborted.
                    if let Err(error) = writer.abort().await {
                        tracing::warn!(key, %error, "failed to abort the multipart upload");
                    }
                    return Err(match failure {
                        CopyFailure::Read(error) => read_error(error),
                        CopyFailure::Store(error) => put_error(error),
                    });
                }
            }
        };
        tracing::debug!(key, size, content_type, "uploaded");
        Ok(UploadedObject {
            url: self.object_url(&key),
            relative_path,
            key,
            size,
            content_type,
        })
    }
}

enum CopyFailure {
    Read(std::io::Error),
    Store(object_store::Error),
}

/// Streams `file` into `writer` part by part and returns the bytes copied.
async fn copy_file(
    file: &mut tokio::fs::File,
    writer: &mut WriteMultipart,
) -> Result<u64, CopyFailure> {
    let mut buffer = vec![0u8; PART_BYTES];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer).await.map_err(CopyFailure::Read)?;
        if read == 0 {
            return Ok(size);
        }
        writer
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(CopyFailure::Store)?;
        writer.write(&buffer[..read]);
        size += read as u64;
    }
}

/// Lists the regular files under `dir` as paths relative to it, sorted.
fn list_files(dir: &Path) -> Result<Vec<PathBuf>, UploadError> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|error| UploadError::Walk {
            path: error.path().unwrap_or(dir).to_path_buf(),
            source: error.into(),
        })?;
        let file_type = entry.file_type();
        if file_type.is_symlink() {
            tracing::warn!(path = %entry.path().display(), "skipping symbolic link");
            continue;
        }
        if !file_type.is_file() {
            continue;
        }
        if let Ok(relative) = entry.path().strip_prefix(dir) {
            files.push(relative.to_path_buf());
        }
    }
    Ok(files)
}

/// Returns the `Content-Type` for a file name: `application/x-pcapng` for captures (the type
/// Wireshark registers in its shared-mime-info file), the `mime_guess` type for other known
/// extensions, and `application/octet-stream` otherwise.
pub fn content_type(path: &Path) -> &'static str {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if extension.eq_ignore_ascii_case("pcapng") {
        return "application/x-pcapng";
    }
    if extension.is_empty() {
        return "application/octet-stream";
    }
    mime_guess::from_ext(extension)
        .first_raw()
        .unwrap_or("application/octet-stream")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type(Path::new("report.json")), "application/json");
        assert_eq!(
            content_type(Path::new("capture.pcapng")),
            "application/x-pcapng"
        );
        assert_eq!(content_type(Path::new("raw/stdout.log")), "text/plain");
        assert_eq!(
            content_type(Path::new("raw/engine-changes.txt")),
            "text/plain"
        );
        assert_eq!(
            content_type(Path::new("raw/executables/9f86d081884c7d65")),
            "application/octet-stream"
        );
    }

    #[test]
    fn credentials_need_key_and_secret() {
        let only_key = Credentials::from_lookup(|name| {
            (name == "AWS_ACCESS_KEY_ID").then(|| "AKIDEXAMPLE".to_string())
        });
        let message = only_key.unwrap_err().to_string();
        assert!(message.contains("AWS_SECRET_ACCESS_KEY"), "{message}");

        let empty = Credentials::from_lookup(|_| Some(String::new()));
        let message = empty.unwrap_err().to_string();
        assert!(
            message.contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
            "{message}"
        );

        let full = Credentials::from_lookup(|name| Some(format!("{name}-value"))).unwrap();
        assert_eq!(full.access_key_id, "AWS_ACCESS_KEY_ID-value");
        assert_eq!(
            full.session_token.as_deref(),
            Some("AWS_SESSION_TOKEN-value")
        );
    }

    #[test]
    fn credentials_debug_hides_secrets() {
        let credentials = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI".into(),
            session_token: Some("FwoGZXIvYXdzE".into()),
        };
        let text = format!("{credentials:?}");
        assert!(!text.contains("wJalrXUtnFEMI"), "{text}");
        assert!(!text.contains("FwoGZXIvYXdzE"), "{text}");
    }

    #[test]
    fn keys_join_prefix_run_and_path() {
        let settings = S3Settings::default()
            .with_endpoint("http://127.0.0.1:9000")
            .with_path_style(true);
        let credentials = Credentials::from_lookup(|name| Some(name.to_string())).unwrap();
        let target: S3Url = "s3://artifacts/team a/runs".parse().unwrap();
        let uploader = Uploader::new(&target, &settings, credentials).unwrap();

        let key = uploader.key("sbx-1", Path::new("raw/stdout.log")).unwrap();
        assert_eq!(key, "team a/runs/sbx-1/raw/stdout.log");
        assert_eq!(
            uploader.object_url(&key),
            "http://127.0.0.1:9000/artifacts/team%20a/runs/sbx-1/raw/stdout.log"
        );
        assert!(uploader.key("sbx-1", Path::new("../x")).is_err());
    }
}
