//! CycloneDX output of `scan` and `sbom` checked against the CycloneDX 1.6 JSON schema,
//! plus the reference rules the schema cannot express.

mod common;

use std::collections::BTreeSet;

use common::{
    assert_schema_valid, cyclonedx_validator, empty_scan_report, full_scan_report, render_sbom,
    render_scan, sbom_of, scan_report_with_invalid_scores, schema_errors, validator_for,
    CYCLONEDX_SCHEMA_ID,
};
use cordon_report::Format;
use serde_json::{json, Value};

fn bom_refs(bom: &Value) -> Vec<&str> {
    let mut refs = vec![bom["metadata"]["component"]["bom-ref"].as_str().unwrap()];
    for component in bom["components"].as_array().unwrap() {
        refs.push(component["bom-ref"].as_str().unwrap());
    }
    for vulnerability in bom["vulnerabilities"].as_array().into_iter().flatten() {
        refs.push(vulnerability["bom-ref"].as_str().unwrap());
    }
    refs
}

#[test]
fn full_scan_cyclonedx_matches_schema() {
    let bom = render_scan(&full_scan_report(), Format::CycloneDxJson);

    assert_schema_valid(&cyclonedx_validator(), &bom, "CycloneDX of the full scan");
}

#[test]
fn full_sbom_cyclonedx_matches_schema() {
    let bom = render_sbom(&sbom_of(&full_scan_report()), Format::CycloneDxJson);

    assert_schema_valid(&cyclonedx_validator(), &bom, "CycloneDX SBOM");
    assert!(bom.get("vulnerabilities").is_none());
}

#[test]
fn empty_scan_cyclonedx_matches_schema() {
    let report = empty_scan_report();
    let validator = cyclonedx_validator();

    let scan_bom = render_scan(&report, Format::CycloneDxJson);
    let sbom = render_sbom(&sbom_of(&report), Format::CycloneDxJson);

    assert_schema_valid(&validator, &scan_bom, "CycloneDX of the empty scan");
    assert_schema_valid(&validator, &sbom, "CycloneDX SBOM of the empty scan");
}

#[test]
fn invalid_cvss_score_keeps_bom_valid() {
    let bom = render_scan(&scan_report_with_invalid_scores(), Format::CycloneDxJson);

    assert_schema_valid(
        &cyclonedx_validator(),
        &bom,
        "CycloneDX with invalid CVSS scores",
    );
}

#[test]
fn schema_property_names_bom_1_6() {
    // The vendored schema drops the upstream `enum` on `$schema`, so check it here.
    let bom = render_scan(&full_scan_report(), Format::CycloneDxJson);

    assert_eq!(bom["$schema"], CYCLONEDX_SCHEMA_ID);
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(bom["bomFormat"], "CycloneDX");
    // `version` has the default 1 upstream, and the vendored copy no longer requires it.
    assert!(bom["version"].as_u64().is_some_and(|version| version >= 1));
}

#[test]
fn schema_rejects_broken_bom() {
    let validator = cyclonedx_validator();
    let mut bom = render_scan(&full_scan_report(), Format::CycloneDxJson);
    bom["vulnerabilities"][0]["ratings"][0]["severity"] = Value::from("defcon1");
    bom["serialNumber"] = Value::from("not-a-urn");

    let errors = schema_errors(&validator, &bom);

    assert!(
        errors
            .iter()
            .any(|error| error.contains("/ratings/0/severity")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|error| error.contains("/serialNumber")),
        "{errors:?}"
    );
}

#[test]
fn schema_checks_spdx_license_ids() {
    // Exercises the `$ref` into the vendored SPDX schema.
    let validator = cyclonedx_validator();
    let mut bom = render_sbom(&sbom_of(&full_scan_report()), Format::CycloneDxJson);
    bom["components"][1]["licenses"] = json!([{ "license": { "id": "Not-An-SPDX-Id" } }]);

    let errors = schema_errors(&validator, &bom);

    assert!(
        errors
            .iter()
            .any(|error| error.contains("/components/1/licenses")),
        "{errors:?}"
    );
}

#[test]
fn unvendored_ref_fails_offline() {
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$ref": "https://cyclonedx.org/schema/ext/vulnerability-1.0.schema.json"
    });

    let error = validator_for(&schema).err().unwrap();

    assert!(error.contains("not vendored"), "{error}");
}

#[test]
fn bom_refs_are_unique() {
    let bom = render_scan(&full_scan_report(), Format::CycloneDxJson);
    let refs = bom_refs(&bom);

    let unique: BTreeSet<&str> = refs.iter().copied().collect();
    assert_eq!(unique.len(), refs.len(), "duplicate bom-ref in {refs:?}");
}

#[test]
fn affects_refs_name_components() {
    let bom = render_scan(&full_scan_report(), Format::CycloneDxJson);
    let component_refs: BTreeSet<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|component| component["bom-ref"].as_str().unwrap())
        .collect();

    for vulnerability in bom["vulnerabilities"].as_array().unwrap() {
        for affected in vulnerability["affects"].as_array().unwrap() {
            let target = affected["ref"].as_str().unwrap();
            assert!(
                component_refs.contains(target),
                "affects ref {target} names no component"
            );
        }
    }
}

#[test]
fn duplicate_purls_stay_separate_components() {
    let report = full_scan_report();
    let bom = render_sbom(&sbom_of(&report), Format::CycloneDxJson);

    let lodash: Vec<&Value> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|component| component["purl"] == "pkg:npm/lodash@4.17.20")
        .collect();
    assert_eq!(lodash.len(), 2);
    assert_ne!(lodash[0]["bom-ref"], lodash[1]["bom-ref"]);
}

#[test]
fn one_vulnerability_per_finding() {
    let report = full_scan_report();
    let bom = render_scan(&report, Format::CycloneDxJson);

    let vulnerabilities = bom["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulnerabilities.len(), report.findings.len());
}

#[test]
fn scoped_npm_name_splits_into_group() {
    let bom = render_sbom(&sbom_of(&full_scan_report()), Format::CycloneDxJson);

    let babel = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|component| component["purl"] == "pkg:npm/%40babel/traverse@7.22.5")
        .unwrap();
    assert_eq!(babel["group"], "@babel");
    assert_eq!(babel["name"], "traverse");
}
