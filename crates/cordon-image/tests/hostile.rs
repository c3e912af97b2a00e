//! Hostile and broken input: bad entries become warnings, broken images become errors.

use std::path::Path;

use cordon_image::testing::{
    compress, sha256, with_ref, write_docker_archive, Compression, LayerBuilder, OciLayout,
    TestImage, TestLayer,
};
use cordon_image::{
    Image, ImageError, ImageSource, NodeKind, OpenOptions, ReadOptions, Rootfs, Warning,
    WarningKind,
};
use serde_json::json;

fn archive_with(dir: &Path, layers: Vec<TestLayer>) -> ImageSource {
    let path = dir.join("image.tar");
    write_docker_archive(&path, &[(&["t:1"], &TestImage::new(layers))]);
    ImageSource::detect(path)
}

fn read(source: &ImageSource, options: &OpenOptions) -> Result<(Rootfs, Vec<Warning>), ImageError> {
    Image::open(source, options)?.read_rootfs(&ReadOptions { retain: &|_| true })
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7919 % 251) as u8).collect()
}

#[test]
fn bad_entries_become_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let layer = LayerBuilder::new()
        .file("../../etc/evil", b"climbs out")
        .file("usr/../../etc/evil2", b"climbs out")
        .file("/etc/absolute", b"A")
        .raw(b"bad-\xff-name", tar::EntryType::Regular, None, b"x")
        .symlink("etc/shadow-link", "/../../../etc/shadow")
        .hardlink("etc/hard-out", "../../etc/passwd")
        .hardlink("etc/hard-missing", "etc/nowhere")
        .raw(b"dev/null", tar::EntryType::Char, None, b"")
        .file("etc/ok", b"ok")
        .build();
    let source = archive_with(dir.path(), vec![TestLayer::new(layer, Compression::Gzip)]);
    let (rootfs, warnings) = read(&source, &OpenOptions::default()).unwrap();

    let kinds: Vec<(&str, &WarningKind)> = warnings
        .iter()
        .map(|w| (w.path.as_str(), &w.kind))
        .collect();
    assert!(
        kinds.contains(&("../../etc/evil", &WarningKind::PathEscapesRoot)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("usr/../../etc/evil2", &WarningKind::PathEscapesRoot)),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .any(|(_, kind)| **kind == WarningKind::NonUtf8Name),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|(path, kind)| *path == "etc/shadow-link"
            && matches!(kind, WarningKind::SymlinkEscapesRoot { .. })),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|(path, kind)| *path == "etc/hard-out"
            && matches!(kind, WarningKind::HardlinkEscapesRoot { .. })),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|(path, kind)| *path == "etc/hard-missing"
            && matches!(kind, WarningKind::HardlinkTargetMissing { .. })),
        "{kinds:?}"
    );
    assert!(
        !kinds.iter().any(|(path, _)| *path == "dev/null"),
        "a device node is ordinary metadata: {kinds:?}"
    );
    assert!(
        kinds.contains(&("/etc/absolute", &WarningKind::AbsolutePath)),
        "{kinds:?}"
    );
    assert_eq!(warnings.len(), 7, "{warnings:?}");
    assert!(warnings.iter().all(|w| w.layer == Some(0)));

    assert_eq!(rootfs.read("etc/absolute"), Some(&b"A"[..]));
    assert_eq!(rootfs.read("etc/ok"), Some(&b"ok"[..]));
    assert_eq!(rootfs.read("etc/shadow-link"), None);
    assert!(rootfs.get("etc/evil").is_none());
    assert!(rootfs.get("etc/hard-out").is_none());
    assert_eq!(
        rootfs.get("dev/null").map(|node| node.kind.clone()),
        Some(NodeKind::Other)
    );
    assert_eq!(rootfs.read("dev/null"), None);
}

#[test]
fn diff_id_mismatch_names_layer_and_digests() {
    let dir = tempfile::tempdir().unwrap();
    let mut layer = TestLayer::new(
        LayerBuilder::new().file("a", b"a").build(),
        Compression::Gzip,
    );
    let wrong = sha256(b"something else");
    layer.diff_id_override = Some(wrong.clone());
    let source = archive_with(dir.path(), vec![layer.clone()]);
    let error = read(&source, &OpenOptions::default()).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, ImageError::DigestMismatch { .. }),
        "{message}"
    );
    assert!(message.contains("layer 0"), "{message}");
    assert!(message.contains(&wrong), "{message}");
    assert!(message.contains(&sha256(&layer.tar)), "{message}");
}

#[test]
fn diff_id_covers_bytes_after_end_of_archive() {
    let dir = tempfile::tempdir().unwrap();
    let mut tar = LayerBuilder::new().file("a", b"a").build();
    tar.extend_from_slice(&[0u8; 4096]);
    let source = archive_with(dir.path(), vec![TestLayer::new(tar, Compression::Zstd)]);
    let (rootfs, _) = read(&source, &OpenOptions::default()).unwrap();
    assert_eq!(rootfs.read("a"), Some(&b"a"[..]));
}

#[test]
fn oci_blob_digest_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(dir.path());
    let layer = TestLayer::new(
        LayerBuilder::new().file("a", b"a").build(),
        Compression::Gzip,
    );
    let image = TestImage::new(vec![layer.clone()]);
    let descriptor = layout.put_image(&image);
    layout.write_index(&[descriptor]);
    let blob = dir
        .path()
        .join("blobs/sha256")
        .join(&sha256(&layer.blob())[7..]);
    let other = LayerBuilder::new().file("a", b"b").build();
    std::fs::write(&blob, compress(&other, Compression::Gzip)).unwrap();

    let source: ImageSource = format!("oci-dir:{}", dir.path().display()).parse().unwrap();
    let error = read(&source, &OpenOptions::default()).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, ImageError::DigestMismatch { .. }),
        "{message}"
    );
    assert!(message.contains(&sha256(&layer.blob())), "{message}");
}

#[test]
fn truncated_layer_tar_is_error() {
    let dir = tempfile::tempdir().unwrap();
    let tar = LayerBuilder::new()
        .file("big", &payload(8000))
        .file("after", b"x")
        .build();
    let mut layer = TestLayer::new(tar.clone(), Compression::None);
    layer.blob_override = Some(tar[..3000].to_vec());
    let source = archive_with(dir.path(), vec![layer]);
    let error = read(&source, &OpenOptions::default()).unwrap_err();
    assert!(
        matches!(error, ImageError::CorruptLayer { layer: 0, .. }),
        "{error}"
    );
}

#[test]
fn corrupt_gzip_is_error() {
    let dir = tempfile::tempdir().unwrap();
    let tar = LayerBuilder::new().file("data", &payload(100_000)).build();
    let mut blob = compress(&tar, Compression::Gzip);
    let middle = blob.len() / 2;
    for byte in &mut blob[middle..middle + 64] {
        *byte ^= 0x5a;
    }
    let mut layer = TestLayer::new(tar, Compression::Gzip);
    layer.blob_override = Some(blob);
    let source = archive_with(dir.path(), vec![layer]);
    let error = read(&source, &OpenOptions::default()).unwrap_err();
    assert!(
        matches!(error, ImageError::CorruptLayer { layer: 0, .. }),
        "{error}"
    );
}

#[test]
fn corrupt_zstd_is_error() {
    let dir = tempfile::tempdir().unwrap();
    let tar = LayerBuilder::new().file("data", &payload(100_000)).build();
    let mut blob = compress(&tar, Compression::Zstd);
    for byte in &mut blob[12..76] {
        *byte = 0xff;
    }
    let mut layer = TestLayer::new(tar.clone(), Compression::Zstd);
    layer.blob_override = Some(blob);
    let source = archive_with(dir.path(), vec![layer]);
    let error = read(&source, &OpenOptions::default()).unwrap_err();
    assert!(
        matches!(error, ImageError::CorruptLayer { layer: 0, .. }),
        "{error}"
    );

    let mut truncated = TestLayer::new(tar.clone(), Compression::Zstd);
    let full = compress(&tar, Compression::Zstd);
    truncated.blob_override = Some(full[..full.len() / 2].to_vec());
    let source = archive_with(dir.path(), vec![truncated]);
    let error = read(&source, &OpenOptions::default()).unwrap_err();
    assert!(
        matches!(error, ImageError::CorruptLayer { layer: 0, .. }),
        "{error}"
    );
}

#[test]
fn media_type_and_data_disagree() {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(dir.path());
    let layer = TestLayer::new(
        LayerBuilder::new().file("a", b"a").build(),
        Compression::Zstd,
    );
    let config = layout.put_blob(
        "application/vnd.oci.image.config.v1+json",
        &TestImage::new(vec![layer.clone()]).config(),
    );
    let mut layer_descriptor = layout.put_blob(layer.media_type(), &layer.blob());
    layer_descriptor["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar+gzip");
    let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config, "layers": [layer_descriptor]});
    let descriptor = layout.put_blob(
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    layout.write_index(&[descriptor]);
    let source: ImageSource = format!("oci-dir:{}", dir.path().display()).parse().unwrap();
    let error = read(&source, &OpenOptions::default()).unwrap_err();
    assert!(matches!(error, ImageError::CorruptLayer { .. }), "{error}");
}

#[test]
fn decompression_bomb_stops_at_layer_limit() {
    let dir = tempfile::tempdir().unwrap();
    let tar = LayerBuilder::new()
        .file("zeros", &vec![0u8; 6 << 20])
        .build();
    let source = archive_with(dir.path(), vec![TestLayer::new(tar, Compression::Gzip)]);
    let mut options = OpenOptions::default();
    options.limits.max_layer_bytes = 2 << 20;
    let error = read(&source, &options).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, ImageError::LimitExceeded { layer: 0, .. }),
        "{message}"
    );
    assert!(message.contains("2097152"), "{message}");
}

#[test]
fn decompression_bomb_stops_at_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let tar = LayerBuilder::new()
        .file("zeros", &vec![0u8; 24 << 20])
        .build();
    let source = archive_with(dir.path(), vec![TestLayer::new(tar, Compression::Zstd)]);
    let error = read(&source, &OpenOptions::default()).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, ImageError::LimitExceeded { layer: 0, .. }),
        "{message}"
    );
    assert!(message.contains("compression ratio"), "{message}");
}

#[test]
fn entry_count_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut builder = LayerBuilder::new();
    for i in 0..50 {
        builder = builder.file(&format!("f{i}"), b"");
    }
    let source = archive_with(
        dir.path(),
        vec![TestLayer::new(builder.build(), Compression::None)],
    );
    let mut options = OpenOptions::default();
    options.limits.max_entries = 10;
    let error = read(&source, &options).unwrap_err();
    assert!(
        error.to_string().contains("more than 10 tar entries"),
        "{error}"
    );
}

#[test]
fn hostile_digest_cannot_escape_layout() {
    let dir = tempfile::tempdir().unwrap();
    let layout_dir = dir.path().join("layout");
    let mut layout = OciLayout::create(&layout_dir);
    let image = TestImage::new(vec![TestLayer::new(
        LayerBuilder::new().file("a", b"a").build(),
        Compression::Gzip,
    )]);
    let good = layout.put_image(&image);
    // A copy of a real manifest sits where the traversal would land.
    let manifest_path = layout_dir
        .join("blobs/sha256")
        .join(&good["digest"].as_str().unwrap()[7..]);
    std::fs::write(dir.path().join("x"), std::fs::read(&manifest_path).unwrap()).unwrap();

    let mut hostile = good.clone();
    hostile["digest"] = json!("sha256:../../../x");
    layout.write_index(&[with_ref(hostile, "evil")]);
    let source: ImageSource = format!("oci-dir:{}", layout_dir.display()).parse().unwrap();
    let error = Image::open(&source, &OpenOptions::default()).err().unwrap();
    assert!(
        matches!(
            error,
            ImageError::InvalidDigest { .. } | ImageError::Malformed { .. }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("../../../x"), "{error}");
}

#[test]
fn for_each_file_reports_warnings_and_continues() {
    let dir = tempfile::tempdir().unwrap();
    let layer = LayerBuilder::new()
        .file("../escape", b"e")
        .file("etc/ok", b"ok")
        .build();
    let source = archive_with(dir.path(), vec![TestLayer::new(layer, Compression::Gzip)]);
    let image = Image::open(&source, &OpenOptions::default()).unwrap();
    let mut paths = Vec::new();
    let warnings = image
        .for_each_file(&mut |file, _| {
            paths.push(file.path.to_string());
            Ok(())
        })
        .unwrap();
    assert_eq!(paths, vec!["etc/ok".to_string()]);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].kind, WarningKind::PathEscapesRoot);
}
