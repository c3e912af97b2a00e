//! Severity on Clair's scale from each source's own rating, else from CVSS.

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;

use cordon_model::{Severity, SeverityRating};
use cordon_vulndb::{Database, OsvSeverity};

/// Computes a CVSS base score from a vector string of any CVSS version.
///
/// Vectors with a `CVSS:3.x/` or `CVSS:4.0/` prefix are parsed as such; a vector with no
/// prefix is tried as CVSS v2, whose vectors carry none. Returns `None` for a vector the
/// `cvss` crate rejects.
pub fn rate_cvss_vector(vector: &str) -> Option<f64> {
    let vector = vector.trim();
    if vector.starts_with("CVSS:") {
        return cvss::Cvss::from_str(vector)
            .ok()
            .map(|parsed| parsed.score());
    }
    cvss::v2::Vector::from_str(vector)
        .ok()
        .map(|parsed| parsed.score().value())
}

/// Rates vulnerabilities, falling back to CVSS data imported from CVE JSON 5 records.
///
/// Lookups of the CVSS table are cached per CVE because one CVE often affects many binary
/// packages built from the same source.
pub struct SeverityResolver<'db> {
    db: &'db Database,
    cache: RefCell<HashMap<String, Option<SeverityRating>>>,
}

impl<'db> SeverityResolver<'db> {
    /// Creates a resolver over `db`.
    pub fn new(db: &'db Database) -> SeverityResolver<'db> {
        SeverityResolver {
            db,
            cache: RefCell::new(HashMap::new()),
        }
    }

    /// Maps a Debian tracker urgency to a level.
    ///
    /// Trailing `*` marks (the tracker's "uncertain" flag) are ignored. `not yet
    /// assigned`, `end-of-life` and unknown texts give `None`, so the caller falls back to
    /// CVSS.
    pub fn from_debian_urgency(urgency: &str) -> Option<Severity> {
        match urgency.trim().trim_end_matches('*').trim() {
            "unimportant" => Some(Severity::Negligible),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            _ => None,
        }
    }

    /// Rates an id and its aliases from imported CVSS data (NVD, CVE JSON 5), trying `id`
    /// first and then every alias that is a CVE, and skipping CVEs whose data has no
    /// usable score.
    pub fn from_cve_cvss(&self, ids: &[&str]) -> Option<(Severity, SeverityRating)> {
        ids.iter()
            .filter(|id| id.starts_with("CVE-"))
            .filter_map(|id| self.cached_cvss(id))
            .find_map(|rating| {
                let score = rating.cvss_score?;
                Some((Severity::from_cvss_score(score), rating))
            })
    }

    /// Rates OSV `severity[]` entries, preferring the newest CVSS version.
    pub fn from_osv_vectors(entries: &[OsvSeverity]) -> Option<(Severity, SeverityRating)> {
        let preference = ["CVSS_V4", "CVSS_V3", "CVSS_V2"];
        for kind in preference {
            for entry in entries.iter().filter(|entry| entry.kind == kind) {
                if let Some(score) = rate_cvss_vector(&entry.score) {
                    let rating = SeverityRating {
                        source: "osv".to_string(),
                        rating: None,
                        cvss_vector: Some(entry.score.clone()),
                        cvss_score: Some(score),
                    };
                    return Some((Severity::from_cvss_score(score), rating));
                }
            }
        }
        None
    }

    fn cached_cvss(&self, cve: &str) -> Option<SeverityRating> {
        if let Some(cached) = self.cache.borrow().get(cve) {
            return cached.clone();
        }
        let rating = match self.db.cvss(cve) {
            Ok(Some(record)) => {
                let score = record.score.or_else(|| rate_cvss_vector(&record.vector));
                Some(SeverityRating {
                    source: record.source,
                    rating: None,
                    cvss_vector: Some(record.vector),
                    cvss_score: score,
                })
            }
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(advisory.id = cve, %error, "CVSS lookup failed");
                None
            }
        };
        self.cache
            .borrow_mut()
            .insert(cve.to_string(), rating.clone());
        rating
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_v3_vector_scores() {
        let score = rate_cvss_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        assert_eq!(score, Some(9.8));
    }

    #[test]
    fn cvss_v2_vector_without_prefix_scores() {
        assert_eq!(rate_cvss_vector("AV:N/AC:L/Au:N/C:P/I:P/A:P"), Some(7.5));
    }

    #[test]
    fn invalid_vector_has_no_score() {
        assert_eq!(rate_cvss_vector("CVSS:3.1/AV:X"), None);
        assert_eq!(rate_cvss_vector(""), None);
    }

    #[test]
    fn debian_urgency_levels() {
        assert_eq!(
            SeverityResolver::from_debian_urgency("medium**"),
            Some(Severity::Medium)
        );
        assert_eq!(
            SeverityResolver::from_debian_urgency("unimportant"),
            Some(Severity::Negligible)
        );
        assert_eq!(
            SeverityResolver::from_debian_urgency("not yet assigned"),
            None
        );
        assert_eq!(SeverityResolver::from_debian_urgency("end-of-life"), None);
    }
}
