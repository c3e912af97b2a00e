//! Overlay semantics of the merged view: whiteouts, replacements and links.

use cordon_image::testing::{
    write_docker_archive, Compression, LayerBuilder, TestImage, TestLayer,
};
use cordon_image::{Image, ImageSource, NodeKind, OpenOptions, ReadOptions, Rootfs, Warning};

fn read_layers(layers: Vec<Vec<u8>>) -> (Rootfs, Vec<Warning>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    let layers = layers
        .into_iter()
        .map(|tar| TestLayer::new(tar, Compression::Gzip))
        .collect();
    write_docker_archive(&path, &[(&["t:1"], &TestImage::new(layers))]);
    let source = ImageSource::detect(&path);
    let image = Image::open(&source, &OpenOptions::default()).unwrap();
    image
        .read_rootfs(&ReadOptions { retain: &|_| true })
        .unwrap()
}

fn assert_no_whiteout_names(rootfs: &Rootfs) {
    for (path, _) in rootfs.iter() {
        assert!(
            !path.rsplit('/').next().unwrap().starts_with(".wh."),
            "whiteout name in view: {path}"
        );
    }
}

#[test]
fn opaque_whiteout_keeps_same_layer_entries() {
    let lower = LayerBuilder::new()
        .dir("etc/")
        .dir("etc/app/")
        .file("etc/app/old.conf", b"old")
        .dir("etc/app/sub/")
        .file("etc/app/sub/x", b"x")
        .file("etc/legacy.conf", b"legacy")
        .build();
    let upper = LayerBuilder::new()
        .dir("etc/app/")
        .file("etc/app/new.conf", b"new")
        .dir("etc/app/sub/")
        .file("etc/app/sub/y", b"y")
        .opaque("etc/app")
        .whiteout("etc/legacy.conf")
        .build();
    let (rootfs, warnings) = read_layers(vec![lower, upper]);

    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(rootfs.read("etc/app/new.conf"), Some(&b"new"[..]));
    assert_eq!(rootfs.read("etc/app/sub/y"), Some(&b"y"[..]));
    assert!(rootfs.get("etc/app/old.conf").is_none());
    assert!(rootfs.get("etc/app/sub/x").is_none());
    assert!(rootfs.get("etc/legacy.conf").is_none());
    assert!(rootfs.get("etc/app").unwrap().is_dir());
    assert_no_whiteout_names(&rootfs);
}

#[test]
fn whiteout_of_directory_removes_subtree() {
    let lower = LayerBuilder::new()
        .dir("opt/tool")
        .file("opt/tool/bin", b"b")
        .file("opt/keep", b"k")
        .build();
    let upper = LayerBuilder::new().whiteout("opt/tool").build();
    let (rootfs, _) = read_layers(vec![lower, upper]);
    assert!(rootfs.get("opt/tool").is_none());
    assert!(rootfs.get("opt/tool/bin").is_none());
    assert_eq!(rootfs.read("opt/keep"), Some(&b"k"[..]));
}

#[test]
fn whiteout_then_readd_in_same_layer() {
    let lower = LayerBuilder::new().file("etc/conf", b"old").build();
    let upper = LayerBuilder::new()
        .file("etc/conf", b"new")
        .whiteout("etc/conf")
        .build();
    let (rootfs, _) = read_layers(vec![lower, upper]);
    assert_eq!(rootfs.read("etc/conf"), Some(&b"new"[..]));
    assert_eq!(rootfs.get("etc/conf").unwrap().layer, 1);
}

#[test]
fn file_replacing_directory_hides_children() {
    let lower = LayerBuilder::new()
        .dir("srv/data")
        .file("srv/data/a", b"a")
        .build();
    let upper = LayerBuilder::new().file("srv/data", b"now a file").build();
    let (rootfs, _) = read_layers(vec![lower, upper]);
    assert_eq!(rootfs.read("srv/data"), Some(&b"now a file"[..]));
    assert!(rootfs.get("srv/data/a").is_none());
}

#[test]
fn directory_replacing_file() {
    let lower = LayerBuilder::new().file("srv/data", b"file").build();
    let upper = LayerBuilder::new()
        .dir("srv/data")
        .file("srv/data/a", b"a")
        .build();
    let (rootfs, _) = read_layers(vec![lower, upper]);
    assert!(rootfs.get("srv/data").unwrap().is_dir());
    assert_eq!(rootfs.read("srv/data/a"), Some(&b"a"[..]));
}

#[test]
fn missing_parent_directories_are_implicit() {
    let lower = LayerBuilder::new()
        .file("usr/share/doc/pkg/copyright", b"c")
        .build();
    let (rootfs, _) = read_layers(vec![lower]);
    assert!(rootfs.get("usr/share/doc").unwrap().is_dir());
    assert_eq!(rootfs.read("usr/share/doc/pkg/copyright"), Some(&b"c"[..]));
}

#[test]
fn hardlink_and_symlinks_resolve_to_target() {
    let layer = LayerBuilder::new()
        .dir("usr/bin/")
        .file("usr/bin/tool", b"T")
        .hardlink("usr/bin/tool-alias", "usr/bin/tool")
        .symlink("usr/bin/tool-sym", "tool")
        .symlink("usr/lib/tool-abs", "/usr/bin/tool")
        .build();
    let (rootfs, warnings) = read_layers(vec![layer]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(rootfs.read("usr/bin/tool-alias"), Some(&b"T"[..]));
    assert_eq!(
        rootfs.get("usr/bin/tool-alias").unwrap().kind,
        NodeKind::File
    );
    assert_eq!(rootfs.read("usr/bin/tool-sym"), Some(&b"T"[..]));
    assert_eq!(rootfs.read("usr/lib/tool-abs"), Some(&b"T"[..]));
    assert!(matches!(
        rootfs.get("usr/lib/tool-abs").unwrap().kind,
        NodeKind::Symlink(_)
    ));
}

#[test]
fn hardlink_to_lower_layer_member() {
    let lower = LayerBuilder::new()
        .file("usr/bin/python3.11", b"PY")
        .build();
    let upper = LayerBuilder::new()
        .hardlink("usr/bin/python3", "./usr/bin/python3.11")
        .build();
    let (rootfs, _) = read_layers(vec![lower, upper]);
    assert_eq!(rootfs.read("usr/bin/python3"), Some(&b"PY"[..]));
    assert_eq!(rootfs.get("usr/bin/python3").unwrap().layer, 1);
}

#[test]
fn entry_below_symlinked_directory_follows_link() {
    let lower = LayerBuilder::new()
        .dir("usr/lib")
        .symlink("lib", "usr/lib")
        .build();
    let upper = LayerBuilder::new().file("lib/libx.so", b"X").build();
    let (rootfs, _) = read_layers(vec![lower, upper]);
    assert!(matches!(
        rootfs.get("lib").unwrap().kind,
        NodeKind::Symlink(_)
    ));
    assert_eq!(rootfs.read("usr/lib/libx.so"), Some(&b"X"[..]));
    assert_eq!(rootfs.read("lib/libx.so"), Some(&b"X"[..]));
}

#[test]
fn retained_versions_recorded_per_layer() {
    let first = LayerBuilder::new()
        .file("var/lib/dpkg/status", b"Package: a\n")
        .build();
    let second = LayerBuilder::new()
        .file("var/lib/dpkg/status", b"Package: a\n\nPackage: b\n")
        .build();
    let (rootfs, _) = read_layers(vec![first, second]);
    let versions = rootfs.versions("var/lib/dpkg/status");
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].0, 0);
    assert_eq!(versions[1].0, 1);
    assert_eq!(&*versions[1].1, b"Package: a\n\nPackage: b\n");
}

#[test]
fn retain_predicate_limits_contents() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    let layer = LayerBuilder::new()
        .file("etc/os-release", b"ID=x")
        .file("big", &[7u8; 4096])
        .build();
    write_docker_archive(
        &path,
        &[(
            &["t:1"],
            &TestImage::new(vec![TestLayer::new(layer, Compression::None)]),
        )],
    );
    let mut options = OpenOptions::default();
    options.limits.max_file_bytes_retained = 1024;
    let image = Image::open(&ImageSource::detect(&path), &options).unwrap();
    let retain = |path: &str| path == "etc/os-release" || path == "big";
    let (rootfs, warnings) = image.read_rootfs(&ReadOptions { retain: &retain }).unwrap();
    assert_eq!(rootfs.read("etc/os-release"), Some(&b"ID=x"[..]));
    assert_eq!(rootfs.get("big").unwrap().size, 4096);
    assert!(rootfs.get("big").unwrap().content.is_none());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].to_string().contains("retain limit"));
}

#[test]
fn for_each_file_visits_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    let first = LayerBuilder::new()
        .file("a", b"1")
        .file("gone", b"g")
        .build();
    let second = LayerBuilder::new()
        .file("a", b"22")
        .whiteout("gone")
        .build();
    let layers = vec![
        TestLayer::new(first, Compression::Zstd),
        TestLayer::new(second, Compression::Gzip),
    ];
    write_docker_archive(&path, &[(&["t:1"], &TestImage::new(layers))]);
    let image = Image::open(&ImageSource::detect(&path), &OpenOptions::default()).unwrap();
    let (rootfs, _) = image.read_rootfs(&ReadOptions::default()).unwrap();

    let mut seen = Vec::new();
    image
        .for_each_file(&mut |file, reader| {
            let mut content = Vec::new();
            reader.read_to_end(&mut content)?;
            seen.push((
                file.layer,
                file.path.to_string(),
                content,
                rootfs.is_visible(file.path, file.layer),
            ));
            Ok(())
        })
        .unwrap();
    assert_eq!(
        seen,
        vec![
            (0, "a".to_string(), b"1".to_vec(), false),
            (0, "gone".to_string(), b"g".to_vec(), false),
            (1, "a".to_string(), b"22".to_vec(), true),
        ]
    );
}

#[test]
fn parallel_visitor_sees_every_layer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    let layers = (0..4)
        .map(|i| {
            let tar = LayerBuilder::new()
                .file(&format!("layer{i}/a"), b"a")
                .file("shared", b"s")
                .build();
            TestLayer::new(tar, Compression::Gzip)
        })
        .collect();
    write_docker_archive(&path, &[(&["t:1"], &TestImage::new(layers))]);
    let image = Image::open(&ImageSource::detect(&path), &OpenOptions::default()).unwrap();

    let seen = std::sync::Mutex::new(Vec::new());
    image
        .for_each_file_parallel(&|file, _| {
            seen.lock()
                .unwrap()
                .push((file.layer, file.path.to_string()));
            Ok(())
        })
        .unwrap();
    let mut seen = seen.into_inner().unwrap();
    seen.sort();
    let mut expected = Vec::new();
    for i in 0..4 {
        expected.push((i, format!("layer{i}/a")));
        expected.push((i, "shared".to_string()));
    }
    assert_eq!(seen, expected);
}

#[test]
fn retained_hardlink_gets_unretained_target_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    let layer = LayerBuilder::new()
        .file("usr/bin/perl5.36.0", b"PERL")
        .hardlink("usr/bin/perl", "usr/bin/perl5.36.0")
        .build();
    write_docker_archive(
        &path,
        &[(
            &["t:1"],
            &TestImage::new(vec![TestLayer::new(layer, Compression::Gzip)]),
        )],
    );
    let image = Image::open(&ImageSource::detect(&path), &OpenOptions::default()).unwrap();
    let retain = |path: &str| path == "usr/bin/perl";
    let (rootfs, warnings) = image.read_rootfs(&ReadOptions { retain: &retain }).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(rootfs.read("usr/bin/perl"), Some(&b"PERL"[..]));
    assert_eq!(rootfs.versions("usr/bin/perl").len(), 1);
}
