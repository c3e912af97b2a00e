//! Vulnerability matching: cataloged packages × advisory database → findings.
//!
//! Each package is matched only against the data source of its own ecosystem. Debian
//! packages go against the Debian Security Tracker (by source package and release
//! codename), Alpine packages against the Alpine secdb (by origin and branch), and
//! language packages against OSV records. Vendor statuses are kept as [`FindingStatus`] values; only "not
//! affected" and "fixed at or below the installed version" drop a record.

#![forbid(unsafe_code)]

mod alpine;
mod debian;
mod merge;
mod osv;
mod severity;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use cordon_model::{Distro, Ecosystem, Finding, FindingStatus, Package};
use cordon_versions::{compare, Scheme};
use cordon_vulndb::{Database, DbError};

pub use severity::{rate_cvss_vector, SeverityResolver};

/// Errors that stop matching altogether.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// The database could not be queried.
    #[error(transparent)]
    Database(#[from] DbError),
}

/// Findings and the problems met while matching.
///
/// Findings of one package whose advisories share an id or alias, directly or through
/// other findings, are merged into one finding. It is reported under the lowest CVE id of
/// the group (else the lowest GHSA id, else the lowest id) and lists every other id as an
/// alias. It takes the highest rated member's level and the lowest fixed version any
/// member names, and joins the members' data sources and match reasons.
#[derive(Debug, Default)]
pub struct MatchResult {
    /// Findings, sorted by severity (most severe first), then id and package.
    pub findings: Vec<Finding>,
    /// Non-fatal problems, such as versions no scheme could parse or an OS release the
    /// database has no data for.
    pub warnings: Vec<String>,
}

impl MatchResult {
    /// Records that `count` packages of package manager `kind` (`dpkg`, `apk`) were not
    /// matched, and why.
    fn warn_unmatched(&mut self, count: usize, kind: &str, reason: &str) {
        self.warnings.push(format!(
            "{count} {kind} packages were not matched: {reason}"
        ));
    }

    /// Returns true when `installed` is below the `fixed` version of advisory
    /// `advisory_id` under `scheme`. A version the scheme cannot parse skips the advisory
    /// for `package` with a warning.
    fn is_below_fixed(
        &mut self,
        scheme: Scheme,
        installed: &str,
        fixed: &str,
        advisory_id: &str,
        package: &Package,
    ) -> bool {
        match compare(scheme, installed, fixed) {
            Ok(ordering) => ordering == Ordering::Less,
            Err(error) => {
                self.warnings.push(format!(
                    "skipped {advisory_id} for {}: {error}",
                    package.name
                ));
                false
            }
        }
    }
}

/// Matches `packages` of an image whose OS is `distro` against `db`.
pub fn match_packages(
    db: &Database,
    distro: Option<&Distro>,
    packages: &[Package],
) -> Result<MatchResult, MatchError> {
    let mut result = MatchResult::default();
    let resolver = SeverityResolver::new(db);

    let debian: Vec<&Package> = packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Deb)
        .collect();
    if !debian.is_empty() {
        debian::match_debian(db, &resolver, distro, &debian, &mut result)?;
    }

    let alpine: Vec<&Package> = packages
        .iter()
        .filter(|p| p.ecosystem == Ecosystem::Apk)
        .collect();
    if !alpine.is_empty() {
        alpine::match_alpine(db, &resolver, distro, &alpine, &mut result)?;
    }

    let language: Vec<&Package> = packages
        .iter()
        .filter(|p| !matches!(p.ecosystem, Ecosystem::Deb | Ecosystem::Apk))
        .collect();
    let mut ecosystems: BTreeMap<Ecosystem, usize> = BTreeMap::new();
    for package in &language {
        *ecosystems.entry(package.ecosystem).or_default() += 1;
    }
    for (ecosystem, count) in ecosystems {
        if !db.has_osv_ecosystem(ecosystem.osv_name())? {
            result.warnings.push(format!(
                "{count} {} packages were not matched: the database has no OSV records for {}",
                ecosystem.purl_type(),
                ecosystem.osv_name()
            ));
        }
    }
    for package in language {
        osv::match_osv(db, &resolver, package, &mut result)?;
    }

    dedup_and_sort(&mut result.findings);
    Ok(result)
}

/// Groups `packages` by source package (`Source:` for dpkg, `origin` for apk), loads the
/// advisory records of each source once with `load`, and pushes the finding `assess`
/// returns for each record and binary package built from that source.
fn match_by_source<R>(
    packages: &[&Package],
    result: &mut MatchResult,
    mut load: impl FnMut(&str) -> Result<Vec<R>, DbError>,
    mut assess: impl FnMut(&R, &Package, &mut MatchResult) -> Option<Finding>,
) -> Result<(), MatchError> {
    let mut by_source: BTreeMap<&str, Vec<&Package>> = BTreeMap::new();
    for package in packages {
        by_source
            .entry(package.source_name_or_name())
            .or_default()
            .push(package);
    }

    for (source, binaries) in by_source {
        let records = load(source)?;
        for record in &records {
            for package in &binaries {
                if let Some(finding) = assess(record, package, result) {
                    result.findings.push(finding);
                }
            }
        }
    }
    Ok(())
}

/// Drops findings `ignore_unfixed` excludes: those without a fixed version.
pub fn drop_unfixed(findings: &mut Vec<Finding>) {
    findings.retain(|finding| {
        finding.fixed_version.is_some() && finding.status == FindingStatus::Fixed
    });
}

fn dedup_and_sort(findings: &mut Vec<Finding>) {
    let mut unique: BTreeMap<(String, String, String, String), Finding> = BTreeMap::new();
    for finding in findings.drain(..) {
        let key = (
            finding.id.clone(),
            finding.package.purl.clone(),
            finding.package.location.clone(),
            finding.data_source.clone(),
        );
        unique.entry(key).or_insert(finding);
    }
    findings.extend(merge::merge_aliased(unique.into_values().collect()));
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.name.cmp(&b.package.name))
            .then_with(|| a.package.location.cmp(&b.package.location))
    });
}
