//! Uploads to a real S3 API: moto in server mode on a loopback port.
//!
//! Each test skips with a printed reason when moto is not installed, unless
//! `CORDON_REQUIRE_E2E` is set, in which case it fails.

use std::path::Path;

use cordon_upload::testing::{MotoServer, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY};
use cordon_upload::{Credentials, S3Settings, S3Url, UploadError, UploadedObject, Uploader};

const RUN_ID: &str = "sbx-0123456789ab";

fn credentials() -> Credentials {
    Credentials {
        access_key_id: TEST_ACCESS_KEY_ID.to_string(),
        secret_access_key: TEST_SECRET_ACCESS_KEY.to_string(),
        session_token: None,
    }
}

fn uploader(server: &MotoServer, target: &str) -> Uploader {
    let settings = S3Settings::default()
        .with_endpoint(server.endpoint())
        .with_path_style(true);
    Uploader::new(&target.parse::<S3Url>().unwrap(), &settings, credentials()).unwrap()
}

fn upload(uploader: &Uploader, dir: &Path) -> Result<Vec<UploadedObject>, UploadError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(uploader.upload_dir(dir, RUN_ID))
}

/// Writes the layout of a sandbox output directory; returns each file's path and bytes.
fn write_run_dir(dir: &Path) -> Vec<(&'static str, Vec<u8>)> {
    // The capture is larger than one PutObject allows here, so it goes up in parts.
    let capture: Vec<u8> = (0..(cordon_upload::SINGLE_PUT_MAX_BYTES + (3 << 20) + 17))
        .map(|i| (i % 251) as u8)
        .collect();
    let files: Vec<(&'static str, Vec<u8>)> = vec![
        (
            "report.json",
            br#"{"schema_version":1,"run_id":"sbx-0123456789ab"}"#.to_vec(),
        ),
        ("capture.pcapng", capture),
        ("raw/stdout.log", b"hello from the target\n".to_vec()),
        ("raw/engine-changes.txt", b"A /tmp/cmd.sh\n".to_vec()),
        (
            "raw/executables/5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
            vec![0x7f, b'E', b'L', b'F', 0, 1, 2, 255],
        ),
    ];
    for (relative, bytes) in &files {
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    files
}

#[test]
fn directory_uploads_with_keys_and_types() {
    let Some(server) = MotoServer::start() else {
        return;
    };
    server.create_bucket("cordon-artifacts");
    let dir = tempfile::tempdir().unwrap();
    let files = write_run_dir(dir.path());
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("raw/passwd-link")).unwrap();

    let uploader = uploader(&server, "s3://cordon-artifacts/ci/sandbox/");
    let objects = upload(&uploader, dir.path()).unwrap();

    // Types from the media type registrations: RFC 8259 for JSON, text/plain for logs,
    // Wireshark's shared-mime-info entry for pcapng, octet-stream for unknown binaries.
    let expected_types = [
        ("report.json", "application/json"),
        ("capture.pcapng", "application/x-pcapng"),
        ("raw/stdout.log", "text/plain"),
        ("raw/engine-changes.txt", "text/plain"),
        (
            "raw/executables/5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
            "application/octet-stream",
        ),
    ];
    let mut expected_keys: Vec<String> = files
        .iter()
        .map(|(relative, _)| format!("ci/sandbox/{RUN_ID}/{relative}"))
        .collect();
    expected_keys.sort();

    let returned_keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(returned_keys, expected_keys);
    let mut stored_keys = server.list_keys("cordon-artifacts", "ci/sandbox/");
    stored_keys.sort();
    assert_eq!(
        stored_keys, expected_keys,
        "symbolic links are not uploaded"
    );

    for (relative, bytes) in &files {
        let key = format!("ci/sandbox/{RUN_ID}/{relative}");
        let stored = server.get("cordon-artifacts", &key);
        assert_eq!(stored.status, 200, "{key}");
        assert_eq!(stored.body.len(), bytes.len(), "{key}: size");
        assert!(stored.body == *bytes, "{key}: bytes differ");
        let (_, expected_type) = expected_types.iter().find(|(r, _)| r == relative).unwrap();
        assert_eq!(
            stored.content_type.as_deref(),
            Some(*expected_type),
            "{key}"
        );

        let object = objects.iter().find(|o| o.key == key).unwrap();
        assert_eq!(object.size, bytes.len() as u64, "{key}");
        assert_eq!(
            object.url,
            format!("{}/cordon-artifacts/{key}", server.endpoint()),
            "{key}"
        );
    }
}

#[test]
fn bucket_root_prefix_uploads_under_run_id() {
    let Some(server) = MotoServer::start() else {
        return;
    };
    server.create_bucket("cordon-root");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.json"), b"{}").unwrap();

    let objects = upload(&uploader(&server, "s3://cordon-root"), dir.path()).unwrap();

    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].key, format!("{RUN_ID}/report.json"));
    assert_eq!(server.get("cordon-root", &objects[0].key).body, b"{}");
}

#[test]
fn missing_bucket_names_bucket_and_key() {
    let Some(server) = MotoServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.json"), b"{}").unwrap();

    let error = upload(&uploader(&server, "s3://no-such-bucket/runs"), dir.path()).unwrap_err();
    let message = error.to_string();

    assert!(matches!(error, UploadError::Put { .. }), "{error:?}");
    assert!(!message.contains('\n'), "{message}");
    assert!(
        message.contains(&format!("s3://no-such-bucket/runs/{RUN_ID}/report.json")),
        "{message}"
    );
    assert!(message.contains("NoSuchBucket"), "{message}");
    assert!(message.contains("404"), "{message}");
    assert!(dir.path().join("report.json").is_file());
}

#[test]
fn unreachable_endpoint_gives_one_line_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = S3Settings::default()
        .with_endpoint(format!("http://127.0.0.1:{port}"))
        .with_path_style(true);
    let target: S3Url = "s3://cordon-artifacts/runs".parse().unwrap();
    let uploader = Uploader::new(&target, &settings, credentials()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.json"), b"{}").unwrap();

    let message = upload(&uploader, dir.path()).unwrap_err().to_string();

    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains("s3://cordon-artifacts/runs/"), "{message}");
    assert!(message.to_lowercase().contains("connect"), "{message}");
}
