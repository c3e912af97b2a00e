//! Human-readable tables.

use std::io::{self, Write};

use comfy_table::{ContentArrangement, Table};
use cordon_model::Severity;

use crate::{SbomReport, ScanReport};

/// comfy-table's `UTF8_HORIZONTAL_ONLY` without the lines between rows: a rule above
/// and below the table and under the header.
const TABLE_STYLE: &str = "  ── ══      ──    ";

pub(crate) fn write_scan_table(
    report: &ScanReport,
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    writeln!(out, "Image:    {}", report.image.source)?;
    if let Some(distro) = &report.distro {
        let name = distro
            .pretty_name
            .clone()
            .unwrap_or_else(|| distro.id.clone());
        writeln!(out, "OS:       {name}")?;
    }
    if let Some(database) = &report.database {
        writeln!(out, "Database: built {}", database.built_at)?;
    }
    writeln!(out, "Packages: {}", report.summary.packages)?;
    writeln!(out)?;

    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|level| {
            let count = report.summary.by_severity.get(level).copied().unwrap_or(0);
            format!("{}: {count}", paint(*level, level.as_str(), color))
        })
        .collect();
    writeln!(
        out,
        "Findings: {} ({})",
        report.summary.findings,
        counts.join(", ")
    )?;

    if !report.findings.is_empty() {
        let mut table = Table::new();
        table
            .load_preset(TABLE_STYLE)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header([
                "SEVERITY",
                "ID",
                "PACKAGE",
                "INSTALLED",
                "FIXED",
                "STATUS",
                "LAYER",
            ]);
        for finding in &report.findings {
            table.add_row([
                paint(finding.severity, finding.severity.as_str(), color),
                finding.id.clone(),
                finding.package.name.clone(),
                finding.installed_version.clone(),
                finding.fixed_version.clone().unwrap_or_default(),
                finding.status.to_string(),
                finding
                    .layer
                    .as_ref()
                    .map(|layer| layer.index.to_string())
                    .unwrap_or_default(),
            ]);
        }
        writeln!(out, "{table}")?;
    }

    write_malware_section(report, out, color)?;

    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    writeln!(out)?;
    let verdict = if report.gate.passed { "PASS" } else { "FAIL" };
    writeln!(out, "Gate: {verdict} ({})", report.gate.reason)
}

/// Writes the malware counts, findings and scan warnings, when the malware scanner ran.
fn write_malware_section(report: &ScanReport, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let Some(scan) = &report.malware_scan else {
        return Ok(());
    };
    writeln!(out)?;
    let engines: Vec<&str> = scan.engines.iter().map(|engine| engine.as_str()).collect();
    writeln!(
        out,
        "Malware: {} finding(s) in {} files ({:.1} MB) scanned with {}",
        report.malware.len(),
        scan.files_scanned,
        scan.bytes_scanned as f64 / 1e6,
        engines.join(", ")
    )?;
    if !report.malware.is_empty() {
        let mut table = Table::new();
        table
            .load_preset(TABLE_STYLE)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header([
                "SEVERITY",
                "RULE",
                "ENGINE",
                "PATH",
                "LAYER",
                "IN FINAL IMAGE",
            ]);
        for finding in &report.malware {
            let path = match &finding.archive_member {
                Some(member) => format!("/{}!{member}", finding.path),
                None => format!("/{}", finding.path),
            };
            let visible = if finding.hidden_in_final_image {
                "no (hidden)"
            } else {
                "yes"
            };
            table.add_row([
                paint(finding.severity, finding.severity.as_str(), color),
                finding.rule_id.clone(),
                finding.engine.to_string(),
                path,
                finding
                    .layer
                    .as_ref()
                    .map(|layer| layer.index.to_string())
                    .unwrap_or_default(),
                visible.to_string(),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    for warning in &scan.warnings {
        writeln!(
            out,
            "malware warning: [{}] {}",
            warning.kind, warning.message
        )?;
    }
    Ok(())
}

pub(crate) fn write_package_table(report: &SbomReport, out: &mut dyn Write) -> io::Result<()> {
    let mut table = Table::new();
    table
        .load_preset(TABLE_STYLE)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(["NAME", "VERSION", "TYPE", "SOURCE", "LAYER", "LOCATION"]);
    for package in &report.packages {
        let source = match (&package.source_name, &package.source_version) {
            (Some(name), Some(version)) => format!("{name} {version}"),
            (Some(name), None) => name.clone(),
            _ => String::new(),
        };
        table.add_row([
            package.name.clone(),
            package.version.clone(),
            package.ecosystem.to_string(),
            source,
            package
                .layer
                .as_ref()
                .map(|layer| layer.index.to_string())
                .unwrap_or_default(),
            format!("/{}", package.location),
        ]);
    }
    writeln!(out, "{table}")?;
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

/// Colours a severity label with ANSI escapes when `color` is set.
fn paint(level: Severity, text: &str, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match level {
        Severity::Defcon1 | Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "34",
        Severity::Negligible | Severity::Unknown => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}
