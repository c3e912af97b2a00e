//! Catalogs real images from the test corpus when they are present on this machine.
//!
//! `build-corpus.sh` writes the images as docker-archives. Set `CORDON_CORPUS_DIR` to
//! that output folder, or leave it unset to use `/var/cache/cordon/images/corpus`. A missing image
//! skips the test with a message, because the corpus is about 2 GB and is not part of
//! the repository.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cordon_catalog::{catalog, python, wants_content, Catalog};
use cordon_image::{Image, OpenOptions, ReadOptions};
use cordon_model::{Ecosystem, LayerRef};
use serde_json::Value;

fn corpus_image(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("CORDON_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/cordon/images/corpus"));
    let path = dir.join(format!("{name}.docker.tar"));
    if path.is_file() {
        Some(path)
    } else {
        let message = format!(
            "skipped: {} not found; set CORDON_CORPUS_DIR to the corpus folder",
            path.display()
        );
        assert!(
            std::env::var_os("CORDON_REQUIRE_E2E").is_none(),
            "{message}"
        );
        eprintln!("{message}");
        None
    }
}

fn catalog_archive(path: &Path) -> Catalog {
    let source = format!("docker-archive:{}", path.display())
        .parse()
        .unwrap();
    let image = Image::open(&source, &OpenOptions::default()).unwrap();
    let (rootfs, _) = image
        .read_rootfs(&ReadOptions {
            retain: &wants_content,
        })
        .unwrap();
    let layers: Vec<LayerRef> = image
        .info()
        .layers
        .iter()
        .map(|layer| LayerRef {
            index: layer.index,
            diff_id: layer.diff_id.clone(),
        })
        .collect();
    catalog(&rootfs, &layers)
}

#[test]
fn python_app_inventory_matches_ground_truth() {
    let Some(path) = corpus_image("python-app") else {
        return;
    };
    let result = catalog_archive(&path);
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);

    let expected_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vulndata/expected/python-app.json");
    let expected: Value = serde_json::from_slice(&std::fs::read(expected_path).unwrap()).unwrap();
    let inventory: BTreeSet<(String, String, String)> = expected["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                python::normalize_name(item["name"].as_str().unwrap()),
                item["version"].as_str().unwrap().to_string(),
                item["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches('/')
                    .to_string(),
            )
        })
        .collect();

    // The inventory names the metadata directory; the catalog names the file inside it.
    let found: BTreeSet<(String, String, String)> = result
        .packages
        .iter()
        .filter(|package| package.ecosystem == Ecosystem::Pypi)
        .map(|package| {
            let dir = package
                .location
                .strip_suffix("/METADATA")
                .or_else(|| package.location.strip_suffix("/PKG-INFO"))
                .unwrap_or(&package.location);
            (
                package.name.clone(),
                package.version.clone(),
                dir.to_string(),
            )
        })
        .collect();
    assert_eq!(found, inventory);

    // Removed by whiteouts (py and its vendored distributions) or only declared in
    // requirements.txt (flask).
    for absent in ["py", "apipkg", "iniconfig", "flask"] {
        assert!(
            result.packages.iter().all(|package| package.name != absent),
            "{absent} reported"
        );
    }
}

#[test]
fn node_app_lockfile_and_node_modules() {
    let Some(path) = corpus_image("node-app") else {
        return;
    };
    let result = catalog_archive(&path);
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);

    let npm: Vec<_> = result
        .packages
        .iter()
        .filter(|package| package.ecosystem == Ecosystem::Npm)
        .collect();
    assert_eq!(npm.len(), 83);
    assert!(npm
        .iter()
        .all(|package| package.location.starts_with("srv/app/node_modules/")));

    let direct: BTreeSet<(&str, &str)> = npm
        .iter()
        .filter(|package| package.direct == Some(true))
        .map(|package| (package.name.as_str(), package.version.as_str()))
        .collect();
    let pinned = [
        ("express", "4.16.0"),
        ("lodash", "4.17.4"),
        ("minimist", "0.0.8"),
        ("optimist", "0.6.1"),
        ("moment", "2.19.3"),
        ("handlebars", "4.0.11"),
        ("jquery", "3.3.1"),
        ("axios", "0.18.0"),
        ("node-fetch", "2.6.0"),
        ("ws", "6.2.1"),
    ];
    assert_eq!(direct, pinned.into_iter().collect());
}

#[test]
fn distroless_status_d_packages() {
    let Some(path) = corpus_image("distroless-like") else {
        return;
    };
    let result = catalog_archive(&path);
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);

    let names: BTreeSet<&str> = result
        .packages
        .iter()
        .filter(|package| package.ecosystem == Ecosystem::Deb)
        .map(|package| package.name.as_str())
        .collect();
    let expected = [
        "base-files",
        "netbase",
        "tzdata",
        "media-types",
        "ca-certificates",
        "libc6",
        "libssl3",
        "libgcc-s1",
        "gcc-12-base",
        "zlib1g",
    ];
    assert_eq!(names, expected.into_iter().collect());
    let libc = result
        .packages
        .iter()
        .find(|package| package.name == "libc6")
        .unwrap();
    assert_eq!(libc.version, "2.36-9+deb12u14");
    assert_eq!(
        result.distro.as_ref().map(|distro| distro.id.as_str()),
        Some("debian")
    );
}

fn maven_and_go(result: &Catalog) -> BTreeSet<(String, String, String)> {
    result
        .packages
        .iter()
        .filter(|package| matches!(package.ecosystem, Ecosystem::Maven | Ecosystem::Go))
        .map(|package| {
            (
                package.name.clone(),
                package.version.clone(),
                package.location.clone(),
            )
        })
        .collect()
}

fn triple(name: &str, version: &str, location: &str) -> (String, String, String) {
    (name.to_string(), version.to_string(), location.to_string())
}

/// The jars `build-corpus.sh` copies into `/opt/app`: the Apache log4j 2.14.1 jars, a
/// renamed copy of log4j-core, and a fat jar nesting log4j-core and log4j-api.
#[test]
fn java_app_log4j_jars_found() {
    let Some(path) = corpus_image("java-app") else {
        return;
    };
    let result = catalog_archive(&path);
    let found = maven_and_go(&result);
    let core = "org.apache.logging.log4j:log4j-core";
    let api = "org.apache.logging.log4j:log4j-api";
    for expected in [
        triple(core, "2.14.1", "opt/app/lib/log4j-core-2.14.1.jar"),
        triple(core, "2.14.1", "opt/app/lib/logging-backend.jar"),
        triple(
            core,
            "2.14.1",
            "opt/app/app.jar!BOOT-INF/lib/log4j-core-2.14.1.jar",
        ),
        triple(api, "2.14.1", "opt/app/lib/log4j-api-2.14.1.jar"),
        triple(
            api,
            "2.14.1",
            "opt/app/app.jar!BOOT-INF/lib/log4j-api-2.14.1.jar",
        ),
        triple(
            "org.apache.logging.log4j:log4j-1.2-api",
            "2.14.1",
            "opt/app/lib/log4j-1.2-api-2.14.1.jar",
        ),
        triple(
            "org.apache.logging.log4j:log4j-slf4j-impl",
            "2.14.1",
            "opt/app/lib/log4j-slf4j-impl-2.14.1.jar",
        ),
        triple("com.example:corpus-java-app", "1.0.0", "opt/app/app.jar"),
    ] {
        assert!(
            found.contains(&expected),
            "missing {expected:?} in {found:#?}"
        );
    }

    // Debian's liblog4j2-java 2.19.0 installs log4j-core.jar under /usr/share/java.
    assert!(found.contains(&triple(core, "2.19.0", "usr/share/java/log4j-core.jar")));

    // The flink jars have no pom.properties. Their manifests name the group
    // (`Implementation-Vendor-Id`) and version; the artifact comes from
    // `Implementation-Title` when it is an identifier, else from the file name.
    for expected in [
        triple(
            "org.apache.flink:flink-json",
            "1.14.0",
            "opt/app/lib/flink-json-1.14.0.jar",
        ),
        triple(
            "org.apache.flink:flink-csv",
            "1.14.0",
            "opt/app/lib/flink-csv-1.14.0.jar",
        ),
        triple(
            "org.apache.flink:flink-shaded-zookeeper-3.4",
            "3.4.14-14.0",
            "opt/app/lib/flink-shaded-zookeeper-3.4.14.jar",
        ),
    ] {
        assert!(
            found.contains(&expected),
            "missing {expected:?} in {found:#?}"
        );
    }

    let app_layer = result
        .packages
        .iter()
        .find(|package| package.location == "opt/app/app.jar")
        .and_then(|package| package.layer.clone())
        .unwrap();
    assert!(!app_layer.diff_id.is_empty());
    assert!(
        result.warnings.is_empty(),
        "unexpected warnings: {:?}",
        result.warnings
    );
}

/// `gotool` is built with Go 1.19.8 in module mode against x/net and x/text v0.7.0;
/// `restic` is Debian's GOPATH-mode build with Go 1.19.8, whose build information names
/// only the main package path.
#[test]
fn go_binary_modules_and_stdlib() {
    let Some(path) = corpus_image("go-binary") else {
        return;
    };
    let result = catalog_archive(&path);
    let found = maven_and_go(&result);
    let gotool = "usr/local/bin/gotool";
    let restic = "usr/bin/restic";
    let expected: BTreeSet<_> = [
        triple("example.com/corpus/gotool", "(devel)", gotool),
        triple("golang.org/x/net", "v0.7.0", gotool),
        triple("golang.org/x/text", "v0.7.0", gotool),
        triple("stdlib", "1.19.8", gotool),
        triple("github.com/restic/restic/cmd/restic", "(devel)", restic),
        triple("stdlib", "1.19.8", restic),
    ]
    .into_iter()
    .collect();
    assert_eq!(found, expected);
    let purls: BTreeSet<&str> = result.packages.iter().map(|p| p.purl.as_str()).collect();
    assert!(
        purls.contains("pkg:golang/golang.org/x/net@v0.7.0"),
        "{purls:?}"
    );
    assert!(purls.contains("pkg:golang/stdlib@1.19.8"), "{purls:?}");
}

#[test]
fn distroless_app_go_modules() {
    let Some(path) = corpus_image("distroless-like") else {
        return;
    };
    let result = catalog_archive(&path);
    let expected: BTreeSet<_> = [
        triple("example.com/corpus/gotool", "(devel)", "app"),
        triple("golang.org/x/net", "v0.7.0", "app"),
        triple("golang.org/x/text", "v0.7.0", "app"),
        triple("stdlib", "1.19.8", "app"),
    ]
    .into_iter()
    .collect();
    assert_eq!(maven_and_go(&result), expected);
}
