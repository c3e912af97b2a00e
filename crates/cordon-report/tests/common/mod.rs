//! Report fixtures, renderers and schema validators shared by the schema tests.
//!
//! The schemas are the vendored copies in `tests/schemas` (see the README there). The
//! validators resolve every `$ref` from those files and reject any other URI, so no test
//! reaches the network.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use cordon_model::{
    Distro, Ecosystem, Finding, FindingStatus, LayerRef, MalwareEngine, MalwareFinding, Package,
    Severity, SeverityRating, StringMatch,
};
use cordon_policy::ThresholdGate;
use cordon_report::{
    write_sbom, write_scan, DatabaseSummary, Format, ImageSummary, LayerSummary, MalwareScanInfo,
    SbomReport, ScanReport, ScanSettings, SourceSummary, Summary, TableOptions, ToolInfo,
    REPORT_SCHEMA_VERSION,
};
use jsonschema::{Retrieve, Uri, Validator};
use serde_json::Value;

/// `$id` of the CycloneDX 1.6 JSON schema, and the only value its `$schema` property
/// allows in the unmodified upstream schema.
pub const CYCLONEDX_SCHEMA_ID: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";

pub fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("schemas")
}

fn load_schema(file_name: &str) -> Value {
    let path = schema_dir().join(file_name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parse {}: {error}", path.display()))
}

/// Serves `$ref` targets from `tests/schemas` and rejects every other URI.
///
/// The CycloneDX schema refers to `spdx.SNAPSHOT.schema.json` and
/// `jsf-0.82.SNAPSHOT.schema.json` relative to its `$id`, so they resolve to
/// `http://cyclonedx.org/schema/<file name>`.
struct VendoredSchemas;

impl Retrieve for VendoredSchemas {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let file_name = match uri.as_str() {
            "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json" => "spdx.SNAPSHOT.schema.json",
            "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json" => {
                "jsf-0.82.SNAPSHOT.schema.json"
            }
            other => return Err(format!("schema {other} is not vendored in tests/schemas").into()),
        };
        Ok(load_schema(file_name))
    }
}

fn build_validator(schema: &Value) -> Result<Validator, String> {
    jsonschema::options()
        .with_retriever(VendoredSchemas)
        .should_validate_formats(true)
        .build(schema)
        .map_err(|error| error.to_string())
}

/// Builds a validator for a schema with the vendored-only retriever.
pub fn validator_for(schema: &Value) -> Result<Validator, String> {
    build_validator(schema)
}

/// Validator for the OASIS SARIF 2.1.0 schema (JSON Schema draft-04).
pub fn sarif_validator() -> Validator {
    build_validator(&load_schema("sarif-schema-2.1.0.json"))
        .unwrap_or_else(|error| panic!("compile the SARIF schema: {error}"))
}

/// Validator for the CycloneDX 1.6 schema (JSON Schema draft-07).
pub fn cyclonedx_validator() -> Validator {
    build_validator(&load_schema("bom-1.6.SNAPSHOT.schema.json"))
        .unwrap_or_else(|error| panic!("compile the CycloneDX schema: {error}"))
}

/// Returns every schema violation in `document`, one line each with its instance path.
pub fn schema_errors(validator: &Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|error| format!("at {}: {error}", error.instance_path()))
        .collect()
}

/// Panics with the full list of violations when `document` does not match the schema.
pub fn assert_schema_valid(validator: &Validator, document: &Value, what: &str) {
    let errors = schema_errors(validator, document);
    assert!(
        errors.is_empty(),
        "{what} violates its schema:\n{}\ndocument:\n{document:#}",
        errors.join("\n")
    );
}

pub fn render_scan(report: &ScanReport, format: Format) -> Value {
    let mut out = Vec::new();
    write_scan(report, format, &mut out, &TableOptions::default()).unwrap();
    serde_json::from_slice(&out).unwrap()
}

pub fn render_sbom(report: &SbomReport, format: Format) -> Value {
    let mut out = Vec::new();
    write_sbom(report, format, &mut out, &TableOptions::default()).unwrap();
    serde_json::from_slice(&out).unwrap()
}

fn layer(index: usize) -> LayerRef {
    LayerRef {
        index,
        diff_id: format!("sha256:{:064x}", index + 1),
    }
}

#[allow(clippy::too_many_arguments)]
fn package(
    ecosystem: Ecosystem,
    name: &str,
    version: &str,
    purl: &str,
    location: &str,
    layer_index: usize,
    licenses: &[&str],
) -> Package {
    let is_os = matches!(ecosystem, Ecosystem::Deb | Ecosystem::Apk);
    Package {
        name: name.to_string(),
        version: version.to_string(),
        source_name: is_os.then(|| name.to_string()),
        source_version: is_os.then(|| version.to_string()),
        ecosystem,
        purl: purl.to_string(),
        arch: is_os.then(|| "amd64".to_string()),
        layer: Some(layer(layer_index)),
        location: location.to_string(),
        dev: false,
        direct: None,
        licenses: licenses.iter().map(|name| name.to_string()).collect(),
    }
}

fn rating(source: &str, vector: Option<&str>, score: Option<f64>) -> Option<SeverityRating> {
    Some(SeverityRating {
        source: source.to_string(),
        rating: None,
        cvss_vector: vector.map(str::to_string),
        cvss_score: score,
    })
}

struct FindingSpec<'a> {
    id: &'a str,
    aliases: &'a [&'a str],
    fixed: Option<&'a str>,
    status: FindingStatus,
    severity: Severity,
    rating: Option<SeverityRating>,
    data_source: &'a str,
    summary: Option<&'a str>,
}

fn finding(package: &Package, spec: FindingSpec<'_>) -> Finding {
    let matched_by = match spec.fixed {
        Some(fixed) => format!("{} < {fixed}", package.version),
        None => format!("{} is affected and no fix is published", package.version),
    };
    Finding {
        id: spec.id.to_string(),
        aliases: spec.aliases.iter().map(|alias| alias.to_string()).collect(),
        package: package.clone(),
        installed_version: package.version.clone(),
        fixed_version: spec.fixed.map(str::to_string),
        status: spec.status,
        severity: spec.severity,
        severity_source: spec.rating,
        data_source: spec.data_source.to_string(),
        layer: package.layer.clone(),
        summary: spec.summary.map(str::to_string),
        matched_by,
    }
}

/// Packages of a Debian 11 based image with Python, Node.js, Go, Java and Alpine
/// leftovers: one package per ecosystem plus the hard cases (dpkg epoch and `+`,
/// scoped npm name, the same purl at two locations, a path with a space).
pub fn sample_packages() -> Vec<Package> {
    vec![
        package(
            Ecosystem::Deb,
            "libssl1.1",
            "1.1.1n-0+deb11u3",
            "pkg:deb/debian/libssl1.1@1.1.1n-0%2Bdeb11u3?arch=amd64&distro=debian-11",
            "var/lib/dpkg/status",
            0,
            &[],
        ),
        package(
            Ecosystem::Deb,
            "bsdutils",
            "1:2.36.1-8+deb11u1",
            "pkg:deb/debian/bsdutils@1:2.36.1-8%2Bdeb11u1?arch=amd64&distro=debian-11",
            "var/lib/dpkg/status",
            0,
            &["GPL-2.0-or-later"],
        ),
        package(
            Ecosystem::Apk,
            "busybox",
            "1.36.1-r2",
            "pkg:apk/alpine/busybox@1.36.1-r2?arch=x86_64&distro=3.18.4",
            "lib/apk/db/installed",
            1,
            &["GPL-2.0-only"],
        ),
        package(
            Ecosystem::Npm,
            "@babel/traverse",
            "7.22.5",
            "pkg:npm/%40babel/traverse@7.22.5",
            "app/node_modules/@babel/traverse/package.json",
            2,
            &["MIT"],
        ),
        package(
            Ecosystem::Npm,
            "lodash",
            "4.17.20",
            "pkg:npm/lodash@4.17.20",
            "app/node_modules/lodash/package.json",
            2,
            &["MIT"],
        ),
        package(
            Ecosystem::Npm,
            "lodash",
            "4.17.20",
            "pkg:npm/lodash@4.17.20",
            "app/node_modules/webpack/node_modules/lodash/package.json",
            2,
            &["MIT"],
        ),
        package(
            Ecosystem::Pypi,
            "jinja2",
            "3.1.2",
            "pkg:pypi/jinja2@3.1.2",
            "usr/local/lib/python3.11/site-packages/Jinja2-3.1.2.dist-info/METADATA",
            3,
            &["BSD-3-Clause"],
        ),
        package(
            Ecosystem::Go,
            "golang.org/x/net",
            "v0.6.0",
            "pkg:golang/golang.org/x/net@v0.6.0",
            "opt/Acme Tools/bin/acme-agent",
            3,
            &[],
        ),
        package(
            Ecosystem::Maven,
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "opt/app/lib/log4j-core-2.14.1.jar",
            4,
            &["Apache-2.0"],
        ),
        package(
            Ecosystem::Cargo,
            "h2",
            "0.3.20",
            "pkg:cargo/h2@0.3.20",
            "usr/local/bin/proxy",
            4,
            &[],
        ),
    ]
}

/// Findings over [`sample_packages`], most severe first, covering every severity level,
/// CVSS v2, v3.0, v3.1 and v4.0 vectors, ratings without a vector, findings with and
/// without a fixed version, and aliases.
pub fn sample_findings(packages: &[Package]) -> Vec<Finding> {
    let by_location_and_name = |name: &str, location: &str| -> &Package {
        packages
            .iter()
            .find(|package| package.name == name && package.location == location)
            .unwrap()
    };
    let by_name = |name: &str| -> &Package {
        packages
            .iter()
            .find(|package| package.name == name)
            .unwrap()
    };

    vec![
        finding(
            by_name("org.apache.logging.log4j:log4j-core"),
            FindingSpec {
                id: "GHSA-jfh8-c2jp-5v3q",
                aliases: &["CVE-2021-44228"],
                fixed: Some("2.15.0"),
                status: FindingStatus::Fixed,
                severity: Severity::Defcon1,
                rating: rating(
                    "osv",
                    Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"),
                    Some(10.0),
                ),
                data_source: "osv",
                summary: Some("Remote code injection in Log4j"),
            },
        ),
        finding(
            by_name("@babel/traverse"),
            FindingSpec {
                id: "GHSA-67hx-6x53-jw92",
                aliases: &["CVE-2023-45133"],
                fixed: Some("7.23.2"),
                status: FindingStatus::Fixed,
                severity: Severity::Critical,
                rating: rating(
                    "osv",
                    Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
                    Some(9.3),
                ),
                data_source: "osv",
                summary: Some(
                    "Babel vulnerable to arbitrary code execution when compiling specifically crafted malicious code",
                ),
            },
        ),
        finding(
            by_name("libssl1.1"),
            FindingSpec {
                id: "CVE-2023-0286",
                aliases: &["DSA-5343-1"],
                fixed: Some("1.1.1n-0+deb11u4"),
                status: FindingStatus::Fixed,
                severity: Severity::High,
                rating: rating(
                    "debian-tracker",
                    Some("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H"),
                    Some(7.4),
                ),
                data_source: "debian-tracker",
                summary: Some("X.400 address type confusion in X.509 GeneralName"),
            },
        ),
        finding(
            by_name("golang.org/x/net"),
            FindingSpec {
                id: "GO-2023-1571",
                aliases: &["CVE-2022-41723", "GHSA-vvpx-j8f3-3w6h"],
                fixed: Some("v0.7.0"),
                status: FindingStatus::Fixed,
                severity: Severity::High,
                rating: rating(
                    "osv",
                    Some("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
                    Some(7.5),
                ),
                data_source: "osv",
                summary: Some("Denial of service via crafted HTTP/2 stream in net/http and golang.org/x/net"),
            },
        ),
        finding(
            by_location_and_name("lodash", "app/node_modules/lodash/package.json"),
            FindingSpec {
                id: "GHSA-35jh-r3h4-6jhm",
                aliases: &["CVE-2021-23337"],
                fixed: Some("4.17.21"),
                status: FindingStatus::Fixed,
                severity: Severity::High,
                rating: rating("osv", None, Some(7.2)),
                data_source: "osv",
                summary: Some("Command Injection in lodash"),
            },
        ),
        finding(
            by_location_and_name(
                "lodash",
                "app/node_modules/webpack/node_modules/lodash/package.json",
            ),
            FindingSpec {
                id: "GHSA-35jh-r3h4-6jhm",
                aliases: &["CVE-2021-23337"],
                fixed: Some("4.17.21"),
                status: FindingStatus::Fixed,
                severity: Severity::High,
                rating: rating("osv", None, Some(7.2)),
                data_source: "osv",
                summary: Some("Command Injection in lodash"),
            },
        ),
        finding(
            by_name("jinja2"),
            FindingSpec {
                id: "GHSA-h5c8-rqwp-cp95",
                aliases: &["CVE-2024-22195"],
                fixed: Some("3.1.3"),
                status: FindingStatus::Fixed,
                severity: Severity::Medium,
                rating: rating(
                    "osv",
                    Some("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N"),
                    Some(5.4),
                ),
                data_source: "osv",
                summary: Some("Jinja vulnerable to HTML attribute injection when passing user input as keys to xmlattr filter"),
            },
        ),
        finding(
            by_name("bsdutils"),
            FindingSpec {
                id: "CVE-2022-0563",
                aliases: &[],
                fixed: None,
                status: FindingStatus::NoDsa,
                severity: Severity::Low,
                rating: rating("nvd", Some("AV:L/AC:M/Au:N/C:P/I:N/A:N"), Some(1.9)),
                data_source: "debian-tracker",
                summary: None,
            },
        ),
        finding(
            by_name("h2"),
            FindingSpec {
                id: "RUSTSEC-2024-0003",
                aliases: &["GHSA-8r5v-vm4m-4g25"],
                fixed: Some("0.3.24"),
                status: FindingStatus::Fixed,
                severity: Severity::Low,
                rating: None,
                data_source: "osv",
                summary: Some("Resource exhaustion vulnerability in h2 may lead to Denial of Service (DoS)"),
            },
        ),
        finding(
            by_name("busybox"),
            FindingSpec {
                id: "CVE-2023-42363",
                aliases: &[],
                fixed: None,
                status: FindingStatus::NotFixed,
                severity: Severity::Negligible,
                rating: rating("alpine-secdb", None, None),
                data_source: "alpine-secdb",
                summary: None,
            },
        ),
        finding(
            by_name("busybox"),
            FindingSpec {
                id: "CVE-2023-42366",
                aliases: &[],
                fixed: None,
                status: FindingStatus::Undetermined,
                severity: Severity::Unknown,
                rating: None,
                data_source: "alpine-secdb",
                summary: None,
            },
        ),
    ]
}

fn sample_image() -> ImageSummary {
    ImageSummary {
        source: "docker-archive:/tmp/images/shop-api:1.4.2.tar".to_string(),
        format: "docker-archive".to_string(),
        manifest_digest: Some(format!("sha256:{:064x}", 0xabcdef_u64)),
        config_digest: Some(format!("sha256:{:064x}", 0x123456_u64)),
        tags: vec!["registry.example.com/shop/api:1.4.2".to_string()],
        platform: Some("linux/amd64".to_string()),
        layers: (0..5)
            .map(|index| LayerSummary {
                index,
                digest: format!("sha256:{:064x}", index + 100),
                diff_id: format!("sha256:{:064x}", index + 1),
                size: 1_048_576 * (index as u64 + 1),
                created_by: Some(format!("/bin/sh -c #(nop) step {index}")),
            })
            .collect(),
    }
}

fn debian_11() -> Distro {
    Distro {
        id: "debian".to_string(),
        version_id: Some("11".to_string()),
        codename: Some("bullseye".to_string()),
        pretty_name: Some("Debian GNU/Linux 11 (bullseye)".to_string()),
    }
}

fn settings() -> ScanSettings {
    ScanSettings {
        fail_on: Severity::High,
        max_count: 1,
        ignore_unfixed: false,
        scanners: vec!["vuln".to_string()],
        platform: None,
        db_path: "/var/cache/cordon/db".to_string(),
        ignore_file: None,
        vex: Vec::new(),
    }
}

fn scan_report(
    image: ImageSummary,
    distro: Option<Distro>,
    packages: Vec<Package>,
    findings: Vec<Finding>,
) -> ScanReport {
    let malware = if findings.is_empty() {
        Vec::new()
    } else {
        sample_malware()
    };
    let gate = ThresholdGate::default().evaluate(
        findings
            .iter()
            .map(|finding| finding.severity)
            .chain(malware.iter().map(|finding| finding.severity)),
    );
    ScanReport {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo::current(),
        created_at: "2026-12-04T21:08:52Z".to_string(),
        image,
        distro,
        settings: settings(),
        database: Some(DatabaseSummary {
            schema_version: 1,
            built_at: "2026-12-01T00:00:00Z".to_string(),
            sources: vec![SourceSummary {
                name: "osv-npm".to_string(),
                kind: "osv".to_string(),
                location: "/work/shared/vulndata/osv/npm/all.zip".to_string(),
                records: 7,
            }],
        }),
        summary: Summary::new(packages.len(), &findings, &malware),
        gate,
        findings,
        malware_scan: Some(MalwareScanInfo {
            files_scanned: 120,
            bytes_scanned: 4_000_000,
            engines: vec![MalwareEngine::Yara, MalwareEngine::Hash],
            warnings: Vec::new(),
        }),
        malware,
        ignored: Vec::new(),
        packages,
        warnings: vec![
            "app/package-lock.json: lockfileVersion 1 read without dev flags".to_string(),
        ],
    }
}

/// Malware findings: a YARA match inside a zip member with an ATT&CK id and a web
/// reference, and a hash-list match of a file a later layer deleted, at a path with a space.
pub fn sample_malware() -> Vec<MalwareFinding> {
    vec![
        MalwareFinding {
            rule_id: "CORDON-EICAR-001".to_string(),
            namespace: "cordon.eicar".to_string(),
            engine: MalwareEngine::Yara,
            severity: Severity::High,
            description: "EICAR antivirus test file".to_string(),
            attack_id: None,
            reference: Some("https://www.eicar.org/download-anti-malware-testfile/".to_string()),
            path: "samples/zipped/eicar_com.zip".to_string(),
            layer: Some(LayerRef {
                index: 2,
                diff_id: format!("sha256:{}", "c".repeat(64)),
            }),
            hidden_in_final_image: false,
            also_in_layers: Vec::new(),
            sha256: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f".to_string(),
            archive_member: Some("eicar.com".to_string()),
            matches: vec![StringMatch {
                identifier: "$head".to_string(),
                offset: 0,
                length: 30,
            }],
        },
        MalwareFinding {
            rule_id: "known-miner".to_string(),
            namespace: "bad-hashes.txt".to_string(),
            engine: MalwareEngine::Hash,
            severity: Severity::Critical,
            description: "SHA-256 listed in bad-hashes.txt".to_string(),
            attack_id: Some("T1496".to_string()),
            reference: None,
            path: "opt/Acme Tools/xmrig".to_string(),
            layer: Some(LayerRef {
                index: 0,
                diff_id: format!("sha256:{}", "d".repeat(64)),
            }),
            hidden_in_final_image: true,
            also_in_layers: Vec::new(),
            sha256: "e".repeat(64),
            archive_member: None,
            matches: Vec::new(),
        },
    ]
}

/// Builds a scan of a multi-ecosystem image with findings of every severity.
pub fn full_scan_report() -> ScanReport {
    let packages = sample_packages();
    let findings = sample_findings(&packages);
    scan_report(sample_image(), Some(debian_11()), packages, findings)
}

/// A scan of a `dir:` root filesystem with no OS release, no packages and no findings.
pub fn empty_scan_report() -> ScanReport {
    let image = ImageSummary {
        source: "dir:/tmp/rootfs".to_string(),
        format: "dir".to_string(),
        ..ImageSummary::default()
    };
    let mut report = scan_report(image, None, Vec::new(), Vec::new());
    report.database = None;
    report.warnings.clear();
    report
}

/// The SBOM of the same image as [`full_scan_report`].
pub fn sbom_of(report: &ScanReport) -> SbomReport {
    SbomReport {
        schema_version: report.schema_version,
        tool: report.tool.clone(),
        created_at: report.created_at.clone(),
        image: report.image.clone(),
        distro: report.distro.clone(),
        packages: report.packages.clone(),
        warnings: report.warnings.clone(),
    }
}

/// [`full_scan_report`] with CVSS scores a broken feed could carry: NaN, negative and
/// above 10.
pub fn scan_report_with_invalid_scores() -> ScanReport {
    let mut report = full_scan_report();
    let invalid_scores = [f64::NAN, -1.0, 11.5, f64::INFINITY];
    for (finding, score) in report.findings.iter_mut().zip(invalid_scores) {
        if let Some(rating) = finding.severity_source.as_mut() {
            rating.cvss_score = Some(score);
        }
    }
    report
}
