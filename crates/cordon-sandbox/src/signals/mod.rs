//! Behaviour signals and the verdict, as pure functions over [`Observations`].

pub(crate) mod lists;
mod rules;

use cordon_model::Severity;
use serde::{Deserialize, Serialize};

use crate::events::Observations;

pub use rules::RULES;

/// Pointer from a signal to the observation that raised it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Section of the report the observation is in: `processes`, `dns`, `flows`, `files`,
    /// `file_accesses`, `socket_calls`, `stats` or `content_matches`.
    pub source: String,
    /// Index into that section.
    pub index: usize,
    /// Short text that shows what matched (a command line, a name, a path).
    pub detail: String,
}

impl Evidence {
    /// Builds an evidence entry; `detail` is cut to 200 characters.
    pub fn new(source: &str, index: usize, detail: impl Into<String>) -> Self {
        let mut detail: String = detail.into();
        if detail.chars().count() > 200 {
            detail = detail.chars().take(200).collect::<String>() + "…";
        }
        Evidence {
            source: source.to_string(),
            index,
            detail,
        }
    }
}

/// One raised behaviour signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Stable identifier, such as `mining-pool-domain`.
    pub id: String,
    /// Severity on Clair's scale.
    pub severity: Severity,
    /// MITRE ATT&CK technique id.
    pub attack_id: String,
    /// One-line description of the behaviour.
    pub title: String,
    /// Observations that raised the signal, at most 20.
    pub evidence: Vec<Evidence>,
}

/// Static description of one rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable identifier.
    pub id: &'static str,
    /// Severity when raised.
    pub severity: Severity,
    /// MITRE ATT&CK technique id.
    pub attack_id: &'static str,
    /// One-line description.
    pub title: &'static str,
    /// Returns the evidence; empty means the signal is not raised.
    pub check: fn(&Observations) -> Vec<Evidence>,
}

/// Overall judgement of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No signal above Low.
    Benign,
    /// Some behaviour that needs a person to look.
    Suspicious,
    /// Behaviour that malware shows and benign images do not.
    Malicious,
}

impl Verdict {
    /// Returns the lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Benign => "benign",
            Verdict::Suspicious => "suspicious",
            Verdict::Malicious => "malicious",
        }
    }
}

/// Score, verdict and the reasons behind them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// Sum of the signal weights, capped at 100.
    pub score: u32,
    /// Verdict derived from the score and the highest severity.
    pub verdict: Verdict,
    /// One line per raised signal, most severe first.
    pub reasons: Vec<String>,
}

/// Runs every rule and returns the raised signals, most severe first.
pub fn evaluate(observations: &Observations) -> Vec<Signal> {
    let mut signals: Vec<Signal> = RULES
        .iter()
        .filter_map(|rule| {
            let mut evidence = (rule.check)(observations);
            if evidence.is_empty() {
                return None;
            }
            evidence.truncate(20);
            Some(Signal {
                id: rule.id.to_string(),
                severity: rule.severity,
                attack_id: rule.attack_id.to_string(),
                title: rule.title.to_string(),
                evidence,
            })
        })
        .collect();
    signals.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
    signals
}

/// Weight one signal of this severity adds to the score.
pub fn severity_weight(severity: Severity) -> u32 {
    match severity {
        Severity::Defcon1 | Severity::Critical => 50,
        Severity::High => 25,
        Severity::Medium => 10,
        Severity::Low => 3,
        Severity::Negligible | Severity::Unknown => 0,
    }
}

/// Scores the signals and derives the verdict.
///
/// Malicious: any Critical signal, or a score of 50 or more. Suspicious: any High signal, or a
/// score of 15 or more. Benign otherwise.
pub fn judge(signals: &[Signal]) -> Judgement {
    let score: u32 = signals
        .iter()
        .map(|s| severity_weight(s.severity))
        .sum::<u32>()
        .min(100);
    let top = signals.iter().map(|s| s.severity).max();
    let verdict = if top >= Some(Severity::Critical) || score >= 50 {
        Verdict::Malicious
    } else if top >= Some(Severity::High) || score >= 15 {
        Verdict::Suspicious
    } else {
        Verdict::Benign
    };
    let reasons = signals
        .iter()
        .map(|s| {
            let first = s.evidence.first().map(|e| e.detail.as_str()).unwrap_or("");
            format!("{} ({}): {} [{}]", s.id, s.severity, s.title, first)
        })
        .collect();
    Judgement {
        score,
        verdict,
        reasons,
    }
}
