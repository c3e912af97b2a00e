//! Image formats, format detection, image selection by tag or ref, and platforms.

use std::path::Path;

use cordon_image::testing::{
    tar_directory, with_platform, with_ref, write_docker_archive, write_docker_archive_v25,
    Compression, LayerBuilder, OciLayout, TestImage, TestLayer,
};
use cordon_image::{
    Image, ImageError, ImageFormat, ImageSource, OpenOptions, Platform, ReadOptions, Rootfs,
};
use serde_json::json;

fn image_with_marker(marker: &str) -> TestImage {
    let layer = LayerBuilder::new()
        .dir("etc")
        .file("etc/marker", marker.as_bytes())
        .build();
    TestImage::new(vec![TestLayer::new(layer, Compression::Gzip)])
}

fn open(source: &str, platform: Option<&str>) -> Result<Image, ImageError> {
    let source: ImageSource = source.parse()?;
    let options = OpenOptions {
        platform: platform.map(|p| p.parse().unwrap()),
        ..OpenOptions::default()
    };
    Image::open(&source, &options)
}

fn read_all(image: &Image) -> Rootfs {
    let (rootfs, warnings) = image
        .read_rootfs(&ReadOptions { retain: &|_| true })
        .unwrap();
    assert!(warnings.is_empty(), "unexpected warnings: {warnings:?}");
    rootfs
}

fn marker(image: &Image) -> String {
    String::from_utf8(read_all(image).read("etc/marker").unwrap().to_vec()).unwrap()
}

#[test]
fn docker_archive_single_image() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.tar");
    let mut image = image_with_marker("one");
    image.runtime = json!({
        "User": "app",
        "ExposedPorts": {"22/tcp": {}, "80/tcp": {}},
        "Env": ["PATH=/usr/bin"],
        "Entrypoint": ["/entry.sh"],
        "Cmd": null,
        "Labels": {"maintainer": "x"},
        "StopSignal": "SIGQUIT",
        "WorkingDir": "/srv",
        "Volumes": {"/data": {}}
    });
    write_docker_archive(&path, &[(&["app:1.0"], &image)]);

    let opened = open(&format!("docker-archive:{}", path.display()), None).unwrap();
    let info = opened.info();
    assert_eq!(info.format, ImageFormat::DockerArchive);
    assert_eq!(info.repo_tags, vec!["app:1.0".to_string()]);
    assert_eq!(info.config.user.as_deref(), Some("app"));
    assert_eq!(info.config.exposed_ports, vec!["22/tcp", "80/tcp"]);
    assert_eq!(info.config.volumes, vec!["/data"]);
    assert_eq!(info.config.stop_signal.as_deref(), Some("SIGQUIT"));
    assert_eq!(
        info.config.labels.get("maintainer").map(String::as_str),
        Some("x")
    );
    assert!(info.config.cmd.is_empty());
    assert_eq!(info.layers.len(), 1);
    assert_eq!(info.layers[0].created_by.as_deref(), Some("RUN step 0"));
    assert_eq!(
        info.layers[0].diff_id,
        cordon_image::testing::sha256(&image.layers[0].tar)
    );
    assert_eq!(marker(&opened), "one");
}

#[test]
fn docker_archive_selects_by_tag() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("multi.tar");
    let first = image_with_marker("first");
    let second = image_with_marker("second");
    write_docker_archive(
        &path,
        &[
            (&["app:1"], &first),
            (&["app:2", "docker.io/library/web:latest"], &second),
        ],
    );

    let base = format!("docker-archive:{}", path.display());
    assert_eq!(
        marker(&open(&format!("{base}:app:1"), None).unwrap()),
        "first"
    );
    assert_eq!(
        marker(&open(&format!("{base}:app:2"), None).unwrap()),
        "second"
    );
    assert_eq!(
        marker(&open(&format!("{base}:web"), None).unwrap()),
        "second"
    );
}

#[test]
fn docker_archive_ambiguous_lists_tags() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("multi.tar");
    write_docker_archive(
        &path,
        &[
            (&["app:1"], &image_with_marker("a")),
            (&["app:2"], &image_with_marker("b")),
        ],
    );

    let error = open(&format!("docker-archive:{}", path.display()), None)
        .err()
        .unwrap();
    let message = error.to_string();
    assert!(
        matches!(error, ImageError::TagSelection { .. }),
        "{message}"
    );
    assert!(
        message.contains("app:1") && message.contains("app:2"),
        "{message}"
    );

    let error = open(&format!("docker-archive:{}:app:3", path.display()), None)
        .err()
        .unwrap();
    let message = error.to_string();
    assert!(message.contains("\"app:3\" not found"), "{message}");
    assert!(message.contains("app:1, app:2"), "{message}");
}

#[test]
fn docker_archive_shares_layers_between_images() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.tar");
    let base = TestLayer::new(
        LayerBuilder::new().file("base", b"B").build(),
        Compression::None,
    );
    let top_a = TestLayer::new(
        LayerBuilder::new().file("etc/marker", b"a").build(),
        Compression::None,
    );
    let top_b = TestLayer::new(
        LayerBuilder::new().file("etc/marker", b"b").build(),
        Compression::None,
    );
    let a = TestImage::new(vec![base.clone(), top_a]);
    let b = TestImage::new(vec![base, top_b]);
    write_docker_archive(&path, &[(&["a:1"], &a), (&["b:1"], &b)]);

    let image = open(&format!("docker-archive:{}:b:1", path.display()), None).unwrap();
    let rootfs = read_all(&image);
    assert_eq!(rootfs.read("base"), Some(&b"B"[..]));
    assert_eq!(rootfs.read("etc/marker"), Some(&b"b"[..]));
}

#[test]
fn docker_archive_v25_layout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v25.tar");
    write_docker_archive_v25(&path, &["app:25"], &image_with_marker("v25"));

    let image = open(&path.display().to_string(), None).unwrap();
    assert_eq!(image.info().format, ImageFormat::DockerArchive);
    assert!(image.info().layers[0].digest.starts_with("sha256:"));
    assert_eq!(marker(&image), "v25");
}

#[test]
fn oci_dir_and_archive() {
    let dir = tempfile::tempdir().unwrap();
    let layout_dir = dir.path().join("layout");
    let mut layout = OciLayout::create(&layout_dir);
    let descriptor = layout.put_image(&image_with_marker("oci"));
    layout.write_index(&[with_ref(descriptor, "1.0")]);

    let image = open(&format!("oci-dir:{}", layout_dir.display()), None).unwrap();
    assert_eq!(image.info().format, ImageFormat::OciDir);
    assert_eq!(image.info().ref_name.as_deref(), Some("1.0"));
    assert!(image.info().manifest_digest.is_some());
    assert_eq!(marker(&image), "oci");
    assert_eq!(
        marker(&open(&format!("oci-dir:{}:1.0", layout_dir.display()), None).unwrap()),
        "oci"
    );

    let archive = dir.path().join("layout.tar");
    tar_directory(&layout_dir, &archive);
    let image = open(&format!("oci-archive:{}:1.0", archive.display()), None).unwrap();
    assert_eq!(image.info().format, ImageFormat::OciArchive);
    assert_eq!(marker(&image), "oci");
}

#[test]
fn oci_layout_with_several_refs() {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(dir.path());
    let a = layout.put_image(&image_with_marker("a"));
    let b = layout.put_image(&image_with_marker("b"));
    layout.write_index(&[with_ref(a, "a"), with_ref(b, "b")]);
    let base = format!("oci-dir:{}", dir.path().display());

    assert_eq!(marker(&open(&format!("{base}:b"), None).unwrap()), "b");
    let message = open(&base, None).err().unwrap().to_string();
    assert!(message.contains("refs present: a, b"), "{message}");
    let message = open(&format!("{base}:c"), None).err().unwrap().to_string();
    assert!(
        message.contains("\"c\" not found") && message.contains("a, b"),
        "{message}"
    );
}

#[test]
fn auto_detects_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let docker = dir.path().join("docker.tar");
    write_docker_archive(&docker, &[(&["app:1"], &image_with_marker("docker"))]);
    let layout_dir = dir.path().join("layout");
    let mut layout = OciLayout::create(&layout_dir);
    let descriptor = layout.put_image(&image_with_marker("oci"));
    layout.write_index(&[descriptor]);
    let oci_archive = dir.path().join("oci.tar");
    tar_directory(&layout_dir, &oci_archive);
    let rootfs_dir = dir.path().join("rootfs");
    std::fs::create_dir_all(rootfs_dir.join("etc")).unwrap();
    std::fs::write(rootfs_dir.join("etc/marker"), b"dir").unwrap();

    let cases = [
        (&docker, ImageFormat::DockerArchive, "docker"),
        (&layout_dir, ImageFormat::OciDir, "oci"),
        (&oci_archive, ImageFormat::OciArchive, "oci"),
        (&rootfs_dir, ImageFormat::Dir, "dir"),
    ];
    for (path, format, expected) in cases {
        let image = open(&path.display().to_string(), None).unwrap();
        assert_eq!(image.info().format, format, "{}", path.display());
        assert_eq!(marker(&image), expected, "{}", path.display());
    }
}

#[test]
fn bare_archive_path_with_tag() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("multi.tar");
    write_docker_archive(
        &path,
        &[
            (&["app:1"], &image_with_marker("a")),
            (&["app:2"], &image_with_marker("b")),
        ],
    );
    assert_eq!(
        marker(&open(&format!("{}:app:2", path.display()), None).unwrap()),
        "b"
    );
}

#[test]
fn unknown_format_names_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, b"just some text, not a tar archive at all").unwrap();
    let error = open(&path.display().to_string(), None).err().unwrap();
    assert!(matches!(error, ImageError::UnknownFormat { .. }), "{error}");
    assert!(error.to_string().contains("notes.txt"), "{error}");

    let empty_tar = dir.path().join("empty.tar");
    tar::Builder::new(std::fs::File::create(&empty_tar).unwrap())
        .finish()
        .unwrap();
    let error = open(&empty_tar.display().to_string(), None).err().unwrap();
    assert!(matches!(error, ImageError::UnknownFormat { .. }), "{error}");
}

#[test]
fn missing_manifest_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let mut header = tar::Header::new_gnu();
    header.set_size(2);
    builder
        .append_data(&mut header, "other.json", &b"{}"[..])
        .unwrap();
    builder.finish().unwrap();
    drop(builder);

    let error = open(&format!("docker-archive:{}", path.display()), None)
        .err()
        .unwrap();
    assert!(
        matches!(error, ImageError::MissingFile { ref file, .. } if file == "manifest.json"),
        "{error}"
    );

    let layout = dir.path().join("layout");
    OciLayout::create(&layout);
    let error = open(&format!("oci-dir:{}", layout.display()), None)
        .err()
        .unwrap();
    assert!(error.to_string().contains("missing index.json"), "{error}");
}

#[test]
fn malformed_config_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(dir.path());
    let config = layout.put_blob("application/vnd.oci.image.config.v1+json", b"{\"os\": 12}");
    let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config, "layers": []});
    let descriptor = layout.put_blob(
        "application/vnd.oci.image.manifest.v1+json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    layout.write_index(&[descriptor]);
    let error = open(&format!("oci-dir:{}", dir.path().display()), None)
        .err()
        .unwrap();
    assert!(matches!(error, ImageError::Malformed { .. }), "{error}");
    assert!(error.to_string().contains("blobs/sha256/"), "{error}");
}

/// Writes a layout as `skopeo copy --all` does: index.json → one index with a ref name →
/// four platform manifests, each with its own marker file.
fn multi_platform_layout(root: &Path) {
    let mut layout = OciLayout::create(root);
    let platforms = [
        ("amd64", None),
        ("arm", Some("v6")),
        ("arm64", Some("v8")),
        ("386", None),
    ];
    let mut manifests = Vec::new();
    for (architecture, variant) in platforms {
        let label = format!("{architecture}{}", variant.unwrap_or(""));
        let image = image_with_marker(&label).platform("linux", architecture, variant);
        let descriptor = layout.put_image(&image);
        manifests.push(with_platform(descriptor, "linux", architecture, variant));
    }
    let nested = layout.put_index(&manifests);
    layout.write_index(&[with_ref(nested, "3.11.0")]);
}

#[test]
fn nested_index_picks_requested_platform() {
    let dir = tempfile::tempdir().unwrap();
    multi_platform_layout(dir.path());
    let source = format!("oci-dir:{}", dir.path().display());

    let image = open(&source, Some("linux/arm64")).unwrap();
    assert_eq!(marker(&image), "arm64v8");
    assert_eq!(
        image.info().platform,
        Some(Platform::new("linux", "arm64", Some("v8")))
    );
    assert_eq!(image.info().ref_name.as_deref(), Some("3.11.0"));
    assert_eq!(
        marker(&open(&source, Some("linux/arm64/v8")).unwrap()),
        "arm64v8"
    );
    assert_eq!(
        marker(&open(&source, Some("linux/arm/v6")).unwrap()),
        "armv6"
    );
    assert_eq!(marker(&open(&source, Some("linux/386")).unwrap()), "386");
}

#[test]
fn nested_index_defaults_to_amd64() {
    let dir = tempfile::tempdir().unwrap();
    multi_platform_layout(dir.path());
    let image = open(&format!("oci-dir:{}:3.11.0", dir.path().display()), None).unwrap();
    assert_eq!(marker(&image), "amd64");
}

#[test]
fn missing_platform_lists_platforms() {
    let dir = tempfile::tempdir().unwrap();
    multi_platform_layout(dir.path());
    let error = open(
        &format!("oci-dir:{}", dir.path().display()),
        Some("linux/s390x"),
    )
    .err()
    .unwrap();
    let message = error.to_string();
    assert!(
        matches!(error, ImageError::PlatformNotFound { .. }),
        "{message}"
    );
    assert!(message.contains("linux/s390x not found"), "{message}");
    for present in ["linux/amd64", "linux/arm/v6", "linux/arm64/v8", "linux/386"] {
        assert!(
            message.contains(present),
            "{present} missing from: {message}"
        );
    }
}

#[test]
fn single_platform_image_checked_against_explicit_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(dir.path());
    let image = image_with_marker("arm64").platform("linux", "arm64", None);
    let descriptor = layout.put_image(&image);
    layout.write_index(&[descriptor]);
    let source = format!("oci-dir:{}", dir.path().display());

    let error = open(&source, Some("linux/amd64")).err().unwrap();
    assert!(
        matches!(error, ImageError::PlatformMismatch { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("linux/arm64"), "{error}");
    assert_eq!(marker(&open(&source, None).unwrap()), "arm64");
    assert_eq!(
        marker(&open(&source, Some("linux/arm64/v8")).unwrap()),
        "arm64"
    );

    let archive = dir.path().join("arm.tar");
    write_docker_archive(&archive, &[(&["arm:1"], &image)]);
    let error = open(
        &format!("docker-archive:{}", archive.display()),
        Some("linux/amd64"),
    )
    .err()
    .unwrap();
    assert!(
        matches!(error, ImageError::PlatformMismatch { .. }),
        "{error}"
    );
}

#[test]
fn layer_compressions_all_read() {
    let dir = tempfile::tempdir().unwrap();
    let layers = vec![
        TestLayer::new(
            LayerBuilder::new().file("plain", b"p").build(),
            Compression::None,
        ),
        TestLayer::new(
            LayerBuilder::new().file("gzip", b"g").build(),
            Compression::Gzip,
        ),
        TestLayer::new(
            LayerBuilder::new().file("zstd", b"z").build(),
            Compression::Zstd,
        ),
    ];
    let image = TestImage::new(layers);
    let mut layout = OciLayout::create(&dir.path().join("oci"));
    let descriptor = layout.put_image(&image);
    layout.write_index(&[descriptor]);
    let archive = dir.path().join("docker.tar");
    write_docker_archive(&archive, &[(&["c:1"], &image)]);

    for source in [
        format!("oci-dir:{}", dir.path().join("oci").display()),
        archive.display().to_string(),
    ] {
        let rootfs = read_all(&open(&source, None).unwrap());
        assert_eq!(rootfs.read("plain"), Some(&b"p"[..]), "{source}");
        assert_eq!(rootfs.read("gzip"), Some(&b"g"[..]), "{source}");
        assert_eq!(rootfs.read("zstd"), Some(&b"z"[..]), "{source}");
    }
}

#[test]
fn dir_source_keeps_symlinks_inside_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("usr/lib")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("usr/lib/os-release"), b"ID=debian\n").unwrap();
    std::os::unix::fs::symlink("../usr/lib/os-release", root.join("etc/os-release")).unwrap();
    std::fs::write(dir.path().join("outside"), b"secret").unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside"), root.join("etc/escape")).unwrap();
    std::os::unix::fs::symlink(dir.path(), root.join("parent")).unwrap();

    let image = open(&format!("dir:{}", root.display()), None).unwrap();
    assert_eq!(image.info().layers[0].diff_id, "");
    let (rootfs, _) = image
        .read_rootfs(&ReadOptions { retain: &|_| true })
        .unwrap();
    assert_eq!(rootfs.read("etc/os-release"), Some(&b"ID=debian\n"[..]));
    assert_eq!(rootfs.read("etc/escape"), None);
    assert!(rootfs.get("parent/outside").is_none());
    assert!(matches!(
        rootfs.get("parent").unwrap().kind,
        cordon_image::NodeKind::Symlink(_)
    ));

    let mut seen = Vec::new();
    image
        .for_each_file(&mut |file, _| {
            seen.push(file.path.to_string());
            Ok(())
        })
        .unwrap();
    assert_eq!(seen, vec!["usr/lib/os-release".to_string()]);
}

#[test]
fn docker_manifest_list_skips_attestations() {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(dir.path());
    let arm = layout.put_image(&image_with_marker("arm64").platform("linux", "arm64", None));
    let mut arm = with_platform(arm, "linux", "arm64", None);
    arm["mediaType"] = json!("application/vnd.docker.distribution.manifest.v2+json");
    let attestation = layout.put_image(&image_with_marker("attestation"));
    let mut attestation = with_platform(attestation, "unknown", "unknown", None);
    attestation["annotations"] = json!({"vnd.docker.reference.type": "attestation-manifest"});
    let mut list = layout.put_index(&[arm, attestation]);
    list["mediaType"] = json!("application/vnd.docker.distribution.manifest.list.v2+json");
    layout.write_index(&[list]);
    let source = format!("oci-dir:{}", dir.path().display());

    assert_eq!(marker(&open(&source, None).unwrap()), "arm64");
    assert_eq!(
        marker(&open(&source, Some("linux/arm64/v8")).unwrap()),
        "arm64"
    );
    let message = open(&source, Some("linux/amd64"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        message.contains("platforms present: linux/arm64"),
        "{message}"
    );
    assert!(!message.contains("unknown"), "{message}");
}
