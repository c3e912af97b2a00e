//! Builders that write docker-archives, OCI layouts and OCI archives for tests.
//!
//! Everything is built in code with `tar`, `flate2` and `zstd`, so tests need no binary
//! fixtures. Builders panic on I/O errors because they only run in tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// Returns `sha256:<hex>` of `data`.
pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Builder of one layer tar.
pub struct LayerBuilder {
    builder: tar::Builder<Vec<u8>>,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerBuilder {
    /// Starts an empty layer.
    pub fn new() -> Self {
        LayerBuilder {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    /// Appends an entry whose name bytes are written as given, even `../x` or non-UTF-8.
    pub fn raw(
        mut self,
        name: &[u8],
        kind: tar::EntryType,
        link: Option<&[u8]>,
        data: &[u8],
    ) -> Self {
        let mut header = tar::Header::new_gnu();
        let old = header.as_old_mut();
        old.name[..name.len()].copy_from_slice(name);
        if let Some(link) = link {
            old.linkname[..link.len()].copy_from_slice(link);
        }
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        header.set_mtime(0);
        header.set_cksum();
        self.builder.append(&header, data).unwrap();
        self
    }

    /// Appends a directory.
    pub fn dir(self, path: &str) -> Self {
        self.raw(path.as_bytes(), tar::EntryType::Directory, None, b"")
    }

    /// Appends a regular file with mode 0644.
    pub fn file(self, path: &str, content: &[u8]) -> Self {
        self.raw(path.as_bytes(), tar::EntryType::Regular, None, content)
    }

    /// Appends a regular file through the tar crate's own path handling (long names).
    pub fn file_long_name(mut self, path: &str, content: &[u8]) -> Self {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        self.builder
            .append_data(&mut header, path, content)
            .unwrap();
        self
    }

    /// Appends a symlink.
    pub fn symlink(self, path: &str, target: &str) -> Self {
        self.raw(
            path.as_bytes(),
            tar::EntryType::Symlink,
            Some(target.as_bytes()),
            b"",
        )
    }

    /// Appends a hardlink whose target is an archive member name.
    pub fn hardlink(self, path: &str, target: &str) -> Self {
        self.raw(
            path.as_bytes(),
            tar::EntryType::Link,
            Some(target.as_bytes()),
            b"",
        )
    }

    /// Appends a whiteout `.wh.NAME` for `path`.
    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
        let marker = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.file(&marker, b"")
    }

    /// Appends an opaque whiteout for `dir`.
    pub fn opaque(self, dir: &str) -> Self {
        self.file(&format!("{dir}/.wh..wh..opq"), b"")
    }

    /// Finishes the tar (with its end-of-archive blocks).
    pub fn build(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }
}

/// Compression of a test layer blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

/// Compresses `data`.
pub fn compress(data: &[u8], compression: Compression) -> Vec<u8> {
    match compression {
        Compression::None => data.to_vec(),
        Compression::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(data).unwrap();
            encoder.finish().unwrap()
        }
        Compression::Zstd => zstd::encode_all(data, 1).unwrap(),
    }
}

/// One layer of a test image.
#[derive(Debug, Clone)]
pub struct TestLayer {
    /// Uncompressed tar.
    pub tar: Vec<u8>,
    /// Compression of the stored blob.
    pub compression: Compression,
    /// Stored bytes; `None` stores the compressed tar. Set it to corrupt the blob.
    pub blob_override: Option<Vec<u8>>,
    /// diff_id written into the config; `None` writes the true one.
    pub diff_id_override: Option<String>,
}

impl TestLayer {
    /// A layer stored with the given compression.
    pub fn new(tar: Vec<u8>, compression: Compression) -> Self {
        TestLayer {
            tar,
            compression,
            blob_override: None,
            diff_id_override: None,
        }
    }

    /// Returns the stored bytes.
    pub fn blob(&self) -> Vec<u8> {
        self.blob_override
            .clone()
            .unwrap_or_else(|| compress(&self.tar, self.compression))
    }

    /// Returns the diff_id the config declares.
    pub fn diff_id(&self) -> String {
        self.diff_id_override
            .clone()
            .unwrap_or_else(|| sha256(&self.tar))
    }

    /// Returns the OCI media type.
    pub fn media_type(&self) -> &'static str {
        match self.compression {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// A test image: layers, platform and runtime config.
#[derive(Debug, Clone)]
pub struct TestImage {
    /// Layers, base first.
    pub layers: Vec<TestLayer>,
    /// `os` of the config.
    pub os: String,
    /// `architecture` of the config.
    pub architecture: String,
    /// `variant` of the config.
    pub variant: Option<String>,
    /// The config's `config` object.
    pub runtime: Value,
}

impl TestImage {
    /// A linux/amd64 image with the given layers and an empty runtime config.
    pub fn new(layers: Vec<TestLayer>) -> Self {
        TestImage {
            layers,
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
            runtime: json!({}),
        }
    }

    /// Sets the platform.
    pub fn platform(mut self, os: &str, architecture: &str, variant: Option<&str>) -> Self {
        self.os = os.into();
        self.architecture = architecture.into();
        self.variant = variant.map(str::to_string);
        self
    }

    /// Returns the config JSON, with one history entry per layer and one empty entry.
    pub fn config(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = self.layers.iter().map(TestLayer::diff_id).collect();
        let mut history = vec![json!({"created_by": "ENV PATH=/usr/bin", "empty_layer": true})];
        for index in 0..self.layers.len() {
            history.push(json!({"created_by": format!("RUN step {index}")}));
        }
        let mut config = json!({
            "architecture": self.architecture,
            "os": self.os,
            "config": self.runtime,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        });
        if let Some(variant) = &self.variant {
            config["variant"] = json!(variant);
        }
        serde_json::to_vec(&config).unwrap()
    }
}

/// Appends a file entry to an outer archive.
fn append(builder: &mut tar::Builder<fs::File>, name: &str, data: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, name, data).unwrap();
}

/// Writes a legacy docker-archive (`docker save` before Docker 25): `manifest.json`,
/// `<config hex>.json` and `<n>/layer.tar` members. Each image is listed with its tags.
pub fn write_docker_archive(path: &Path, images: &[(&[&str], &TestImage)]) {
    let mut builder = tar::Builder::new(fs::File::create(path).unwrap());
    let mut manifest = Vec::new();
    let mut written = std::collections::HashSet::new();
    for (tags, image) in images {
        let config = image.config();
        let config_name = format!("{}.json", &sha256(&config)[7..]);
        append(&mut builder, &config_name, &config);
        let mut layer_names = Vec::new();
        for layer in &image.layers {
            let blob = layer.blob();
            let name = format!("{}/layer.tar", &sha256(&blob)[7..]);
            if written.insert(name.clone()) {
                append(&mut builder, &name, &blob);
            }
            layer_names.push(name);
        }
        manifest.push(json!({"Config": config_name, "RepoTags": tags, "Layers": layer_names}));
    }
    append(
        &mut builder,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    builder.finish().unwrap();
}

/// Writes a Docker 25+ docker-archive: blobs under `blobs/sha256/`, `manifest.json`
/// naming them, plus `oci-layout` and `index.json`.
pub fn write_docker_archive_v25(path: &Path, tags: &[&str], image: &TestImage) {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(dir.path());
    let descriptor = layout.put_image(image);
    let config_digest = sha256(&image.config());
    let layers: Vec<String> = image
        .layers
        .iter()
        .map(|layer| format!("blobs/sha256/{}", &sha256(&layer.blob())[7..]))
        .collect();
    let manifest = json!([{
        "Config": format!("blobs/sha256/{}", &config_digest[7..]),
        "RepoTags": tags,
        "Layers": layers,
    }]);
    fs::write(
        dir.path().join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    layout.write_index(&[with_ref(
        descriptor,
        tags.first().copied().unwrap_or("latest"),
    )]);
    tar_directory(dir.path(), path);
}

/// Adds an `org.opencontainers.image.ref.name` annotation to a descriptor.
pub fn with_ref(mut descriptor: Value, reference: &str) -> Value {
    descriptor["annotations"] = json!({"org.opencontainers.image.ref.name": reference});
    descriptor
}

/// Adds a platform to a descriptor.
pub fn with_platform(
    mut descriptor: Value,
    os: &str,
    architecture: &str,
    variant: Option<&str>,
) -> Value {
    let mut platform = json!({"os": os, "architecture": architecture});
    if let Some(variant) = variant {
        platform["variant"] = json!(variant);
    }
    descriptor["platform"] = platform;
    descriptor
}

/// Builder of an OCI image layout directory.
pub struct OciLayout {
    root: PathBuf,
}

impl OciLayout {
    /// Creates `oci-layout` and `blobs/sha256/` under `root`.
    pub fn create(root: &Path) -> Self {
        fs::create_dir_all(root.join("blobs/sha256")).unwrap();
        fs::write(
            root.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        OciLayout {
            root: root.to_path_buf(),
        }
    }

    /// Stores a blob and returns its descriptor.
    pub fn put_blob(&mut self, media_type: &str, data: &[u8]) -> Value {
        let digest = sha256(data);
        fs::write(self.root.join("blobs/sha256").join(&digest[7..]), data).unwrap();
        json!({"mediaType": media_type, "digest": digest, "size": data.len()})
    }

    /// Stores the layers, config and manifest of an image; returns the manifest
    /// descriptor (without platform).
    pub fn put_image(&mut self, image: &TestImage) -> Value {
        let config = self.put_blob("application/vnd.oci.image.config.v1+json", &image.config());
        let layers: Vec<Value> = image
            .layers
            .iter()
            .map(|layer| self.put_blob(layer.media_type(), &layer.blob()))
            .collect();
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config,
            "layers": layers,
        });
        self.put_blob(
            "application/vnd.oci.image.manifest.v1+json",
            &serde_json::to_vec(&manifest).unwrap(),
        )
    }

    /// Stores an image index listing `manifests`; returns its descriptor.
    pub fn put_index(&mut self, manifests: &[Value]) -> Value {
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        self.put_blob(
            "application/vnd.oci.image.index.v1+json",
            &serde_json::to_vec(&index).unwrap(),
        )
    }

    /// Writes `index.json` listing `manifests`.
    pub fn write_index(&self, manifests: &[Value]) {
        let index = json!({"schemaVersion": 2, "manifests": manifests});
        fs::write(
            self.root.join("index.json"),
            serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();
    }
}

/// Writes a tar of everything under `dir` (member names relative to `dir`) to `out`.
pub fn tar_directory(dir: &Path, out: &Path) {
    let mut builder = tar::Builder::new(fs::File::create(out).unwrap());
    builder.append_dir_all(".", dir).unwrap();
    builder.finish().unwrap();
}
