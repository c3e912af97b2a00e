//! The `table` format fits the terminal width: long package names, versions and paths
//! are truncated with an ellipsis, while ids and severities stay whole.

mod common;

use common::{full_scan_report, sbom_of};
use cordon_report::{write_sbom, write_scan, Format, ScanReport, TableOptions};
use unicode_width::UnicodeWidthStr;

/// Builds a scan whose package names, versions and malware paths are far wider than a
/// terminal.
fn long_value_report() -> ScanReport {
    let mut report = full_scan_report();
    for (index, finding) in report.findings.iter_mut().enumerate() {
        finding.package.name = format!(
            "org.springframework.boot:spring-boot-starter-webflux-reactive-{index}-extension"
        );
        finding.installed_version = format!("1:2.36.1-8+deb11u1~bpo10+1.{index}.build.20240101");
        finding.fixed_version = Some(format!("1:2.36.1-8+deb11u2~bpo10+1.{index}.build.20250101"));
    }
    for malware in &mut report.malware {
        malware.path = format!(
            "usr/local/lib/python3.11/site-packages/very/deeply/nested/package/{}",
            malware.path
        );
    }
    for package in &mut report.packages {
        package.version = format!(
            "{}-with-a-very-long-build-suffix-1234567890",
            package.version
        );
        package.location = format!(
            "opt/application/lib/node_modules/@scope/{}",
            package.location
        );
    }
    report
}

fn scan_table(report: &ScanReport, width: usize, color: bool) -> String {
    let mut out = Vec::new();
    let options = TableOptions { color, width };
    write_scan(report, Format::Table, &mut out, &options).unwrap();
    String::from_utf8(out).unwrap()
}

/// Returns the table lines: rules and rows start with the border, a space or a line.
fn table_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|line| line.starts_with([' ', '─', '═']))
        .collect()
}

/// Removes ANSI escape sequences (`ESC [ ... m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for end in chars.by_ref() {
                if end == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn scan_table_fits_narrow_terminals() {
    let report = long_value_report();
    for width in [80, 100, 120] {
        for color in [false, true] {
            let text = strip_ansi(&scan_table(&report, width, color));
            let lines = table_lines(&text);
            assert!(lines.len() > report.findings.len(), "{text}");
            for line in &lines {
                assert!(
                    line.width() <= width,
                    "width {width}, color {color}: {} columns: {line}",
                    line.width()
                );
            }
            assert!(text.contains('…'), "long values are truncated: {text}");
        }
    }
}

#[test]
fn ids_and_severities_never_truncated() {
    let report = long_value_report();
    let text = scan_table(&report, 80, false);
    for finding in &report.findings {
        let row = text
            .lines()
            .find(|line| line.contains(&format!(" {} ", finding.id)))
            .unwrap_or_else(|| panic!("row of {} with the whole id: {text}", finding.id));
        assert!(
            row.contains(finding.severity.as_str()),
            "severity of {}: {row}",
            finding.id
        );
    }
    for malware in &report.malware {
        assert!(
            text.contains(&malware.rule_id),
            "rule {}: {text}",
            malware.rule_id
        );
    }
}

#[test]
fn path_keeps_its_file_name() {
    let report = long_value_report();
    let text = scan_table(&report, 80, false);
    assert!(text.contains("eicar.com"), "{text}");
    assert!(text.contains("…"), "{text}");
    let row = text
        .lines()
        .find(|line| line.contains("known-miner"))
        .expect("hash-list row");
    assert!(row.contains("xmrig"), "{row}");
}

#[test]
fn wide_terminal_truncates_nothing() {
    let report = full_scan_report();
    let text = scan_table(&report, 400, false);
    assert!(!text.contains('…'), "{text}");
    for finding in &report.findings {
        assert!(text.contains(&finding.package.name), "{text}");
        assert!(text.contains(&finding.installed_version), "{text}");
    }
}

#[test]
fn package_table_fits_width() {
    let report = sbom_of(&long_value_report());
    let mut out = Vec::new();
    let options = TableOptions {
        color: false,
        width: 80,
    };
    write_sbom(&report, Format::Table, &mut out, &options).unwrap();
    let text = String::from_utf8(out).unwrap();
    for line in table_lines(&text) {
        assert!(line.width() <= 80, "{} columns: {line}", line.width());
    }
    for package in &report.packages {
        assert!(
            text.contains(&package.name),
            "name {} kept: {text}",
            package.name
        );
    }
}

#[test]
fn default_width_is_120_columns() {
    assert_eq!(TableOptions::default().width, 120);
    assert!(!TableOptions::default().color);
    // Output to a file never takes the terminal's width.
    assert_eq!(TableOptions::for_output(false, true).width, 120);
}
