//! Image source strings (`docker-archive:PATH[:NAME:TAG]`, `oci-dir:PATH[:REF]`, ...) and
//! platforms (`linux/arm64/v8`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ImageError;

/// Storage format of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageFormat {
    /// Tar written by `docker save` (`manifest.json` with `RepoTags`).
    DockerArchive,
    /// OCI image layout directory (`oci-layout`, `index.json`, `blobs/`).
    OciDir,
    /// Tar of an OCI image layout.
    OciArchive,
    /// Unpacked root filesystem directory.
    Dir,
}

impl ImageFormat {
    /// Returns the scheme prefix used in source strings.
    pub fn scheme(self) -> &'static str {
        match self {
            ImageFormat::DockerArchive => "docker-archive",
            ImageFormat::OciDir => "oci-dir",
            ImageFormat::OciArchive => "oci-archive",
            ImageFormat::Dir => "dir",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme())
    }
}

/// Where to read an image from, parsed from a string such as
/// `docker-archive:app.tar:app:1.0`, `oci-dir:layout:3.11.0`, `oci-archive:img.tar`,
/// `dir:rootfs` or a bare path.
///
/// Paths may contain `:`. After the scheme, the longest prefix that exists on disk is
/// the path and the rest is the reference; when no prefix exists, the first `:` splits
/// them. A bare path is detected when the image is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSource {
    /// Format, or `None` for a bare path to detect at open time.
    pub format: Option<ImageFormat>,
    /// Path of the archive or directory.
    pub path: PathBuf,
    /// `NAME:TAG` for docker-archives, the `org.opencontainers.image.ref.name` value for
    /// OCI layouts; `None` when not given.
    pub reference: Option<String>,
}

impl ImageSource {
    /// Builds a source of a known format.
    pub fn new(format: ImageFormat, path: impl Into<PathBuf>, reference: Option<String>) -> Self {
        ImageSource {
            format: Some(format),
            path: path.into(),
            reference,
        }
    }

    /// Builds a source whose format is detected when it is opened.
    pub fn detect(path: impl Into<PathBuf>) -> Self {
        ImageSource {
            format: None,
            path: path.into(),
            reference: None,
        }
    }
}

impl fmt::Display for ImageSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(format) = self.format {
            write!(f, "{}:", format.scheme())?;
        }
        write!(f, "{}", self.path.display())?;
        if let Some(reference) = &self.reference {
            write!(f, ":{reference}")?;
        }
        Ok(())
    }
}

impl FromStr for ImageSource {
    type Err = ImageError;

    fn from_str(value: &str) -> Result<Self, ImageError> {
        let invalid = |reason: &str| ImageError::InvalidSource {
            source_string: value.to_string(),
            reason: reason.to_string(),
        };
        if value.is_empty() {
            return Err(invalid("empty source"));
        }
        if Path::new(value).exists() {
            return Ok(ImageSource::detect(value));
        }
        let schemes = [
            ("docker-archive:", ImageFormat::DockerArchive),
            ("oci-dir:", ImageFormat::OciDir),
            ("oci:", ImageFormat::OciDir),
            ("oci-archive:", ImageFormat::OciArchive),
            ("dir:", ImageFormat::Dir),
        ];
        for (prefix, format) in schemes {
            let Some(rest) = value.strip_prefix(prefix) else {
                continue;
            };
            if rest.is_empty() {
                return Err(invalid("missing path after the scheme"));
            }
            if format == ImageFormat::Dir {
                return Ok(ImageSource::new(format, rest, None));
            }
            let (path, reference) = split_path_reference(rest);
            if reference.as_deref() == Some("") {
                return Err(invalid("empty reference after the path"));
            }
            return Ok(ImageSource::new(format, path, reference));
        }
        // A bare path may carry a reference too (`app.tar:app:1`) when the path exists.
        let (path, reference) = split_path_reference(value);
        if reference.is_some() && Path::new(&path).exists() {
            return Ok(ImageSource {
                format: None,
                path: path.into(),
                reference,
            });
        }
        Ok(ImageSource::detect(value))
    }
}

/// Splits `PATH[:REF]`: the longest prefix that exists on disk is the path, otherwise the
/// first `:` separates path and reference.
fn split_path_reference(rest: &str) -> (String, Option<String>) {
    if Path::new(rest).exists() {
        return (rest.to_string(), None);
    }
    let colons: Vec<usize> = rest.match_indices(':').map(|(i, _)| i).collect();
    for &i in colons.iter().rev() {
        if Path::new(&rest[..i]).exists() {
            return (rest[..i].to_string(), Some(rest[i + 1..].to_string()));
        }
    }
    match colons.first() {
        Some(&i) => (rest[..i].to_string(), Some(rest[i + 1..].to_string())),
        None => (rest.to_string(), None),
    }
}

/// Target platform of an image: operating system, CPU architecture and variant, as in
/// the OCI image index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    /// Operating system (`GOOS` value), for example `linux`.
    pub os: String,
    /// CPU architecture (`GOARCH` value), for example `amd64` or `arm64`.
    pub architecture: String,
    /// CPU variant, for example `v8` for arm64 or `v6` for arm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Default for Platform {
    /// The platform read when the caller requests none: `linux/amd64`.
    fn default() -> Self {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }
}

impl Platform {
    /// Builds a platform from its parts, as written.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: variant.filter(|v| !v.is_empty()).map(str::to_string),
        }
    }

    /// Returns the platform with architecture aliases and default variants normalised
    /// the way containerd's `platforms.Normalize` does: `x86_64` is `amd64`, `aarch64`
    /// is `arm64`, `arm64/v8` is plain `arm64`, `arm` without a variant is `arm/v7`.
    pub fn normalized(&self) -> Platform {
        let os = self.os.to_ascii_lowercase();
        let mut architecture = self.architecture.to_ascii_lowercase();
        let mut variant = self.variant.as_deref().map(str::to_ascii_lowercase);
        match architecture.as_str() {
            "x86_64" | "x86-64" | "amd64" => {
                architecture = "amd64".into();
                if variant.as_deref() == Some("v1") {
                    variant = None;
                }
            }
            "i386" | "386" => architecture = "386".into(),
            "aarch64" | "arm64" => {
                architecture = "arm64".into();
                if matches!(variant.as_deref(), Some("8" | "v8" | "v8.0")) {
                    variant = None;
                }
            }
            "armhf" => {
                architecture = "arm".into();
                variant = Some("v7".into());
            }
            "armel" => {
                architecture = "arm".into();
                variant = Some("v6".into());
            }
            "arm" => {
                variant = match variant.as_deref() {
                    None | Some("7") => Some("v7".into()),
                    Some(v @ ("5" | "6" | "8")) => Some(format!("v{v}")),
                    _ => variant,
                };
            }
            _ => {}
        }
        Platform {
            os,
            architecture,
            variant,
        }
    }

    /// Returns true when both platforms are the same after [`Platform::normalized`].
    pub fn matches(&self, other: &Platform) -> bool {
        self.normalized() == other.normalized()
    }

    /// Returns the platforms an image built for may run on this one, best first: the
    /// platform itself, then older variants of the same architecture (`arm/v7` also
    /// accepts `v6` and `v5`, `amd64/v3` also accepts `v2` and plain `amd64`).
    pub fn compatible(&self) -> Vec<Platform> {
        let own = self.normalized();
        let mut out = vec![own.clone()];
        let older: &[&str] = match (own.architecture.as_str(), own.variant.as_deref()) {
            ("arm", Some("v8")) => &["v7", "v6", "v5"],
            ("arm", Some("v7")) => &["v6", "v5"],
            ("arm", Some("v6")) => &["v5"],
            ("amd64", Some("v4")) => &["v3", "v2", ""],
            ("amd64", Some("v3")) => &["v2", ""],
            ("amd64", Some("v2")) => &[""],
            _ => &[],
        };
        for variant in older {
            out.push(Platform::new(&own.os, &own.architecture, Some(variant)));
        }
        out
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = ImageError;

    /// Parses `OS/ARCH[/VARIANT]`, or a bare `ARCH` meaning `linux/ARCH`.
    fn from_str(value: &str) -> Result<Self, ImageError> {
        let invalid = || ImageError::InvalidPlatform {
            value: value.to_string(),
        };
        let parts: Vec<&str> = value.trim().split('/').collect();
        if parts
            .iter()
            .any(|part| part.is_empty() || part.contains(char::is_whitespace))
        {
            return Err(invalid());
        }
        match parts.as_slice() {
            [architecture] => Ok(Platform::new("linux", architecture, None)),
            [os, architecture] => Ok(Platform::new(os, architecture, None)),
            [os, architecture, variant] => Ok(Platform::new(os, architecture, Some(variant))),
            _ => Err(invalid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm64_v8_matches_plain_arm64() {
        let requested: Platform = "linux/arm64".parse().unwrap();
        let listed = Platform::new("linux", "arm64", Some("v8"));
        assert!(requested.matches(&listed));
        assert!(!requested.matches(&Platform::new("linux", "arm", Some("v8"))));
    }

    #[test]
    fn arm_defaults_to_v7() {
        let requested: Platform = "linux/arm".parse().unwrap();
        assert!(requested.matches(&Platform::new("linux", "arm", Some("v7"))));
        assert!(!requested.matches(&Platform::new("linux", "arm", Some("v6"))));
        assert!(requested
            .compatible()
            .contains(&Platform::new("linux", "arm", Some("v6"))));
    }

    #[test]
    fn platform_parse_rejects_garbage() {
        assert!("linux/arm64/v8/x".parse::<Platform>().is_err());
        assert!("linux//v8".parse::<Platform>().is_err());
        assert!("".parse::<Platform>().is_err());
        assert_eq!(
            "arm64".parse::<Platform>().unwrap().to_string(),
            "linux/arm64"
        );
    }

    #[test]
    fn source_scheme_and_reference() {
        let source: ImageSource = "docker-archive:/nonexistent/a.tar:app:1.0".parse().unwrap();
        assert_eq!(source.format, Some(ImageFormat::DockerArchive));
        assert_eq!(source.path, PathBuf::from("/nonexistent/a.tar"));
        assert_eq!(source.reference.as_deref(), Some("app:1.0"));

        let source: ImageSource = "oci-dir:/nonexistent/layout".parse().unwrap();
        assert_eq!(source.reference, None);

        let source: ImageSource = "/nonexistent/bare".parse().unwrap();
        assert_eq!(source.format, None);
    }

    #[test]
    fn existing_path_with_colon_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("odd:name.tar");
        std::fs::write(&path, b"").unwrap();
        let text = format!("docker-archive:{}:app:1", path.display());
        let source: ImageSource = text.parse().unwrap();
        assert_eq!(source.path, path);
        assert_eq!(source.reference.as_deref(), Some("app:1"));
    }
}
