//! Reads the real images built by the corpus script when `CORDON_CORPUS_DIR` names its
//! output directory (`*.docker.tar` files and the shared OCI layout `oci/`). Without
//! the variable the test returns at once.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use cordon_image::{Image, ImageSource, OpenOptions, ReadOptions, Rootfs};

fn read(source: &str) -> Rootfs {
    let started = Instant::now();
    let source: ImageSource = source.parse().unwrap();
    let image = Image::open(&source, &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let retain = |path: &str| path.ends_with("os-release") || path == "var/lib/dpkg/status";
    let (rootfs, warnings) = image
        .read_rootfs(&ReadOptions { retain: &retain })
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "{source}: {} layers, {} paths, {} warnings, {:?}",
        image.info().layers.len(),
        rootfs.len(),
        warnings.len(),
        started.elapsed()
    );
    for (path, _) in rootfs.iter() {
        let name = path.rsplit('/').next().unwrap_or(path);
        assert!(
            !name.starts_with(".wh."),
            "{source}: whiteout name {path} in the view"
        );
    }
    rootfs
}

fn paths(rootfs: &Rootfs) -> BTreeSet<String> {
    rootfs.iter().map(|(path, _)| path.to_string()).collect()
}

#[test]
fn corpus_images_read_alike_in_both_formats() {
    let Ok(dir) = std::env::var("CORDON_CORPUS_DIR") else {
        eprintln!("CORDON_CORPUS_DIR is not set; skipping the corpus images");
        return;
    };
    let dir = Path::new(&dir);
    let mut archives: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".docker.tar"))
        .collect();
    archives.sort();
    assert!(!archives.is_empty(), "no *.docker.tar in {}", dir.display());

    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("oci/index.json")).unwrap()).unwrap();
    let refs: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["annotations"]["org.opencontainers.image.ref.name"].as_str())
        .map(str::to_string)
        .collect();

    for archive in &archives {
        let name = archive
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".docker.tar")
            .to_string();
        let docker = read(&format!("docker-archive:{}", archive.display()));
        if name == "python-app" {
            assert!(!docker
                .iter()
                .any(|(path, _)| path.contains("py-1.9.0.dist-info")));
        }
        if let Some(reference) = refs
            .iter()
            .find(|r| **r == name || r.ends_with(&format!("/{name}")))
        {
            let oci = read(&format!(
                "oci-dir:{}:{reference}",
                dir.join("oci").display()
            ));
            assert_eq!(
                paths(&docker),
                paths(&oci),
                "{name}: the two formats differ"
            );
        }
    }
}
