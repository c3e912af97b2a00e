//! Builds databases from the real feeds in `shared/vulndata` and checks counts and records
//! against the feed files and their provenance notes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cordon_model::Ecosystem;
use cordon_vulndb::{build, Builder, Database, DbError, SourceInfo, SourceKind, SourceSpec};

fn vulndata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

fn spec(kind: SourceKind, relative: &str) -> SourceSpec {
    SourceSpec::path(kind, vulndata().join(relative))
}

/// Returns one database of every feed, built once for the tests that only query it.
fn full_database() -> &'static Database {
    static DB: OnceLock<(tempfile::TempDir, Database)> = OnceLock::new();
    &DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("full.db");
        let sources = [
            spec(SourceKind::Osv, "osv/PyPI/all.zip"),
            spec(SourceKind::Osv, "osv/Go/all.zip"),
            spec(SourceKind::Osv, "osv/crates.io/all.zip"),
            spec(SourceKind::Osv, "osv/Bitnami/all.zip"),
            spec(SourceKind::Osv, "osv/npm/all.zip"),
            spec(SourceKind::Osv, "osv/Maven/all.zip"),
            spec(
                SourceKind::DebianTracker,
                "debian-derived/debian-tracker-derived.json",
            ),
            spec(
                SourceKind::DebianTracker,
                "debian/samples/security-tracker-json-excerpt.json",
            ),
            spec(SourceKind::AlpineSecdb, "alpine/secdb-yaml-2020"),
            spec(SourceKind::Cve5, "cve5/vulnrichment-subset.zip"),
        ];
        build(&sources, &output).unwrap();
        let db = Database::open(&output).unwrap();
        (dir, db)
    })
    .1
}

fn source<'a>(db: &'a Database, name: &str) -> &'a SourceInfo {
    db.metadata()
        .sources
        .iter()
        .find(|source| source.name == name)
        .unwrap_or_else(|| panic!("no source {name} in {:?}", db.metadata().sources))
}

#[test]
fn osv_counts_match_provenance() {
    let db = full_database();
    // Record and withdrawn counts from the feed notes: PyPI 2,661 with 10 withdrawn, Go
    // 4,291 with 17, crates.io 1,206 with 13, Bitnami 7,444, npm 7, Maven 3.
    let expected = [
        ("osv:PyPI", 2661, 10),
        ("osv:Go", 4291, 17),
        ("osv:crates.io", 1206, 13),
        ("osv:Bitnami", 7444, 0),
        ("osv:npm", 7, 0),
        ("osv:Maven", 3, 0),
    ];
    for (name, total, withdrawn) in expected {
        let info = source(db, name);
        assert_eq!(info.kind, SourceKind::Osv);
        assert_eq!(info.withdrawn, withdrawn, "{name} withdrawn");
        assert_eq!(info.records, total - withdrawn, "{name} records");
        assert_eq!(info.skipped, 0, "{name} skipped");
        assert_eq!(
            info.sha256.as_ref().map(String::len),
            Some(64),
            "{name} sha256"
        );
    }
}

#[test]
fn pyyaml_record_has_published_range() {
    let db = full_database();
    let records = db.osv(Ecosystem::Pypi, "PyYAML").unwrap();
    let record = records
        .iter()
        .find(|record| record.id == "PYSEC-2020-96")
        .unwrap();
    assert_eq!(record.source, "osv:PyPI");
    assert!(record.aliases.contains(&"CVE-2020-1747".to_owned()));
    assert!(record
        .summary
        .as_deref()
        .unwrap()
        .starts_with("A vulnerability was discovered in the PyYAML"));

    assert_eq!(record.affected.len(), 1);
    let affected = &record.affected[0];
    assert_eq!(affected.ecosystem, "PyPI");
    assert_eq!(affected.name, "pyyaml");
    assert_eq!(affected.purl.as_deref(), Some("pkg:pypi/pyyaml"));
    assert!(affected.versions.contains(&"5.3".to_owned()));
    let range = affected
        .ranges
        .iter()
        .find(|range| range.kind == "ECOSYSTEM")
        .unwrap();
    assert_eq!(range.events.len(), 2);
    assert_eq!(range.events[0].introduced.as_deref(), Some("5.1"));
    assert_eq!(range.events[1].fixed.as_deref(), Some("5.3.1"));
}

#[test]
fn pypi_lookup_normalises_names() {
    let db = full_database();
    let canonical = db.osv(Ecosystem::Pypi, "pyyaml").unwrap();
    assert!(!canonical.is_empty());
    assert_eq!(db.osv(Ecosystem::Pypi, "PyYAML").unwrap(), canonical);
    assert_eq!(
        db.osv(Ecosystem::Pypi, "py_yaml").unwrap(),
        db.osv(Ecosystem::Pypi, "py-yaml").unwrap()
    );
}

#[test]
fn withdrawn_record_not_stored() {
    let db = full_database();
    let records = db.osv(Ecosystem::Pypi, "arrayfire").unwrap();
    assert!(
        records.iter().all(|record| record.id != "PYSEC-2019-144"),
        "{records:?}"
    );
}

#[test]
fn multi_package_record_filtered_per_package() {
    let db = full_database();
    for name in ["lodash", "lodash-es", "lodash-amd", "lodash.defaultsdeep"] {
        let records = db.osv(Ecosystem::Npm, name).unwrap();
        let record = records
            .iter()
            .find(|record| record.id == "GHSA-jf85-cpcp-j695")
            .unwrap();
        assert_eq!(record.affected.len(), 1, "{name}");
        assert_eq!(record.affected[0].name, name);
        // GHSA puts its rating in the record's `database_specific.severity`.
        assert_eq!(
            record.affected[0].database_severity.as_deref(),
            Some("CRITICAL")
        );
        assert_eq!(record.severity[0].kind, "CVSS_V3");
    }
    let lodash = db.osv(Ecosystem::Npm, "lodash").unwrap();
    let fix = &lodash
        .iter()
        .find(|record| record.id == "GHSA-jf85-cpcp-j695")
        .unwrap()
        .affected[0];
    assert_eq!(fix.ranges[0].events[1].fixed.as_deref(), Some("4.17.12"));
}

#[test]
fn go_semver_ranges_kept() {
    let db = full_database();
    let records = db.osv(Ecosystem::Go, "golang.org/x/crypto").unwrap();
    assert!(records.len() > 5, "{}", records.len());
    assert!(records.iter().all(|record| record.id.starts_with("GO-")));
    let ranges = records
        .iter()
        .flat_map(|record| &record.affected)
        .flat_map(|affected| &affected.ranges);
    assert!(ranges.clone().all(|range| range.kind == "SEMVER"));
    assert!(ranges
        .flat_map(|range| &range.events)
        .any(|event| event.fixed.is_some()));
}

#[test]
fn rustsec_affected_cvss_kept() {
    let db = full_database();
    let records = db.osv(Ecosystem::Cargo, "openssl").unwrap();
    let record = records
        .iter()
        .find(|record| record.id == "RUSTSEC-2016-0001")
        .unwrap();
    let severity = &record.affected[0].severity;
    assert!(
        severity
            .iter()
            .any(|entry| entry.score == "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        "{severity:?}"
    );
}

#[test]
fn unknown_ecosystem_stored_under_osv_name() {
    let db = full_database();
    let records = db.osv_by_ecosystem_name("Bitnami", "activemq").unwrap();
    let record = records
        .iter()
        .find(|record| record.id == "BIT-activemq-2020-11998")
        .unwrap();
    assert_eq!(
        record.affected[0].database_severity.as_deref(),
        Some("Critical")
    );
    assert_eq!(
        record.affected[0].severity[0].score,
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    );
}

#[test]
fn debian_derived_counts_match_file() {
    let db = full_database();
    // 47 source packages with 1,108 CVE entries; counting one record per listed release
    // gives 1,199.
    let info = source(db, "debian-tracker:debian-tracker-derived.json");
    assert_eq!(info.records, 1199);
    // The excerpt has 6 source packages with 25 release entries.
    assert_eq!(
        source(db, "debian-tracker:security-tracker-json-excerpt.json").records,
        25
    );
}

#[test]
fn debian_derived_entry_kept_verbatim() {
    let db = full_database();
    let records = db.debian("bullseye", "openssl").unwrap();
    let record = records
        .iter()
        .find(|record| record.id == "CVE-2021-3449")
        .unwrap();
    assert_eq!(record.package, "openssl");
    assert_eq!(record.release, "bullseye");
    assert_eq!(record.status, "resolved");
    assert_eq!(record.fixed_version.as_deref(), Some("1.1.1k-1"));
    assert_eq!(record.urgency.as_deref(), Some("not yet assigned"));
    assert_eq!(
        record.description.as_deref(),
        Some("CVE-2021-3449 (NULL pointer deref in signature_algorithms processing).")
    );
    assert_eq!(record.source, "debian-tracker:debian-tracker-derived.json");

    let not_affected = records
        .iter()
        .find(|record| record.id == "CVE-2015-0293")
        .unwrap();
    assert_eq!(not_affected.fixed_version.as_deref(), Some("0"));
}

#[test]
fn debian_tracker_releases_split() {
    let db = full_database();
    for release in ["stretch", "jessie", "buster", "sid"] {
        let records = db.debian(release, "prototypejs").unwrap();
        let record = records
            .iter()
            .find(|record| record.id == "CVE-2007-2383")
            .unwrap();
        assert_eq!(record.fixed_version.as_deref(), Some("0"), "{release}");
        assert_eq!(record.urgency.as_deref(), Some("unimportant"), "{release}");
        assert!(record
            .description
            .as_deref()
            .unwrap()
            .starts_with("The Prototype (prototypejs)"));
    }
    assert!(db.debian("bookworm", "prototypejs").unwrap().is_empty());
}

#[test]
fn alpine_yaml_entries_split() {
    let db = full_database();
    let ansible = db.alpine("3.11", "ansible").unwrap();
    let record = ansible
        .iter()
        .find(|record| record.id == "CVE-2019-14904")
        .unwrap();
    assert_eq!(record.fixed_version, "2.9.3-r0");
    assert_eq!(record.branch, "3.11");
    assert_eq!(record.repository, "main");
    assert_eq!(db.alpine("v3.11", "ansible").unwrap(), ansible);

    // Key `0`: the CVE does not affect the branch.
    let berkeley_db = db.alpine("3.8", "db").unwrap();
    let record = berkeley_db
        .iter()
        .find(|record| record.id == "CVE-2016-0682")
        .unwrap();
    assert_eq!(record.fixed_version, "0");

    // `CVE-2018-14468 (FrameRelay)`: the comment is not part of the id.
    let tcpdump = db.alpine("3.10", "tcpdump").unwrap();
    assert!(tcpdump
        .iter()
        .any(|record| record.id == "CVE-2018-14468" && record.fixed_version == "4.9.3-r0"));
    assert!(tcpdump.iter().all(|record| !record.id.contains(' ')));

    // `CVE-2016-6258 XSA-182`: two ids.
    let xen = db.alpine("3.10", "xen").unwrap();
    assert!(xen.iter().any(|record| record.id == "CVE-2016-6258"));
    assert!(xen.iter().any(|record| record.id == "XSA-182"));
}

#[test]
fn alpine_yaml_and_json_copies_equal() {
    let dir = tempfile::tempdir().unwrap();
    let yaml_path = dir.path().join("yaml.db");
    let json_path = dir.path().join("json.db");
    build(
        &[spec(SourceKind::AlpineSecdb, "alpine/secdb-yaml-2020")],
        &yaml_path,
    )
    .unwrap();
    build(
        &[spec(SourceKind::AlpineSecdb, "alpine/secdb-json-converted")],
        &json_path,
    )
    .unwrap();
    let yaml = Database::open(&yaml_path).unwrap();
    let json = Database::open(&json_path).unwrap();
    assert_eq!(
        yaml.metadata().sources[0].records,
        json.metadata().sources[0].records
    );
    assert_eq!(
        yaml.metadata().sources[0].skipped,
        json.metadata().sources[0].skipped
    );

    let packages = [
        ("3.11", "ansible"),
        ("3.8", "db"),
        ("3.10", "tcpdump"),
        ("3.6", "heimdal"),
        ("3.3", "openssl"),
    ];
    for (branch, package) in packages {
        let mut from_yaml = yaml.alpine(branch, package).unwrap();
        let from_json = json.alpine(branch, package).unwrap();
        assert!(!from_yaml.is_empty(), "{branch} {package}");
        for record in &mut from_yaml {
            record.source = from_json[0].source.clone();
        }
        assert_eq!(from_yaml, from_json, "{branch} {package}");
    }
}

#[test]
fn cve5_counts_match_file() {
    let db = full_database();
    // 1,443 CVEs carry CVSS in the CNA container and 333 in the CISA ADP container;
    // 1,770 carry it in either.
    assert_eq!(source(db, "cve5:vulnrichment-subset.zip").records, 1770);
}

#[test]
fn cve5_cvss_prefers_cna_then_adp() {
    let db = full_database();

    // CNA CVSS 4.0.
    let v4 = db.cvss("CVE-2023-22644").unwrap().unwrap();
    assert_eq!(
        v4.vector,
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H"
    );
    assert_eq!(v4.score, Some(9.4));

    // Both containers rate it; the CNA's vector wins.
    let both = db.cvss("CVE-2021-3600").unwrap().unwrap();
    assert_eq!(both.vector, "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:C/C:H/I:H/A:H");
    assert_eq!(both.score, Some(7.8));

    // Only CISA ADP rates it.
    let adp = db.cvss("CVE-2003-0063").unwrap().unwrap();
    assert_eq!(adp.vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:L");
    assert_eq!(adp.score, Some(7.3));
    assert_eq!(adp.source, "cve5:vulnrichment-subset.zip");

    assert_eq!(db.cvss("CVE-1999-99999").unwrap(), None);
}

#[test]
fn metadata_records_schema_and_time() {
    let db = full_database();
    let metadata = db.metadata();
    assert_eq!(metadata.schema_version, cordon_vulndb::SCHEMA_VERSION);
    assert!(time::OffsetDateTime::parse(
        &metadata.built_at,
        &time::format_description::well_known::Rfc3339
    )
    .is_ok());
    assert!(metadata.built_at.ends_with('Z'), "{}", metadata.built_at);
    assert_eq!(metadata.sources.len(), 10);
    assert!(source(db, "osv:Go").updated_at.is_some());
}

// Errors.

fn build_error(sources: &[SourceSpec]) -> (DbError, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.db");
    let error = build(sources, &output).unwrap_err();
    assert!(!output.exists(), "a failed build left {}", output.display());
    (error, dir)
}

#[test]
fn missing_source_file_names_path() {
    let missing = vulndata().join("osv/NoSuch/all.zip");
    let (error, _dir) = build_error(&[SourceSpec::path(SourceKind::Osv, &missing)]);
    assert!(matches!(error, DbError::Io { .. }), "{error:?}");
    assert!(error.to_string().contains("osv/NoSuch/all.zip"), "{error}");
}

#[test]
fn malformed_debian_json_names_file_and_entry() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tracker.json");
    std::fs::write(
        &input,
        r#"{"openssl": {"CVE-2021-3449": {"releases": {"bullseye": {"fixed_version": "1"}}}}}"#,
    )
    .unwrap();
    let (error, _out) = build_error(&[SourceSpec::path(SourceKind::DebianTracker, &input)]);
    let message = error.to_string();
    assert!(message.contains("invalid Debian tracker JSON"), "{message}");
    assert!(message.contains(&input.display().to_string()), "{message}");
    assert!(message.contains("missing field `status`"), "{message}");
    assert!(message.contains("`openssl`.`CVE-2021-3449`"), "{message}");
}

#[test]
fn truncated_debian_json_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tracker.json");
    let real =
        std::fs::read(vulndata().join("debian-derived/debian-tracker-derived.json")).unwrap();
    std::fs::write(&input, &real[..real.len() / 2]).unwrap();
    let (error, _out) = build_error(&[SourceSpec::path(SourceKind::DebianTracker, &input)]);
    assert!(error.to_string().contains("EOF while parsing"), "{error}");
}

#[test]
fn malformed_osv_record_skipped_with_warning() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed");
    std::fs::create_dir(&feed).unwrap();
    let good = zip_member(&vulndata().join("osv/PyPI/all.zip"), "PYSEC-2020-96.json");
    std::fs::write(feed.join("PYSEC-2020-96.json"), good).unwrap();
    std::fs::write(feed.join("BROKEN-1.json"), r#"{"summary": "no id"}"#).unwrap();
    std::fs::write(feed.join("notes.txt"), "not a record").unwrap();

    let output = dir.path().join("out.db");
    let report = build(&[SourceSpec::path(SourceKind::Osv, &feed)], &output).unwrap();
    let info = &report.metadata.sources[0];
    assert_eq!(info.records, 1);
    assert_eq!(info.skipped, 1);
    assert_eq!(report.warnings.len(), 1);
    assert!(
        report.warnings[0].contains("invalid OSV record BROKEN-1.json"),
        "{}",
        report.warnings[0]
    );
    assert!(
        report.warnings[0].contains("missing field `id`"),
        "{}",
        report.warnings[0]
    );

    let strict = Builder::new()
        .source(SourceSpec::path(SourceKind::Osv, &feed))
        .strict(true);
    let error = strict.build(&dir.path().join("strict.db")).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("invalid OSV record BROKEN-1.json in "),
        "{error}"
    );
    assert!(!dir.path().join("strict.db").exists());
}

#[test]
fn wrong_kind_rejected() {
    // OSV zip given as Debian tracker JSON.
    let (error, _dir) = build_error(&[spec(SourceKind::DebianTracker, "osv/npm/all.zip")]);
    assert!(
        error.to_string().contains("invalid Debian tracker JSON"),
        "{error}"
    );

    // Debian tracker JSON given as Alpine secdb.
    let (error, _dir) = build_error(&[spec(
        SourceKind::AlpineSecdb,
        "debian/samples/security-tracker-json-excerpt.json",
    )]);
    assert!(
        error.to_string().contains("invalid Alpine secdb document"),
        "{error}"
    );
    assert!(error.to_string().contains("distroversion"), "{error}");

    // Alpine secdb given as OSV: records without an `id`, skipped in strict mode as errors.
    let dir = tempfile::tempdir().unwrap();
    let error = Builder::new()
        .source(spec(SourceKind::Osv, "alpine/secdb-json-converted/v3.11"))
        .strict(true)
        .build(&dir.path().join("out.db"))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("invalid OSV record community.json"),
        "{error}"
    );
}

#[test]
fn empty_source_directory_rejected() {
    let empty = tempfile::tempdir().unwrap();
    for kind in [SourceKind::Osv, SourceKind::Cve5, SourceKind::Nvd] {
        let (error, _dir) = build_error(&[SourceSpec::path(kind, empty.path())]);
        let message = error.to_string();
        assert!(message.contains(&format!("{kind} feed")), "{message}");
        assert!(
            message.contains(&empty.path().display().to_string()),
            "{message}"
        );
        assert!(
            message.contains(&format!("no {kind} records found")),
            "{message}"
        );
    }
}

#[test]
fn osv_zip_rejected_as_nvd_feed() {
    let (error, _dir) = build_error(&[spec(SourceKind::Nvd, "osv/npm/all.zip")]);
    let message = error.to_string();
    assert!(message.contains("invalid NVD JSON 2.0 feed"), "{message}");
    assert!(message.contains("osv/npm/all.zip"), "{message}");
}

#[test]
fn nvd_api_page_imported_as_feed() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("nvd.db");
    let report = build(&[spec(SourceKind::Nvd, "nvd/api-2.0-samples")], &output).unwrap();
    // full-page.json has 38 CVEs, 35 of them with CVSS data; single-entry.json has one,
    // CVE-2022-1576, with CVSS data.
    assert_eq!(report.metadata.sources[0].records, 36);
    let db = Database::open(&output).unwrap();
    let record = db.cvss("CVE-2023-27314").unwrap().unwrap();
    assert_eq!(
        record.vector,
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    );
    assert_eq!(record.score, Some(7.5));
    assert_eq!(record.source, "nvd:api-2.0-samples");
}

#[test]
fn failed_build_keeps_previous_database() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("cordon.db");
    build(&[spec(SourceKind::Osv, "osv/npm/all.zip")], &output).unwrap();
    let before = std::fs::read(&output).unwrap();

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"openssl\": [").unwrap();
    // The first source imports fine; the second fails mid-build.
    let sources = [
        spec(SourceKind::Osv, "osv/Maven/all.zip"),
        SourceSpec::path(SourceKind::DebianTracker, &broken),
    ];
    build(&sources, &output).unwrap_err();

    assert_eq!(std::fs::read(&output).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".cordon"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let db = Database::open(&output).unwrap();
    assert_eq!(db.metadata().sources[0].name, "osv:npm");
}

#[test]
fn non_database_file_rejected_on_open() {
    let error = Database::open(&vulndata().join("README.md")).unwrap_err();
    assert!(matches!(error, DbError::Open { .. }), "{error:?}");
    assert!(error.to_string().contains("README.md"), "{error}");

    let error = Database::open(Path::new("/nonexistent/cordon.db")).unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/cordon.db"),
        "{error}"
    );
}

#[test]
fn database_opens_read_only_file_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("cordon.db");
    build(&[spec(SourceKind::Osv, "osv/Maven/all.zip")], &output).unwrap();
    let before = std::fs::read(&output).unwrap();
    let mut permissions = std::fs::metadata(&output).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&output, permissions).unwrap();

    let first = Database::open(&output).unwrap();
    let second = Database::open(&output).unwrap();
    let records = first
        .osv(Ecosystem::Maven, "org.apache.logging.log4j:log4j-core")
        .unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(
        second
            .osv(Ecosystem::Maven, "org.apache.logging.log4j:log4j-core")
            .unwrap(),
        records
    );
    drop((first, second));
    assert_eq!(
        std::fs::read(&output).unwrap(),
        before,
        "opening modified the file"
    );
}

fn zip_member(path: &Path, name: &str) -> Vec<u8> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut bytes = Vec::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

#[test]
fn zip_limits_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.db");
    let npm = spec(SourceKind::Osv, "osv/npm/all.zip");

    let few_entries = cordon_vulndb::Limits {
        max_zip_entries: 5,
        ..Default::default()
    };
    let error = Builder::new()
        .source(npm.clone())
        .limits(few_entries)
        .build(&output)
        .unwrap_err();
    assert!(matches!(error, DbError::LimitExceeded { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("7 entries, more than the limit of 5"),
        "{error}"
    );

    // Every npm record is larger than 1,000 bytes uncompressed.
    let small_members = cordon_vulndb::Limits {
        max_document_bytes: 1000,
        ..Default::default()
    };
    let error = Builder::new()
        .source(npm.clone())
        .limits(small_members)
        .build(&output)
        .unwrap_err();
    assert!(error.to_string().contains("zip member GHSA-"), "{error}");
    assert!(
        error
            .to_string()
            .contains("uncompressed size over 1000 bytes"),
        "{error}"
    );

    let small_total = cordon_vulndb::Limits {
        max_total_bytes: 10_000,
        ..Default::default()
    };
    let error = Builder::new()
        .source(npm)
        .limits(small_total)
        .build(&output)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("more than 10000 uncompressed bytes"),
        "{error}"
    );
    assert!(!output.exists());
}
