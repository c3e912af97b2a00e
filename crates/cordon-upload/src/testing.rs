//! An S3 server for tests: moto in server mode, started on a free loopback port.
//!
//! `scripts/ci-setup.sh` installs moto into `/opt/cordon-moto`; `CORDON_MOTO_SERVER` names
//! another `moto_server` executable. When neither exists, [`MotoServer::start`] prints why
//! and returns `None` so that the test can skip, unless `CORDON_REQUIRE_E2E` is set, in
//! which case it panics. moto accepts any credentials and does not check signatures.

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Default `moto_server` path, as installed by `scripts/ci-setup.sh`.
pub const DEFAULT_MOTO_SERVER: &str = "/opt/cordon-moto/bin/moto_server";

/// Credentials that tests pass to the uploader; moto accepts any.
pub const TEST_ACCESS_KEY_ID: &str = "cordon-test-key";
/// Secret that goes with [`TEST_ACCESS_KEY_ID`].
pub const TEST_SECRET_ACCESS_KEY: &str = "cordon-test-secret";

/// A running moto server; dropping it kills the process.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    endpoint: String,
    http: reqwest::blocking::Client,
}

/// An object as the server returns it to a plain GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` response header.
    pub content_type: Option<String>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// Authorization header for the helper's own requests. moto does not check signatures, but
/// it treats requests without any Authorization header as anonymous, and the
/// default private ACL denies anonymous reads.
const TEST_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=cordon-test-key/20260101/us-east-1/s3/aws4_request, \
    SignedHeaders=host, Signature=0000000000000000000000000000000000000000000000000000000000000000";

fn required() -> bool {
    std::env::var_os("CORDON_REQUIRE_E2E").is_some()
}

impl MotoServer {
    /// Starts moto on `127.0.0.1` and waits until it responds to HTTP requests.
    pub fn start() -> Option<Self> {
        let program = std::env::var_os("CORDON_MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_MOTO_SERVER));
        if !program.is_file() {
            let reason = format!(
                "moto_server not found at {} (run scripts/ci-setup.sh or set CORDON_MOTO_SERVER)",
                program.display()
            );
            assert!(!required(), "CORDON_REQUIRE_E2E is set but {reason}");
            eprintln!("skipping: {reason}");
            return None;
        }
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client builds");
        // Another process may take the free port between the probe and moto's bind, so a
        // server that exits at once is started again on a new port.
        for _ in 0..3 {
            let port = free_port();
            let mut child = Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("failed to start {}: {e}", program.display()));
            let endpoint = format!("http://127.0.0.1:{port}");
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                if http.get(format!("{endpoint}/")).send().is_ok() {
                    return Some(Self {
                        child,
                        endpoint,
                        http,
                    });
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("{} did not start on a loopback port", program.display());
    }

    /// Endpoint URL, such as `http://127.0.0.1:41234`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Creates `bucket`.
    pub fn create_bucket(&self, bucket: &str) {
        let response = self
            .http
            .put(format!("{}/{bucket}", self.endpoint))
            .header(reqwest::header::AUTHORIZATION, TEST_AUTHORIZATION)
            .send()
            .expect("create bucket request");
        assert!(
            response.status().is_success(),
            "create bucket {bucket}: HTTP {}",
            response.status()
        );
    }

    /// Fetches `key` from `bucket` with a plain GET.
    pub fn get(&self, bucket: &str, key: &str) -> StoredObject {
        let response = self
            .http
            .get(format!("{}/{bucket}/{key}", self.endpoint))
            .header(reqwest::header::AUTHORIZATION, TEST_AUTHORIZATION)
            .send()
            .expect("get object request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let body = response.bytes().expect("object body").to_vec();
        StoredObject {
            status,
            content_type,
            body,
        }
    }

    /// Lists the keys in `bucket` that start with `prefix` (ListObjectsV2, first 1000).
    pub fn list_keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let response = self
            .http
            .get(format!("{}/{bucket}", self.endpoint))
            .query(&[("list-type", "2"), ("prefix", prefix)])
            .header(reqwest::header::AUTHORIZATION, TEST_AUTHORIZATION)
            .send()
            .expect("list objects request");
        assert!(
            response.status().is_success(),
            "list {bucket}: HTTP {}",
            response.status()
        );
        let body = response.text().expect("list body");
        body.split("<Key>")
            .skip(1)
            .filter_map(|part| part.split_once("</Key>").map(|(key, _)| key.to_string()))
            .collect()
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}
