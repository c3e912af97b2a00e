//! Archives and layer blobs cut short at many offsets, and compressed outer archives:
//! every cut is a one-line error that names the file and calls it truncated or corrupt.

use std::fs;
use std::path::{Path, PathBuf};

use cordon_image::testing::{
    compress, tar_directory, write_docker_archive, write_docker_archive_v25, Compression,
    LayerBuilder, OciLayout, TestImage, TestLayer,
};
use cordon_image::{Image, ImageError, ImageSource, OpenOptions, ReadOptions, Rootfs};

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7919 % 251) as u8).collect()
}

fn sample_image() -> TestImage {
    let base = LayerBuilder::new()
        .dir("etc")
        .file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n")
        .file("usr/lib/blob", &payload(5000))
        .build();
    let app = LayerBuilder::new()
        .file("app/main", &payload(3000))
        .symlink("app/current", "main")
        .build();
    TestImage::new(vec![
        TestLayer::new(base, Compression::Gzip),
        TestLayer::new(app, Compression::None),
    ])
}

fn read(source: &ImageSource) -> Result<(Rootfs, Vec<cordon_image::Warning>), ImageError> {
    Image::open(source, &OpenOptions::default())?.read_rootfs(&ReadOptions { retain: &|_| true })
}

/// Offsets that cut a tar inside and between its members: each header's start, middle
/// and last byte, the middle and end of each member's data, and both end-of-archive
/// blocks.
fn tar_cut_offsets(tar: &[u8]) -> Vec<usize> {
    let mut offsets = vec![0];
    let mut archive = tar::Archive::new(tar);
    let mut data_end = 0;
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let header = entry.raw_header_position() as usize;
        let data = entry.raw_file_position() as usize;
        let size = entry.size() as usize;
        offsets.extend([header, header + 1, header + 100, header + 257, header + 511]);
        if size > 0 {
            offsets.extend([data + 1, data + size / 2, data + size - 1]);
        }
        data_end = data + size.div_ceil(512) * 512;
        offsets.push(data_end);
    }
    offsets.extend([
        data_end + 1,
        data_end + 511,
        data_end + 512,
        data_end + 1023,
    ]);
    offsets.retain(|&offset| offset < tar.len());
    offsets.sort_unstable();
    offsets.dedup();
    offsets
}

/// Offsets that cut a compressed stream: inside its header, its body and its trailer.
fn stream_cut_offsets(data: &[u8]) -> Vec<usize> {
    let len = data.len();
    let mut offsets = vec![0, 1, 3, 5, 9, 12, len / 4, len / 2, 3 * len / 4];
    offsets.extend([len - 9, len - 8, len - 4, len - 1]);
    offsets.retain(|&offset| offset < len);
    offsets.sort_unstable();
    offsets.dedup();
    offsets
}

/// Checks that `error` is one line that names `path` and calls it truncated or corrupt.
fn assert_cut_error(error: &ImageError, path: &Path, what: &str) {
    let message = error.to_string();
    assert!(!message.contains('\n'), "{what}: one line: {message}");
    let name = path.file_name().unwrap().to_string_lossy();
    assert!(
        message.contains(name.as_ref()),
        "{what}: names the file: {message}"
    );
    let lower = message.to_lowercase();
    assert!(
        lower.contains("truncated") || lower.contains("corrupt"),
        "{what}: says truncated or corrupt: {message}"
    );
}

/// Writes `bytes[..cut]` to `dir/name` and checks that reading it fails as a cut.
fn check_cut(dir: &Path, name: &str, scheme: Option<&str>, bytes: &[u8], cut: usize) {
    let path = dir.join(name);
    fs::write(&path, &bytes[..cut]).unwrap();
    let sources = match scheme {
        Some(scheme) => vec![format!("{scheme}:{}", path.display())],
        None => vec![path.display().to_string()],
    };
    for text in sources {
        let source: ImageSource = text.parse().unwrap();
        let what = format!("{text} cut at byte {cut} of {}", bytes.len());
        match read(&source) {
            Ok(_) => panic!("{what}: read without error"),
            Err(error) => assert_cut_error(&error, &path, &what),
        }
    }
}

fn docker_archive_bytes(dir: &Path) -> Vec<u8> {
    let path = dir.join("full-docker.tar");
    write_docker_archive(&path, &[(&["app:1"], &sample_image())]);
    fs::read(path).unwrap()
}

fn docker_archive_v25_bytes(dir: &Path) -> Vec<u8> {
    let path = dir.join("full-docker-v25.tar");
    write_docker_archive_v25(&path, &["app:1"], &sample_image());
    fs::read(path).unwrap()
}

fn oci_archive_bytes(dir: &Path) -> Vec<u8> {
    let layout_dir = dir.join("layout");
    let mut layout = OciLayout::create(&layout_dir);
    let descriptor = layout.put_image(&sample_image());
    layout.write_index(&[descriptor]);
    let path = dir.join("full-oci.tar");
    tar_directory(&layout_dir, &path);
    fs::read(path).unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    compress(data, Compression::Gzip)
}

fn zstd(data: &[u8]) -> Vec<u8> {
    compress(data, Compression::Zstd)
}

#[test]
fn cut_outer_archives_are_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let archives = [
        ("docker-archive", docker_archive_bytes(dir.path())),
        ("docker-archive", docker_archive_v25_bytes(dir.path())),
        ("oci-archive", oci_archive_bytes(dir.path())),
    ];
    for (scheme, bytes) in &archives {
        for cut in tar_cut_offsets(bytes) {
            check_cut(dir.path(), "cut.tar", None, bytes, cut);
            check_cut(dir.path(), "cut.tar", Some(scheme), bytes, cut);
        }
    }
}

#[test]
fn cut_compressed_archives_are_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let archives = [
        ("docker-archive", docker_archive_bytes(dir.path())),
        ("oci-archive", oci_archive_bytes(dir.path())),
    ];
    for (scheme, tar) in &archives {
        for (extension, compressed) in [("tar.gz", gzip(tar)), ("tar.zst", zstd(tar))] {
            let name = format!("cut.{extension}");
            for cut in stream_cut_offsets(&compressed) {
                check_cut(dir.path(), &name, None, &compressed, cut);
                check_cut(dir.path(), &name, Some(scheme), &compressed, cut);
            }
            // A complete compressed stream of a tar that was cut before compression.
            for cut in tar_cut_offsets(tar).into_iter().step_by(3) {
                let whole = match extension {
                    "tar.gz" => gzip(&tar[..cut]),
                    _ => zstd(&tar[..cut]),
                };
                check_cut(dir.path(), &name, None, &whole, whole.len());
            }
        }
    }
}

#[test]
fn compressed_outer_archives_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.tar");
    fs::write(&plain, docker_archive_bytes(dir.path())).unwrap();
    let (expected, warnings) = read(&ImageSource::detect(&plain)).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let expected_paths: Vec<String> = expected.iter().map(|(path, _)| path.to_string()).collect();
    assert!(
        expected_paths.contains(&"app/main".to_string()),
        "{expected_paths:?}"
    );

    let archives = [
        ("docker-archive", docker_archive_bytes(dir.path())),
        ("oci-archive", oci_archive_bytes(dir.path())),
    ];
    for (scheme, tar) in &archives {
        for (extension, compressed) in [("tar.gz", gzip(tar)), ("tar.zst", zstd(tar))] {
            let path: PathBuf = dir.path().join(format!("{scheme}.{extension}"));
            fs::write(&path, &compressed).unwrap();
            for text in [
                path.display().to_string(),
                format!("{scheme}:{}", path.display()),
            ] {
                let source: ImageSource = text.parse().unwrap();
                let image = Image::open(&source, &OpenOptions::default()).unwrap();
                assert_eq!(image.info().format.scheme(), *scheme, "{text}");
                let (rootfs, warnings) = image
                    .read_rootfs(&ReadOptions { retain: &|_| true })
                    .unwrap();
                assert!(warnings.is_empty(), "{text}: {warnings:?}");
                let paths: Vec<String> = rootfs.iter().map(|(path, _)| path.to_string()).collect();
                assert_eq!(paths, expected_paths, "{text}");
                assert_eq!(
                    rootfs.read("app/main").map(<[u8]>::to_vec),
                    Some(payload(3000)),
                    "{text}"
                );
            }
        }
    }
}

#[test]
fn compressed_archive_bomb_stops_at_limits() {
    let dir = tempfile::tempdir().unwrap();
    let tar = docker_archive_bytes(dir.path());
    let path = dir.path().join("bomb.tar.gz");
    let mut padded = tar.clone();
    padded.resize(tar.len() + (4 << 20), 0);
    fs::write(&path, gzip(&padded)).unwrap();

    let mut size_limit = OpenOptions::default();
    size_limit.limits.max_total_bytes = 1 << 20;
    let mut ratio_limit = OpenOptions::default();
    ratio_limit.limits.ratio_grace_bytes = 1 << 20;
    ratio_limit.limits.max_ratio = 10;
    for (options, expected) in [
        (size_limit, "gzip stream over 1048576 bytes"),
        (ratio_limit, "compression ratio over 10:1"),
    ] {
        let error = Image::open(&ImageSource::detect(&path), &options)
            .err()
            .unwrap();
        let message = error.to_string();
        assert!(
            matches!(error, ImageError::ArchiveLimitExceeded { .. }),
            "{message}"
        );
        assert!(message.contains("bomb.tar.gz"), "{message}");
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn cut_layer_blobs_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let tar = LayerBuilder::new()
        .dir("etc")
        .file("etc/os-release", b"ID=alpine\n")
        .file("usr/lib/blob", &payload(20_000))
        .file("usr/lib/after", b"after")
        .build();
    for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
        let full = compress(&tar, compression);
        let offsets = match compression {
            Compression::None => tar_cut_offsets(&tar),
            _ => stream_cut_offsets(&full),
        };
        for cut in offsets {
            let mut layer = TestLayer::new(tar.clone(), compression);
            layer.blob_override = Some(full[..cut].to_vec());
            let path = dir.path().join("layers.tar");
            write_docker_archive(&path, &[(&["t:1"], &TestImage::new(vec![layer]))]);
            let what = format!("{compression:?} layer cut at byte {cut} of {}", full.len());
            match read(&ImageSource::detect(&path)) {
                Ok(_) => panic!("{what}: read without error"),
                Err(error) => {
                    assert_cut_error(&error, &path, &what);
                    assert!(
                        matches!(error, ImageError::CorruptLayer { layer: 0, .. }),
                        "{what}: {error}"
                    );
                }
            }
        }
    }
}

#[test]
fn short_garbage_is_unknown_format() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("notes.txt", &b"this is not an image"[..]),
        ("doc.json", &b"{\"schemaVersion\": 2}"[..]),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        let error = read(&ImageSource::detect(&path)).unwrap_err();
        assert!(matches!(error, ImageError::UnknownFormat { .. }), "{error}");
    }
}
