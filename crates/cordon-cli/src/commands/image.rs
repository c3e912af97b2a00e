//! Image arguments shared by `scan` and `sbom`, and the read-and-catalog step.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use cordon_catalog::Catalog;
use cordon_image::{
    Image, ImageFormat, ImageInfo, ImageSource, Limits, OpenOptions, Platform, ReadOptions, Rootfs,
};
use cordon_model::LayerRef;
use cordon_report::{ImageSummary, LayerSummary};

const MIB: u64 = 1024 * 1024;

/// Image reference and reading limits.
#[derive(Debug, Args)]
pub(crate) struct ImageArgs {
    /// Image to read: `docker-archive:PATH[:NAME:TAG]`, `oci-dir:PATH[:REF]`,
    /// `oci-archive:PATH[:REF]`, `dir:PATH`, or a path whose format is detected.
    #[arg(value_name = "IMAGE")]
    pub image: String,

    /// Platform to select from a multi-platform image, as `os/arch[/variant]`
    /// [default: linux/amd64 from an index; any platform for a single image].
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,

    /// Maximum uncompressed size of one layer, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().max_layer_bytes / MIB)]
    pub max_layer_size: u64,

    /// Maximum uncompressed size of all layers together, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().max_total_bytes / MIB)]
    pub max_image_size: u64,

    /// Maximum ratio of uncompressed to compressed size of a layer; a higher ratio is
    /// treated as a decompression bomb.
    #[arg(long, value_name = "RATIO", default_value_t = Limits::default().max_ratio)]
    pub max_ratio: u64,

    /// Maximum number of tar entries in all layers together.
    #[arg(long, value_name = "COUNT", default_value_t = Limits::default().max_entries)]
    pub max_entries: u64,
}

/// Result of reading and cataloging an image.
pub(crate) struct Inventory {
    pub info: ImageInfo,
    pub catalog: Catalog,
    pub warnings: Vec<String>,
    /// The opened image, for scanners that read every layer again.
    pub image: Image,
    /// The merged view, with contents kept only for package databases.
    pub rootfs: Rootfs,
    /// The image's layers, or one layer with an empty diff_id for a root filesystem.
    pub layers: Vec<LayerRef>,
}

impl ImageArgs {
    /// Returns the image source the arguments name.
    pub(crate) fn source(&self) -> anyhow::Result<ImageSource> {
        let source = self
            .image
            .parse::<ImageSource>()
            .with_context(|| format!("invalid image reference `{}`", self.image))?;
        if !source.path.exists() {
            anyhow::bail!(
                "image `{}` not found: `{}` is not a file or directory. Cordon reads docker-archive, \
                 OCI layout, OCI archive and root filesystem images; save a registry or Docker \
                 image first, for example `docker save -o app.tar IMAGE` or \
                 `skopeo copy docker://IMAGE oci-archive:app.tar`",
                self.image,
                source.path.display()
            );
        }
        let archive = matches!(
            source.format,
            Some(ImageFormat::DockerArchive | ImageFormat::OciArchive)
        );
        if archive && source.path.is_dir() {
            anyhow::bail!(
                "image `{}`: `{}` is a directory, but {} expects a tar file; use oci-dir: for an OCI layout or dir: for a root filesystem",
                self.image,
                source.path.display(),
                source.format.map_or("this reference", ImageFormat::scheme)
            );
        }
        Ok(source)
    }

    fn open_options(&self) -> anyhow::Result<OpenOptions> {
        let platform = match &self.platform {
            Some(text) if text.split('/').filter(|part| !part.is_empty()).count() < 2 => {
                anyhow::bail!("invalid --platform `{text}`: expected OS/ARCH[/VARIANT], for example linux/arm64")
            }
            Some(text) => Some(
                text.parse::<Platform>()
                    .with_context(|| format!("invalid --platform `{text}`"))?,
            ),
            None => None,
        };
        let limits = Limits {
            max_layer_bytes: self.max_layer_size.saturating_mul(MIB),
            max_total_bytes: self.max_image_size.saturating_mul(MIB),
            max_ratio: self.max_ratio,
            max_entries: self.max_entries,
            ..Limits::default()
        };
        Ok(OpenOptions { platform, limits })
    }

    /// Opens the image, reads its layers into the merged view and catalogs its packages.
    pub(crate) fn read_inventory(&self) -> anyhow::Result<Inventory> {
        let source = self.source()?;
        let image = Image::open(&source, &self.open_options()?)?;
        let info = image.info().clone();

        let retain = cordon_catalog::wants_content;
        let (rootfs, image_warnings) = image.read_rootfs(&ReadOptions { retain: &retain })?;

        let layers: Vec<LayerRef> = info
            .layers
            .iter()
            .map(|layer| LayerRef {
                index: layer.index,
                diff_id: layer.diff_id.clone(),
            })
            .collect();
        let layers = if layers.is_empty() {
            vec![LayerRef {
                index: 0,
                diff_id: String::new(),
            }]
        } else {
            layers
        };
        let catalog = cordon_catalog::catalog(&rootfs, &layers);

        let mut warnings: Vec<String> = image_warnings.iter().map(ToString::to_string).collect();
        warnings.extend(catalog.warnings.iter().cloned());
        warnings.extend(coverage_warnings(&rootfs, &catalog));
        Ok(Inventory {
            info,
            catalog,
            warnings,
            image,
            rootfs,
            layers,
        })
    }
}

/// Warns about content the catalogers cannot see, so that an empty result is not read as
/// a clean one.
fn coverage_warnings(rootfs: &Rootfs, catalog: &Catalog) -> Vec<String> {
    let mut warnings = Vec::new();
    // A Maven package's location is the archive path, or `archive!entry` for a nested one.
    let identified: std::collections::BTreeSet<&str> = catalog
        .packages
        .iter()
        .filter(|package| package.ecosystem == cordon_model::Ecosystem::Maven)
        .map(|package| package.location.split('!').next().unwrap_or_default())
        .collect();
    let has_package = |path: &str| identified.contains(path);
    let unidentified = rootfs
        .iter()
        .filter(|(path, node)| {
            node.kind == cordon_image::NodeKind::File
                && cordon_catalog::java::is_archive_path(path)
                && !has_package(path)
        })
        .count();
    if unidentified > 0 {
        warnings.push(format!(
            "{unidentified} Java archives yielded no Maven package (no pom.properties, manifest version or versioned file name), so Maven advisories cannot match them"
        ));
    }
    if catalog.packages.is_empty() {
        let os = match &catalog.distro {
            Some(distro) => format!("OS `{}`", distro.id),
            None => "no OS release file".to_string(),
        };
        warnings.push(format!(
            "no packages found ({os}); Cordon catalogs dpkg, apk, Python, npm, Java archives and Go binaries, not other binaries"
        ));
    }
    warnings
}

/// Summarises image metadata for reports.
pub(crate) fn image_summary(info: &ImageInfo) -> ImageSummary {
    let mut tags = info.repo_tags.clone();
    tags.extend(info.ref_name.iter().cloned());
    ImageSummary {
        source: info.source.clone(),
        format: info.format.scheme().to_string(),
        manifest_digest: info.manifest_digest.clone(),
        config_digest: info.config_digest.clone(),
        tags,
        platform: info.platform.as_ref().map(ToString::to_string),
        layers: info
            .layers
            .iter()
            .map(|layer| LayerSummary {
                index: layer.index,
                digest: layer.digest.clone(),
                diff_id: layer.diff_id.clone(),
                size: layer.size,
                created_by: layer.created_by.clone(),
            })
            .collect(),
    }
}

/// Returns the current time as RFC 3339 UTC.
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Opens the report destination: `path`, or standard output when `path` is `None`.
pub(crate) fn open_output(path: Option<&PathBuf>) -> anyhow::Result<Box<dyn std::io::Write>> {
    match path {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create output file `{}`", path.display()))?;
            Ok(Box::new(std::io::BufWriter::new(file)))
        }
        None => Ok(Box::new(std::io::BufWriter::new(std::io::stdout().lock()))),
    }
}
