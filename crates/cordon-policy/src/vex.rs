//! OpenVEX 0.2.0 documents (<https://github.com/openvex/spec>): statements that a
//! vulnerability does or does not affect products named by package URL.

use std::path::{Path, PathBuf};

use cordon_model::Finding;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::purl::PurlPattern;

/// Error reading or parsing an OpenVEX document.
#[derive(Debug, thiserror::Error)]
pub enum VexError {
    /// The file could not be read.
    #[error("cannot read VEX document `{path}`: {source}")]
    Read {
        /// The document.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid OpenVEX document.
    #[error("invalid VEX document `{path}` at line {line}: {message}")]
    Invalid {
        /// The document.
        path: PathBuf,
        /// Line of the problem, 1-based, or 0 when the problem concerns a whole statement.
        line: usize,
        /// Description of the problem.
        message: String,
    },
}

/// Impact status of a statement, as the OpenVEX specification labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    /// No remediation is required.
    NotAffected,
    /// The product is affected.
    Affected,
    /// These product versions contain a fix.
    Fixed,
    /// Not yet known whether the product is affected.
    UnderInvestigation,
}

impl VexStatus {
    /// Tells whether a statement with this status suppresses a finding.
    pub fn suppresses(self) -> bool {
        matches!(self, VexStatus::NotAffected | VexStatus::Fixed)
    }
}

#[derive(Debug, Deserialize)]
struct RawDocument {
    #[serde(default)]
    timestamp: Option<String>,
    statements: Vec<RawStatement>,
}

#[derive(Debug, Deserialize)]
struct RawStatement {
    vulnerability: RawVulnerability,
    #[serde(default)]
    products: Vec<RawComponent>,
    status: VexStatus,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawVulnerability {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RawComponent {
    #[serde(rename = "@id", default)]
    id: Option<String>,
    #[serde(default)]
    identifiers: Option<RawIdentifiers>,
    #[serde(default)]
    subcomponents: Vec<RawComponent>,
}

#[derive(Debug, Deserialize)]
struct RawIdentifiers {
    #[serde(default)]
    purl: Option<String>,
}

impl RawComponent {
    /// Package URLs naming this component: its `@id` when that is a purl, and
    /// `identifiers.purl`.
    fn purls(&self) -> impl Iterator<Item = &str> {
        let id = self.id.as_deref().filter(|id| id.starts_with("pkg:"));
        let purl = self
            .identifiers
            .as_ref()
            .and_then(|identifiers| identifiers.purl.as_deref());
        id.into_iter().chain(purl)
    }
}

/// One statement, with its products flattened to package URL patterns.
#[derive(Debug, Clone)]
pub struct VexStatement {
    /// Position in the document, 1-based.
    pub number: usize,
    /// `vulnerability.name`.
    pub vulnerability: String,
    /// `vulnerability.aliases`.
    pub aliases: Vec<String>,
    /// The status.
    pub status: VexStatus,
    /// The justification label, for `not_affected`.
    pub justification: Option<String>,
    /// Free-form reason, for `not_affected`.
    pub impact_statement: Option<String>,
    /// The statement's timestamp, else the document's.
    pub timestamp: Option<OffsetDateTime>,
    products: Vec<PurlPattern>,
}

impl VexStatement {
    /// Tells whether the statement names the finding's vulnerability (its id or an alias,
    /// against the statement's name or aliases, ignoring ASCII case).
    pub fn names_vulnerability(&self, finding: &Finding) -> bool {
        let finding_ids = || std::iter::once(&finding.id).chain(&finding.aliases);
        std::iter::once(&self.vulnerability)
            .chain(&self.aliases)
            .any(|name| finding_ids().any(|id| id.eq_ignore_ascii_case(name)))
    }

    pub(crate) fn products_len(&self) -> usize {
        self.products.len()
    }

    /// Returns the product purl that names the package with purl `purl`, if any.
    pub fn matching_product(&self, purl: &str) -> Option<&str> {
        self.products
            .iter()
            .find(|pattern| pattern.matches(purl))
            .map(PurlPattern::text)
    }
}

/// A parsed OpenVEX document.
#[derive(Debug, Clone)]
pub struct VexDocument {
    /// Path the document was read from.
    pub path: PathBuf,
    /// Statements in document order.
    pub statements: Vec<VexStatement>,
}

impl VexDocument {
    /// Reads and parses the OpenVEX document at `path`.
    pub fn read(path: &Path) -> Result<VexDocument, VexError> {
        let text = std::fs::read_to_string(path).map_err(|source| VexError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        VexDocument::parse(path, &text)
    }

    /// Parses OpenVEX JSON; `path` names the document in errors.
    ///
    /// Products are matched by package URL, from a product's `@id` or
    /// `identifiers.purl` and from those of its subcomponents.
    // NOTE: A product that has subcomponents usually names the image itself. It is not
    // compared with the scanned image, because the caller chose the document for it.
    pub fn parse(path: &Path, text: &str) -> Result<VexDocument, VexError> {
        let invalid = |line: usize, message: String| VexError::Invalid {
            path: path.to_path_buf(),
            line,
            message,
        };
        let raw: RawDocument = serde_json::from_str(text)
            .map_err(|error| invalid(error.line(), crate::without_location(&error.to_string())))?;
        let document_time = raw
            .timestamp
            .as_deref()
            .map(|text| parse_timestamp(text).map_err(|message| invalid(0, message)))
            .transpose()?;

        let mut statements = Vec::with_capacity(raw.statements.len());
        for (index, statement) in raw.statements.into_iter().enumerate() {
            let number = index + 1;
            if statement.status == VexStatus::NotAffected
                && statement.justification.is_none()
                && statement.impact_statement.is_none()
            {
                return Err(invalid(
                    0,
                    format!(
                        "statement {number} ({}) is not_affected but has neither a justification nor an impact_statement",
                        statement.vulnerability.name
                    ),
                ));
            }
            let timestamp = match statement.timestamp.as_deref() {
                Some(text) => Some(
                    parse_timestamp(text)
                        .map_err(|message| invalid(0, format!("statement {number}: {message}")))?,
                ),
                None => document_time,
            };
            let mut products = Vec::new();
            for product in &statement.products {
                let components = std::iter::once(product).chain(&product.subcomponents);
                for purl in components.flat_map(RawComponent::purls) {
                    let pattern = PurlPattern::parse(purl)
                        .map_err(|message| invalid(0, format!("statement {number}: {message}")))?;
                    products.push(pattern);
                }
            }
            statements.push(VexStatement {
                number,
                vulnerability: statement.vulnerability.name,
                aliases: statement.vulnerability.aliases,
                status: statement.status,
                justification: statement.justification,
                impact_statement: statement.impact_statement,
                timestamp,
                products,
            });
        }
        Ok(VexDocument {
            path: path.to_path_buf(),
            statements,
        })
    }
}

fn parse_timestamp(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| format!("invalid timestamp `{text}`, expected RFC 3339"))
}
