//! Upload destination: the `s3://BUCKET/PREFIX` target and the endpoint settings.

use std::fmt;
use std::str::FromStr;

use url::{Host, Url};

use crate::UploadError;

/// Region used when none is set; S3-compatible servers other than AWS accept any value.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Upload target `s3://BUCKET/PREFIX`; the prefix may be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    bucket: String,
    prefix: String,
}

impl S3Url {
    /// Bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Key prefix without leading or trailing slashes; empty for the bucket's root.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

impl FromStr for S3Url {
    type Err = UploadError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: String| UploadError::InvalidTarget {
            target: value.to_string(),
            reason,
        };
        let rest = value
            .strip_prefix("s3://")
            .ok_or_else(|| invalid("expected s3://BUCKET/PREFIX".to_string()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        check_bucket_name(bucket).map_err(invalid)?;
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty() {
            for segment in prefix.split('/') {
                check_key_segment(segment).map_err(|reason| invalid(format!("prefix {reason}")))?;
            }
        }
        Ok(Self {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }
}

/// Checks the AWS rules for general-purpose bucket names: 3 to 63 lowercase letters, digits,
/// dots and hyphens, starting and ending with a letter or digit.
fn check_bucket_name(bucket: &str) -> Result<(), String> {
    if bucket.is_empty() {
        return Err("missing bucket name".to_string());
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
    let alphanumeric = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let valid = (3..=63).contains(&bucket.len())
        && bucket.chars().all(allowed)
        && bucket.starts_with(alphanumeric)
        && bucket.ends_with(alphanumeric);
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid bucket name {bucket:?}: use 3 to 63 lowercase letters, digits, dots and \
             hyphens, starting and ending with a letter or digit"
        ))
    }
}

/// Checks one `/`-separated part of an object key.
pub(crate) fn check_key_segment(segment: &str) -> Result<(), String> {
    if segment.is_empty() {
        return Err("has an empty path segment".to_string());
    }
    if segment == "." || segment == ".." {
        return Err(format!("has a {segment:?} path segment"));
    }
    if segment.contains('/') || segment.chars().any(char::is_control) {
        return Err(format!(
            "segment {segment:?} contains '/' or a control character"
        ));
    }
    Ok(())
}

/// Endpoint, region and addressing style of the S3 API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    endpoint: Option<String>,
    region: Option<String>,
    path_style: bool,
}

impl S3Settings {
    /// Sets the endpoint URL, such as `http://127.0.0.1:9000`; without one, requests go to
    /// AWS at `https://s3.REGION.amazonaws.com`.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Sets the signing region (default `us-east-1`).
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Selects path-style requests (`ENDPOINT/BUCKET/KEY`) instead of virtual-hosted-style
    /// ones (`BUCKET.ENDPOINT/KEY`). Most self-hosted servers and any endpoint given as an IP
    /// address need path style.
    pub fn with_path_style(mut self, path_style: bool) -> Self {
        self.path_style = path_style;
        self
    }

    /// Signing region.
    pub fn region(&self) -> &str {
        self.region.as_deref().unwrap_or(DEFAULT_REGION)
    }

    /// Returns the URL that object keys are appended to, for `bucket`.
    pub fn bucket_url(&self, bucket: &str) -> Result<Url, UploadError> {
        let region = self.region();
        let region_valid = !region.is_empty()
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !region_valid {
            return Err(UploadError::InvalidRegion {
                region: region.to_string(),
            });
        }

        let endpoint = self
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
        let invalid = |reason: &str| UploadError::InvalidEndpoint {
            endpoint: endpoint.clone(),
            reason: reason.to_string(),
        };
        let mut url = parse_endpoint(&endpoint).map_err(|reason| invalid(&reason))?;

        if self.path_style {
            url.path_segments_mut()
                .map_err(|()| invalid("the URL cannot have a path"))?
                .pop_if_empty()
                .push(bucket);
            return Ok(url);
        }
        let Some(Host::Domain(domain)) = url.host() else {
            return Err(invalid(
                "virtual-hosted-style requests need a host name, not an IP address; use path-style requests",
            ));
        };
        let host = format!("{bucket}.{domain}");
        url.set_host(Some(&host))
            .map_err(|error| invalid(&error.to_string()))?;
        Ok(url)
    }
}

/// Parses an endpoint URL: http or https, with no query, fragment or user information.
fn parse_endpoint(endpoint: &str) -> Result<Url, String> {
    let url = Url::parse(endpoint).map_err(|error| error.to_string())?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err("expected an http:// or https:// URL".to_string());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a query or fragment is not allowed".to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "credentials in the URL are not allowed; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                .to_string(),
        );
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_splits_bucket_and_prefix() {
        let target: S3Url = "s3://cordon-artifacts/ci/sandbox/".parse().unwrap();
        assert_eq!(target.bucket(), "cordon-artifacts");
        assert_eq!(target.prefix(), "ci/sandbox");
        assert_eq!(target.to_string(), "s3://cordon-artifacts/ci/sandbox");

        let root: S3Url = "s3://cordon-artifacts".parse().unwrap();
        assert_eq!(root.prefix(), "");
    }

    #[test]
    fn target_rejects_bad_forms() {
        for bad in [
            "cordon-artifacts/ci",
            "https://cordon-artifacts/ci",
            "s3://",
            "s3:///ci",
            "s3://Upper-Case/ci",
            "s3://ab/ci",
            "s3://-leading/ci",
            "s3://bucket/a//b",
            "s3://bucket/a/../b",
        ] {
            let error = bad.parse::<S3Url>().unwrap_err().to_string();
            assert!(error.contains(bad), "{bad}: {error}");
        }
    }

    #[test]
    fn aws_urls_by_addressing_style() {
        let virtual_hosted = S3Settings::default().with_region("eu-west-1");
        assert_eq!(
            virtual_hosted.bucket_url("logs").unwrap().as_str(),
            "https://logs.s3.eu-west-1.amazonaws.com/"
        );
        let path_style = virtual_hosted.with_path_style(true);
        assert_eq!(
            path_style.bucket_url("logs").unwrap().as_str(),
            "https://s3.eu-west-1.amazonaws.com/logs"
        );
    }

    #[test]
    fn custom_endpoint_urls() {
        let settings = S3Settings::default()
            .with_endpoint("http://127.0.0.1:9000/")
            .with_path_style(true);
        assert_eq!(
            settings.bucket_url("logs").unwrap().as_str(),
            "http://127.0.0.1:9000/logs"
        );
        let virtual_ip = settings.clone().with_path_style(false);
        let error = virtual_ip.bucket_url("logs").unwrap_err().to_string();
        assert!(error.contains("path-style"), "{error}");

        let named = S3Settings::default().with_endpoint("https://storage.example.test:8443");
        assert_eq!(
            named.bucket_url("logs").unwrap().as_str(),
            "https://logs.storage.example.test:8443/"
        );
    }

    #[test]
    fn endpoint_and_region_checked() {
        for endpoint in [
            "ftp://host",
            "not a url",
            "http://user:pw@host",
            "http://host/?a=b",
        ] {
            let settings = S3Settings::default()
                .with_endpoint(endpoint)
                .with_path_style(true);
            assert!(settings.bucket_url("logs").is_err(), "{endpoint}");
        }
        let bad_region = S3Settings::default().with_region("eu-west-1.evil.test/");
        assert!(bad_region.bucket_url("logs").is_err());
    }
}
