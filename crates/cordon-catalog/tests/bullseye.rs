//! Catalogs the real Debian 11 package database shipped with the shared test data and
//! compares it with `dpkg-query` output from the same image.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use cordon_catalog::catalog;
use cordon_image::{Node, Rootfs};
use cordon_model::Ecosystem;

fn debian_derived_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata/debian-derived")
}

/// Loads a directory into a `Rootfs` as one layer.
///
/// A symlink becomes a symlink node. So does an `os-release` file whose whole content is
/// a relative path, because copies of the fixture may store the image's
/// `etc/os-release -> ../usr/lib/os-release` link as a file holding its target.
fn load_dir(root: &Path) -> Rootfs {
    let mut rootfs = Rootfs::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            let file_type = entry.file_type().unwrap();
            if file_type.is_symlink() {
                let target = fs::read_link(&path).unwrap();
                rootfs.insert(relative, Node::symlink(0, target.to_str().unwrap()));
            } else if file_type.is_dir() {
                rootfs.insert(relative, Node::dir(0));
                pending.push(path);
            } else {
                let content = fs::read(&path).unwrap();
                let text = String::from_utf8_lossy(&content);
                let target = text.trim();
                if relative.ends_with("os-release")
                    && target.starts_with("../")
                    && !target.contains(['=', '\n'])
                {
                    rootfs.insert(relative, Node::symlink(0, target));
                } else {
                    rootfs.insert(relative, Node::file(0, content));
                }
            }
        }
    }
    rootfs
}

#[test]
fn bullseye_status_matches_dpkg_query() {
    let dir = debian_derived_dir();
    let rootfs = load_dir(&dir.join("fixtures/bullseye-main"));
    let result = catalog(&rootfs, &[]);
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);

    let distro = result.distro.expect("distro detected");
    assert_eq!(distro.id, "debian");
    assert_eq!(distro.version_id.as_deref(), Some("11"));
    assert_eq!(distro.codename.as_deref(), Some("bullseye"));

    // Columns: binary, arch, version, source, source version, status.
    let tsv = fs::read_to_string(dir.join("installed-bullseye.tsv")).unwrap();
    let expected: BTreeSet<(String, String, String, String, String)> = tsv
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            assert!(
                columns[5].starts_with("ii"),
                "unexpected status in {line:?}"
            );
            (
                columns[0].to_string(),
                columns[1].to_string(),
                columns[2].to_string(),
                columns[3].to_string(),
                columns[4].to_string(),
            )
        })
        .collect();
    let found: BTreeSet<(String, String, String, String, String)> = result
        .packages
        .iter()
        .filter(|package| package.ecosystem == Ecosystem::Deb)
        .map(|package| {
            (
                package.name.clone(),
                package.arch.clone().unwrap_or_default(),
                package.version.clone(),
                package.source_name_or_name().to_string(),
                package.source_version_or_version().to_string(),
            )
        })
        .collect();

    assert_eq!(expected.len(), 209);
    assert_eq!(found.len(), result.packages.len(), "duplicate packages");
    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(missing.is_empty(), "missing from the catalog: {missing:?}");
    assert!(extra.is_empty(), "not in dpkg-query output: {extra:?}");
}
