//! Language packages against OSV records.
//!
//! Range evaluation follows the OSV schema's reference algorithm. Events of a range are
//! sorted by version, with `introduced: "0"` first. A version is affected when the last
//! event at or below it is an `introduced`. `last_affected` is inclusive, and `limit`
//! events cap the range from above. `GIT` ranges describe commits and never match a version.

use std::cmp::Ordering;

use cordon_model::{Finding, FindingStatus, Package, Severity, SeverityRating};
use cordon_versions::{compare, Scheme, VersionError};
use cordon_vulndb::{Database, OsvAffected, OsvEvent, OsvRange, OsvRecord};

use crate::{MatchError, MatchResult, SeverityResolver};

const DATA_SOURCE: &str = "osv";

/// Outcome of checking one version against one `affected[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Whether the version is affected.
    pub affected: bool,
    /// Lowest `fixed` event above the version in a range that affects it.
    pub fixed: Option<String>,
    /// Description of the range or list that matched, for the report.
    pub reason: String,
}

pub(crate) fn match_osv(
    db: &Database,
    resolver: &SeverityResolver<'_>,
    package: &Package,
    result: &mut MatchResult,
) -> Result<(), MatchError> {
    let scheme = Scheme::for_ecosystem(package.ecosystem);
    for record in db.osv(package.ecosystem, &package.name)? {
        for affected in &record.affected {
            match evaluate(scheme, &package.version, affected) {
                Ok(verdict) if verdict.affected => {
                    result
                        .findings
                        .push(finding(resolver, &record, affected, package, verdict));
                    break;
                }
                Ok(_) => {}
                Err(error) => result.warnings.push(format!(
                    "skipped {} for {} {}: {error}",
                    record.id, package.name, package.version
                )),
            }
        }
    }
    Ok(())
}

fn finding(
    resolver: &SeverityResolver<'_>,
    record: &OsvRecord,
    affected: &OsvAffected,
    package: &Package,
    verdict: Verdict,
) -> Finding {
    let (severity, severity_source) = rate(resolver, record, affected);
    let status = if verdict.fixed.is_some() {
        FindingStatus::Fixed
    } else {
        FindingStatus::NotFixed
    };
    Finding {
        id: record.id.clone(),
        aliases: record
            .aliases
            .iter()
            .filter(|alias| *alias != &record.id)
            .cloned()
            .collect(),
        package: package.clone(),
        installed_version: package.version.clone(),
        fixed_version: verdict.fixed,
        status,
        severity,
        severity_source,
        data_source: DATA_SOURCE.to_string(),
        layer: package.layer.clone(),
        summary: record.summary.clone(),
        matched_by: verdict.reason,
    }
}

/// Rates an OSV record: the GitHub-style `database_specific.severity` first, then CVSS
/// vectors of the entry and of the record, then CVSS imported for its CVE aliases.
fn rate(
    resolver: &SeverityResolver<'_>,
    record: &OsvRecord,
    affected: &OsvAffected,
) -> (Severity, Option<SeverityRating>) {
    let vectors: Vec<_> = affected
        .severity
        .iter()
        .chain(&record.severity)
        .cloned()
        .collect();
    let best_vector = SeverityResolver::from_osv_vectors(&vectors);

    if let Some(text) = affected.database_severity.as_deref() {
        if let Ok(level) = text.parse::<Severity>() {
            let mut rating = best_vector
                .map(|(_, rating)| rating)
                .unwrap_or(SeverityRating {
                    source: DATA_SOURCE.to_string(),
                    rating: None,
                    cvss_vector: None,
                    cvss_score: None,
                });
            rating.rating = Some(text.to_string());
            return (level, Some(rating));
        }
    }
    if let Some((level, rating)) = best_vector {
        return (level, Some(rating));
    }
    let mut ids: Vec<&str> = vec![record.id.as_str()];
    ids.extend(record.aliases.iter().map(String::as_str));
    match resolver.from_cve_cvss(&ids) {
        Some((level, rating)) => (level, Some(rating)),
        None => (Severity::Unknown, None),
    }
}

/// Checks `version` against the explicit versions and ranges of one `affected[]` entry.
pub(crate) fn evaluate(
    scheme: Scheme,
    version: &str,
    affected: &OsvAffected,
) -> Result<Verdict, VersionError> {
    for listed in &affected.versions {
        if listed == version || compare(scheme, listed, version).ok() == Some(Ordering::Equal) {
            let fixed = lowest_fix_above(scheme, version, &affected.ranges);
            return Ok(Verdict {
                affected: true,
                fixed,
                reason: format!("version {version} is listed as affected"),
            });
        }
    }
    for range in &affected.ranges {
        let range_scheme = match range.kind.as_str() {
            "SEMVER" => Scheme::Semver,
            "ECOSYSTEM" => scheme,
            _ => continue,
        };
        let verdict = evaluate_range(range_scheme, version, range)?;
        if verdict.affected {
            return Ok(verdict);
        }
    }
    Ok(Verdict {
        affected: false,
        fixed: None,
        reason: String::new(),
    })
}

fn evaluate_range(
    scheme: Scheme,
    version: &str,
    range: &OsvRange,
) -> Result<Verdict, VersionError> {
    let not_affected = Verdict {
        affected: false,
        fixed: None,
        reason: String::new(),
    };

    for limit in range
        .events
        .iter()
        .filter_map(|event| event.limit.as_deref())
    {
        if limit != "*" && compare(scheme, version, limit)? != Ordering::Less {
            return Ok(not_affected);
        }
    }

    let events = sorted_events(scheme, &range.events)?;
    let mut affected = false;
    let mut introduced_at = String::new();
    for event in &events {
        if let Some(introduced) = event.introduced.as_deref() {
            if introduced == "0" || compare(scheme, version, introduced)? != Ordering::Less {
                affected = true;
                introduced_at = introduced.to_string();
            }
        } else if let Some(fixed) = event.fixed.as_deref() {
            if compare(scheme, version, fixed)? != Ordering::Less {
                affected = false;
            }
        } else if let Some(last) = event.last_affected.as_deref() {
            if compare(scheme, version, last)? == Ordering::Greater {
                affected = false;
            }
        }
    }
    if !affected {
        return Ok(not_affected);
    }

    let fixed = events
        .iter()
        .filter_map(|event| event.fixed.as_deref())
        .find(|fixed| compare(scheme, version, fixed).ok() == Some(Ordering::Less))
        .map(str::to_string);
    let upper = match (&fixed, last_affected_above(scheme, version, &events)) {
        (Some(fixed), _) => format!(", fixed {fixed}"),
        (None, Some(last)) => format!(", last affected {last}"),
        (None, None) => String::new(),
    };
    let reason = format!("{} range: introduced {introduced_at}{upper}", range.kind);
    Ok(Verdict {
        affected: true,
        fixed,
        reason,
    })
}

fn last_affected_above<'a>(
    scheme: Scheme,
    version: &str,
    events: &'a [&OsvEvent],
) -> Option<&'a str> {
    events
        .iter()
        .filter_map(|event| event.last_affected.as_deref())
        .find(|last| compare(scheme, version, last).ok() != Some(Ordering::Greater))
}

/// Sorts range events by their version; `introduced: "0"` sorts below every version.
fn sorted_events(scheme: Scheme, events: &[OsvEvent]) -> Result<Vec<&OsvEvent>, VersionError> {
    for event in events {
        if let Some(version) = event_version(event).filter(|v| *v != "0" && *v != "*") {
            compare(scheme, version, version)?;
        }
    }
    let order = |a: &OsvEvent, b: &OsvEvent| match (event_version(a), event_version(b)) {
        (Some("0"), Some("0")) => Ordering::Equal,
        (Some("0"), _) => Ordering::Less,
        (_, Some("0")) => Ordering::Greater,
        (Some(x), Some(y)) => compare(scheme, x, y).unwrap_or(Ordering::Equal),
        _ => Ordering::Equal,
    };

    // An insertion sort rather than `slice::sort_by`, because Maven's ordering is not
    // transitive for some qualifier shapes and the standard sort may panic on such input.
    // Ranges have a handful of events, so the quadratic cost does not matter.
    let mut sorted: Vec<&OsvEvent> = Vec::with_capacity(events.len());
    for event in events.iter().filter(|event| event.limit.is_none()) {
        let position = sorted
            .iter()
            .position(|placed| order(event, placed) == Ordering::Less)
            .unwrap_or(sorted.len());
        sorted.insert(position, event);
    }
    Ok(sorted)
}

fn event_version(event: &OsvEvent) -> Option<&str> {
    event
        .introduced
        .as_deref()
        .or(event.fixed.as_deref())
        .or(event.last_affected.as_deref())
        .or(event.limit.as_deref())
}

fn lowest_fix_above(scheme: Scheme, version: &str, ranges: &[OsvRange]) -> Option<String> {
    let mut best: Option<&str> = None;
    for fixed in ranges
        .iter()
        .flat_map(|range| &range.events)
        .filter_map(|e| e.fixed.as_deref())
    {
        if compare(scheme, version, fixed).ok() != Some(Ordering::Less) {
            continue;
        }
        if best.is_none_or(|current| compare(scheme, fixed, current).ok() == Some(Ordering::Less)) {
            best = Some(fixed);
        }
    }
    best.map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, version: &str) -> OsvEvent {
        let mut event = OsvEvent::default();
        let value = Some(version.to_string());
        match kind {
            "introduced" => event.introduced = value,
            "fixed" => event.fixed = value,
            "last_affected" => event.last_affected = value,
            _ => event.limit = value,
        }
        event
    }

    fn affected(kind: &str, events: Vec<OsvEvent>, versions: &[&str]) -> OsvAffected {
        OsvAffected {
            ecosystem: "PyPI".into(),
            name: "pkg".into(),
            purl: None,
            ranges: vec![OsvRange {
                kind: kind.into(),
                events,
            }],
            versions: versions.iter().map(|v| v.to_string()).collect(),
            database_severity: None,
            severity: Vec::new(),
        }
    }

    fn is_affected(entry: &OsvAffected, scheme: Scheme, version: &str) -> bool {
        evaluate(scheme, version, entry)
            .expect("valid versions")
            .affected
    }

    #[test]
    fn introduced_fixed_range_bounds() {
        let entry = affected(
            "ECOSYSTEM",
            vec![event("introduced", "5.1"), event("fixed", "5.3.1")],
            &[],
        );
        assert!(is_affected(&entry, Scheme::Pep440, "5.3"));
        assert!(is_affected(&entry, Scheme::Pep440, "5.1"));
        assert!(!is_affected(&entry, Scheme::Pep440, "5.0.9"));
        assert!(!is_affected(&entry, Scheme::Pep440, "5.3.1"));
        let verdict = evaluate(Scheme::Pep440, "5.3", &entry).expect("valid");
        assert_eq!(verdict.fixed.as_deref(), Some("5.3.1"));
    }

    #[test]
    fn last_affected_is_inclusive() {
        let entry = affected(
            "ECOSYSTEM",
            vec![event("introduced", "0"), event("last_affected", "2.0")],
            &[],
        );
        assert!(is_affected(&entry, Scheme::Pep440, "2.0"));
        assert!(!is_affected(&entry, Scheme::Pep440, "2.0.1"));
        assert_eq!(
            evaluate(Scheme::Pep440, "1.0", &entry)
                .expect("valid")
                .fixed,
            None
        );
    }

    #[test]
    fn several_introduced_fixed_pairs() {
        let events = vec![
            event("fixed", "1.5.0"),
            event("introduced", "2.0.0"),
            event("introduced", "0"),
            event("fixed", "2.3.0"),
        ];
        let entry = affected("SEMVER", events, &[]);
        assert!(is_affected(&entry, Scheme::Semver, "1.0.0"));
        assert!(!is_affected(&entry, Scheme::Semver, "1.6.0"));
        assert!(is_affected(&entry, Scheme::Semver, "2.1.0"));
        assert!(!is_affected(&entry, Scheme::Semver, "2.3.0"));
        assert_eq!(
            evaluate(Scheme::Semver, "2.1.0", &entry)
                .expect("valid")
                .fixed
                .as_deref(),
            Some("2.3.0")
        );
    }

    #[test]
    fn limit_caps_range() {
        let entry = affected(
            "ECOSYSTEM",
            vec![event("introduced", "0"), event("limit", "3.0")],
            &[],
        );
        assert!(is_affected(&entry, Scheme::Pep440, "2.9"));
        assert!(!is_affected(&entry, Scheme::Pep440, "3.0"));
    }

    #[test]
    fn explicit_versions_match() {
        let entry = affected(
            "GIT",
            vec![event("introduced", "abc123")],
            &["1.2.0", "1.3.0"],
        );
        assert!(is_affected(&entry, Scheme::Semver, "1.3.0"));
        assert!(!is_affected(&entry, Scheme::Semver, "1.4.0"));
    }

    #[test]
    fn git_ranges_never_match() {
        let entry = affected(
            "GIT",
            vec![event("introduced", "0"), event("fixed", "deadbeef")],
            &[],
        );
        assert!(!is_affected(&entry, Scheme::Semver, "1.0.0"));
    }
}
