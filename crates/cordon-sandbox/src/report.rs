//! The run report (`report.json`) and its terminal summary.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::events::{ChangeKind, DnsRecord, FileRecord, FlowRecord, ProcessRecord, StatsSample};
use crate::signals::{Signal, Verdict};

/// Version of the `report.json` schema described in `docs/sandbox-report.md`.
pub const SCHEMA_VERSION: u32 = 1;

/// Counts shown at the top of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// File-system changes (added, changed, deleted and transient paths).
    pub file_changes: usize,
    /// Recorded execs.
    pub processes: usize,
    /// DNS queries.
    pub dns_queries: usize,
    /// Flows.
    pub flows: usize,
    /// Raised signals.
    pub signals: usize,
}

/// Durations of the run phases, in milliseconds, and the start time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Start of the target, RFC 3339.
    pub started_at: String,
    /// Requested observation window in seconds.
    pub duration_s: f64,
    /// From the sandbox call to the target's start (image load excluded).
    pub setup_ms: u64,
    /// From the target's start to its end or the deadline kill.
    pub run_ms: u64,
    /// From the end of the run to the removal of every container and namespace.
    pub teardown_ms: u64,
    /// Time spent loading the image archive into the Engine.
    pub image_load_ms: u64,
}

/// Facts of the packet capture.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaptureInfo {
    /// File name of the pcapng in the output directory, when a capture ran.
    pub pcap: Option<String>,
    /// Frames captured.
    pub packets: u64,
    /// Frames the kernel dropped.
    pub drops: u64,
}

/// Everything `report.json` holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Schema version.
    pub schema_version: u32,
    /// Run id; containers and namespaces of the run carry it.
    pub run_id: String,
    /// Image as given.
    pub image: String,
    /// Image id.
    pub image_id: String,
    /// Docker runtime that ran the target.
    pub runtime: String,
    /// Things that failed or were limited because of the runtime.
    pub runtime_notes: Vec<String>,
    /// `fake` or `none`.
    pub network_profile: String,
    /// Overall verdict.
    pub verdict: Option<Verdict>,
    /// Score 0-100.
    pub score: u32,
    /// One line per signal.
    pub reasons: Vec<String>,
    /// Raised signals.
    pub signals: Vec<Signal>,
    /// Every recorded exec.
    pub processes: Vec<ProcessRecord>,
    /// Exec events whose process had exited before its details could be read.
    pub execs_without_details: u64,
    /// DNS queries.
    pub dns: Vec<DnsRecord>,
    /// Flows.
    pub flows: Vec<FlowRecord>,
    /// File changes with content facts.
    pub files: Vec<FileRecord>,
    /// Per-second resource samples.
    pub stats: Vec<StatsSample>,
    /// Counts.
    pub summary: Summary,
    /// Exit code of the target's first process, when it exited by itself.
    pub exit_code: Option<i64>,
    /// True when the deadline ended the run.
    pub killed_at_deadline: bool,
    /// True when the kernel's OOM killer stopped the target.
    pub oom_killed: bool,
    /// Phase durations.
    pub timings: Timings,
    /// Packet capture.
    pub capture: CaptureInfo,
    /// Problems that did not stop the run.
    pub warnings: Vec<String>,
}

fn short(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if clean.chars().count() > max {
        clean.chars().take(max).collect::<String>() + "…"
    } else {
        clean
    }
}

/// Renders the terminal summary: verdict, counts, signals, process tree and changes.
pub fn render_summary(report: &Report) -> String {
    let mut out = String::new();
    let verdict = report.verdict.map(Verdict::as_str).unwrap_or("none");
    let _ = writeln!(
        out,
        "Sandbox run {} of {} ({} runtime, network {})",
        report.run_id,
        short(&report.image, 80),
        report.runtime,
        report.network_profile
    );
    let _ = writeln!(out, "Verdict: {verdict} (score {})", report.score);
    let _ = writeln!(
        out,
        "Counts: {} processes, {} file changes, {} DNS queries, {} flows",
        report.summary.processes,
        report.summary.file_changes,
        report.summary.dns_queries,
        report.summary.flows
    );
    if !report.signals.is_empty() {
        let _ = writeln!(out, "\nSignals:");
        for s in &report.signals {
            let detail = s.evidence.first().map(|e| e.detail.as_str()).unwrap_or("");
            let _ = writeln!(
                out,
                "  [{}] {} ({}) {}",
                s.severity,
                s.id,
                s.attack_id,
                short(detail, 100)
            );
        }
    }
    let _ = writeln!(out, "\nProcess tree:");
    for line in process_tree(&report.processes).into_iter().take(60) {
        let _ = writeln!(out, "  {line}");
    }
    if report.processes.len() > 60 {
        let _ = writeln!(
            out,
            "  … {} more in report.json",
            report.processes.len() - 60
        );
    }
    let changes: Vec<&FileRecord> = report.files.iter().filter(|f| f.change.is_some()).collect();
    if !changes.is_empty() {
        let _ = writeln!(out, "\nFile changes:");
        for f in changes.iter().take(30) {
            let letter = f.change.map(ChangeKind::letter).unwrap_or('?');
            let exec = if f.executed { " (executed)" } else { "" };
            let _ = writeln!(out, "  {letter} {}{exec}", short(&f.path, 120));
        }
        if changes.len() > 30 {
            let _ = writeln!(out, "  … {} more in report.json", changes.len() - 30);
        }
    }
    if !report.dns.is_empty() {
        let _ = writeln!(out, "\nDNS:");
        for d in report.dns.iter().take(20) {
            let _ = writeln!(
                out,
                "  {:>7.3}s {} {}",
                d.time,
                d.qtype,
                short(&d.name, 100)
            );
        }
    }
    for w in report.warnings.iter().chain(&report.runtime_notes) {
        let _ = writeln!(out, "note: {}", short(w, 200));
    }
    out
}

/// Renders the processes as an indented tree, parents before children, in start order.
pub fn process_tree(processes: &[ProcessRecord]) -> Vec<String> {
    use std::collections::{HashMap, HashSet};
    let pids: HashSet<u32> = processes.iter().map(|p| p.pid).collect();
    let mut children: HashMap<Option<u32>, Vec<usize>> = HashMap::new();
    for (i, p) in processes.iter().enumerate() {
        let parent = p.ppid.filter(|pp| pids.contains(pp) && *pp != p.pid);
        children.entry(parent).or_default().push(i);
    }
    let mut lines = Vec::new();
    let mut visited = HashSet::new();
    let mut stack: Vec<(usize, usize)> = children
        .get(&None)
        .map(|v| v.iter().rev().map(|i| (*i, 0)).collect())
        .unwrap_or_default();
    while let Some((i, depth)) = stack.pop() {
        if !visited.insert(i) {
            continue;
        }
        let p = &processes[i];
        let text = if p.argv.is_empty() {
            format!("<exited before read> {}", p.exe)
        } else if p.forked_only {
            format!("(fork, no exec) {}", p.command_line())
        } else {
            p.command_line()
        };
        lines.push(format!(
            "{}{} [{}] {}",
            "  ".repeat(depth),
            p.pid,
            format_args!("{:.3}s", p.start),
            short(&text, 120)
        ));
        // Children are the execs whose parent is this pid and that started after this exec.
        if let Some(kids) = children.get(&Some(p.pid)) {
            for k in kids.iter().rev() {
                stack.push((*k, depth + 1));
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_marks_forks_without_exec() {
        let shell = ProcessRecord {
            pid: 1,
            argv: vec!["sh".to_string(), "-c".to_string(), "(x)".to_string()],
            exe: "/bin/sh".to_string(),
            details_complete: true,
            ..Default::default()
        };
        let fork = ProcessRecord {
            pid: 2,
            ppid: Some(1),
            start: 0.5,
            forked_only: true,
            ..shell.clone()
        };
        let lines = process_tree(&[shell, fork]);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], "1 [0.000s] sh -c (x)");
        assert_eq!(lines[1], "  2 [0.500s] (fork, no exec) sh -c (x)");
    }
}
