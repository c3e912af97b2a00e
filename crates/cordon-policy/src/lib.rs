//! Gates that decide whether an image may pass.
//!
//! [`ThresholdGate`] is the vulnerability gate of Clair-based pipelines: the stage fails
//! when the number of findings at or above a severity reaches a count. [`Suppressions`]
//! run first: they take out findings that an ignore file entry ([`IgnoreFile`]) or an
//! OpenVEX statement ([`VexDocument`]) accepts, and keep them for the report.

#![forbid(unsafe_code)]

mod ignore;
mod purl;
mod suppress;
mod vex;

pub use ignore::{IgnoreEntry, IgnoreFile, IgnoreFileError, LayerSelector};
pub use purl::PurlPattern;
pub use suppress::{IgnoredFinding, Suppressed, Suppression, Suppressions};
pub use vex::{VexDocument, VexError, VexStatement, VexStatus};

use cordon_model::Severity;
use serde::{Deserialize, Serialize};

/// Drops the ` at line L column C` suffix that the YAML and JSON parsers append, because
/// Cordon's errors name the line themselves.
fn without_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(start) => message[..start].to_string(),
        None => message.to_string(),
    }
}

/// Clair's rule: fail when `max_count` or more findings are rated `fail_on` or worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdGate {
    /// Lowest severity that counts.
    pub fail_on: Severity,
    /// Number of counted findings at which the gate fails; at least 1.
    pub max_count: usize,
}

impl Default for ThresholdGate {
    /// High, 1: any High or worse finding fails the gate.
    fn default() -> Self {
        ThresholdGate {
            fail_on: Severity::High,
            max_count: 1,
        }
    }
}

/// Outcome of a gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateResult {
    /// True when the image may pass.
    pub passed: bool,
    /// Lowest severity that counted.
    pub fail_on: Severity,
    /// Count that fails the gate.
    pub max_count: usize,
    /// Findings at or above `fail_on`.
    pub counted: usize,
    /// One sentence explaining the verdict.
    pub reason: String,
}

impl ThresholdGate {
    /// Evaluates the gate over the severities of all findings (vulnerabilities and any
    /// other finding kinds the caller includes).
    pub fn evaluate(&self, severities: impl IntoIterator<Item = Severity>) -> GateResult {
        let max_count = self.max_count.max(1);
        let counted = severities
            .into_iter()
            .filter(|level| *level >= self.fail_on)
            .count();
        let passed = counted < max_count;
        let verdict = if passed { "passed" } else { "failed" };
        let reason = format!(
            "{verdict}: {counted} finding(s) at or above {}, the gate fails at {max_count}",
            self.fail_on
        );
        GateResult {
            passed,
            fail_on: self.fail_on,
            max_count,
            counted,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fails_when_count_reaches_threshold() {
        let gate = ThresholdGate {
            fail_on: Severity::High,
            max_count: 2,
        };
        let result = gate.evaluate([Severity::High, Severity::Critical, Severity::Low]);
        assert!(!result.passed);
        assert_eq!(result.counted, 2);
    }

    #[test]
    fn passes_below_count() {
        let gate = ThresholdGate {
            fail_on: Severity::High,
            max_count: 50,
        };
        let result = gate.evaluate(vec![Severity::High; 49]);
        assert!(result.passed);
        assert_eq!(result.counted, 49);
    }

    #[test]
    fn lower_severities_do_not_count() {
        let result = ThresholdGate::default().evaluate([Severity::Medium, Severity::Unknown]);
        assert!(result.passed);
        assert_eq!(result.counted, 0);
    }

    #[test]
    fn defcon1_counts_above_critical() {
        let gate = ThresholdGate {
            fail_on: Severity::Critical,
            max_count: 1,
        };
        assert!(!gate.evaluate([Severity::Defcon1]).passed);
    }

    #[test]
    fn zero_max_count_behaves_as_one() {
        let gate = ThresholdGate {
            fail_on: Severity::High,
            max_count: 0,
        };
        assert!(gate.evaluate([]).passed);
        assert!(!gate.evaluate([Severity::High]).passed);
    }
}
