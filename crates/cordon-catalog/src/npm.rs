//! npm packages: installed `node_modules/**/package.json` files and lockfiles
//! (`package-lock.json` versions 1 to 3 and the hidden `node_modules/.package-lock.json`).
//!
//! Debian's packaged JavaScript modules live in `usr/share/nodejs`, outside any
//! `node_modules` directory, so dpkg reports them and this cataloger does not.

use std::collections::{BTreeMap, BTreeSet};

use cordon_image::NodeKind;
use cordon_model::{Ecosystem, Package};
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::{purl, Context};

const NODE_MODULES: &str = "node_modules/";
const MANIFEST_NAME: &str = "package.json";
const LOCKFILE_NAME: &str = "package-lock.json";
const HIDDEN_LOCKFILE_SUFFIX: &str = "node_modules/.package-lock.json";

/// Error in an npm manifest or lockfile.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NpmError {
    /// The file is not valid JSON or has a field of the wrong type.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A required field is absent or empty.
    #[error("missing \"{0}\" field")]
    MissingField(&'static str),
}

/// The fields of an installed package's `package.json` that the cataloger uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// `name`, with its `@scope/` prefix when scoped.
    pub name: String,
    /// `version`.
    pub version: String,
    /// `license`, or the `type` of each `licenses` entry in the older form.
    pub licenses: Vec<String>,
}

/// One dependency recorded in a lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockEntry {
    /// Directory of the package relative to the project directory, for example
    /// `node_modules/a/node_modules/c`; for a linked package, the link target.
    pub path: String,
    /// Package name, the real name for an aliased install.
    pub name: String,
    /// Resolved version.
    pub version: String,
    /// True when only development dependencies need the package (`"dev": true`).
    pub dev: bool,
    /// Whether the project's own manifest lists the package; `None` when the lockfile
    /// does not record the project's dependencies (version 1 and hidden lockfiles).
    pub direct: Option<bool>,
    /// `license` as recorded in the lockfile (versions 2 and 3).
    pub licenses: Vec<String>,
}

/// The dependencies recorded in one lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockfile {
    /// `lockfileVersion`, 1 when absent.
    pub lockfile_version: u64,
    /// Dependencies, sorted by path; the project itself is not one of them.
    pub entries: Vec<LockEntry>,
}

#[derive(Deserialize)]
struct RawManifest {
    name: Option<String>,
    version: Option<String>,
    #[serde(default)]
    license: Value,
    #[serde(default)]
    licenses: Value,
}

#[derive(Deserialize)]
struct RawLockfile {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<u64>,
    packages: Option<BTreeMap<String, RawPackage>>,
    dependencies: Option<BTreeMap<String, RawDependency>>,
}

/// One entry of a version 2 or 3 `packages` map.
#[derive(Deserialize, Default)]
struct RawPackage {
    name: Option<String>,
    version: Option<String>,
    resolved: Option<String>,
    #[serde(default)]
    link: bool,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    license: Value,
    #[serde(default)]
    dependencies: BTreeMap<String, Value>,
    #[serde(default, rename = "devDependencies")]
    dev_dependencies: BTreeMap<String, Value>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, Value>,
}

/// One entry of a version 1 `dependencies` tree.
#[derive(Deserialize)]
struct RawDependency {
    version: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    dependencies: BTreeMap<String, RawDependency>,
}

/// Parses an installed package's `package.json`. Fails when it is not a JSON object with
/// string `name` and `version` fields.
pub fn parse_package_json(data: &[u8]) -> Result<Manifest, NpmError> {
    let raw: RawManifest = serde_json::from_slice(data)?;
    let name = raw
        .name
        .filter(|name| !name.trim().is_empty())
        .ok_or(NpmError::MissingField("name"))?;
    let version = raw
        .version
        .filter(|version| !version.trim().is_empty())
        .ok_or(NpmError::MissingField("version"))?;
    let mut licenses = license_names(&raw.license);
    if licenses.is_empty() {
        if let Value::Array(items) = &raw.licenses {
            licenses = items.iter().flat_map(license_names).collect();
        }
    }
    Ok(Manifest {
        name,
        version,
        licenses,
    })
}

/// Returns the license names of a `license` value: a string or an object with `type`.
fn license_names(value: &Value) -> Vec<String> {
    let name = match value {
        Value::String(name) => Some(name.as_str()),
        Value::Object(object) => object.get("type").and_then(Value::as_str),
        _ => None,
    };
    name.map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .into_iter()
        .collect()
}

/// Parses a `package-lock.json` (versions 1, 2 and 3) or a hidden
/// `node_modules/.package-lock.json`.
///
/// The `packages` map is used when present (versions 2 and 3), else the nested
/// `dependencies` tree (version 1). In the `packages` map the root entry `""` is the
/// project and not a dependency. A `link: true` entry is reported once, at its target
/// directory. Entries outside any `node_modules` directory are reported only as link
/// targets, because they are the project's own workspace folders. Entries without a
/// version (for example optional dependencies for another platform) are left out.
pub fn parse_lockfile(data: &[u8]) -> Result<Lockfile, NpmError> {
    let raw: RawLockfile = serde_json::from_slice(data)?;
    let lockfile_version = raw.lockfile_version.unwrap_or(1);
    let mut entries = match (raw.packages, raw.dependencies) {
        (Some(packages), _) => entries_from_packages(&packages),
        (None, Some(dependencies)) => {
            let mut entries = Vec::new();
            entries_from_dependencies("", &dependencies, &mut entries);
            entries
        }
        (None, None) => Vec::new(),
    };
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    entries.dedup_by(|a, b| a.path == b.path);
    Ok(Lockfile {
        lockfile_version,
        entries,
    })
}

fn entries_from_packages(packages: &BTreeMap<String, RawPackage>) -> Vec<LockEntry> {
    let root = packages.get("");
    let direct_names: Option<BTreeSet<&str>> = root.map(|root| {
        root.dependencies
            .keys()
            .chain(root.dev_dependencies.keys())
            .chain(root.optional_dependencies.keys())
            .map(String::as_str)
            .collect()
    });

    let mut entries = Vec::new();
    for (key, package) in packages {
        let Some(install_name) = name_after_node_modules(key) else {
            // The root entry and workspace folders, which link entries point at.
            continue;
        };
        let direct = direct_names.as_ref().map(|names| {
            key.strip_prefix(NODE_MODULES) == Some(install_name) && names.contains(install_name)
        });

        // A link entry stands for the package at its target folder.
        let (path, target) = if package.link {
            let Some(resolved) = package.resolved.as_deref() else {
                continue;
            };
            let target_path = resolved
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_string();
            let Some(target) = packages.get(&target_path) else {
                continue;
            };
            (target_path, target)
        } else {
            (key.clone(), package)
        };

        let name = target
            .name
            .as_deref()
            .or(package.name.as_deref())
            .unwrap_or(install_name);
        let Some(version) = target
            .version
            .as_deref()
            .filter(|version| !version.is_empty())
        else {
            continue;
        };
        entries.push(LockEntry {
            path,
            name: name.to_string(),
            version: version.to_string(),
            dev: package.dev || target.dev,
            direct,
            licenses: license_names(&target.license),
        });
    }
    entries
}

fn entries_from_dependencies(
    prefix: &str,
    dependencies: &BTreeMap<String, RawDependency>,
    entries: &mut Vec<LockEntry>,
) {
    for (install_name, dependency) in dependencies {
        let path = format!("{prefix}{NODE_MODULES}{install_name}");
        if let Some(version) = dependency
            .version
            .as_deref()
            .filter(|version| !version.is_empty())
        {
            // An alias install records `npm:<real name>@<version>`.
            let (name, version) = match version
                .strip_prefix("npm:")
                .and_then(|spec| spec.rsplit_once('@'))
            {
                Some((name, version)) if !name.is_empty() => (name, version),
                _ => (install_name.as_str(), version),
            };
            entries.push(LockEntry {
                path: path.clone(),
                name: name.to_string(),
                version: version.to_string(),
                dev: dependency.dev,
                direct: None,
                licenses: Vec::new(),
            });
        }
        entries_from_dependencies(&format!("{path}/"), &dependency.dependencies, entries);
    }
}

/// Returns the package name that a path below `node_modules` installs: the part after the
/// last `node_modules/` component, `name` or `@scope/name`. Returns `None` for any other
/// path.
fn name_after_node_modules(dir: &str) -> Option<&str> {
    let start = dir.rfind(NODE_MODULES)?;
    if start > 0 && !dir[..start].ends_with('/') {
        return None;
    }
    let rest = &dir[start + NODE_MODULES.len()..];
    let valid_part =
        |part: &str| !part.is_empty() && !part.starts_with('.') && part != "node_modules";
    match rest.split_once('/') {
        None => (valid_part(rest) && !rest.starts_with('@')).then_some(rest),
        Some((scope, name)) => {
            let scoped = scope.starts_with('@')
                && scope.len() > 1
                && !name.contains('/')
                && valid_part(name);
            scoped.then_some(rest)
        }
    }
}

/// Returns the package directory when `path` is the manifest of an installed package:
/// `node_modules/<name>/package.json` or `node_modules/@scope/<name>/package.json`, at any
/// nesting depth.
fn installed_package_dir(path: &str) -> Option<&str> {
    let dir = path.strip_suffix(MANIFEST_NAME)?.strip_suffix('/')?;
    name_after_node_modules(dir).map(|_| dir)
}

/// Returns the project directory of a lockfile path (`""` for the image root), or `None`
/// when `path` is not a lockfile or is a lockfile that describes no installation.
///
/// A `package-lock.json` inside `node_modules` belongs to a published package (handlebars
/// 4.0 ships one listing its 500 development dependencies): npm ignores it when
/// installing, so its entries are not installed and are not cataloged. Only the hidden
/// lockfile `node_modules/.package-lock.json` describes what is installed.
fn lockfile_project_dir(path: &str) -> Option<&str> {
    let project = if let Some(prefix) = path.strip_suffix(HIDDEN_LOCKFILE_SUFFIX) {
        prefix
    } else {
        let prefix = path.strip_suffix(LOCKFILE_NAME)?;
        if prefix.starts_with("node_modules/") || prefix.contains("/node_modules/") {
            return None;
        }
        prefix
    };
    if project.is_empty() || project.ends_with('/') {
        Some(project.trim_end_matches('/'))
    } else {
        None
    }
}

/// Returns true for a path that the npm cataloger reads: an installed package's
/// `package.json`, a `package-lock.json` or a hidden lockfile.
pub fn is_npm_path(path: &str) -> bool {
    lockfile_project_dir(path).is_some() || installed_package_dir(path).is_some()
}

/// An installed package found in a `node_modules` directory.
struct Installed<'a> {
    manifest: Manifest,
    location: &'a str,
    layer: usize,
}

/// A lockfile entry with the file that records it.
struct Locked<'a> {
    entry: LockEntry,
    location: &'a str,
    layer: usize,
}

/// Catalogs installed npm packages and lockfile dependencies of the image.
///
/// A package that a lockfile records and that is also installed at the matching
/// `node_modules` directory is reported once, located at its `package.json`, with the
/// lockfile's `dev` and `direct` flags.
pub(crate) fn catalog(context: &Context<'_>, warnings: &mut Vec<String>) -> Vec<Package> {
    let mut installed: BTreeMap<&str, Installed<'_>> = BTreeMap::new();
    let mut locked: BTreeMap<String, Locked<'_>> = BTreeMap::new();
    let mut hidden_lockfiles = Vec::new();

    for (path, node) in context.rootfs.iter() {
        if node.kind != NodeKind::File {
            continue;
        }
        if let Some(project) = lockfile_project_dir(path) {
            if path.ends_with(HIDDEN_LOCKFILE_SUFFIX) {
                hidden_lockfiles.push((path, project, node));
            } else {
                add_lockfile(path, project, node, &mut locked, warnings);
            }
        } else if let Some(dir) = installed_package_dir(path) {
            let Some(content) = node.content.as_deref() else {
                warnings.push(format!(
                    "{path}: npm manifest content was not retained by the image reader"
                ));
                continue;
            };
            match parse_package_json(content) {
                Ok(manifest) => {
                    installed.insert(
                        dir,
                        Installed {
                            manifest,
                            location: path,
                            layer: node.layer,
                        },
                    );
                }
                Err(error) => {
                    warnings.push(format!("{path}: invalid npm package manifest: {error}"))
                }
            }
        }
    }
    // A `package-lock.json` records whether a dependency is direct and the hidden lockfile
    // does not, so the hidden one only fills in what the other lacks.
    for (path, project, node) in hidden_lockfiles {
        add_lockfile(path, project, node, &mut locked, warnings);
    }

    let mut packages = Vec::new();
    for (dir, lock) in locked {
        let (name, version, licenses, location, layer) = match installed.remove(dir.as_str()) {
            Some(found) if found.manifest.name == lock.entry.name => (
                found.manifest.name,
                found.manifest.version,
                found.manifest.licenses,
                found.location,
                found.layer,
            ),
            other => {
                if let Some(found) = other {
                    installed.insert(found.location.trim_end_matches("/package.json"), found);
                }
                (
                    lock.entry.name,
                    lock.entry.version,
                    lock.entry.licenses,
                    lock.location,
                    lock.layer,
                )
            }
        };
        packages.push(npm_package(
            context,
            name,
            version,
            licenses,
            location,
            layer,
            lock.entry.dev,
            lock.entry.direct,
        ));
    }
    for found in installed.into_values() {
        let manifest = found.manifest;
        packages.push(npm_package(
            context,
            manifest.name,
            manifest.version,
            manifest.licenses,
            found.location,
            found.layer,
            false,
            None,
        ));
    }
    packages
}

fn add_lockfile<'a>(
    path: &'a str,
    project: &str,
    node: &cordon_image::Node,
    locked: &mut BTreeMap<String, Locked<'a>>,
    warnings: &mut Vec<String>,
) {
    let Some(content) = node.content.as_deref() else {
        warnings.push(format!(
            "{path}: npm lockfile content was not retained by the image reader"
        ));
        return;
    };
    let lockfile = match parse_lockfile(content) {
        Ok(lockfile) => lockfile,
        Err(error) => {
            warnings.push(format!("{path}: invalid npm lockfile: {error}"));
            return;
        }
    };
    for entry in lockfile.entries {
        let dir = if project.is_empty() {
            entry.path.clone()
        } else {
            format!("{project}/{}", entry.path)
        };
        locked.entry(dir).or_insert(Locked {
            entry,
            location: path,
            layer: node.layer,
        });
    }
}

#[allow(clippy::too_many_arguments)]
fn npm_package(
    context: &Context<'_>,
    name: String,
    version: String,
    licenses: Vec<String>,
    location: &str,
    layer: usize,
    dev: bool,
    direct: Option<bool>,
) -> Package {
    let (namespace, short_name) = match name.split_once('/') {
        Some((scope, short_name)) if scope.starts_with('@') => (Some(scope), short_name),
        _ => (None, name.as_str()),
    };
    let purl = purl::build(
        Ecosystem::Npm.purl_type(),
        namespace,
        short_name,
        &version,
        &[],
    );
    Package {
        name,
        version,
        source_name: None,
        source_version: None,
        ecosystem: Ecosystem::Npm,
        purl,
        arch: None,
        layer: Some(context.layer(layer)),
        location: location.to_string(),
        dev,
        direct,
        licenses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_manifest_paths_by_depth() {
        assert_eq!(
            installed_package_dir("app/node_modules/a/package.json"),
            Some("app/node_modules/a")
        );
        assert_eq!(
            installed_package_dir("node_modules/@s/b/package.json"),
            Some("node_modules/@s/b")
        );
        assert_eq!(
            installed_package_dir("x/node_modules/a/node_modules/c/package.json"),
            Some("x/node_modules/a/node_modules/c")
        );
        assert_eq!(
            installed_package_dir("node_modules/a/lib/package.json"),
            None
        );
        assert_eq!(installed_package_dir("node_modules/@s/package.json"), None);
        assert_eq!(
            installed_package_dir("node_modules/.bin/package.json"),
            None
        );
        assert_eq!(
            installed_package_dir("my_node_modules/a/package.json"),
            None
        );
        assert_eq!(
            installed_package_dir("usr/share/nodejs/acorn/package.json"),
            None
        );
    }

    #[test]
    fn lockfile_paths_name_project_dir() {
        assert_eq!(
            lockfile_project_dir("srv/app/package-lock.json"),
            Some("srv/app")
        );
        assert_eq!(lockfile_project_dir("package-lock.json"), Some(""));
        assert_eq!(
            lockfile_project_dir("srv/app/node_modules/.package-lock.json"),
            Some("srv/app")
        );
        assert_eq!(lockfile_project_dir("srv/app/old-package-lock.json"), None);
        assert_eq!(
            lockfile_project_dir("srv/app/node_modules/handlebars/package-lock.json"),
            None
        );
        assert_eq!(
            lockfile_project_dir("node_modules/x/package-lock.json"),
            None
        );
    }

    #[test]
    fn manifest_license_forms() {
        let manifest =
            parse_package_json(br#"{"name":"a","version":"1.0.0","license":"MIT"}"#).unwrap();
        assert_eq!(manifest.licenses, ["MIT"]);
        let old = br#"{"name":"a","version":"1.0.0","licenses":[{"type":"BSD"},{"type":"GPL"}]}"#;
        assert_eq!(parse_package_json(old).unwrap().licenses, ["BSD", "GPL"]);
        let object = br#"{"name":"a","version":"1.0.0","license":{"type":"ISC"}}"#;
        assert_eq!(parse_package_json(object).unwrap().licenses, ["ISC"]);
    }

    #[test]
    fn manifest_without_version_is_error() {
        assert!(matches!(
            parse_package_json(br#"{"name":"a"}"#),
            Err(NpmError::MissingField("version"))
        ));
        assert!(matches!(
            parse_package_json(b"\xff{"),
            Err(NpmError::Json(_))
        ));
    }

    #[test]
    fn v1_lockfile_nested_and_alias() {
        let lockfile = br#"{
          "name": "app", "version": "1.0.0", "lockfileVersion": 1, "requires": true,
          "dependencies": {
            "a": {"version": "1.0.0", "dependencies": {"c": {"version": "0.1.0"}}},
            "b": {"version": "2.1.0", "dev": true},
            "alias": {"version": "npm:real-name@3.0.0"},
            "@s/x": {"version": "4.0.0"}
          }
        }"#;
        let parsed = parse_lockfile(lockfile).unwrap();
        assert_eq!(parsed.lockfile_version, 1);
        let rows: Vec<_> = parsed
            .entries
            .iter()
            .map(|e| {
                (
                    e.path.as_str(),
                    e.name.as_str(),
                    e.version.as_str(),
                    e.dev,
                    e.direct,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("node_modules/@s/x", "@s/x", "4.0.0", false, None),
                ("node_modules/a", "a", "1.0.0", false, None),
                ("node_modules/a/node_modules/c", "c", "0.1.0", false, None),
                ("node_modules/alias", "real-name", "3.0.0", false, None),
                ("node_modules/b", "b", "2.1.0", true, None),
            ]
        );
    }

    #[test]
    fn v2_lockfile_link_reported_once() {
        let lockfile = br#"{
          "lockfileVersion": 2,
          "packages": {
            "": {"name": "app", "dependencies": {"lib": "file:packages/lib", "@s/y": "^1"}, "devDependencies": {"t": "^1"}},
            "node_modules/lib": {"resolved": "packages/lib", "link": true},
            "packages/lib": {"name": "lib", "version": "0.2.0", "license": "MIT"},
            "node_modules/@s/y": {"version": "1.2.0"},
            "node_modules/t": {"version": "1.0.0", "dev": true},
            "node_modules/alias": {"name": "real", "version": "5.0.0"},
            "node_modules/fsevents": {"optional": true}
          },
          "dependencies": {"ignored": {"version": "9.9.9"}}
        }"#;
        let parsed = parse_lockfile(lockfile).unwrap();
        let rows: Vec<_> = parsed
            .entries
            .iter()
            .map(|e| {
                (
                    e.path.as_str(),
                    e.name.as_str(),
                    e.version.as_str(),
                    e.dev,
                    e.direct,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("node_modules/@s/y", "@s/y", "1.2.0", false, Some(true)),
                ("node_modules/alias", "real", "5.0.0", false, Some(false)),
                ("node_modules/t", "t", "1.0.0", true, Some(true)),
                ("packages/lib", "lib", "0.2.0", false, Some(true)),
            ]
        );
        assert_eq!(parsed.entries[3].licenses, ["MIT"]);
    }

    #[test]
    fn lockfile_wrong_types_are_errors() {
        assert!(parse_lockfile(br#"{"packages": []}"#).is_err());
        assert!(parse_lockfile(b"not json").is_err());
        assert!(parse_lockfile(br#"[1,2]"#).is_err());
    }
}
