//! Upload errors and the one-line description of an S3 failure.

use std::path::PathBuf;

/// Everything that stops an upload. Each message is one line naming the input.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The `s3://BUCKET/PREFIX` target is malformed.
    #[error("invalid upload target {target:?}: {reason}")]
    InvalidTarget {
        /// Target as given.
        target: String,
        /// Reason the value is invalid.
        reason: String,
    },
    /// The endpoint URL is malformed or does not fit the addressing style.
    #[error("invalid S3 endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// Endpoint as given.
        endpoint: String,
        /// Reason the value is invalid.
        reason: String,
    },
    /// The region contains characters other than lowercase letters, digits and hyphens.
    #[error("invalid S3 region {region:?}: use lowercase letters, digits and hyphens, such as eu-west-1")]
    InvalidRegion {
        /// Region as given.
        region: String,
    },
    /// The access key id or the secret access key is not set.
    #[error(
        "missing S3 credentials: {missing} not set; export AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)"
    )]
    MissingCredentials {
        /// Names of the unset variables, with the verb.
        missing: &'static str,
    },
    /// The run id cannot be one segment of an object key.
    #[error("invalid run id {run_id:?}: {reason}")]
    InvalidRunId {
        /// Run id as given.
        run_id: String,
        /// Reason the value is invalid.
        reason: String,
    },
    /// A file name is not UTF-8 or not a plain relative path, so it cannot be a key.
    #[error("cannot upload {path}: the file name is not valid UTF-8 or not a plain relative path")]
    InvalidFileName {
        /// Path relative to the uploaded directory.
        path: PathBuf,
    },
    /// Listing the directory failed.
    #[error("failed to list {path}: {source}")]
    Walk {
        /// Entry that could not be read.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// Reading a file failed.
    #[error("failed to read {path}: {source}")]
    Read {
        /// File that could not be read.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The S3 client could not be configured.
    #[error("failed to configure the S3 client for bucket {bucket}: {problem}")]
    Client {
        /// Bucket name.
        bucket: String,
        /// Cause of the failure.
        problem: String,
    },
    /// The server rejected an object or could not be reached.
    #[error("failed to upload {path} to s3://{bucket}/{key}: {problem}")]
    Put {
        /// Local file.
        path: PathBuf,
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// S3 error code and message, HTTP status, or transport error.
        problem: String,
    },
}

/// Describes an `object_store` error in one line.
///
/// For an S3 error response this is `Code: Message (HTTP status)` taken from the XML body,
/// such as `NoSuchBucket: The specified bucket does not exist (HTTP 404 Not Found)`.
/// Otherwise it is the transport causes joined with `: `, such as `HTTP error: error
/// sending request: client error (Connect): tcp connect error: Connection refused (os error
/// 111) (after 3 retries)`.
// NOTE: object_store 0.13 keeps its HTTP error type private, so the status and body are
// read from the text "Server returned non-2xx status code: STATUS: BODY" of that type.
pub(crate) fn describe_store_error(error: &object_store::Error) -> String {
    let mut causes: Vec<String> = Vec::new();
    let mut current: Option<&dyn std::error::Error> = Some(error);
    while let Some(cause) = current {
        causes.push(cause.to_string());
        current = cause.source();
    }

    for cause in &causes {
        let Some(rest) = cause.strip_prefix("Server returned non-2xx status code: ") else {
            continue;
        };
        let (status, body) = rest.split_once(": ").unwrap_or((rest, ""));
        let described = match (xml_element(body, "Code"), xml_element(body, "Message")) {
            (Some(code), Some(message)) => format!("{code}: {message} (HTTP {status})"),
            (Some(code), None) => format!("{code} (HTTP {status})"),
            _ => format!("HTTP {status}"),
        };
        return one_line(&described);
    }

    // The wrappers repeat the request line, so only the transport causes below them are kept.
    let retries = causes.iter().find_map(|cause| {
        let rest = cause.strip_prefix("Error performing ")?;
        let (_, after) = rest.split_once(", after ")?;
        after
            .split_once(" retries")
            .map(|(count, _)| count.to_string())
    });
    let wrapper =
        |cause: &str| cause.starts_with("Generic ") || cause.starts_with("Error performing ");
    let mut relevant: Vec<&String> = causes.iter().filter(|cause| !wrapper(cause)).collect();
    if relevant.is_empty() {
        relevant = causes.iter().collect();
    }
    let mut joined = String::new();
    for cause in relevant {
        if joined.contains(cause.as_str()) {
            continue;
        }
        if !joined.is_empty() {
            joined.push_str(": ");
        }
        joined.push_str(cause);
    }
    if let Some(retries) = retries {
        joined.push_str(&format!(" (after {retries} retries)"));
    }
    one_line(&joined)
}

/// Returns the text of the first `<name>` element of an S3 error document.
fn xml_element<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = body.find(&open)? + open.len();
    let end = start + body[start..].find(&close)?;
    Some(body[start..end].trim()).filter(|text| !text.is_empty())
}

/// Replaces line breaks and other control characters with spaces and collapses runs.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_error_code_and_message_extracted() {
        let body = "<?xml version=\"1.0\"?>\n<Error><Code>NoSuchBucket</Code>\n<Message>The specified bucket does not exist</Message></Error>";
        assert_eq!(xml_element(body, "Code"), Some("NoSuchBucket"));
        assert_eq!(
            xml_element(body, "Message"),
            Some("The specified bucket does not exist")
        );
        assert_eq!(xml_element(body, "RequestId"), None);
    }

    #[test]
    fn line_breaks_collapse() {
        assert_eq!(one_line("a\n  b\r\n\tc"), "a b c");
    }
}
