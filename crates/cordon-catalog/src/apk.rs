//! Alpine's apk database `lib/apk/db/installed`.

use cordon_model::{Ecosystem, Package};
use thiserror::Error;

use crate::{layer, purl, Context};

/// Path of the apk installed-packages database.
pub const INSTALLED_PATH: &str = "lib/apk/db/installed";

/// Syntax error in an apk database.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ApkError {
    /// A line that is not of the form `K:value` with a one-character key.
    #[error("line {line}: invalid line, expected a one-letter key, `:` and a value")]
    InvalidLine {
        /// Line number, starting at 1.
        line: usize,
    },
}

/// One package record of the apk database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApkEntry {
    /// `P:` package name.
    pub name: Option<String>,
    /// `V:` version (`1.1.24-r2`).
    pub version: Option<String>,
    /// `A:` architecture.
    pub arch: Option<String>,
    /// `o:` origin, the source package name.
    pub origin: Option<String>,
    /// `L:` license expression.
    pub license: Option<String>,
    /// Line number of the record's first line, starting at 1.
    pub line: usize,
}

impl ApkEntry {
    fn key(&self) -> Option<(String, String)> {
        Some((self.name.clone()?, self.version.clone()?))
    }
}

/// Parses an apk `installed` database: records of `K:value` lines separated by blank
/// lines.
///
/// Bytes that are not valid UTF-8 are replaced with U+FFFD. Fails when a non-blank line
/// does not have a one-character key followed by `:`.
pub fn parse_installed(data: &[u8]) -> Result<Vec<ApkEntry>, ApkError> {
    let (entries, errors) = parse_installed_lenient(data);
    match errors.into_iter().next() {
        Some(error) => Err(error),
        None => Ok(entries),
    }
}

/// Parses an apk `installed` database like [`parse_installed`], but drops only the
/// records that contain an invalid line and returns those errors beside the other
/// records, so that one damaged record does not hide every package.
pub fn parse_installed_lenient(data: &[u8]) -> (Vec<ApkEntry>, Vec<ApkError>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let mut current: Option<ApkEntry> = None;
    let mut damaged = false;

    for (index, raw) in data.split(|&byte| byte == b'\n').enumerate() {
        let text = String::from_utf8_lossy(raw);
        let line = text.strip_suffix('\r').unwrap_or(&text);
        if line.trim().is_empty() {
            if !damaged {
                entries.extend(current.take());
            }
            current = None;
            damaged = false;
            continue;
        }
        if damaged {
            continue;
        }

        let mut chars = line.chars();
        let (Some(key), Some(':')) = (chars.next(), chars.next()) else {
            errors.push(ApkError::InvalidLine { line: index + 1 });
            damaged = true;
            continue;
        };
        let value = chars.as_str().trim();
        let entry = current.get_or_insert_with(|| ApkEntry {
            line: index + 1,
            ..ApkEntry::default()
        });
        let field = match key {
            'P' => &mut entry.name,
            'V' => &mut entry.version,
            'A' => &mut entry.arch,
            'o' => &mut entry.origin,
            'L' => &mut entry.license,
            _ => continue,
        };
        if !value.is_empty() {
            *field = Some(value.to_string());
        }
    }
    if !damaged {
        entries.extend(current);
    }
    (entries, errors)
}

/// Catalogs the apk database of the image.
pub(crate) fn catalog(context: &Context<'_>, warnings: &mut Vec<String>) -> Vec<Package> {
    let Some((path, node)) = context.rootfs.get_resolved(INSTALLED_PATH) else {
        return Vec::new();
    };
    if node.is_dir() {
        return Vec::new();
    }
    let Some(content) = context.rootfs.read(&path) else {
        warnings.push(format!(
            "{path}: apk database content was not retained by the image reader"
        ));
        return Vec::new();
    };
    let (entries, errors) = parse_installed_lenient(content);
    for error in errors {
        warnings.push(format!("{path}: skipped a damaged apk record: {error}"));
    }
    let added_in = layer::added_in(context.rootfs, &path, |version| {
        parse_installed_lenient(version)
            .0
            .iter()
            .filter_map(ApkEntry::key)
            .collect()
    });

    let distro_qualifier = context.distro.and_then(|distro| {
        let version_id = distro.version_id.as_deref()?;
        Some(format!("{}-{version_id}", distro.id))
    });
    let namespace = context
        .distro
        .map(|distro| distro.id.as_str())
        .filter(|id| !id.is_empty());

    let mut packages = Vec::new();
    for entry in &entries {
        let (Some(name), Some(version)) = (&entry.name, &entry.version) else {
            let missing = if entry.name.is_none() { "P:" } else { "V:" };
            warnings.push(format!(
                "{path}: record at line {}: missing {missing} field",
                entry.line
            ));
            continue;
        };
        let layer = entry
            .key()
            .and_then(|key| added_in.get(&key).copied())
            .unwrap_or(node.layer);
        let purl = purl::build(
            Ecosystem::Apk.purl_type(),
            Some(namespace.unwrap_or("alpine")),
            name,
            version,
            &[
                ("arch", entry.arch.as_deref()),
                ("distro", distro_qualifier.as_deref()),
                (
                    "upstream",
                    entry.origin.as_deref().filter(|origin| origin != name),
                ),
            ],
        );
        packages.push(Package {
            name: name.clone(),
            version: version.clone(),
            source_name: Some(entry.origin.clone().unwrap_or_else(|| name.clone())),
            source_version: Some(version.clone()),
            ecosystem: Ecosystem::Apk,
            purl,
            arch: entry.arch.clone(),
            layer: Some(context.layer(layer)),
            location: path.clone(),
            dev: false,
            direct: None,
            licenses: entry.license.iter().cloned().collect(),
        });
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTALLED: &[u8] = b"\
C:Q1abc=
P:musl
V:1.1.24-r2
A:x86_64
S:369056
L:MIT
o:musl
t:1584790550

C:Q1def=
P:libcrypto1.1
V:1.1.1g-r0
A:x86_64
L:OpenSSL
o:openssl
";

    #[test]
    fn records_split_on_blank_lines() {
        let entries = parse_installed(INSTALLED).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].name.as_deref(), Some("musl"));
        assert_eq!(entries[0].license.as_deref(), Some("MIT"));
        assert_eq!(entries[1].origin.as_deref(), Some("openssl"));
        assert_eq!(entries[1].version.as_deref(), Some("1.1.1g-r0"));
        assert_eq!(entries[1].line, 10);
    }

    #[test]
    fn line_without_key_is_rejected() {
        assert_eq!(
            parse_installed(b"P:musl\nnot a field\n"),
            Err(ApkError::InvalidLine { line: 2 })
        );
    }
}
