//! Package and database builders shared by the matcher's integration tests.

use std::path::Path;

use cordon_model::{Ecosystem, Package};
use cordon_vulndb::{build, Database, SourceKind, SourceSpec};

/// Returns a package of `ecosystem` with an optional source package name.
pub fn package(ecosystem: Ecosystem, name: &str, version: &str, source: Option<&str>) -> Package {
    Package {
        name: name.to_string(),
        version: version.to_string(),
        source_name: source.map(str::to_string),
        source_version: None,
        ecosystem,
        purl: format!("pkg:{}/{name}@{version}", ecosystem.purl_type()),
        arch: None,
        layer: None,
        location: "test".to_string(),
        dev: false,
        direct: None,
        licenses: Vec::new(),
    }
}

/// Builds `cordon.db` in `dir` from `sources` and opens it.
pub fn database(dir: &Path, sources: &[(SourceKind, &Path)]) -> Database {
    let specs: Vec<SourceSpec> = sources
        .iter()
        .map(|(kind, path)| SourceSpec::path(*kind, *path))
        .collect();
    let output = dir.join("cordon.db");
    build(&specs, &output).expect("database builds");
    Database::open(&output).expect("database opens")
}
