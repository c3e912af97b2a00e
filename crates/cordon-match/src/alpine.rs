//! Alpine packages against the Alpine secdb.
//!
//! The secdb lists, per branch and origin package, the version that fixed each CVE. A CVE
//! listed under the key `0` does not affect the branch (Alpine's marker for rejected or
//! not-applicable CVEs), so it never matches.

use cordon_model::{Distro, Finding, FindingStatus, Package, Severity};
use cordon_versions::Scheme;
use cordon_vulndb::{AlpineRecord, Database};

use crate::{match_by_source, MatchError, MatchResult, SeverityResolver};

const DATA_SOURCE: &str = "alpine-secdb";

/// Returns the secdb branch (`3.11`) of an Alpine release (`3.11.6`).
pub(crate) fn alpine_branch(distro: &Distro) -> Option<String> {
    let version = distro.version_id.as_deref()?;
    let mut parts = version.split('.');
    let major = parts.next()?;
    let minor = parts.next()?;
    Some(format!("{major}.{minor}"))
}

pub(crate) fn match_alpine(
    db: &Database,
    resolver: &SeverityResolver<'_>,
    distro: Option<&Distro>,
    packages: &[&Package],
    result: &mut MatchResult,
) -> Result<(), MatchError> {
    let Some(branch) = distro.filter(|d| d.id == "alpine").and_then(alpine_branch) else {
        let reason = "the Alpine release could not be detected";
        result.warn_unmatched(packages.len(), "apk", reason);
        return Ok(());
    };

    if !db.has_alpine_branch(&branch)? {
        let reason = format!("the database has no Alpine secdb data for branch {branch}");
        result.warn_unmatched(packages.len(), "apk", &reason);
        return Ok(());
    }

    match_by_source(
        packages,
        result,
        |origin| db.alpine(&branch, origin),
        |record, package, result| assess(resolver, record, package, &branch, result),
    )
}

fn assess(
    resolver: &SeverityResolver<'_>,
    record: &AlpineRecord,
    package: &Package,
    branch: &str,
    result: &mut MatchResult,
) -> Option<Finding> {
    if record.fixed_version.trim() == "0" {
        return None;
    }
    let (installed, fixed) = (&package.version, &record.fixed_version);
    if !result.is_below_fixed(Scheme::Apk, installed, fixed, &record.id, package) {
        return None;
    }

    let (severity, severity_source) = match resolver.from_cve_cvss(&[record.id.as_str()]) {
        Some((level, rating)) => (level, Some(rating)),
        None => (Severity::Unknown, None),
    };
    Some(Finding {
        id: record.id.clone(),
        aliases: Vec::new(),
        package: package.clone(),
        installed_version: package.version.clone(),
        fixed_version: Some(record.fixed_version.clone()),
        status: FindingStatus::Fixed,
        severity,
        severity_source,
        data_source: DATA_SOURCE.to_string(),
        layer: package.layer.clone(),
        summary: None,
        matched_by: format!(
            "{} {} < fixed {} in Alpine {branch}/{}",
            record.package, package.version, record.fixed_version, record.repository
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_from_point_release() {
        let distro = Distro {
            id: "alpine".into(),
            version_id: Some("3.11.6".into()),
            ..Distro::default()
        };
        assert_eq!(alpine_branch(&distro).as_deref(), Some("3.11"));
    }

    #[test]
    fn branch_needs_minor_version() {
        let distro = Distro {
            id: "alpine".into(),
            version_id: Some("3".into()),
            ..Distro::default()
        };
        assert_eq!(alpine_branch(&distro), None);
    }
}
