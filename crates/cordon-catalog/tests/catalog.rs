//! Catalog behaviour across ecosystems, layers and damaged databases.

use std::sync::Arc;

use cordon_catalog::{catalog, wants_content};
use cordon_image::{Node, Rootfs};
use cordon_model::{Ecosystem, LayerRef, Package};

fn layers(count: usize) -> Vec<LayerRef> {
    (0..count)
        .map(|index| LayerRef {
            index,
            diff_id: format!("sha256:{index:064}"),
        })
        .collect()
}

fn stanza(name: &str, version: &str, status: &str) -> String {
    format!("Package: {name}\nStatus: {status}\nArchitecture: amd64\nVersion: {version}\n\n")
}

/// Writes one layer's version of a shared database file, as the image reader does.
fn write_version(fs: &mut Rootfs, path: &str, layer: usize, content: &str) {
    let bytes: Arc<[u8]> = content.as_bytes().into();
    fs.record_version(path, layer, bytes.clone());
    fs.insert(path, Node::file(layer, bytes));
}

fn layer_of(packages: &[Package], name: &str) -> Option<usize> {
    let package = packages.iter().find(|package| package.name == name)?;
    package.layer.as_ref().map(|layer| layer.index)
}

#[test]
fn dpkg_package_added_in_second_layer() {
    let mut fs = Rootfs::new();
    let base = stanza("libc6", "2.31-13", "install ok installed");
    write_version(&mut fs, "var/lib/dpkg/status", 0, &base);
    let with_curl = format!(
        "{base}{}",
        stanza("curl", "7.74.0-1.3", "install ok installed")
    );
    write_version(&mut fs, "var/lib/dpkg/status", 1, &with_curl);

    let result = catalog(&fs, &layers(2));
    assert_eq!(layer_of(&result.packages, "libc6"), Some(0));
    assert_eq!(layer_of(&result.packages, "curl"), Some(1));
    let curl = result
        .packages
        .iter()
        .find(|package| package.name == "curl")
        .unwrap();
    assert_eq!(
        curl.layer.as_ref().unwrap().diff_id,
        format!("sha256:{:064}", 1)
    );
}

#[test]
fn dpkg_upgrade_attributed_to_upgrading_layer() {
    let mut fs = Rootfs::new();
    write_version(
        &mut fs,
        "var/lib/dpkg/status",
        0,
        &stanza("libc6", "2.31-13", "install ok installed"),
    );
    write_version(
        &mut fs,
        "var/lib/dpkg/status",
        1,
        &stanza("libc6", "2.31-13+deb11u5", "install ok installed"),
    );
    write_version(
        &mut fs,
        "var/lib/dpkg/status",
        2,
        &stanza("libc6", "2.31-13+deb11u5", "install ok installed"),
    );

    let result = catalog(&fs, &layers(3));
    assert_eq!(layer_of(&result.packages, "libc6"), Some(1));
}

#[test]
fn reinstalled_package_attributed_to_reinstalling_layer() {
    let mut fs = Rootfs::new();
    let base = stanza("libc6", "2.31-13", "install ok installed");
    let with_curl = format!(
        "{base}{}",
        stanza("curl", "7.74.0-1.3", "install ok installed")
    );
    write_version(&mut fs, "var/lib/dpkg/status", 0, &with_curl);
    write_version(&mut fs, "var/lib/dpkg/status", 1, &base);
    write_version(&mut fs, "var/lib/dpkg/status", 2, &with_curl);

    let result = catalog(&fs, &layers(3));
    assert_eq!(layer_of(&result.packages, "curl"), Some(2));
    assert_eq!(layer_of(&result.packages, "libc6"), Some(0));
}

#[test]
fn removed_dpkg_package_not_resurrected() {
    let mut fs = Rootfs::new();
    let base = stanza("libc6", "2.31-13", "install ok installed");
    let with_curl = format!(
        "{base}{}",
        stanza("curl", "7.74.0-1.3", "install ok installed")
    );
    write_version(&mut fs, "var/lib/dpkg/status", 0, &with_curl);
    let removed = format!(
        "{base}{}",
        stanza("curl", "7.74.0-1.3", "deinstall ok config-files")
    );
    write_version(&mut fs, "var/lib/dpkg/status", 1, &removed);

    let result = catalog(&fs, &layers(2));
    let names: Vec<_> = result
        .packages
        .iter()
        .map(|package| package.name.as_str())
        .collect();
    assert_eq!(names, ["libc6"]);
}

#[test]
fn whited_out_python_package_not_listed() {
    // A later layer's whiteout removed py and its vendored distributions, so the merged
    // view no longer has them.
    let mut fs = Rootfs::new();
    let site = "opt/app/venv/lib/python3.11/site-packages";
    fs.insert(
        format!("{site}/py-1.9.0.dist-info/METADATA"),
        Node::file(4, b"Name: py\nVersion: 1.9.0\n".to_vec()),
    );
    fs.insert(
        format!("{site}/py/_vendored_packages/apipkg-1.4.dist-info/METADATA"),
        Node::file(4, b"Name: apipkg\nVersion: 1.4\n".to_vec()),
    );
    fs.insert(
        format!("{site}/urllib3-1.23.dist-info/METADATA"),
        Node::file(3, b"Name: urllib3\nVersion: 1.23\n".to_vec()),
    );
    fs.remove(&format!("{site}/py"));
    fs.remove(&format!("{site}/py-1.9.0.dist-info"));

    let result = catalog(&fs, &layers(6));
    let names: Vec<_> = result
        .packages
        .iter()
        .map(|package| package.name.as_str())
        .collect();
    assert_eq!(names, ["urllib3"]);
}

#[test]
fn same_python_distribution_in_two_locations() {
    let mut fs = Rootfs::new();
    fs.insert(
        "opt/app/venv/lib/python3.11/site-packages/urllib3-1.23.dist-info/METADATA",
        Node::file(
            3,
            b"Metadata-Version: 2.1\nName: urllib3\nVersion: 1.23\nLicense: MIT\n".to_vec(),
        ),
    );
    fs.insert(
        "usr/local/lib/python3.11/dist-packages/urllib3-1.24.1.dist-info/METADATA",
        Node::file(
            4,
            b"Metadata-Version: 2.1\nName: urllib3\nVersion: 1.24.1\nLicense: MIT\n".to_vec(),
        ),
    );
    fs.insert(
        "opt/app/venv/lib/python3.11/site-packages/PyYAML-5.3.egg-info",
        Node::dir(3),
    );
    fs.insert(
        "opt/app/venv/lib/python3.11/site-packages/PyYAML-5.3.egg-info/PKG-INFO",
        Node::file(
            3,
            b"Metadata-Version: 1.1\nName: PyYAML\nVersion: 5.3\nLicense: MIT\n".to_vec(),
        ),
    );

    let result = catalog(&fs, &layers(6));
    let rows: Vec<_> = result
        .packages
        .iter()
        .map(|package| {
            (
                package.name.as_str(),
                package.version.as_str(),
                package.location.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "pyyaml",
                "5.3",
                "opt/app/venv/lib/python3.11/site-packages/PyYAML-5.3.egg-info/PKG-INFO"
            ),
            (
                "urllib3",
                "1.23",
                "opt/app/venv/lib/python3.11/site-packages/urllib3-1.23.dist-info/METADATA"
            ),
            (
                "urllib3",
                "1.24.1",
                "usr/local/lib/python3.11/dist-packages/urllib3-1.24.1.dist-info/METADATA"
            ),
        ]
    );
    assert_eq!(result.packages[0].licenses, ["MIT"]);
    assert_eq!(layer_of(&result.packages, "pyyaml"), Some(3));
}

#[test]
fn apk_database_with_several_packages() {
    let installed = "C:Q1abc=\nP:musl\nV:1.1.24-r2\nA:x86_64\nL:MIT\no:musl\n\n\
C:Q1def=\nP:libcrypto1.1\nV:1.1.1g-r0\nA:x86_64\nL:OpenSSL\no:openssl\n\n\
C:Q1ghi=\nP:busybox\nV:1.31.1-r9\nA:x86_64\nL:GPL-2.0-only\no:busybox\n";
    let mut fs = Rootfs::new();
    fs.insert(
        "etc/os-release",
        Node::file(
            0,
            b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.11.6\n".to_vec(),
        ),
    );
    write_version(
        &mut fs,
        "lib/apk/db/installed",
        0,
        &installed[..installed.find("C:Q1ghi").unwrap()],
    );
    write_version(&mut fs, "lib/apk/db/installed", 1, installed);

    let result = catalog(&fs, &layers(2));
    let rows: Vec<_> = result
        .packages
        .iter()
        .map(|package| {
            (
                package.name.as_str(),
                package.source_name.as_deref(),
                package.layer.as_ref().map(|l| l.index),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("busybox", Some("busybox"), Some(1)),
            ("libcrypto1.1", Some("openssl"), Some(0)),
            ("musl", Some("musl"), Some(0)),
        ]
    );
    assert_eq!(
        result.packages[1].purl,
        "pkg:apk/alpine/libcrypto1.1@1.1.1g-r0?arch=x86_64&distro=alpine-3.11.6&upstream=openssl"
    );
    assert_eq!(
        result.packages[2].purl,
        "pkg:apk/alpine/musl@1.1.24-r2?arch=x86_64&distro=alpine-3.11.6"
    );
    assert_eq!(result.packages[1].licenses, ["OpenSSL"]);
}

#[test]
fn npm_installed_and_locked_reported_once() {
    let lockfile = br#"{
      "lockfileVersion": 2,
      "packages": {
        "": {"name": "app", "dependencies": {"express": "4.16.0", "@babel/core": "^7"}},
        "node_modules/express": {"version": "4.16.0"},
        "node_modules/@babel/core": {"version": "7.1.0", "dev": true},
        "node_modules/qs": {"version": "6.5.1"}
      }
    }"#;
    let mut fs = Rootfs::new();
    fs.insert(
        "srv/app/package-lock.json",
        Node::file(2, lockfile.to_vec()),
    );
    fs.insert(
        "srv/app/node_modules/express/package.json",
        Node::file(
            3,
            br#"{"name":"express","version":"4.16.0","license":"MIT"}"#.to_vec(),
        ),
    );
    fs.insert(
        "srv/app/node_modules/@babel/core/package.json",
        Node::file(3, br#"{"name":"@babel/core","version":"7.1.0"}"#.to_vec()),
    );
    fs.insert(
        "srv/app/node_modules/express/node_modules/debug/package.json",
        Node::file(3, br#"{"name":"debug","version":"2.6.9"}"#.to_vec()),
    );
    fs.insert(
        "srv/app/node_modules/express/lib/package.json",
        Node::file(3, br#"{"name":"not-a-package","version":"0.0.0"}"#.to_vec()),
    );
    fs.insert(
        "usr/share/nodejs/acorn/package.json",
        Node::file(1, br#"{"name":"acorn","version":"8.8.1"}"#.to_vec()),
    );

    let result = catalog(&fs, &layers(4));
    let rows: Vec<_> = result
        .packages
        .iter()
        .map(|package| {
            (
                package.purl.as_str(),
                package.location.as_str(),
                package.direct,
                package.dev,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "pkg:npm/%40babel/core@7.1.0",
                "srv/app/node_modules/@babel/core/package.json",
                Some(true),
                true
            ),
            (
                "pkg:npm/debug@2.6.9",
                "srv/app/node_modules/express/node_modules/debug/package.json",
                None,
                false
            ),
            (
                "pkg:npm/express@4.16.0",
                "srv/app/node_modules/express/package.json",
                Some(true),
                false
            ),
            (
                "pkg:npm/qs@6.5.1",
                "srv/app/package-lock.json",
                Some(false),
                false
            ),
        ]
    );
    let express = result
        .packages
        .iter()
        .find(|package| package.name == "express")
        .unwrap();
    assert_eq!(express.licenses, ["MIT"]);
    assert_eq!(express.layer.as_ref().map(|layer| layer.index), Some(3));
}

#[test]
fn hidden_lockfile_fills_only_missing_entries() {
    let public = br#"{"lockfileVersion": 3, "packages": {
        "": {"dependencies": {"a": "1"}},
        "node_modules/a": {"version": "1.0.0"}}}"#;
    let hidden = br#"{"lockfileVersion": 3, "packages": {
        "node_modules/a": {"version": "1.0.0"},
        "node_modules/b": {"version": "2.0.0", "dev": true}}}"#;
    let mut fs = Rootfs::new();
    fs.insert("app/package-lock.json", Node::file(0, public.to_vec()));
    fs.insert(
        "app/node_modules/.package-lock.json",
        Node::file(0, hidden.to_vec()),
    );

    let result = catalog(&fs, &[]);
    let rows: Vec<_> = result
        .packages
        .iter()
        .map(|package| {
            (
                package.name.as_str(),
                package.location.as_str(),
                package.direct,
                package.dev,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("a", "app/package-lock.json", Some(true), false),
            ("b", "app/node_modules/.package-lock.json", None, true),
        ]
    );
}

#[test]
fn malformed_databases_become_warnings() {
    let mut fs = Rootfs::new();
    fs.insert(
        "var/lib/dpkg/status",
        Node::file(
            0,
            b"Package: a\nthis is not a field\n\nPackage: kept\nStatus: install ok installed\nVersion: 1\n".to_vec(),
        ),
    );
    fs.insert(
        "lib/apk/db/installed",
        Node::file(
            0,
            b"P:musl\n\x00\x01garbage\n\nP:zlib\nV:1.2.13-r0\n".to_vec(),
        ),
    );
    fs.insert(
        "app/package-lock.json",
        Node::file(0, b"{\"packages\": ".to_vec()),
    );
    fs.insert(
        "app/node_modules/x/package.json",
        Node::file(0, br#"{"name":"x"}"#.to_vec()),
    );
    fs.insert(
        "site-packages/broken-1.0.dist-info/METADATA",
        Node::file(0, b"Version: 1.0\n".to_vec()),
    );
    fs.insert(
        "site-packages/fine-1.0.dist-info/METADATA",
        Node::file(0, b"Name: fine\nVersion: 1.0\n".to_vec()),
    );

    let result = catalog(&fs, &[]);
    let names: Vec<_> = result
        .packages
        .iter()
        .map(|package| package.name.as_str())
        .collect();
    // A damaged stanza or record hides only itself, not the rest of its database.
    assert_eq!(names, ["kept", "zlib", "fine"]);

    let expected_prefixes = [
        "var/lib/dpkg/status: skipped a damaged dpkg stanza: line 2",
        "lib/apk/db/installed: skipped a damaged apk record: line 2",
        "app/package-lock.json: invalid npm lockfile",
        "app/node_modules/x/package.json: invalid npm package manifest: missing \"version\" field",
        "site-packages/broken-1.0.dist-info/METADATA: invalid Python metadata: missing Name header",
    ];
    for prefix in expected_prefixes {
        assert!(
            result
                .warnings
                .iter()
                .any(|warning| warning.starts_with(prefix)),
            "no warning starting with {prefix:?} in {:?}",
            result.warnings
        );
    }
    assert_eq!(
        result.warnings.len(),
        expected_prefixes.len(),
        "{:?}",
        result.warnings
    );
}

#[test]
fn installed_stanza_missing_version_is_warning() {
    let mut fs = Rootfs::new();
    let status = "Package: ok\nStatus: install ok installed\nVersion: 1\n\nPackage: bad\nStatus: install ok installed\n";
    fs.insert(
        "var/lib/dpkg/status",
        Node::file(0, status.as_bytes().to_vec()),
    );

    let result = catalog(&fs, &[]);
    assert_eq!(result.packages.len(), 1);
    assert_eq!(
        result.warnings,
        ["var/lib/dpkg/status: paragraph at line 5: missing Version field"]
    );
}

#[test]
fn content_not_retained_is_warning() {
    let mut fs = Rootfs::new();
    let mut node = Node::file(0, b"".to_vec());
    node.content = None;
    fs.insert("var/lib/dpkg/status", node);

    let result = catalog(&fs, &[]);
    assert!(result.packages.is_empty());
    assert_eq!(result.warnings.len(), 1);
    assert!(
        result.warnings[0].starts_with("var/lib/dpkg/status:"),
        "{:?}",
        result.warnings
    );
}

#[test]
fn catalog_order_is_deterministic() {
    let mut fs = Rootfs::new();
    fs.insert(
        "b/node_modules/z/package.json",
        Node::file(0, br#"{"name":"z","version":"1.0.0"}"#.to_vec()),
    );
    fs.insert(
        "a/node_modules/z/package.json",
        Node::file(0, br#"{"name":"z","version":"1.0.0"}"#.to_vec()),
    );
    fs.insert(
        "site-packages/z-1.dist-info/METADATA",
        Node::file(0, b"Name: z\nVersion: 1\n".to_vec()),
    );
    fs.insert(
        "var/lib/dpkg/status",
        Node::file(0, stanza("z", "1", "install ok installed").into_bytes()),
    );

    let first = catalog(&fs, &[]);
    let second = catalog(&fs.clone(), &[]);
    assert_eq!(first, second);
    let rows: Vec<_> = first
        .packages
        .iter()
        .map(|package| (package.ecosystem, package.location.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            (Ecosystem::Deb, "var/lib/dpkg/status"),
            (Ecosystem::Pypi, "site-packages/z-1.dist-info/METADATA"),
            (Ecosystem::Npm, "a/node_modules/z/package.json"),
            (Ecosystem::Npm, "b/node_modules/z/package.json"),
        ]
    );
}

#[test]
fn wants_content_selects_catalog_inputs() {
    let kept = [
        "etc/os-release",
        "usr/lib/os-release",
        "etc/alpine-release",
        "etc/debian_version",
        "var/lib/dpkg/status",
        "var/lib/dpkg/status.d/libssl3",
        "lib/apk/db/installed",
        "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
        "usr/lib/python3/dist-packages/Example_Lib-1.2.0.egg-info",
        "site-packages/third-0.1.egg-info/PKG-INFO",
        "srv/app/node_modules/express/package.json",
        "srv/app/node_modules/@babel/core/package.json",
        "srv/app/node_modules/a/node_modules/b/package.json",
        "srv/app/package-lock.json",
        "srv/app/node_modules/.package-lock.json",
        "/etc/os-release",
        "opt/app/lib/log4j-core-2.14.1.jar",
        "opt/app/app.war",
        // Files without an extension may be Go binaries, read for their build information.
        "usr/bin/python3",
        "app",
    ];
    for path in kept {
        assert!(wants_content(path), "{path} should be kept");
    }
    let dropped = [
        "etc/passwd",
        "var/lib/dpkg/status.d/libssl3.md5sums",
        "var/lib/dpkg/info/libc6.list",
        "usr/lib/python3/dist-packages/six-1.16.0.dist-info/RECORD",
        "srv/app/package.json",
        "srv/app/node_modules/express/lib/package.json",
        "usr/share/nodejs/acorn/package.json",
        "usr/share/zoneinfo/UTC",
        "usr/lib/x86_64-linux-gnu/libc.so.6",
    ];
    for path in dropped {
        assert!(!wants_content(path), "{path} should be dropped");
    }
}
