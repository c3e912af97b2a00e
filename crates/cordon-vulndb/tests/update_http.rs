//! `update` and URL sources against a local HTTP server that serves `shared/vulndata` in
//! the upstream URL layout.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use cordon_model::Ecosystem;
use cordon_vulndb::{
    update, Builder, Database, DbError, DownloadOptions, SourceKind, SourceSpec, UpdateConfig,
};

fn vulndata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

/// A file server on 127.0.0.1 with a free port. Paths map to files under `vulndata`,
/// except `/truncated/<path>`, which announces the file's full length and sends half, and
/// `/nvd-feeds/nvdcve-2.0-2023.json.gz`, which is the recorded NVD API 2.0 page gzipped:
/// NVD's yearly JSON 2.0 feeds have the shape of an API 2.0 page.
struct Server {
    base: String,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve(stream));
            }
        });
        Server { base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn serve(mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
            break;
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let (truncate, path) = match path.strip_prefix("/truncated") {
        Some(rest) => (true, rest.to_owned()),
        None => (false, path),
    };

    let (gzip, path) = match path.strip_prefix("/nvd-feeds/") {
        Some("nvdcve-2.0-2023.json.gz") => (true, NVD_PAGE.to_owned()),
        _ => (false, path),
    };

    let file = vulndata().join(path.trim_start_matches('/'));
    let body = match std::fs::read(&file) {
        Ok(body) if !path.contains("..") && gzip => gzip_bytes(&body),
        Ok(body) if !path.contains("..") => body,
        _ => {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return;
        }
    };
    let header = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(header.as_bytes());
    let sent = if truncate {
        &body[..body.len() / 2]
    } else {
        &body[..]
    };
    let _ = stream.write_all(sent);
}

const NVD_PAGE: &str = "/nvd/api-2.0-samples/full-page.json";
/// Newest `lastModified` of the 38 CVEs on the recorded page.
const NVD_NEWEST_LAST_MODIFIED: &str = "2023-10-18T18:04:04.597";

fn gzip_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn local_config(server: &Server) -> UpdateConfig {
    UpdateConfig {
        osv_base_url: server.url("/osv"),
        osv_ecosystems: vec!["PyPI".into(), "npm".into(), "crates.io".into()],
        debian_url: Some(server.url("/debian-derived/debian-tracker-derived.json")),
        alpine_base_url: server.url("/alpine/secdb-json-converted/"),
        alpine_branches: vec!["3.10".into(), "v3.11".into()],
        nvd_base_url: server.url("/nvd-feeds"),
        nvd_years: vec![2023],
        download: DownloadOptions {
            timeout: Duration::from_secs(60),
            ..DownloadOptions::default()
        },
        ..UpdateConfig::default()
    }
}

#[test]
fn update_fetches_every_feed() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("cache").join("cordon.db");

    let report = update(&local_config(&server), &output).unwrap();
    assert_eq!(report.output, output);

    let db = Database::open(&output).unwrap();
    let names: Vec<&str> = db
        .metadata()
        .sources
        .iter()
        .map(|source| source.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "osv:PyPI",
            "osv:npm",
            "osv:crates.io",
            "debian-tracker",
            "alpine-secdb",
            "nvd"
        ]
    );

    let pypi = &db.metadata().sources[0];
    assert_eq!(pypi.records, 2661 - 10);
    assert_eq!(pypi.location, server.url("/osv/PyPI/all.zip"));
    assert_eq!(db.metadata().sources[3].records, 1199);
    let nvd = &db.metadata().sources[5];
    assert_eq!(nvd.location, server.url("/nvd-feeds"));
    assert_eq!(nvd.updated_at.as_deref(), Some(NVD_NEWEST_LAST_MODIFIED));
    // 35 of the page's 38 CVEs carry CVSS data.
    assert_eq!(nvd.records, 35);
    // NVD's own (Primary) CVSS 3.1 assessment wins over the CNA's (Secondary) one.
    let rated = db.cvss("CVE-2023-45109").unwrap().unwrap();
    assert_eq!(rated.vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H");
    assert_eq!(rated.score, Some(8.8));
    // A CVE with a CNA assessment only keeps that one.
    let cna_only = db.cvss("CVE-2023-20261").unwrap().unwrap();
    assert_eq!(cna_only.score, Some(6.5));

    assert!(db
        .osv(Ecosystem::Pypi, "pyyaml")
        .unwrap()
        .iter()
        .any(|record| record.id == "PYSEC-2020-96"));
    assert!(!db.debian("bullseye", "openssl").unwrap().is_empty());
    assert!(db
        .alpine("3.10", "tcpdump")
        .unwrap()
        .iter()
        .any(|record| record.id == "CVE-2018-14468"));
    assert!(db
        .alpine("3.11", "ansible")
        .unwrap()
        .iter()
        .any(|record| record.repository == "main"));
    assert!(db.alpine("3.9", "ansible").unwrap().is_empty());

    let leftovers: Vec<_> = std::fs::read_dir(output.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["cordon.db"]);
}

#[test]
fn update_missing_feed_fails_with_status() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("cordon.db");
    let config = UpdateConfig {
        osv_ecosystems: vec!["NoSuchEcosystem".into()],
        ..local_config(&server)
    };

    let error = update(&config, &output).unwrap_err();
    assert!(matches!(error, DbError::HttpStatus { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(&server.url("/osv/NoSuchEcosystem/all.zip")),
        "{message}"
    );
    assert!(message.contains("404"), "{message}");
    assert!(!output.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "temporary files left behind"
    );
}

#[test]
fn truncated_download_rejected() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("cordon.db");
    let config = UpdateConfig {
        osv_base_url: server.url("/truncated/osv"),
        osv_ecosystems: vec!["Go".into()],
        ..local_config(&server)
    };

    let error = update(&config, &output).unwrap_err();
    assert!(matches!(error, DbError::Download { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains(&server.url("/truncated/osv/Go/all.zip")),
        "{error}"
    );
    assert!(!output.exists());
}

#[test]
fn oversized_download_rejected() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("cordon.db");
    let config = UpdateConfig {
        download: DownloadOptions {
            max_bytes: 1000,
            ..DownloadOptions::default()
        },
        ..local_config(&server)
    };

    let error = update(&config, &output).unwrap_err();
    assert!(matches!(error, DbError::LimitExceeded { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("over the download limit of 1000 bytes"),
        "{error}"
    );
}

#[test]
fn update_keeps_database_on_failure() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("cordon.db");
    let good = UpdateConfig {
        osv_ecosystems: vec!["Maven".into()],
        debian_url: None,
        alpine_branches: Vec::new(),
        ..local_config(&server)
    };
    update(&good, &output).unwrap();
    let before = std::fs::read(&output).unwrap();

    let bad = UpdateConfig {
        debian_url: Some(server.url("/missing.json")),
        ..good
    };
    update(&bad, &output).unwrap_err();
    assert_eq!(std::fs::read(&output).unwrap(), before);
}

#[test]
fn build_downloads_url_sources() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("cordon.db");
    let url = server.url("/cve5/vulnrichment-subset.zip");
    let spec: SourceSpec = format!("cve5={url}").parse().unwrap();

    let report = Builder::new().source(spec).build(&output).unwrap();
    let info = &report.metadata.sources[0];
    assert_eq!(info.kind, SourceKind::Cve5);
    assert_eq!(info.location, url);
    assert_eq!(info.records, 1770);
    let db = Database::open(&output).unwrap();
    assert_eq!(db.cvss("CVE-2003-0063").unwrap().unwrap().score, Some(7.3));
}
