//! `cordon sbom` on broken and hostile images. Each broken image exits with code 2 and
//! one line on standard error that names the file and the problem. A single bad entry is
//! a warning in the report while the read goes on. Compressed outer archives are read,
//! and nothing is left behind in the temporary directory.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use cordon_image::testing::{
    compress, sha256, tar_directory, write_docker_archive, Compression, LayerBuilder, OciLayout,
    TestImage, TestLayer,
};
use support::{cordon, parse_json};

const OS_RELEASE: &[u8] = b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";
const DPKG_STATUS: &[u8] = b"Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\n";

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7919 % 251) as u8).collect()
}

fn sample_image() -> TestImage {
    let base = LayerBuilder::new()
        .file("etc/os-release", OS_RELEASE)
        .file("var/lib/dpkg/status", DPKG_STATUS)
        .file("usr/lib/blob", &payload(4000))
        .build();
    let app = LayerBuilder::new().file("app/main", &payload(3000)).build();
    TestImage::new(vec![
        TestLayer::new(base, Compression::Gzip),
        TestLayer::new(app, Compression::None),
    ])
}

fn docker_archive(dir: &Path, image: &TestImage) -> Vec<u8> {
    let path = dir.join("source-docker.tar");
    write_docker_archive(&path, &[(&["app:1"], image)]);
    fs::read(path).unwrap()
}

fn oci_archive(dir: &Path) -> Vec<u8> {
    let layout_dir = dir.join("source-layout");
    let mut layout = OciLayout::create(&layout_dir);
    let descriptor = layout.put_image(&sample_image());
    layout.write_index(&[descriptor]);
    let path = dir.join("source-oci.tar");
    tar_directory(&layout_dir, &path);
    fs::read(path).unwrap()
}

/// Offsets that cut a tar at each header's start and middle, inside each member's data,
/// at each member's end, and inside the end-of-archive blocks. The archives here are
/// written by the tar crate with short names, so every header is followed by its data.
fn tar_cut_offsets(tar: &[u8]) -> Vec<usize> {
    let mut offsets = vec![0, 1];
    let mut header = 0;
    while header + 512 <= tar.len() && tar[header] != 0 {
        let size_field = String::from_utf8_lossy(&tar[header + 124..header + 136]);
        let size = usize::from_str_radix(size_field.trim_matches(['\0', ' ']), 8).unwrap();
        let data = header + 512;
        offsets.extend([header, header + 200]);
        if size > 0 {
            offsets.push(data + size / 2);
        }
        header = data + size.div_ceil(512) * 512;
        offsets.push(header);
    }
    offsets.extend([header + 512, header + 1023]);
    offsets.retain(|&offset| offset < tar.len());
    offsets.sort_unstable();
    offsets.dedup();
    offsets
}

/// Runs `cordon sbom IMAGE --format json` with `TMPDIR` set to `temp`.
fn sbom(image: &str, temp: &Path, extra: &[&str]) -> std::process::Output {
    cordon()
        .args(["sbom", image, "--format", "json"])
        .args(extra)
        .env("TMPDIR", temp)
        .output()
        .expect("cordon sbom runs")
}

/// Checks that `cordon sbom IMAGE` exits 2 with one `error:` line that names `file` and
/// contains each of `words` (lower case), and returns that line.
fn expect_failure(image: &str, file: &Path, temp: &Path, extra: &[&str], words: &[&str]) -> String {
    let output = sbom(image, temp, extra);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(2), "{image}: {stderr}");
    assert!(output.stdout.is_empty(), "{image}: no report on error");
    assert!(!stderr.contains("panicked"), "{image}: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{image}: one line: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{image}: {stderr}");
    let name = file.file_name().unwrap().to_string_lossy();
    assert!(
        stderr.contains(name.as_ref()),
        "{image}: names the file: {stderr}"
    );
    let lower = stderr.to_lowercase();
    for word in words {
        assert!(lower.contains(word), "{image}: says {word:?}: {stderr}");
    }
    stderr
}

/// Checks that `temp` contains no file: the decompressed copy of a compressed archive is
/// deleted before the command exits.
fn assert_empty(temp: &Path) {
    let left: Vec<PathBuf> = fs::read_dir(temp)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert!(left.is_empty(), "left in the temporary directory: {left:?}");
}

#[test]
fn cut_archives_exit_two_as_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let docker = docker_archive(dir.path(), &sample_image());
    let oci = oci_archive(dir.path());
    let cases = [
        (
            "docker-archive",
            "cut-docker.tar",
            docker.clone(),
            tar_cut_offsets(&docker),
        ),
        (
            "oci-archive",
            "cut-oci.tar",
            oci.clone(),
            tar_cut_offsets(&oci),
        ),
    ];
    for (scheme, name, bytes, offsets) in cases {
        let path = dir.path().join(name);
        for cut in offsets {
            fs::write(&path, &bytes[..cut]).unwrap();
            let bare = path.display().to_string();
            let explicit = format!("{scheme}:{}", path.display());
            for image in [&bare, &explicit] {
                let line = expect_failure(image, &path, temp.path(), &[], &[]);
                assert!(
                    line.contains("truncated"),
                    "{image} cut at byte {cut}: says truncated: {line}"
                );
            }
        }
    }
    assert_empty(temp.path());
}

#[test]
fn cut_compressed_archives_exit_two() {
    let dir = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let tar = docker_archive(dir.path(), &sample_image());
    for (name, compression) in [
        ("cut.tar.gz", Compression::Gzip),
        ("cut.tar.zst", Compression::Zstd),
    ] {
        let compressed = compress(&tar, compression);
        let path = dir.path().join(name);
        let len = compressed.len();
        for cut in [0, 1, 5, 20, len / 3, len / 2, len - 9, len - 1] {
            fs::write(&path, &compressed[..cut]).unwrap();
            let line = expect_failure(&path.display().to_string(), &path, temp.path(), &[], &[]);
            assert!(
                line.contains("truncated") || line.contains("corrupt"),
                "{name} cut at byte {cut}: {line}"
            );
        }
    }
    assert_empty(temp.path());
}

#[test]
fn compressed_archive_reads_like_plain() {
    let dir = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let tar = docker_archive(dir.path(), &sample_image());
    let plain = dir.path().join("app.tar");
    fs::write(&plain, &tar).unwrap();
    let expected = sbom(&plain.display().to_string(), temp.path(), &[]);
    assert_eq!(expected.status.code(), Some(0));
    let expected = parse_json(&expected);
    let expected_packages = &expected["packages"];
    assert_eq!(expected_packages[0]["name"], "zlib1g", "{expected}");

    for (name, compression) in [
        ("app.tar.gz", Compression::Gzip),
        ("app.tar.zst", Compression::Zstd),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, compress(&tar, compression)).unwrap();
        for image in [
            path.display().to_string(),
            format!("docker-archive:{}", path.display()),
        ] {
            let output = sbom(&image, temp.path(), &[]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(0), "{image}: {stderr}");
            let report = parse_json(&output);
            assert_eq!(&report["packages"], expected_packages, "{image}");
        }
    }
    assert_empty(temp.path());
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["app.tar", "app.tar.gz", "app.tar.zst", "source-docker.tar"],
        "nothing written next to the image"
    );
}

/// Writes a docker-archive whose only layer is `layer`, as `dir/name`.
fn archive_with_layer(dir: &Path, name: &str, layer: TestLayer) -> PathBuf {
    let path = dir.join(name);
    write_docker_archive(&path, &[(&["app:1"], &TestImage::new(vec![layer]))]);
    path
}

#[test]
fn broken_images_exit_two_naming_problem() {
    let dir = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let tar = LayerBuilder::new()
        .file("etc/os-release", OS_RELEASE)
        .file("data", &payload(200_000))
        .build();

    let mut gzip_layer = TestLayer::new(tar.clone(), Compression::Gzip);
    let mut blob = compress(&tar, Compression::Gzip);
    let middle = blob.len() / 2;
    for byte in &mut blob[middle..middle + 64] {
        *byte ^= 0x5a;
    }
    gzip_layer.blob_override = Some(blob);
    let corrupt_gzip = archive_with_layer(dir.path(), "corrupt-gzip.tar", gzip_layer);
    expect_failure(
        &corrupt_gzip.display().to_string(),
        &corrupt_gzip,
        temp.path(),
        &[],
        &["layer 0", "corrupt"],
    );

    let mut zstd_layer = TestLayer::new(tar.clone(), Compression::Zstd);
    let mut blob = compress(&tar, Compression::Zstd);
    for byte in &mut blob[12..76] {
        *byte = 0xff;
    }
    zstd_layer.blob_override = Some(blob);
    let corrupt_zstd = archive_with_layer(dir.path(), "corrupt-zstd.tar", zstd_layer);
    expect_failure(
        &corrupt_zstd.display().to_string(),
        &corrupt_zstd,
        temp.path(),
        &[],
        &["layer 0", "corrupt"],
    );

    let mut wrong_diff_id = TestLayer::new(tar.clone(), Compression::Gzip);
    let other = LayerBuilder::new().file("other", b"other").build();
    wrong_diff_id.blob_override = Some(compress(&other, Compression::Gzip));
    let mismatch = archive_with_layer(dir.path(), "diff-id.tar", wrong_diff_id);
    expect_failure(
        &mismatch.display().to_string(),
        &mismatch,
        temp.path(),
        &[],
        &["digest mismatch", "diff_id", &sha256(&tar)],
    );

    let zeros = LayerBuilder::new()
        .file("zeros", &vec![0u8; 12 << 20])
        .build();
    let bomb = archive_with_layer(
        dir.path(),
        "bomb.tar",
        TestLayer::new(zeros, Compression::Gzip),
    );
    let bomb_image = bomb.display().to_string();
    expect_failure(
        &bomb_image,
        &bomb,
        temp.path(),
        &["--max-ratio", "20"],
        &["compression ratio over 20:1"],
    );
    expect_failure(
        &bomb_image,
        &bomb,
        temp.path(),
        &["--max-image-size", "4"],
        &["all layers over 4194304 bytes"],
    );
    expect_failure(
        &bomb_image,
        &bomb,
        temp.path(),
        &[],
        &["compression ratio over 100:1"],
    );
    let raised = sbom(&bomb_image, temp.path(), &["--max-ratio", "100000"]);
    assert_eq!(
        raised.status.code(),
        Some(0),
        "a raised ratio limit reads the layer"
    );
    assert_empty(temp.path());
}

#[test]
fn broken_metadata_exits_two_naming_file() {
    let dir = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();

    let unknown = dir.path().join("notes.txt");
    fs::write(&unknown, b"this is not an image, it is a text file\n").unwrap();
    expect_failure(
        &unknown.display().to_string(),
        &unknown,
        temp.path(),
        &[],
        &["unknown image format"],
    );

    let write_tar = |name: &str, members: &[(&str, &[u8])]| {
        let content = dir.path().join(format!("{name}.d"));
        fs::create_dir(&content).unwrap();
        for (member, data) in members {
            fs::write(content.join(member), data).unwrap();
        }
        let path = dir.path().join(name);
        tar_directory(&content, &path);
        path
    };
    let no_manifest = write_tar("no-manifest.tar", &[("other.json", b"{}")]);
    expect_failure(
        &format!("docker-archive:{}", no_manifest.display()),
        &no_manifest,
        temp.path(),
        &[],
        &["missing manifest.json"],
    );

    for (name, manifest) in [
        ("bad-json.tar", &b"[{\"Config\": "[..]),
        ("bad-shape.tar", &b"{\"Config\": 12}"[..]),
    ] {
        let path = write_tar(name, &[("manifest.json", manifest)]);
        expect_failure(
            &path.display().to_string(),
            &path,
            temp.path(),
            &[],
            &["malformed manifest.json"],
        );
    }

    let missing_layer = write_tar(
        "missing-layer.tar",
        &[(
            "manifest.json",
            br#"[{"Config": "config.json", "RepoTags": ["app:1"], "Layers": ["abc/layer.tar"]}]"#,
        )],
    );
    expect_failure(
        &missing_layer.display().to_string(),
        &missing_layer,
        temp.path(),
        &[],
        &["missing config.json"],
    );
}

#[test]
fn bad_entries_warn_and_read_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let layer = LayerBuilder::new()
        .file("etc/os-release", OS_RELEASE)
        .file("var/lib/dpkg/status", DPKG_STATUS)
        .file("../../etc/evil", b"climbs out")
        .file("/etc/absolute", b"absolute")
        .symlink("etc/shadow-link", "/../../../etc/shadow")
        .hardlink("etc/hard-out", "../../etc/passwd")
        .build();
    let path = archive_with_layer(
        dir.path(),
        "hostile.tar",
        TestLayer::new(layer, Compression::Gzip),
    );
    let output = sbom(&path.display().to_string(), temp.path(), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let report = parse_json(&output);
    assert_eq!(report["packages"][0]["name"], "zlib1g", "{report}");
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .expect("warnings array")
        .iter()
        .filter_map(|warning| warning.as_str())
        .collect();
    for expected in [
        "../../etc/evil",
        "/etc/absolute",
        "etc/shadow-link",
        "etc/hard-out",
    ] {
        assert!(
            warnings.iter().any(|warning| warning.contains(expected)),
            "warning for {expected}: {warnings:?}"
        );
    }
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        names,
        ["hostile.tar"],
        "nothing extracted next to the image"
    );
    assert_empty(temp.path());
}
