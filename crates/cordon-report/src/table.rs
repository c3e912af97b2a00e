//! Human-readable tables.

use std::io::{self, Write};

use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table};
use cordon_model::Severity;

use crate::fit::{fit_rows, truncate, Column, Cut, Fit};
use crate::{SbomReport, ScanReport, TableOptions};

/// comfy-table's `UTF8_HORIZONTAL_ONLY` without the lines between rows: a rule above
/// and below the table and under the header.
const TABLE_STYLE: &str = "  ── ══      ──    ";

/// Columns of the findings table. The installed version is truncated first and the
/// package name last, because the fixed version is what a reader acts on.
const FINDING_COLUMNS: [Column; 7] = [
    keep("SEVERITY"),
    keep("ID"),
    shrink("PACKAGE", 3, Cut::End),
    shrink("INSTALLED", 0, Cut::End),
    shrink("FIXED", 2, Cut::End),
    shrink("STATUS", 1, Cut::End),
    keep("LAYER"),
];

/// Columns of the malware table: the path keeps its end, where the file name is.
const MALWARE_COLUMNS: [Column; 6] = [
    keep("SEVERITY"),
    keep("RULE"),
    shrink("ENGINE", 1, Cut::End),
    shrink("PATH", 0, Cut::Start),
    keep("LAYER"),
    keep("IN FINAL IMAGE"),
];

/// Columns of the package table of `cordon sbom`.
const PACKAGE_COLUMNS: [Column; 6] = [
    keep("NAME"),
    shrink("VERSION", 2, Cut::End),
    keep("TYPE"),
    shrink("SOURCE", 0, Cut::End),
    keep("LAYER"),
    shrink("LOCATION", 1, Cut::Start),
];

const fn keep(header: &'static str) -> Column {
    Column {
        header,
        fit: Fit::Keep,
    }
}

const fn shrink(header: &'static str, rank: u8, cut: Cut) -> Column {
    Column {
        header,
        fit: Fit::Shrink { rank, cut },
    }
}

/// A table row: its cells as plain text, and the severity that colours the first cell.
type Row = (Option<Severity>, Vec<String>);

/// Builds a table of `columns` whose rows are truncated to fit `options.width`.
fn fitted_table(columns: &[Column], rows: Vec<Row>, options: &TableOptions) -> Table {
    let (severities, mut cells): (Vec<Option<Severity>>, Vec<Vec<String>>) =
        rows.into_iter().unzip();
    let widths = fit_rows(columns, &mut cells, TABLE_STYLE, options.width);
    let headers = columns
        .iter()
        .zip(widths)
        .map(|(column, width)| truncate(column.header, width, Cut::End));

    let mut table = Table::new();
    table
        .load_preset(TABLE_STYLE)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers);
    if options.color {
        table.enforce_styling().style_text_only();
    } else {
        table.force_no_tty();
    }
    for (severity, row) in severities.into_iter().zip(cells) {
        let styled = row.into_iter().enumerate().map(|(index, text)| {
            let cell = Cell::new(text);
            match severity {
                Some(level) if index == 0 && options.color => style_severity(cell, level),
                _ => cell,
            }
        });
        table.add_row(styled);
    }
    table
}

fn layer_index(layer: Option<&cordon_model::LayerRef>) -> String {
    layer
        .map(|layer| layer.index.to_string())
        .unwrap_or_default()
}

pub(crate) fn write_scan_table(
    report: &ScanReport,
    out: &mut dyn Write,
    options: &TableOptions,
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

    if report
        .settings
        .scanners
        .iter()
        .any(|scanner| scanner == "vuln")
    {
        write_vulnerability_section(report, out, options)?;
    }
    write_malware_section(report, out, options)?;

    if !report.ignored.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Ignored: {} finding(s) suppressed by the ignore file or VEX, not counted by the gate (listed in the JSON report)",
            report.ignored.len()
        )?;
    }
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    writeln!(out)?;
    let verdict = if report.gate.passed { "PASS" } else { "FAIL" };
    writeln!(out, "Gate: {verdict} ({})", report.gate.reason)
}

/// Writes the vulnerability counts and findings.
fn write_vulnerability_section(
    report: &ScanReport,
    out: &mut dyn Write,
    options: &TableOptions,
) -> io::Result<()> {
    let color = options.color;
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
        let rows = report
            .findings
            .iter()
            .map(|finding| {
                let cells = vec![
                    finding.severity.as_str().to_string(),
                    finding.id.clone(),
                    finding.package.name.clone(),
                    finding.installed_version.clone(),
                    finding.fixed_version.clone().unwrap_or_default(),
                    finding.status.to_string(),
                    layer_index(finding.layer.as_ref()),
                ];
                (Some(finding.severity), cells)
            })
            .collect();
        writeln!(out, "{}", fitted_table(&FINDING_COLUMNS, rows, options))?;
    }

    Ok(())
}

/// Writes the malware counts, findings and scan warnings, when the malware scanner ran.
fn write_malware_section(
    report: &ScanReport,
    out: &mut dyn Write,
    options: &TableOptions,
) -> io::Result<()> {
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
        let rows = report
            .malware
            .iter()
            .map(|finding| {
                let path = match &finding.archive_member {
                    Some(member) => format!("/{}!{member}", finding.path),
                    None => format!("/{}", finding.path),
                };
                let visible = if finding.hidden_in_final_image {
                    "no (hidden)"
                } else {
                    "yes"
                };
                let cells = vec![
                    finding.severity.as_str().to_string(),
                    finding.rule_id.clone(),
                    finding.engine.to_string(),
                    path,
                    layer_index(finding.layer.as_ref()),
                    visible.to_string(),
                ];
                (Some(finding.severity), cells)
            })
            .collect();
        writeln!(out, "{}", fitted_table(&MALWARE_COLUMNS, rows, options))?;
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

pub(crate) fn write_package_table(
    report: &SbomReport,
    out: &mut dyn Write,
    options: &TableOptions,
) -> io::Result<()> {
    let rows = report
        .packages
        .iter()
        .map(|package| {
            let source = match (&package.source_name, &package.source_version) {
                (Some(name), Some(version)) => format!("{name} {version}"),
                (Some(name), None) => name.clone(),
                _ => String::new(),
            };
            let cells = vec![
                package.name.clone(),
                package.version.clone(),
                package.ecosystem.to_string(),
                source,
                layer_index(package.layer.as_ref()),
                format!("/{}", package.location),
            ];
            (None, cells)
        })
        .collect();
    writeln!(out, "{}", fitted_table(&PACKAGE_COLUMNS, rows, options))?;
    for warning in &report.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

/// Colours a severity cell as [`paint`] colours a label.
fn style_severity(cell: Cell, level: Severity) -> Cell {
    match level {
        Severity::Defcon1 | Severity::Critical => {
            cell.fg(Color::DarkRed).add_attribute(Attribute::Bold)
        }
        Severity::High => cell.fg(Color::DarkRed),
        Severity::Medium => cell.fg(Color::DarkYellow),
        Severity::Low => cell.fg(Color::DarkBlue),
        Severity::Negligible | Severity::Unknown => cell.add_attribute(Attribute::Dim),
    }
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
