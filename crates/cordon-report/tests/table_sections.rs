//! The `table` format shows the sections of the scanners that ran and counts the findings
//! that an ignore file or VEX statement suppressed.

mod common;

use std::path::Path;

use common::full_scan_report;
use cordon_policy::{IgnoreFile, Suppressions};
use cordon_report::{write_scan, Format, ScanReport, TableOptions};

fn table(report: &ScanReport) -> String {
    let mut out = Vec::new();
    write_scan(report, Format::Table, &mut out, &TableOptions::default()).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn malware_only_scan_omits_vulnerabilities() {
    let mut report = full_scan_report();
    report.settings.scanners = vec!["malware".to_string()];
    report.findings.clear();
    let text = table(&report);
    assert!(!text.contains("Findings:"), "{text}");
    assert!(text.contains("Malware:"), "{text}");
}

#[test]
fn vulnerability_scan_prints_findings_line() {
    let text = table(&full_scan_report());
    assert!(text.contains("Findings:"), "{text}");
}

#[test]
fn ignored_findings_are_counted() {
    let mut report = full_scan_report();
    let first_id = report.findings[0].id.clone();
    let ignore = IgnoreFile::parse(
        Path::new(".cordonignore"),
        &format!("ignore:\n  - id: {first_id}\n    reason: accepted risk\n"),
    )
    .unwrap();
    let suppressions = Suppressions {
        ignore_files: vec![ignore],
        vex: Vec::new(),
    };
    let result = suppressions.apply(
        std::mem::take(&mut report.findings),
        Vec::new(),
        time::macros::date!(2026 - 12 - 04),
    );
    let ignored = result.ignored.len();
    assert!(ignored >= 1);
    report.findings = result.findings;
    report.ignored = result.ignored;
    let text = table(&report);
    assert!(
        text.contains(&format!("Ignored: {ignored} finding(s)")),
        "{text}"
    );

    let json: serde_json::Value = {
        let mut out = Vec::new();
        write_scan(&report, Format::Json, &mut out, &TableOptions::default()).unwrap();
        serde_json::from_slice(&out).unwrap()
    };
    let entries = json["ignored"].as_array().unwrap();
    assert_eq!(entries.len(), ignored);
    assert_eq!(entries[0]["kind"], "vulnerability");
    assert_eq!(entries[0]["finding"]["id"], first_id.as_str());
    assert_eq!(entries[0]["suppressed_by"]["source"], "ignore-file");
    assert_eq!(entries[0]["suppressed_by"]["reason"], "accepted risk");
}
