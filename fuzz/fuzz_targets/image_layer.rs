//! Fuzzes the layer reader: the input is stored as the only layer blob of a docker-archive,
//! which is then opened, merged into a root filesystem and walked file by file.
//!
//! The layer's declared diff_id is the SHA-256 of the input, so uncompressed input passes
//! the digest check and reaches the tar reader and the whiteout merge. Input that looks
//! like gzip or zstd is decompressed first and then fails the diff_id check.
#![no_main]

use std::io;
use std::path::PathBuf;
use std::sync::OnceLock;

use cordon_image::testing::{write_docker_archive, Compression, TestImage, TestLayer};
use cordon_image::{Image, ImageSource, OpenOptions, ReadOptions};
use libfuzzer_sys::fuzz_target;
use tempfile::TempDir;

/// Scratch directory for the archive, created once and reused by every run.
fn archive_path() -> PathBuf {
    static DIRECTORY: OnceLock<TempDir> = OnceLock::new();
    let directory = DIRECTORY.get_or_init(|| match tempfile::tempdir() {
        Ok(directory) => directory,
        Err(error) => panic!("failed to create a scratch directory for the fuzz archive: {error}"),
    });
    directory.path().join("image.tar")
}

fuzz_target!(|data: &[u8]| {
    let path = archive_path();
    let image = TestImage::new(vec![TestLayer::new(data.to_vec(), Compression::None)]);
    write_docker_archive(&path, &[(&["fuzz:latest"], &image)]);

    let Ok(source) = format!("docker-archive:{}", path.display()).parse::<ImageSource>() else {
        return;
    };
    let Ok(image) = Image::open(&source, &OpenOptions::default()) else {
        return;
    };
    let retain_all = |_: &str| true;
    let _ = image.read_rootfs(&ReadOptions {
        retain: &retain_all,
    });
    let _ = image.for_each_file(&mut |_, reader| io::copy(reader, &mut io::sink()).map(drop));
});
