//! Container image reading for Cordon.
//!
//! An image is read into a [`Rootfs`]: the merged view of all its layers, applied in order
//! with OCI whiteouts. Metadata is kept for every path, but file contents only for the
//! paths a caller selects. Memory is therefore bounded by metadata, not by image size.
//!
//! # Sources
//!
//! [`ImageSource`] parses `docker-archive:PATH[:NAME:TAG]` (`docker save` output),
//! `oci-dir:PATH[:REF]` (OCI image layout), `oci-archive:PATH[:REF]` (tar of a layout),
//! `dir:PATH` (an unpacked root filesystem) or a bare path whose format is detected.
//! Tar files are indexed once and read by seeking; nothing is extracted. An archive
//! that is itself gzip- or zstd-compressed (`docker save | gzip > app.tar.gz`) is first
//! decompressed, under the same [`Limits`], into a temporary file that is deleted when
//! the [`Image`] is dropped. An archive cut short anywhere before its tar end-of-archive
//! blocks is an [`ImageError::TruncatedArchive`]. An index is followed down to one manifest for the requested [`Platform`]
//! (default `linux/amd64`).
//!
//! # Reading
//!
//! ```no_run
//! use cordon_image::{Image, ImageSource, OpenOptions, ReadOptions};
//!
//! let source: ImageSource = "docker-archive:app.tar:app:1.0".parse()?;
//! let image = Image::open(&source, &OpenOptions::default())?;
//! println!("{} layers", image.info().layers.len());
//! let retain = |path: &str| path == "etc/os-release" || path.ends_with("dpkg/status");
//! let (rootfs, warnings) = image.read_rootfs(&ReadOptions { retain: &retain })?;
//! # Ok::<(), cordon_image::ImageError>(())
//! ```
//!
//! Layers are decompressed (gzip, zstd or none, detected from the data), checked against
//! their blob digest and diff_id, and read in parallel under [`Limits`]. A problem with a
//! single tar entry becomes a [`Warning`] and the read goes on; a problem with the image
//! as a whole is an [`ImageError`].

#![forbid(unsafe_code)]

mod archive;
mod dirsource;
mod error;
mod info;
mod layer;
mod limits;
mod manifest;
mod rootfs;
mod source;
mod store;
mod stream;
mod union;

#[cfg(feature = "testing")]
pub mod testing;

use std::io::{self, Read};
use std::path::PathBuf;

use rayon::prelude::*;

pub use error::{ImageError, Warning, WarningKind};
pub use info::{ImageConfig, ImageInfo, LayerInfo};
pub use limits::Limits;
pub use rootfs::{normalize_path, LayerVersion, Node, NodeKind, Rootfs, MAX_SYMLINK_HOPS};
pub use source::{ImageFormat, ImageSource, Platform};

use layer::{Event, ReadContext};
use manifest::{LayerBlob, PlatformRequest};
use store::Store;
use union::Merger;

/// Options for [`Image::open`].
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Requested platform. `None` reads `linux/amd64` from a multi-platform index and
    /// accepts a single-platform image of any platform; `Some` must match.
    pub platform: Option<Platform>,
    /// Resource limits for every read of this image.
    pub limits: Limits,
}

/// Options for [`Image::read_rootfs`].
#[derive(Clone, Copy)]
pub struct ReadOptions<'a> {
    /// Decides per normalised path (`etc/os-release`) whether a regular file's content is
    /// kept in the view, up to [`Limits::max_file_bytes_retained`].
    pub retain: &'a (dyn Fn(&str) -> bool + Sync),
}

fn retain_nothing(_: &str) -> bool {
    false
}

impl Default for ReadOptions<'_> {
    /// Keeps no file content.
    fn default() -> Self {
        ReadOptions {
            retain: &retain_nothing,
        }
    }
}

/// A regular file passed to the visitor of [`Image::for_each_file`].
#[derive(Debug, Clone, Copy)]
pub struct FileVisit<'a> {
    /// Index of the layer the file is in.
    pub layer: usize,
    /// Normalised path, as in [`Rootfs`].
    pub path: &'a str,
    /// Size in bytes.
    pub size: u64,
    /// Permission and set-id bits.
    pub mode: u32,
}

enum Backing {
    Layers {
        store: Store,
        layers: Vec<LayerBlob>,
    },
    Dir(PathBuf),
}

/// An opened image: its metadata is read, its layers are not yet.
pub struct Image {
    info: ImageInfo,
    backing: Backing,
    limits: Limits,
}

impl Image {
    /// Opens an image, selects one manifest by reference and platform, and reads its
    /// manifest and config.
    pub fn open(source: &ImageSource, options: &OpenOptions) -> Result<Image, ImageError> {
        let path = &source.path;
        let metadata = std::fs::metadata(path).map_err(|error| ImageError::Open {
            path: path.clone(),
            source: error,
        })?;
        let (format, store) = match source.format {
            Some(ImageFormat::Dir) | Some(ImageFormat::OciDir) if !metadata.is_dir() => {
                return Err(ImageError::Open {
                    path: path.clone(),
                    source: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
                })
            }
            Some(ImageFormat::Dir) => (ImageFormat::Dir, None),
            Some(ImageFormat::OciDir) => (ImageFormat::OciDir, Some(Store::Dir(path.clone()))),
            Some(format) => {
                let store = Store::open_archive(path, &options.limits)?;
                (format, Some(store))
            }
            None => detect(path, metadata.is_dir(), &options.limits)?,
        };

        let limits = options.limits.clone();
        let request = PlatformRequest {
            platform: options.platform.clone().unwrap_or_default(),
            explicit: options.platform.is_some(),
        };
        let reference = source.reference.as_deref();
        let source_string = source.to_string();
        let Some(store) = store else {
            let info = dir_info(source_string);
            return Ok(Image {
                info,
                backing: Backing::Dir(path.clone()),
                limits,
            });
        };
        let resolved = match format {
            ImageFormat::DockerArchive => manifest::resolve_docker_archive(
                &store,
                source_string,
                reference,
                &request,
                &limits,
            )?,
            _ => {
                manifest::resolve_oci(&store, source_string, format, reference, &request, &limits)?
            }
        };
        tracing::debug!(
            image = %path.display(),
            format = %format,
            layers = resolved.layers.len(),
            "opened image"
        );
        Ok(Image {
            info: resolved.info,
            backing: Backing::Layers {
                store,
                layers: resolved.layers,
            },
            limits,
        })
    }

    /// Returns the image's metadata.
    pub fn info(&self) -> &ImageInfo {
        &self.info
    }

    /// Reads all layers into the merged view, keeping the contents `options.retain`
    /// selects. Each retained content is also recorded per layer with
    /// [`Rootfs::record_version`].
    pub fn read_rootfs(
        &self,
        options: &ReadOptions<'_>,
    ) -> Result<(Rootfs, Vec<Warning>), ImageError> {
        let (store, layers) = match &self.backing {
            Backing::Dir(root) => {
                return dirsource::read_rootfs(root, &self.limits, options.retain)
            }
            Backing::Layers { store, layers } => (store, layers),
        };
        let context = ReadContext::new(store, &self.limits);
        let per_layer: Vec<_> = layers
            .par_iter()
            .enumerate()
            .map(|(index, blob)| union::collect_changes(&context, index, blob, options.retain))
            .collect::<Result<_, _>>()?;

        let mut merger = Merger::new();
        let mut warnings = Vec::new();
        for (index, (changes, layer_warnings)) in per_layer.into_iter().enumerate() {
            warnings.extend(layer_warnings);
            merger.apply(index, changes, &mut warnings);
        }
        Ok((merger.finish(), warnings))
    }

    /// Visits every regular file of every layer in layer and archive order, including
    /// files that later layers delete or replace, with a reader over its content.
    ///
    /// Hardlinks are not visited separately because their content is their target's.
    /// Whether a visited version is the one the final view shows can be checked with
    /// [`Rootfs::is_visible`]. Digests and limits are checked as in
    /// [`Image::read_rootfs`]; a digest mismatch is reported after the layer's files
    /// were visited.
    pub fn for_each_file(
        &self,
        visit: &mut dyn FnMut(&FileVisit<'_>, &mut dyn Read) -> io::Result<()>,
    ) -> Result<Vec<Warning>, ImageError> {
        let (store, layers) = match &self.backing {
            Backing::Dir(root) => return dirsource::for_each_file(root, &self.limits, visit),
            Backing::Layers { store, layers } => (store, layers),
        };
        let context = ReadContext::new(store, &self.limits);
        let mut warnings = Vec::new();
        for (index, blob) in layers.iter().enumerate() {
            visit_layer(&context, index, blob, &mut warnings, visit)?;
        }
        Ok(warnings)
    }

    /// Visits every regular file like [`Image::for_each_file`], but reads the layers in
    /// parallel on the rayon thread pool. Files of one layer arrive in archive order on
    /// one thread, while different layers interleave.
    pub fn for_each_file_parallel(
        &self,
        visit: &(dyn Fn(&FileVisit<'_>, &mut dyn Read) -> io::Result<()> + Sync),
    ) -> Result<Vec<Warning>, ImageError> {
        let (store, layers) = match &self.backing {
            Backing::Dir(root) => {
                return dirsource::for_each_file(root, &self.limits, &mut |file, reader| {
                    visit(file, reader)
                })
            }
            Backing::Layers { store, layers } => (store, layers),
        };
        let context = ReadContext::new(store, &self.limits);
        let per_layer: Vec<Vec<Warning>> = layers
            .par_iter()
            .enumerate()
            .map(|(index, blob)| {
                let mut warnings = Vec::new();
                let mut visit_one =
                    |file: &FileVisit<'_>, reader: &mut dyn Read| visit(file, reader);
                visit_layer(&context, index, blob, &mut warnings, &mut visit_one)?;
                Ok(warnings)
            })
            .collect::<Result<_, ImageError>>()?;
        Ok(per_layer.into_iter().flatten().collect())
    }
}

/// Streams one layer and passes each regular file to `visit`.
fn visit_layer(
    context: &ReadContext<'_>,
    index: usize,
    blob: &LayerBlob,
    warnings: &mut Vec<Warning>,
    visit: &mut dyn FnMut(&FileVisit<'_>, &mut dyn Read) -> io::Result<()>,
) -> Result<(), ImageError> {
    let image = context.store.path();
    context.read_layer(index, blob, warnings, &mut |event, _| {
        let Event::File {
            path,
            size,
            mode,
            reader,
        } = event
        else {
            return Ok(());
        };
        let entry = FileVisit {
            layer: index,
            path: &path,
            size,
            mode,
        };
        visit(&entry, reader).map_err(|source| ImageError::Visitor {
            image: image.to_path_buf(),
            layer: index,
            path: path.clone(),
            source,
        })
    })
}

/// Detects the format of a bare path.
fn detect(
    path: &std::path::Path,
    is_dir: bool,
    limits: &Limits,
) -> Result<(ImageFormat, Option<Store>), ImageError> {
    if is_dir {
        if path.join("oci-layout").is_file() || path.join("index.json").is_file() {
            return Ok((ImageFormat::OciDir, Some(Store::Dir(path.to_path_buf()))));
        }
        return Ok((ImageFormat::Dir, None));
    }
    let store = Store::open_archive(path, limits)?;
    if store.contains("manifest.json") {
        Ok((ImageFormat::DockerArchive, Some(store)))
    } else if store.contains("oci-layout") || store.contains("index.json") {
        Ok((ImageFormat::OciArchive, Some(store)))
    } else {
        Err(ImageError::UnknownFormat {
            path: path.to_path_buf(),
        })
    }
}

fn dir_info(source: String) -> ImageInfo {
    ImageInfo {
        source,
        format: ImageFormat::Dir,
        manifest_digest: None,
        config_digest: None,
        repo_tags: Vec::new(),
        ref_name: None,
        platform: None,
        layers: vec![LayerInfo {
            index: 0,
            digest: String::new(),
            diff_id: String::new(),
            media_type: None,
            size: 0,
            created_by: None,
        }],
        config: ImageConfig::default(),
    }
}
