//! Merging findings of one package whose advisories alias each other.
//!
//! Feeds publish the same vulnerability under several ids: osv.dev's PyPI archive has
//! both the PYSEC and the GHSA record for a CVE, and RustSec sometimes has two records
//! for one CVE. Findings of the same package (same purl, location and installed version)
//! whose ids or aliases overlap, directly or through a chain of findings, become one.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use cordon_model::{Finding, FindingStatus};
use cordon_versions::{compare, Scheme};

/// Merges findings that share an id or alias, per package. Findings without an overlap
/// are returned unchanged.
pub(crate) fn merge_aliased(findings: Vec<Finding>) -> Vec<Finding> {
    let mut by_package: BTreeMap<(String, String, String), Vec<Finding>> = BTreeMap::new();
    for finding in findings {
        let key = (
            finding.package.purl.clone(),
            finding.package.location.clone(),
            finding.installed_version.clone(),
        );
        by_package.entry(key).or_default().push(finding);
    }

    let mut merged = Vec::new();
    for (_, group) in by_package {
        for component in connected_components(&group) {
            let members: Vec<&Finding> = component.iter().map(|&index| &group[index]).collect();
            merged.extend(merge(&members));
        }
    }
    merged
}

/// Groups the indices of `findings` whose id sets overlap, transitively (union-find).
fn connected_components(findings: &[Finding]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..findings.len()).collect();
    fn root(parent: &mut [usize], mut index: usize) -> usize {
        while parent[index] != index {
            parent[index] = parent[parent[index]];
            index = parent[index];
        }
        index
    }

    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (index, finding) in findings.iter().enumerate() {
        for id in std::iter::once(&finding.id).chain(&finding.aliases) {
            match owner.get(id.as_str()) {
                Some(&other) => {
                    let (a, b) = (root(&mut parent, index), root(&mut parent, other));
                    parent[a] = b;
                }
                None => {
                    owner.insert(id.as_str(), index);
                }
            }
        }
    }

    let mut components: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for index in 0..findings.len() {
        let root = root(&mut parent, index);
        components.entry(root).or_default().push(index);
    }
    components.into_values().collect()
}

/// Builds one finding from findings of the same vulnerability.
///
/// The primary id comes from [`primary_id`] and every other id becomes an alias. The level
/// and rating are the highest rated member's, the fixed version is the lowest any member
/// names, and every member's data source and match reason are kept.
fn merge(members: &[&Finding]) -> Option<Finding> {
    let (first, rest) = members.split_first()?;
    if rest.is_empty() {
        return Some((*first).clone());
    }

    let mut merged = highest_rated(members).clone();
    let ids: BTreeSet<&str> = members
        .iter()
        .flat_map(|member| std::iter::once(&member.id).chain(&member.aliases))
        .map(String::as_str)
        .collect();
    let primary = primary_id(&ids);
    merged.aliases = ids
        .iter()
        .filter(|id| **id != primary)
        .map(|id| (*id).to_owned())
        .collect();
    merged.id = primary.to_owned();

    if let Some(fixing) = lowest_fix(members) {
        merged.fixed_version = fixing.fixed_version.clone();
        merged.status = FindingStatus::Fixed;
    }
    if merged.summary.is_none() {
        merged.summary = members.iter().find_map(|member| member.summary.clone());
    }
    let sources: BTreeSet<&str> = members
        .iter()
        .map(|member| member.data_source.as_str())
        .collect();
    merged.data_source = sources.into_iter().collect::<Vec<_>>().join(", ");
    merged.matched_by = members
        .iter()
        .map(|member| format!("{}: {}", member.id, member.matched_by))
        .collect::<Vec<_>>()
        .join("; ");
    Some(merged)
}

/// Picks the id a merged finding is reported under: the lowest CVE id, else the lowest
/// GHSA id, else the lowest id. Trivy's database keys a vulnerability the same way (the
/// CVE when an advisory has one, else the GHSA id).
fn primary_id<'a>(ids: &BTreeSet<&'a str>) -> &'a str {
    let lowest_with = |prefix: &str| ids.iter().copied().find(|id| id.starts_with(prefix));
    lowest_with("CVE-")
        .or_else(|| lowest_with("GHSA-"))
        .or_else(|| ids.iter().copied().next())
        .unwrap_or_default()
}

/// Returns the member with the highest level; the first one among equals.
fn highest_rated<'a>(members: &[&'a Finding]) -> &'a Finding {
    let mut best = members[0];
    for member in &members[1..] {
        if member.severity > best.severity {
            best = member;
        }
    }
    best
}

/// Returns the member whose fixed version is the lowest, compared with the package's
/// version scheme. Versions the scheme cannot compare keep the earlier member.
fn lowest_fix<'a>(members: &[&'a Finding]) -> Option<&'a Finding> {
    let scheme = Scheme::for_ecosystem(members[0].package.ecosystem);
    let mut best: Option<&Finding> = None;
    for member in members
        .iter()
        .filter(|member| member.fixed_version.is_some() && member.status == FindingStatus::Fixed)
    {
        let (Some(candidate), Some(current)) = (
            member.fixed_version.as_deref(),
            best.and_then(|best| best.fixed_version.as_deref()),
        ) else {
            best = best.or(Some(member));
            continue;
        };
        if compare(scheme, candidate, current).ok() == Some(Ordering::Less) {
            best = Some(member);
        }
    }
    best
}
