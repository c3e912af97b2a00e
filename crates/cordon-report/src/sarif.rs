//! SARIF 2.1.0 output, shaped for GitHub code scanning.
//!
//! GitHub reads `properties.security-severity` (a CVSS-like number as a string) on rules
//! to rank alerts: over 9.0 is critical, 7.0 to 8.9 high, 4.0 to 6.9 medium, 3.9 or less
//! low (GitHub's "SARIF support for code scanning" page). Findings rated Unknown carry no
//! score, so GitHub ranks them by their `level` rather than as the lowest band. It also needs a physical location on every result, so a finding is
//! located at the file that proves the package (for example `var/lib/dpkg/status`).

use std::collections::BTreeMap;

use cordon_model::{Finding, MalwareFinding, Severity};
use serde_json::{json, Value};

use crate::ScanReport;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub(crate) fn scan_to_sarif(report: &ScanReport) -> Value {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    for finding in &report.findings {
        rules
            .entry(finding.id.clone())
            .or_insert_with(|| rule(finding));
    }
    for finding in &report.malware {
        rules
            .entry(malware_rule_id(finding))
            .or_insert_with(|| malware_rule(finding));
    }
    let rule_index: BTreeMap<String, usize> = rules
        .keys()
        .enumerate()
        .map(|(i, id)| (id.clone(), i))
        .collect();
    let mut results: Vec<Value> = report
        .findings
        .iter()
        .map(|finding| {
            result(
                finding,
                rule_index.get(finding.id.as_str()).copied().unwrap_or(0),
                report,
            )
        })
        .collect();
    results.extend(report.malware.iter().map(|finding| {
        let index = rule_index
            .get(&malware_rule_id(finding))
            .copied()
            .unwrap_or(0);
        malware_result(finding, index)
    }));

    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "cordon",
                    "version": report.tool.version,
                    "informationUri": "https://example.invalid/cordon",
                    "rules": rules.into_values().collect::<Vec<_>>(),
                }
            },
            "results": results,
            "properties": {
                "image": report.image.source,
                "gate": report.gate,
            }
        }]
    })
}

fn rule(finding: &Finding) -> Value {
    let summary = finding
        .summary
        .clone()
        .unwrap_or_else(|| finding.id.clone());
    let mut rule = json!({
        "id": finding.id,
        "name": finding.id,
        "shortDescription": { "text": summary },
        "fullDescription": { "text": summary },
        "helpUri": help_uri(&finding.id),
        "help": { "text": format!("{}: {summary}", finding.id) },
        "properties": {
            "tags": ["vulnerability", "security", finding.severity.as_str()],
        }
    });
    if let Some(score) = security_severity(finding) {
        rule["properties"]["security-severity"] = json!(score);
    }
    rule
}

fn result(finding: &Finding, rule_index: usize, report: &ScanReport) -> Value {
    let fixed = finding
        .fixed_version
        .as_deref()
        .unwrap_or("no fixed version");
    let text = format!(
        "{} {} {} in {}: {} (fixed: {fixed}, status: {})",
        finding.severity,
        finding.id,
        finding.package.name,
        report.image.source,
        finding.installed_version,
        finding.status
    );
    json!({
        "ruleId": finding.id,
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": { "text": text },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": artifact_uri(&finding.package.location) },
                "region": { "startLine": 1 }
            },
            "message": { "text": finding.package.purl }
        }],
        "partialFingerprints": {
            "cordonFinding/v1": format!("{}:{}:{}", finding.id, finding.package.purl, finding.package.location)
        }
    })
}

/// Percent-encodes an image path into the relative URI reference (RFC 3986) that
/// `artifactLocation.uri` requires, because paths may contain spaces, `%`, `#` or `?`.
///
/// Every byte outside the unreserved set and the sub-delimiters is encoded, and so is
/// `:`, because a colon in the first segment would turn the path into a URI scheme.
/// Returns the SARIF rule id of a malware finding: `malware/<engine>/<rule>`. Advisory ids
/// (CVE, GHSA, PYSEC, ...) never start with `malware/`, so the two kinds of rule stay apart.
fn malware_rule_id(finding: &MalwareFinding) -> String {
    format!("malware/{}/{}", finding.engine, finding.rule_id)
}

fn malware_rule(finding: &MalwareFinding) -> Value {
    let mut tags = vec![
        "malware".to_string(),
        "security".to_string(),
        finding.severity.as_str().to_string(),
    ];
    if let Some(attack) = &finding.attack_id {
        tags.push(format!("attack/{attack}"));
    }
    let mut rule = json!({
        "id": malware_rule_id(finding),
        "name": finding.rule_id,
        "shortDescription": { "text": finding.description },
        "fullDescription": { "text": format!("{} ({} rule {} in {})", finding.description, finding.engine, finding.rule_id, finding.namespace) },
        "help": { "text": finding.description },
        "properties": {
            "tags": tags,
        }
    });
    if let Some(score) = band_midpoint(finding.severity) {
        rule["properties"]["security-severity"] = json!(score);
    }
    if let Some(reference) = finding
        .reference
        .as_deref()
        .filter(|r| r.starts_with("http"))
    {
        rule["helpUri"] = json!(reference);
    }
    rule
}

fn malware_result(finding: &MalwareFinding, rule_index: usize) -> Value {
    let location = match &finding.archive_member {
        Some(member) => format!("{}!{member}", finding.path),
        None => finding.path.clone(),
    };
    let layer = finding
        .layer
        .as_ref()
        .map_or(String::new(), |layer| format!(" in layer {}", layer.index));
    let hidden = if finding.hidden_in_final_image {
        ", hidden in the final image"
    } else {
        ""
    };
    let text = format!(
        "{} {}: {} at /{location}{layer}{hidden} (sha256 {})",
        finding.severity, finding.rule_id, finding.description, finding.sha256
    );
    json!({
        "ruleId": malware_rule_id(finding),
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": { "text": text },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": artifact_uri(&finding.path) },
                "region": { "startLine": 1 }
            }
        }],
        "partialFingerprints": {
            "cordonMalware/v1": format!(
                "{}:{}:{}:{}",
                malware_rule_id(finding),
                location,
                finding.layer.as_ref().map_or(0, |layer| layer.index),
                finding.sha256
            )
        }
    })
}

fn artifact_uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Defcon1 | Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Negligible | Severity::Unknown => "note",
    }
}

/// Returns the CVSS score when known and within 0.0-10.0 (NaN is not), else a score
/// inside the severity's band.
fn security_severity(finding: &Finding) -> Option<String> {
    if let Some(score) = finding
        .severity_source
        .as_ref()
        .and_then(|rating| rating.cvss_score)
        .filter(|score| (0.0..=10.0).contains(score))
    {
        return Some(format!("{score:.1}"));
    }
    band_midpoint(finding.severity)
}

/// Returns a score inside GitHub's band for `severity`, as SARIF text, or `None` for
/// Unknown, which has no band (0.0 would read as the lowest rank, not as unknown).
fn band_midpoint(severity: Severity) -> Option<String> {
    let score = match severity {
        Severity::Defcon1 => 10.0,
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Negligible => 1.0,
        Severity::Unknown => return None,
    };
    Some(format!("{score:.1}"))
}

fn help_uri(id: &str) -> String {
    if id.starts_with("CVE-") {
        format!("https://nvd.nist.gov/vuln/detail/{id}")
    } else {
        format!("https://osv.dev/vulnerability/{id}")
    }
}

#[cfg(test)]
mod tests {
    use cordon_model::Severity;

    use super::{artifact_uri, band_midpoint};

    #[test]
    fn unknown_severity_has_no_score() {
        assert_eq!(band_midpoint(Severity::Unknown), None);
    }

    #[test]
    fn scores_fall_in_github_bands() {
        // GitHub: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 3.9 or less low.
        let bands = [
            (Severity::Defcon1, 9.0, 10.0),
            (Severity::Critical, 9.0, 10.0),
            (Severity::High, 7.0, 8.9),
            (Severity::Medium, 4.0, 6.9),
            (Severity::Low, 0.1, 3.9),
            (Severity::Negligible, 0.1, 3.9),
        ];
        for (severity, low, high) in bands {
            let score: f64 = band_midpoint(severity).unwrap().parse().unwrap();
            assert!(score >= low, "{severity}: {score} below {low}");
            assert!(score <= high, "{severity}: {score} above {high}");
        }
    }

    #[test]
    fn artifact_uri_keeps_plain_paths() {
        assert_eq!(
            artifact_uri("app/node_modules/@babel/traverse/package.json"),
            "app/node_modules/@babel/traverse/package.json"
        );
    }

    #[test]
    fn artifact_uri_encodes_reserved_bytes() {
        assert_eq!(
            artifact_uri("opt/Acme Tools/a%b#c?d"),
            "opt/Acme%20Tools/a%25b%23c%3Fd"
        );
        assert_eq!(artifact_uri("C:x/é"), "C%3Ax/%C3%A9");
    }
}
