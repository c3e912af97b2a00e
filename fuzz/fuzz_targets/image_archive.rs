//! Fuzzes the outer archive reader: the input is written as a file whose format Cordon
//! detects (a docker-archive or OCI archive tar, possibly gzip- or zstd-compressed), which
//! is then opened and merged into a root filesystem.
//!
//! Small limits keep a decompression bomb in the input cheap to reject.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use cordon_image::{Image, ImageSource, Limits, OpenOptions, ReadOptions};
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
    if let Err(error) = std::fs::write(&path, data) {
        panic!("failed to write the fuzz archive {}: {error}", path.display());
    }
    let options = OpenOptions {
        platform: None,
        limits: Limits {
            max_layer_bytes: 16 << 20,
            max_total_bytes: 16 << 20,
            max_entries: 10_000,
            ..Limits::default()
        },
    };
    let Ok(image) = Image::open(&ImageSource::detect(&path), &options) else {
        return;
    };
    let retain_all = |_: &str| true;
    let _ = image.read_rootfs(&ReadOptions {
        retain: &retain_all,
    });
});
