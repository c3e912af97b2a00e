//! SARIF output checked against the OASIS SARIF 2.1.0 schema and against the rules
//! GitHub code scanning applies on upload that the schema does not express.

mod common;

use std::collections::BTreeSet;

use common::{
    assert_schema_valid, empty_scan_report, full_scan_report, render_scan, sarif_validator,
    scan_report_with_invalid_scores, schema_errors, validator_for,
};
use cordon_report::Format;
use serde_json::{json, Value};

fn results(sarif: &Value) -> &Vec<Value> {
    sarif["runs"][0]["results"].as_array().unwrap()
}

fn rules(sarif: &Value) -> &Vec<Value> {
    sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
}

#[test]
fn full_scan_sarif_matches_schema() {
    let sarif = render_scan(&full_scan_report(), Format::Sarif);

    assert_schema_valid(&sarif_validator(), &sarif, "SARIF of the full scan");
}

#[test]
fn empty_scan_sarif_matches_schema() {
    let sarif = render_scan(&empty_scan_report(), Format::Sarif);

    assert_schema_valid(&sarif_validator(), &sarif, "SARIF of the empty scan");
    assert!(results(&sarif).is_empty());
    assert!(rules(&sarif).is_empty());
}

#[test]
fn schema_rejects_broken_sarif() {
    let validator = sarif_validator();
    let mut sarif = render_scan(&full_scan_report(), Format::Sarif);
    sarif["runs"][0]["results"][0]["level"] = Value::from("critical");
    sarif["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);

    let errors = schema_errors(&validator, &sarif);

    assert!(
        errors
            .iter()
            .any(|error| error.contains("/results/0/level")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|error| error.contains("/results/1/locations")),
        "{errors:?}"
    );
}

#[test]
fn every_result_has_artifact_uri() {
    let sarif = render_scan(&full_scan_report(), Format::Sarif);

    assert!(!results(&sarif).is_empty());
    for result in results(&sarif) {
        let uri = &result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        let uri = uri
            .as_str()
            .unwrap_or_else(|| panic!("result without locations[0] artifact uri: {result:#}"));
        assert!(!uri.is_empty(), "empty artifact uri: {result:#}");
        // GitHub resolves the uri against the repository root, so it must be relative.
        assert!(!uri.starts_with('/'), "absolute artifact uri {uri}");
    }
}

#[test]
fn artifact_uris_are_rfc3986_references() {
    // The SARIF schema is draft-04, which has no `uri-reference` format, so the validator
    // skips that `format` on artifactLocation.uri. A draft-07 schema checks it here.
    let uri_reference = validator_for(&json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "string",
        "format": "uri-reference"
    }))
    .unwrap();
    let sarif = render_scan(&full_scan_report(), Format::Sarif);

    for result in results(&sarif) {
        let uri = &result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        assert!(
            uri_reference.is_valid(uri),
            "artifact uri {uri} is not a URI reference"
        );
    }
}

#[test]
fn every_rule_id_names_a_rule() {
    let sarif = render_scan(&full_scan_report(), Format::Sarif);
    let rules = rules(&sarif);
    let rule_ids: Vec<&str> = rules
        .iter()
        .map(|rule| rule["id"].as_str().unwrap())
        .collect();

    let unique: BTreeSet<&str> = rule_ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        rule_ids.len(),
        "duplicate rule ids {rule_ids:?}"
    );
    for result in results(&sarif) {
        let rule_id = result["ruleId"].as_str().unwrap();
        assert!(unique.contains(rule_id), "ruleId {rule_id} names no rule");
        if let Some(index) = result["ruleIndex"].as_u64() {
            let index = usize::try_from(index).unwrap();
            assert_eq!(
                rule_ids.get(index).copied(),
                Some(rule_id),
                "ruleIndex {index}"
            );
        }
    }
}

#[test]
fn rule_per_distinct_advisory() {
    let report = full_scan_report();
    let sarif = render_scan(&report, Format::Sarif);

    let advisories: BTreeSet<&str> = report
        .findings
        .iter()
        .map(|finding| finding.id.as_str())
        .collect();
    let malware_rules: BTreeSet<(String, &str)> = report
        .malware
        .iter()
        .map(|finding| (finding.engine.to_string(), finding.rule_id.as_str()))
        .collect();
    assert_eq!(rules(&sarif).len(), advisories.len() + malware_rules.len());
    assert_eq!(
        results(&sarif).len(),
        report.findings.len() + report.malware.len()
    );
    let malware_results = results(&sarif)
        .iter()
        .filter(|result| {
            result["ruleId"]
                .as_str()
                .is_some_and(|id| id.starts_with("malware/"))
        })
        .count();
    assert_eq!(malware_results, report.malware.len());
}

/// Returns a rule's `security-severity`, after checking that only rules for findings
/// rated Unknown lack one: GitHub would rank a 0.0 score as the lowest band.
fn scored_rule(rule: &Value) -> Option<&str> {
    let score = rule["properties"]["security-severity"].as_str();
    if score.is_none() {
        let tags = rule["properties"]["tags"].as_array().unwrap();
        assert!(
            tags.iter().any(|tag| tag == "Unknown"),
            "rule without security-severity is not rated Unknown: {rule:#}"
        );
    }
    score
}

#[test]
fn unknown_severity_rules_omit_score() {
    let sarif = render_scan(&full_scan_report(), Format::Sarif);
    let unknown: Vec<&Value> = rules(&sarif)
        .iter()
        .filter(|rule| {
            rule["properties"]["tags"]
                .as_array()
                .is_some_and(|tags| tags.iter().any(|tag| tag == "Unknown"))
        })
        .collect();
    assert!(!unknown.is_empty(), "sample report has an Unknown finding");
    for rule in unknown {
        assert!(
            rule["properties"].get("security-severity").is_none(),
            "{rule:#}"
        );
    }
}

#[test]
fn security_severity_is_score_in_range() {
    let sarif = render_scan(&full_scan_report(), Format::Sarif);

    for rule in rules(&sarif) {
        let Some(text) = scored_rule(rule) else {
            continue;
        };
        let score: f64 = text
            .parse()
            .unwrap_or_else(|error| panic!("security-severity {text:?}: {error}"));
        assert!(
            (0.0..=10.0).contains(&score),
            "security-severity {score} out of 0.0-10.0"
        );
    }
}

#[test]
fn security_severity_uses_cvss_score() {
    let report = full_scan_report();
    let sarif = render_scan(&report, Format::Sarif);

    for finding in &report.findings {
        let Some(score) = finding
            .severity_source
            .as_ref()
            .and_then(|rating| rating.cvss_score)
        else {
            continue;
        };
        let rule = rules(&sarif)
            .iter()
            .find(|rule| rule["id"] == finding.id.as_str())
            .unwrap();
        let text = rule["properties"]["security-severity"].as_str().unwrap();
        assert_eq!(text.parse::<f64>().unwrap(), score, "rule {}", finding.id);
    }
}

#[test]
fn invalid_cvss_score_keeps_severity_in_range() {
    let sarif = render_scan(&scan_report_with_invalid_scores(), Format::Sarif);

    assert_schema_valid(&sarif_validator(), &sarif, "SARIF with invalid CVSS scores");
    for rule in rules(&sarif) {
        let Some(text) = scored_rule(rule) else {
            continue;
        };
        let score: f64 = text.parse().unwrap();
        assert!(
            (0.0..=10.0).contains(&score),
            "security-severity {text} out of 0.0-10.0"
        );
    }
}

#[test]
fn every_result_has_partial_fingerprints() {
    let sarif = render_scan(&full_scan_report(), Format::Sarif);

    let mut fingerprints = BTreeSet::new();
    for result in results(&sarif) {
        let entries = result["partialFingerprints"]
            .as_object()
            .unwrap_or_else(|| panic!("result without partialFingerprints: {result:#}"));
        assert!(!entries.is_empty(), "empty partialFingerprints: {result:#}");
        fingerprints.insert(Value::Object(entries.clone()).to_string());
    }
    // The same advisory on the same purl at two locations must stay two alerts.
    assert_eq!(fingerprints.len(), results(&sarif).len());
}

#[test]
fn result_message_is_not_empty() {
    let sarif = render_scan(&full_scan_report(), Format::Sarif);

    for result in results(&sarif) {
        let text = result["message"]["text"].as_str().unwrap();
        assert!(!text.trim().is_empty(), "empty message: {result:#}");
    }
}
