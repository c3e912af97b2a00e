//! Fixtures drawn from real scanner bugs, each with the result the governing
//! specification requires.

use cordon_catalog::catalog;
use cordon_image::{Node, Rootfs};
use cordon_model::{Ecosystem, Package};

fn of(packages: &[Package], ecosystem: Ecosystem) -> Vec<&Package> {
    packages
        .iter()
        .filter(|package| package.ecosystem == ecosystem)
        .collect()
}

fn bullseye_os_release(fs: &mut Rootfs) {
    fs.insert(
        "etc/os-release",
        Node::file(
            0,
            b"ID=debian\nVERSION_ID=\"11\"\nVERSION_CODENAME=bullseye\n".to_vec(),
        ),
    );
}

#[test]
fn dpkg_source_version_in_parentheses() {
    let mut fs = Rootfs::new();
    bullseye_os_release(&mut fs);
    let status = b"Package: postgresql-client\nStatus: install ok installed\nArchitecture: all\n\
Source: postgresql-common (225)\nVersion: 13+225\nMaintainer: Example Maintainer <m@example.test>\n";
    fs.insert("var/lib/dpkg/status", Node::file(0, status.to_vec()));

    let result = catalog(&fs, &[]);
    assert_eq!(result.packages.len(), 1);
    let package = &result.packages[0];
    assert_eq!(package.name, "postgresql-client");
    assert_eq!(package.version, "13+225");
    assert_eq!(package.source_name.as_deref(), Some("postgresql-common"));
    assert_eq!(package.source_version.as_deref(), Some("225"));
    assert_eq!(
        package.purl,
        "pkg:deb/debian/postgresql-client@13%2B225?arch=all&distro=debian-11&upstream=postgresql-common%40225"
    );
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
}

#[test]
fn distroless_status_d_without_status_lines() {
    let mut fs = Rootfs::new();
    fs.insert("etc/os-release", Node::symlink(0, "../usr/lib/os-release"));
    fs.insert(
        "usr/lib/os-release",
        Node::file(0, b"ID=debian\nVERSION_ID=\"11\"\n".to_vec()),
    );
    fs.insert("var/lib/dpkg/status.d", Node::dir(0));
    fs.insert(
        "var/lib/dpkg/status.d/base-files",
        Node::file(
            0,
            b"Package: base-files\nVersion: 11.1+deb11u7\nArchitecture: amd64\nMaintainer: Placeholder <p@example.test>\n"
                .to_vec(),
        ),
    );
    fs.insert(
        "var/lib/dpkg/status.d/libssl1.1",
        Node::file(
            1,
            b"Package: libssl1.1\nSource: openssl\nVersion: 1.1.1n-0+deb11u4\nArchitecture: amd64\n".to_vec(),
        ),
    );
    fs.insert(
        "var/lib/dpkg/status.d/libssl1.1.md5sums",
        Node::file(
            1,
            b"0123456789abcdef0123456789abcdef  usr/lib/x86_64-linux-gnu/libssl.so.1.1\n".to_vec(),
        ),
    );

    let result = catalog(&fs, &[]);
    let distro = result.distro.expect("distro detected");
    assert_eq!(distro.id, "debian");
    assert_eq!(distro.version_id.as_deref(), Some("11"));
    assert_eq!(distro.codename.as_deref(), Some("bullseye"));

    let debs = of(&result.packages, Ecosystem::Deb);
    assert_eq!(debs.len(), 2);
    assert_eq!(debs[0].name, "base-files");
    assert_eq!(debs[0].version, "11.1+deb11u7");
    assert_eq!(debs[1].name, "libssl1.1");
    assert_eq!(debs[1].source_name.as_deref(), Some("openssl"));
    assert_eq!(debs[1].source_version.as_deref(), Some("1.1.1n-0+deb11u4"));
    assert_eq!(debs[1].location, "var/lib/dpkg/status.d/libssl1.1");
    assert_eq!(debs[1].layer.as_ref().map(|layer| layer.index), Some(1));
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
}

#[test]
fn egg_info_file_form_and_directory_forms() {
    let mut fs = Rootfs::new();
    fs.insert(
        "usr/lib/python3/dist-packages/Example_Lib-1.2.0.egg-info",
        Node::file(
            0,
            b"Metadata-Version: 1.1\nName: Example-Lib\nVersion: 1.2.0\n".to_vec(),
        ),
    );
    fs.insert("site-packages/other_pkg-2.0.dist-info", Node::dir(0));
    fs.insert(
        "site-packages/other_pkg-2.0.dist-info/METADATA",
        Node::file(
            0,
            b"Metadata-Version: 2.1\nName: other-pkg\nVersion: 2.0\n".to_vec(),
        ),
    );
    fs.insert("site-packages/third-0.1.egg-info", Node::dir(0));
    fs.insert(
        "site-packages/third-0.1.egg-info/PKG-INFO",
        Node::file(
            0,
            b"Metadata-Version: 1.0\nName: third\nVersion: 0.1\n".to_vec(),
        ),
    );

    let result = catalog(&fs, &[]);
    let python: Vec<_> = of(&result.packages, Ecosystem::Pypi)
        .iter()
        .map(|package| (package.name.as_str(), package.version.as_str()))
        .collect();
    assert_eq!(
        python,
        [
            ("example-lib", "1.2.0"),
            ("other-pkg", "2.0"),
            ("third", "0.1")
        ]
    );
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
}

#[test]
fn lockfile_v3_packages_map_only() {
    let lockfile = br#"{
      "name": "app",
      "version": "1.0.0",
      "lockfileVersion": 3,
      "requires": true,
      "packages": {
        "": {"name": "app", "version": "1.0.0", "dependencies": {"a": "^1.0.0"}},
        "node_modules/a": {"version": "1.0.0", "dependencies": {"b": "^2.0.0"}},
        "node_modules/b": {"version": "2.1.0"},
        "node_modules/a/node_modules/c": {"version": "0.1.0"},
        "node_modules/d": {"version": "3.0.0", "dev": true}
      }
    }"#;
    let mut fs = Rootfs::new();
    fs.insert(
        "srv/app/package-lock.json",
        Node::file(0, lockfile.to_vec()),
    );

    let result = catalog(&fs, &[]);
    let npm: Vec<_> = of(&result.packages, Ecosystem::Npm)
        .iter()
        .map(|package| {
            (
                package.name.as_str(),
                package.version.as_str(),
                package.direct,
                package.dev,
            )
        })
        .collect();
    assert_eq!(
        npm,
        [
            ("a", "1.0.0", Some(true), false),
            ("b", "2.1.0", Some(false), false),
            ("c", "0.1.0", Some(false), false),
            ("d", "3.0.0", Some(false), true),
        ]
    );
    assert!(result.packages.iter().all(|package| package.name != "app"));
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
}

#[test]
fn pypi_names_normalized_per_pep503() {
    let mut fs = Rootfs::new();
    fs.insert(
        "site-packages/PyYAML-5.3.dist-info/METADATA",
        Node::file(
            0,
            b"Metadata-Version: 2.1\nName: PyYAML\nVersion: 5.3\n".to_vec(),
        ),
    );
    fs.insert(
        "site-packages/Friendly_Bard-1.0.dist-info/METADATA",
        Node::file(
            0,
            b"Metadata-Version: 2.1\nName: Friendly_Bard\nVersion: 1.0\n".to_vec(),
        ),
    );

    let result = catalog(&fs, &[]);
    let purls: Vec<_> = result
        .packages
        .iter()
        .map(|package| package.purl.as_str())
        .collect();
    assert_eq!(purls, ["pkg:pypi/friendly-bard@1.0", "pkg:pypi/pyyaml@5.3"]);
    let names: Vec<_> = result
        .packages
        .iter()
        .map(|package| package.name.as_str())
        .collect();
    assert_eq!(names, ["friendly-bard", "pyyaml"]);
}
