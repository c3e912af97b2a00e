//! A decompression bomb is stopped in bounded memory. This is its own test binary so
//! that the peak resident size it reads is not raised by other tests.

use std::io::Write;

use cordon_image::testing::{sha256, write_docker_archive, Compression, TestImage, TestLayer};
use cordon_image::{Image, ImageError, ImageSource, OpenOptions, ReadOptions};

/// Peak resident set size of this process in KiB (`VmHWM` in `/proc/self/status`).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn bomb_stops_in_bounded_memory() {
    const DECOMPRESSED: u64 = 1 << 30;
    let mut header = tar::Header::new_gnu();
    header.set_path("zeros").unwrap();
    header.set_size(DECOMPRESSED);
    header.set_mode(0o644);
    header.set_cksum();
    let mut encoder = zstd::Encoder::new(Vec::new(), 1).unwrap();
    encoder.write_all(header.as_bytes()).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..(DECOMPRESSED >> 20) {
        encoder.write_all(&chunk).unwrap();
    }
    let blob = encoder.finish().unwrap();
    drop(chunk);

    let mut layer = TestLayer::new(Vec::new(), Compression::Zstd);
    layer.blob_override = Some(blob);
    layer.diff_id_override = Some(sha256(b"unknown"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.tar");
    write_docker_archive(&path, &[(&["bomb:1"], &TestImage::new(vec![layer]))]);

    let mut options = OpenOptions::default();
    options.limits.max_layer_bytes = 512 << 20;
    options.limits.max_ratio = u64::MAX;
    let before = peak_rss_kib();
    let image = Image::open(&ImageSource::detect(&path), &options).unwrap();
    let error = image
        .read_rootfs(&ReadOptions { retain: &|_| true })
        .unwrap_err();
    let growth_mib = (peak_rss_kib().saturating_sub(before)) / 1024;

    assert!(
        matches!(error, ImageError::LimitExceeded { layer: 0, .. }),
        "{error}"
    );
    assert!(
        growth_mib < 64,
        "peak memory grew by {growth_mib} MiB while reading the bomb"
    );
}
