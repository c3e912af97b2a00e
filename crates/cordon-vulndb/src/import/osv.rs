//! OSV importer: an `all.zip` as osv.dev publishes per ecosystem, a directory tree of
//! `*.json` records, or a single record file.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::{null_as_default, Import};
use crate::input::{for_each_document, Document};
use crate::record::{OsvAffected, OsvRange, OsvRecord, OsvSeverity};
use crate::store::{normalize_package_name, Writer};
use crate::DbError;

#[derive(Deserialize)]
struct RawRecord {
    id: String,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    aliases: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    severity: Vec<OsvSeverity>,
    #[serde(default, deserialize_with = "null_as_default")]
    affected: Vec<RawAffected>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default, deserialize_with = "null_as_default")]
    ranges: Vec<OsvRange>,
    #[serde(default, deserialize_with = "null_as_default")]
    versions: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    severity: Vec<OsvSeverity>,
    #[serde(default)]
    ecosystem_specific: Option<Value>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
    #[serde(default)]
    purl: Option<String>,
}

/// Imports every OSV record of `path`.
pub(crate) fn import(
    path: &Path,
    import: &mut Import<'_>,
    writer: &mut Writer<'_>,
) -> Result<(), DbError> {
    let limits = *import.limits;
    for_each_document(path, &[".json"], &limits, |document| {
        import_document(&document, import, writer)
    })
}

fn import_document(
    document: &Document<'_>,
    import: &mut Import<'_>,
    writer: &mut Writer<'_>,
) -> Result<(), DbError> {
    let raw: RawRecord = match serde_json::from_slice(document.bytes) {
        Ok(raw) => raw,
        Err(error) => {
            return import.skip(DbError::InvalidInput {
                what: format!("OSV record {}", document.member),
                location: import.location.to_owned(),
                reason: error.to_string(),
            })
        }
    };
    if raw.withdrawn.is_some() {
        import.withdrawn += 1;
        return Ok(());
    }
    import.saw_update_time(raw.modified.as_deref());

    let record_severity = database_severity(raw.database_specific.as_ref());
    let mut groups: Vec<(String, String, Vec<OsvAffected>)> = Vec::new();
    for affected in raw.affected {
        // Entries without a package only carry GIT ranges of a repository; no installed
        // package can match them.
        let Some(package) = affected.package else {
            continue;
        };
        let normalized = normalize_package_name(&package.ecosystem, &package.name);
        let entry = OsvAffected {
            database_severity: database_severity(affected.database_specific.as_ref())
                .or_else(|| record_severity.clone()),
            severity: affected_severity(
                affected.severity,
                affected.ecosystem_specific.as_ref(),
                affected.database_specific.as_ref(),
            ),
            ecosystem: package.ecosystem,
            name: package.name,
            purl: package.purl,
            ranges: affected.ranges,
            versions: affected.versions,
        };
        match groups
            .iter_mut()
            .find(|(ecosystem, name, _)| *ecosystem == entry.ecosystem && *name == normalized)
        {
            Some((_, _, entries)) => entries.push(entry),
            None => groups.push((entry.ecosystem.clone(), normalized, vec![entry])),
        }
    }

    let summary = summary(raw.summary.as_deref(), raw.details.as_deref());
    for (ecosystem, name, affected) in groups {
        let record = OsvRecord {
            id: raw.id.clone(),
            aliases: raw.aliases.clone(),
            summary: summary.clone(),
            severity: raw.severity.clone(),
            affected,
            source: import.name.to_owned(),
        };
        writer.insert_osv(&ecosystem, &name, &record)?;
    }
    import.records += 1;
    Ok(())
}

/// Returns `summary`, or the first non-empty line of `details`.
fn summary(summary: Option<&str>, details: Option<&str>) -> Option<String> {
    let summary = summary.map(str::trim).filter(|text| !text.is_empty());
    let first_line = || {
        details?
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
    };
    summary.or_else(first_line).map(str::to_owned)
}

/// Returns `database_specific.severity` when it is a string (GHSA `HIGH`, `MODERATE`, ...).
fn database_severity(database_specific: Option<&Value>) -> Option<String> {
    database_specific?
        .get("severity")?
        .as_str()
        .map(str::to_owned)
}

/// Collects the affected-level severities: `affected[].severity[]` as published, then a
/// CVSS vector in `ecosystem_specific.severity` or `database_specific.cvss` (RustSec).
fn affected_severity(
    mut published: Vec<OsvSeverity>,
    ecosystem_specific: Option<&Value>,
    database_specific: Option<&Value>,
) -> Vec<OsvSeverity> {
    let extra = [
        ecosystem_specific.and_then(|value| value.get("severity")),
        database_specific.and_then(|value| value.get("cvss")),
    ];
    for score in extra.into_iter().flatten().filter_map(Value::as_str) {
        let kind = vector_kind(score);
        if !published.iter().any(|severity| severity.score == score) {
            published.push(OsvSeverity {
                kind: kind.to_owned(),
                score: score.to_owned(),
            });
        }
    }
    published
}

/// Names a severity text by the OSV `severity[].type` it corresponds to.
fn vector_kind(score: &str) -> &'static str {
    if score.starts_with("CVSS:4") {
        "CVSS_V4"
    } else if score.starts_with("CVSS:3") {
        "CVSS_V3"
    } else if score.starts_with("AV:") {
        "CVSS_V2"
    } else {
        // A rating word such as `high`, not a vector.
        "ECOSYSTEM_SPECIFIC"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_falls_back_to_first_details_line() {
        assert_eq!(
            summary(None, Some("\n  First line.\nSecond")),
            Some("First line.".to_owned())
        );
        assert_eq!(
            summary(Some(" "), Some("Details")),
            Some("Details".to_owned())
        );
        assert_eq!(
            summary(Some("Title"), Some("Details")),
            Some("Title".to_owned())
        );
        assert_eq!(summary(None, None), None);
    }

    #[test]
    fn vector_kind_follows_prefix() {
        assert_eq!(
            vector_kind("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            "CVSS_V3"
        );
        assert_eq!(vector_kind("CVSS:4.0/AV:N"), "CVSS_V4");
        assert_eq!(vector_kind("AV:N/AC:L/Au:N/C:P/I:P/A:P"), "CVSS_V2");
    }
}
