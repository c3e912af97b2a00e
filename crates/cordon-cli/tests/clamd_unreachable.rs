//! `cordon scan --clamd` with a daemon that cannot be reached must fail before scanning.

mod support;

use cordon_image::testing::{
    write_docker_archive, Compression, LayerBuilder, TestImage, TestLayer,
};
use support::cordon;

#[test]
fn unreachable_clamd_fails_scan() {
    let dir = tempfile::tempdir().expect("temp dir");
    let layer = LayerBuilder::new().file("opt/readme.txt", b"hello").build();
    let image = TestImage::new(vec![TestLayer::new(layer, Compression::None)]);
    let archive = dir.path().join("image.tar");
    write_docker_archive(&archive, &[(&["example/clamd:1"], &image)]);
    let socket = dir.path().join("missing.sock");

    let output = cordon()
        .args(["scan", &format!("docker-archive:{}", archive.display())])
        .args(["--scanners", "malware", "--format", "json"])
        .args(["--clamd", &format!("unix:{}", socket.display())])
        .output()
        .expect("cordon runs");

    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "no report is written");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("missing.sock"), "{stderr}");
    assert!(stderr.contains("PING"), "{stderr}");
}
