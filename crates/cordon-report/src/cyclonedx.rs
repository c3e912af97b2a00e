//! CycloneDX 1.6 JSON (<https://cyclonedx.org/docs/1.6/json/>).

use std::collections::BTreeSet;

use cordon_model::{Ecosystem, Finding, Package, Severity};
use serde_json::{json, Value};

use crate::{ImageSummary, SbomReport, ScanReport, ToolInfo};

pub(crate) fn sbom_to_cyclonedx(report: &SbomReport) -> Value {
    let (components, _) = components(&report.packages, report.distro.as_ref());
    document(
        &report.tool,
        &report.created_at,
        &report.image,
        components,
        None,
    )
}

pub(crate) fn scan_to_cyclonedx(report: &ScanReport) -> Value {
    let (components, refs) = components(&report.packages, report.distro.as_ref());
    let vulnerabilities = vulnerabilities(&report.findings, &report.packages, &refs);
    document(
        &report.tool,
        &report.created_at,
        &report.image,
        components,
        Some(vulnerabilities),
    )
}

fn document(
    tool: &ToolInfo,
    created_at: &str,
    image: &ImageSummary,
    components: Vec<Value>,
    vulnerabilities: Option<Vec<Value>>,
) -> Value {
    let mut doc = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "version": 1,
        "metadata": {
            "timestamp": created_at,
            "tools": { "components": [{ "type": "application", "name": tool.name, "version": tool.version }] },
            "component": {
                "type": "container",
                "bom-ref": "image",
                "name": image.source,
                "version": image.config_digest.clone().or_else(|| image.manifest_digest.clone()).unwrap_or_default(),
            }
        },
        "components": components,
    });
    if let (Some(list), Some(object)) = (vulnerabilities, doc.as_object_mut()) {
        object.insert("vulnerabilities".to_string(), Value::Array(list));
    }
    doc
}

/// Builds components and their unique `bom-ref`s, one per package in `packages` order.
fn components(
    packages: &[Package],
    distro: Option<&cordon_model::Distro>,
) -> (Vec<Value>, Vec<String>) {
    let mut seen = BTreeSet::new();
    let mut refs = Vec::with_capacity(packages.len());
    let mut components = Vec::with_capacity(packages.len() + 1);

    if let Some(distro) = distro {
        components.push(json!({
            "type": "operating-system",
            "bom-ref": "os",
            "name": distro.id,
            "version": distro.version_id.clone().unwrap_or_default(),
            "description": distro.pretty_name.clone().unwrap_or_default(),
        }));
    }

    for package in packages {
        let mut bom_ref = package.purl.clone();
        if !seen.insert(bom_ref.clone()) {
            bom_ref = format!("{}#/{}", package.purl, package.location);
            seen.insert(bom_ref.clone());
        }
        let mut properties =
            vec![json!({ "name": "cordon:location", "value": format!("/{}", package.location) })];
        if let Some(layer) = &package.layer {
            properties
                .push(json!({ "name": "cordon:layer:index", "value": layer.index.to_string() }));
            if !layer.diff_id.is_empty() {
                properties.push(json!({ "name": "cordon:layer:diff_id", "value": layer.diff_id }));
            }
        }
        if let Some(source) = &package.source_name {
            properties.push(json!({ "name": "cordon:source:name", "value": source }));
        }
        if let Some(version) = &package.source_version {
            properties.push(json!({ "name": "cordon:source:version", "value": version }));
        }
        if package.dev {
            properties.push(json!({ "name": "cordon:npm:dev", "value": "true" }));
        }
        let mut component = json!({
            "type": "library",
            "bom-ref": bom_ref,
            "name": package.name,
            "version": package.version,
            "purl": package.purl,
            "properties": properties,
        });
        if !package.licenses.is_empty() {
            let licenses: Vec<Value> = package
                .licenses
                .iter()
                .map(|name| json!({ "license": { "name": name } }))
                .collect();
            component["licenses"] = Value::Array(licenses);
        }
        if package.ecosystem == Ecosystem::Npm && package.name.starts_with('@') {
            if let Some((group, name)) = package.name.split_once('/') {
                component["group"] = json!(group);
                component["name"] = json!(name);
            }
        }
        refs.push(bom_ref);
        components.push(component);
    }
    (components, refs)
}

fn vulnerabilities(findings: &[Finding], packages: &[Package], refs: &[String]) -> Vec<Value> {
    findings
        .iter()
        .map(|finding| {
            let affected_ref = packages
                .iter()
                .position(|package| package == &finding.package)
                .and_then(|index| refs.get(index))
                .cloned()
                .unwrap_or_else(|| finding.package.purl.clone());
            let mut rating = json!({ "severity": cyclonedx_severity(finding.severity) });
            if let Some(source) = &finding.severity_source {
                rating["source"] = json!({ "name": source.source });
                // A score outside the CVSS range (or NaN, which JSON cannot hold) is
                // left out so that the rating stays valid.
                if let Some(score) = source
                    .cvss_score
                    .filter(|score| (0.0..=10.0).contains(score))
                {
                    rating["score"] = json!(score);
                }
                if let Some(vector) = &source.cvss_vector {
                    rating["vector"] = json!(vector);
                    rating["method"] = json!(cvss_method(vector));
                }
            }
            let mut vulnerability = json!({
                "bom-ref": format!("{}@{}", finding.id, affected_ref),
                "id": finding.id,
                "source": { "name": finding.data_source },
                "ratings": [rating],
                "affects": [{ "ref": affected_ref, "versions": [{ "version": finding.installed_version, "status": "affected" }] }],
                "properties": [{ "name": "cordon:status", "value": finding.status.as_str() }],
            });
            if let Some(summary) = &finding.summary {
                vulnerability["description"] = json!(summary);
            }
            if let Some(fixed) = &finding.fixed_version {
                vulnerability["recommendation"] = json!(format!("Upgrade {} to {fixed}", finding.package.name));
            }
            if !finding.aliases.is_empty() {
                let references: Vec<Value> = finding
                    .aliases
                    .iter()
                    .map(|alias| json!({ "id": alias, "source": { "name": alias_source(alias) } }))
                    .collect();
                vulnerability["references"] = Value::Array(references);
            }
            vulnerability
        })
        .collect()
}

/// Maps the seven-level scale to CycloneDX's severity enum, which has no Defcon1 level
/// and names Negligible `info`.
fn cyclonedx_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Defcon1 | Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Negligible => "info",
        Severity::Unknown => "unknown",
    }
}

fn cvss_method(vector: &str) -> &'static str {
    if vector.starts_with("CVSS:4") {
        "CVSSv4"
    } else if vector.starts_with("CVSS:3.1") {
        "CVSSv31"
    } else if vector.starts_with("CVSS:3") {
        "CVSSv3"
    } else {
        "CVSSv2"
    }
}

fn alias_source(alias: &str) -> &'static str {
    if alias.starts_with("CVE-") {
        "NVD"
    } else if alias.starts_with("GHSA-") {
        "GitHub"
    } else {
        "OSV"
    }
}
