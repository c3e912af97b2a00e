//! Splits findings into those the gate counts and those an ignore entry or a VEX
//! statement suppresses.

use cordon_model::{Finding, MalwareFinding, Severity};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::ignore::{IgnoreEntry, IgnoreFile};
use crate::vex::{VexDocument, VexStatement, VexStatus};

/// The ignore entry or VEX statement that suppressed a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum Suppression {
    /// An entry of an ignore file.
    IgnoreFile {
        /// The ignore file.
        file: String,
        /// Position of the entry in the file, 1-based.
        entry: usize,
        /// The entry's `id`.
        id: String,
        /// The entry's `reason`.
        reason: String,
        /// The entry's last day, `YYYY-MM-DD`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires: Option<String>,
    },
    /// A statement of an OpenVEX document.
    Vex {
        /// The VEX document.
        file: String,
        /// Position of the statement in the document, 1-based.
        statement: usize,
        /// The statement's `vulnerability.name`.
        vulnerability: String,
        /// The statement's status (`not_affected` or `fixed`).
        status: VexStatus,
        /// The product package URL that named the package.
        product: String,
        /// The justification label.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        justification: Option<String>,
        /// The free-form impact statement.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        impact_statement: Option<String>,
    },
}

/// A finding left out of the gate, with what suppressed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum IgnoredFinding {
    /// A package vulnerability.
    Vulnerability {
        /// The finding as the matcher reported it.
        finding: Box<Finding>,
        /// The ignore entry or VEX statement.
        suppressed_by: Suppression,
    },
    /// A malware finding.
    Malware {
        /// The finding as the malware scanner reported it.
        finding: Box<MalwareFinding>,
        /// The ignore entry.
        suppressed_by: Suppression,
    },
}

impl IgnoredFinding {
    /// Returns the severity of the suppressed finding.
    pub fn severity(&self) -> Severity {
        match self {
            IgnoredFinding::Vulnerability { finding, .. } => finding.severity,
            IgnoredFinding::Malware { finding, .. } => finding.severity,
        }
    }
}

/// Findings after suppression.
#[derive(Debug, Clone, Default)]
pub struct Suppressed {
    /// Vulnerability findings still reported and counted.
    pub findings: Vec<Finding>,
    /// Malware findings still reported and counted.
    pub malware: Vec<MalwareFinding>,
    /// Suppressed findings, vulnerabilities first, each in input order.
    pub ignored: Vec<IgnoredFinding>,
    /// One line per expired ignore entry, and per VEX statement without products.
    pub warnings: Vec<String>,
}

/// Ignore files and VEX documents that apply to a scan.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    /// Ignore files, applied in order; the first matching entry is recorded.
    pub ignore_files: Vec<IgnoreFile>,
    /// VEX documents; for each finding the latest statement that names it decides.
    pub vex: Vec<VexDocument>,
}

/// A VEX statement with the document it came from.
struct Located<'a> {
    file: &'a VexDocument,
    statement: &'a VexStatement,
    order: usize,
}

impl Suppressions {
    /// Tells whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.ignore_files.is_empty() && self.vex.is_empty()
    }

    /// Splits findings into counted and suppressed ones. Entries whose `expires` day is
    /// before `today` no longer apply and produce a warning.
    ///
    /// An ignore entry wins over a VEX statement. Among VEX statements that name the
    /// finding's vulnerability and package, the one with the latest timestamp decides, and
    /// a statement without one inherits its document's. On equal or missing timestamps,
    /// the later one in command-line and document order decides. Only
    /// `not_affected` and `fixed` suppress.
    pub fn apply(
        &self,
        findings: Vec<Finding>,
        malware: Vec<MalwareFinding>,
        today: Date,
    ) -> Suppressed {
        let mut result = Suppressed::default();
        let mut active: Vec<(&IgnoreFile, usize, &IgnoreEntry)> = Vec::new();
        for file in &self.ignore_files {
            for (index, entry) in file.entries.iter().enumerate() {
                if entry.is_expired(today) {
                    result.warnings.push(format!(
                        "ignore entry {} ({}) in `{}` expired on {} and no longer applies",
                        index + 1,
                        entry.id,
                        file.path.display(),
                        entry.expires.map(|day| day.to_string()).unwrap_or_default()
                    ));
                } else {
                    active.push((file, index, entry));
                }
            }
        }
        let mut statements = Vec::new();
        for file in &self.vex {
            for statement in &file.statements {
                if statement.products_len() == 0 {
                    result.warnings.push(format!(
                        "VEX statement {} ({}) in `{}` names no product by package URL and applies to nothing",
                        statement.number,
                        statement.vulnerability,
                        file.path.display()
                    ));
                }
                statements.push(Located {
                    file,
                    statement,
                    order: statements.len(),
                });
            }
        }

        for finding in findings {
            let by_rule = active
                .iter()
                .find(|(_, _, entry)| entry.matches_finding(&finding))
                .map(|(file, index, entry)| rule_suppression(file, *index, entry));
            let suppression = by_rule.or_else(|| vex_suppression(&statements, &finding));
            match suppression {
                Some(suppressed_by) => result.ignored.push(IgnoredFinding::Vulnerability {
                    finding: Box::new(finding),
                    suppressed_by,
                }),
                None => result.findings.push(finding),
            }
        }
        for finding in malware {
            let by_rule = active
                .iter()
                .find(|(_, _, entry)| entry.matches_malware(&finding))
                .map(|(file, index, entry)| rule_suppression(file, *index, entry));
            match by_rule {
                Some(suppressed_by) => result.ignored.push(IgnoredFinding::Malware {
                    finding: Box::new(finding),
                    suppressed_by,
                }),
                None => result.malware.push(finding),
            }
        }
        result
    }
}

fn rule_suppression(file: &IgnoreFile, index: usize, entry: &IgnoreEntry) -> Suppression {
    Suppression::IgnoreFile {
        file: file.path.display().to_string(),
        entry: index + 1,
        id: entry.id.clone(),
        reason: entry.reason.clone(),
        expires: entry.expires.map(|day| day.to_string()),
    }
}

fn vex_suppression(statements: &[Located<'_>], finding: &Finding) -> Option<Suppression> {
    let deciding = statements
        .iter()
        .filter(|located| located.statement.names_vulnerability(finding))
        .filter_map(|located| {
            located
                .statement
                .matching_product(&finding.package.purl)
                .map(|product| (located, product))
        })
        .max_by_key(|(located, _)| {
            (
                located
                    .statement
                    .timestamp
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                located.order,
            )
        })?;
    let (located, product) = deciding;
    let statement = located.statement;
    if !statement.status.suppresses() {
        return None;
    }
    Some(Suppression::Vex {
        file: located.file.path.display().to_string(),
        statement: statement.number,
        vulnerability: statement.vulnerability.clone(),
        status: statement.status,
        product: product.to_string(),
        justification: statement.justification.clone(),
        impact_statement: statement.impact_statement.clone(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use cordon_model::{Ecosystem, FindingStatus, LayerRef, Package};
    use time::macros::date;

    use super::*;

    fn finding(id: &str, aliases: &[&str], name: &str) -> Finding {
        Finding {
            id: id.to_string(),
            aliases: aliases.iter().map(|alias| alias.to_string()).collect(),
            package: Package {
                name: name.to_string(),
                version: "1.0-1".to_string(),
                source_name: Some(name.to_string()),
                source_version: Some("1.0-1".to_string()),
                ecosystem: Ecosystem::Deb,
                purl: format!("pkg:deb/debian/{name}@1.0-1?arch=amd64&distro=debian-11"),
                arch: Some("amd64".to_string()),
                layer: Some(LayerRef {
                    index: 0,
                    diff_id: String::new(),
                }),
                location: "var/lib/dpkg/status".to_string(),
                dev: false,
                direct: None,
                licenses: Vec::new(),
            },
            installed_version: "1.0-1".to_string(),
            fixed_version: None,
            status: FindingStatus::NotFixed,
            severity: Severity::High,
            severity_source: None,
            data_source: "debian-tracker".to_string(),
            layer: None,
            summary: None,
            matched_by: String::new(),
        }
    }

    fn vex(statements: &str) -> VexDocument {
        let text = format!(
            r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex-1",
                "author": "Platform team", "timestamp": "2026-01-01T00:00:00Z", "version": 1,
                "statements": [{statements}]}}"#
        );
        VexDocument::parse(Path::new("image.vex.json"), &text).unwrap()
    }

    fn ignore(text: &str) -> IgnoreFile {
        IgnoreFile::parse(Path::new(".cordonignore"), text).unwrap()
    }

    fn with_vex(document: VexDocument) -> Suppressions {
        Suppressions {
            ignore_files: Vec::new(),
            vex: vec![document],
        }
    }

    fn with_ignore(file: IgnoreFile) -> Suppressions {
        Suppressions {
            ignore_files: vec![file],
            vex: Vec::new(),
        }
    }

    const TODAY: Date = date!(2026 - 12 - 04);

    #[test]
    fn vex_not_affected_suppresses_package() {
        let document = vex(r#"{"vulnerability": {"name": "CVE-2023-1"},
                "products": [{"@id": "pkg:oci/app@sha256%3Aabc",
                              "subcomponents": [{"@id": "pkg:deb/debian/zlib1g"}]}],
                "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}"#);
        let suppressions = with_vex(document);
        let result = suppressions.apply(
            vec![
                finding("CVE-2023-1", &[], "zlib1g"),
                finding("CVE-2023-1", &[], "libc6"),
            ],
            Vec::new(),
            TODAY,
        );
        assert_eq!(result.findings.len(), 1);
        assert_eq!(result.findings[0].package.name, "libc6");
        assert_eq!(result.ignored.len(), 1);
        let IgnoredFinding::Vulnerability { suppressed_by, .. } = &result.ignored[0] else {
            panic!("expected a vulnerability");
        };
        let Suppression::Vex {
            statement,
            status,
            product,
            justification,
            ..
        } = suppressed_by
        else {
            panic!("expected a VEX suppression, got {suppressed_by:?}");
        };
        assert_eq!(*statement, 1);
        assert_eq!(*status, VexStatus::NotAffected);
        assert_eq!(product, "pkg:deb/debian/zlib1g");
        assert_eq!(
            justification.as_deref(),
            Some("vulnerable_code_not_in_execute_path")
        );
    }

    #[test]
    fn vex_alias_matches_finding_alias() {
        let document = vex(
            r#"{"vulnerability": {"name": "GHSA-xxxx-yyyy-zzzz", "aliases": ["CVE-2023-2"]},
                "products": [{"identifiers": {"purl": "pkg:deb/debian/zlib1g"}}],
                "status": "fixed"}"#,
        );
        let suppressions = with_vex(document);
        let result = suppressions.apply(
            vec![finding("DSA-1", &["CVE-2023-2"], "zlib1g")],
            Vec::new(),
            TODAY,
        );
        assert!(result.findings.is_empty());
        assert_eq!(result.ignored.len(), 1);
    }

    #[test]
    fn vex_affected_and_investigation_keep_finding() {
        for status in ["affected", "under_investigation"] {
            let document = vex(&format!(
                r#"{{"vulnerability": {{"name": "CVE-2023-1"}},
                    "products": [{{"@id": "pkg:deb/debian/zlib1g"}}], "status": "{status}"}}"#
            ));
            let suppressions = with_vex(document);
            let result = suppressions.apply(
                vec![finding("CVE-2023-1", &[], "zlib1g")],
                Vec::new(),
                TODAY,
            );
            assert_eq!(result.findings.len(), 1, "{status}");
            assert!(result.ignored.is_empty(), "{status}");
        }
    }

    #[test]
    fn latest_vex_statement_decides() {
        let document = vex(
            r#"{"vulnerability": {"name": "CVE-2023-1"}, "timestamp": "2026-03-01T00:00:00Z",
                "products": [{"@id": "pkg:deb/debian/zlib1g"}], "status": "affected"},
               {"vulnerability": {"name": "CVE-2023-1"}, "timestamp": "2026-02-01T00:00:00Z",
                "products": [{"@id": "pkg:deb/debian/zlib1g"}], "status": "not_affected",
                "justification": "component_not_present"}"#,
        );
        let suppressions = with_vex(document);
        let result = suppressions.apply(
            vec![finding("CVE-2023-1", &[], "zlib1g")],
            Vec::new(),
            TODAY,
        );
        assert_eq!(result.findings.len(), 1);
    }

    #[test]
    fn not_affected_without_justification_rejected() {
        let text = r#"{"statements": [{"vulnerability": {"name": "CVE-2023-1"},
            "products": [{"@id": "pkg:deb/debian/zlib1g"}], "status": "not_affected"}]}"#;
        let error = VexDocument::parse(Path::new("a.json"), text)
            .unwrap_err()
            .to_string();
        assert!(error.contains("statement 1 (CVE-2023-1)"), "{error}");
    }

    #[test]
    fn unknown_vex_status_names_line() {
        let text = "{\"statements\": [{\"vulnerability\": {\"name\": \"CVE-1\"},\n \"status\": \"maybe\"}]}";
        let error = VexDocument::parse(Path::new("a.json"), text)
            .unwrap_err()
            .to_string();
        assert!(error.contains("`a.json` at line 2"), "{error}");
        assert!(error.contains("maybe"), "{error}");
    }

    #[test]
    fn expired_entry_warns_and_stops_applying() {
        let file = ignore(
            "ignore:\n  - id: CVE-2023-1\n    reason: waiting for upstream\n    expires: 2026-12-03\n",
        );
        let suppressions = with_ignore(file);
        let result = suppressions.apply(
            vec![finding("CVE-2023-1", &[], "zlib1g")],
            Vec::new(),
            TODAY,
        );
        assert_eq!(result.findings.len(), 1);
        assert!(result.ignored.is_empty());
        assert_eq!(result.warnings.len(), 1);
        assert!(
            result.warnings[0].contains("expired on 2026-12-03"),
            "{}",
            result.warnings[0]
        );
    }

    #[test]
    fn ignore_entry_records_reason() {
        let file = ignore("ignore:\n  - id: CVE-2023-1\n    reason: not reachable\n");
        let suppressions = with_ignore(file);
        let result = suppressions.apply(
            vec![finding("CVE-2023-1", &[], "zlib1g")],
            Vec::new(),
            TODAY,
        );
        assert!(result.findings.is_empty());
        assert!(result.warnings.is_empty());
        let IgnoredFinding::Vulnerability { suppressed_by, .. } = &result.ignored[0] else {
            panic!("expected a vulnerability");
        };
        assert_eq!(
            *suppressed_by,
            Suppression::IgnoreFile {
                file: ".cordonignore".to_string(),
                entry: 1,
                id: "CVE-2023-1".to_string(),
                reason: "not reachable".to_string(),
                expires: None,
            }
        );
    }
}
