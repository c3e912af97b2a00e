//! Debian packages against the Debian Security Tracker.
//!
//! The tracker is keyed by source package, so binaries are grouped by source and the
//! tracker's fixed version is compared with the source version (`Source: name (version)`),
//! never with the binary version, which can differ (`postgresql-client 13+225` is built
//! from `postgresql-common 225`).

use cordon_model::{Distro, Finding, FindingStatus, Package, Severity, SeverityRating};
use cordon_versions::Scheme;
use cordon_vulndb::{Database, DebianRecord};

use crate::{match_by_source, MatchError, MatchResult, SeverityResolver};

const DATA_SOURCE: &str = "debian-tracker";

/// Returns the codename of a Debian release from os-release data.
pub(crate) fn debian_codename(distro: &Distro) -> Option<String> {
    if let Some(codename) = distro.codename.as_deref().filter(|c| !c.is_empty()) {
        return Some(codename.to_string());
    }
    let major = distro.version_id.as_deref()?.split('.').next()?;
    let codename = match major {
        "7" => "wheezy",
        "8" => "jessie",
        "9" => "stretch",
        "10" => "buster",
        "11" => "bullseye",
        "12" => "bookworm",
        "13" => "trixie",
        "14" => "forky",
        _ => return None,
    };
    Some(codename.to_string())
}

pub(crate) fn match_debian(
    db: &Database,
    resolver: &SeverityResolver<'_>,
    distro: Option<&Distro>,
    packages: &[&Package],
    result: &mut MatchResult,
) -> Result<(), MatchError> {
    let Some(release) = distro
        .filter(|d| d.id == "debian")
        .and_then(debian_codename)
    else {
        let os = distro.map_or("an unknown OS".to_string(), |d| format!("OS `{}`", d.id));
        let reason =
            format!("Cordon has Debian Security Tracker data only, and the image runs {os}");
        result.warn_unmatched(packages.len(), "dpkg", &reason);
        return Ok(());
    };

    if !db.has_debian_release(&release)? {
        let reason = format!("the database has no Debian Security Tracker data for {release}");
        result.warn_unmatched(packages.len(), "dpkg", &reason);
        return Ok(());
    }

    match_by_source(
        packages,
        result,
        |source| db.debian(&release, source),
        |record, package, result| assess(resolver, record, package, &release, result),
    )
}

fn assess(
    resolver: &SeverityResolver<'_>,
    record: &DebianRecord,
    package: &Package,
    release: &str,
    result: &mut MatchResult,
) -> Option<Finding> {
    let installed = package.source_version_or_version();
    let fixed = record.fixed_version.as_deref().filter(|v| !v.is_empty());
    if fixed == Some("0") {
        return None;
    }

    let (status, fixed_version, matched_by) = match (record.status.as_str(), fixed) {
        ("resolved" | "open", Some(fixed)) => {
            if !result.is_below_fixed(Scheme::Dpkg, installed, fixed, &record.id, package) {
                return None;
            }
            let matched_by = format!(
                "source {} {installed} < fixed {fixed} in {release}",
                record.package
            );
            (FindingStatus::Fixed, Some(fixed.to_string()), matched_by)
        }
        ("resolved", None) => return None,
        ("open", None) => {
            let status = open_status(record);
            let matched_by = format!("source {} is {} in {release}", record.package, status);
            (status, None, matched_by)
        }
        ("undetermined", _) => {
            let matched_by = format!("source {} is undetermined in {release}", record.package);
            (FindingStatus::Undetermined, None, matched_by)
        }
        (other, _) => {
            result.warnings.push(format!(
                "unknown Debian tracker status `{other}` for {} in {}; reported as undetermined",
                record.id, record.package
            ));
            let matched_by = format!("source {} has tracker status `{other}`", record.package);
            (FindingStatus::Undetermined, None, matched_by)
        }
    };

    let (severity, severity_source) = rate(resolver, record);
    Some(Finding {
        id: record.id.clone(),
        aliases: Vec::new(),
        package: package.clone(),
        installed_version: installed.to_string(),
        fixed_version,
        status,
        severity,
        severity_source,
        data_source: DATA_SOURCE.to_string(),
        layer: package.layer.clone(),
        summary: record.description.clone().filter(|d| d != &record.id),
        matched_by,
    })
}

/// Maps an open tracker entry to a status from its urgency and `nodsa` fields.
fn open_status(record: &DebianRecord) -> FindingStatus {
    let urgency = record
        .urgency
        .as_deref()
        .unwrap_or("")
        .trim_end_matches('*');
    if urgency == "end-of-life" {
        return FindingStatus::EndOfLife;
    }
    match record.nodsa_reason.as_deref() {
        Some("ignored") => FindingStatus::WillNotFix,
        Some("postponed") => FindingStatus::Postponed,
        _ if record.nodsa.is_some() => FindingStatus::NoDsa,
        _ => FindingStatus::NotFixed,
    }
}

fn rate(
    resolver: &SeverityResolver<'_>,
    record: &DebianRecord,
) -> (Severity, Option<SeverityRating>) {
    let urgency = record.urgency.as_deref().unwrap_or("");
    if let Some(level) = SeverityResolver::from_debian_urgency(urgency) {
        let rating = SeverityRating {
            source: DATA_SOURCE.to_string(),
            rating: Some(urgency.to_string()),
            cvss_vector: None,
            cvss_score: None,
        };
        return (level, Some(rating));
    }
    if let Some((level, mut rating)) = resolver.from_cve_cvss(&[record.id.as_str()]) {
        if !urgency.is_empty() {
            rating.rating = Some(format!("{DATA_SOURCE} urgency: {urgency}"));
        }
        return (level, Some(rating));
    }
    let rating = (!urgency.is_empty()).then(|| SeverityRating {
        source: DATA_SOURCE.to_string(),
        rating: Some(urgency.to_string()),
        cvss_vector: None,
        cvss_score: None,
    });
    (Severity::Unknown, rating)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codename_from_version_id() {
        let distro = Distro {
            id: "debian".into(),
            version_id: Some("11".into()),
            ..Distro::default()
        };
        assert_eq!(debian_codename(&distro).as_deref(), Some("bullseye"));
    }

    #[test]
    fn codename_field_wins() {
        let distro = Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            codename: Some("bookworm".into()),
            pretty_name: None,
        };
        assert_eq!(debian_codename(&distro).as_deref(), Some("bookworm"));
    }

    fn open_record(urgency: &str, nodsa: Option<&str>, reason: Option<&str>) -> DebianRecord {
        DebianRecord {
            id: "CVE-2020-0001".into(),
            package: "pkg".into(),
            release: "bullseye".into(),
            status: "open".into(),
            fixed_version: None,
            urgency: Some(urgency.into()),
            nodsa: nodsa.map(str::to_string),
            nodsa_reason: reason.map(str::to_string),
            description: None,
            source: "test".into(),
        }
    }

    #[test]
    fn open_statuses_are_kept() {
        assert_eq!(
            open_status(&open_record("low", None, None)),
            FindingStatus::NotFixed
        );
        assert_eq!(
            open_status(&open_record("end-of-life", None, None)),
            FindingStatus::EndOfLife
        );
        assert_eq!(
            open_status(&open_record("low", Some("Minor issue"), None)),
            FindingStatus::NoDsa
        );
        assert_eq!(
            open_status(&open_record("low", Some("Minor issue"), Some("ignored"))),
            FindingStatus::WillNotFix
        );
        assert_eq!(
            open_status(&open_record("low", Some(""), Some("postponed"))),
            FindingStatus::Postponed
        );
    }
}
