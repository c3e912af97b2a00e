use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Severity on Clair's seven-level scale, ordered from least to most severe.
///
/// The derived `Ord` follows declaration order, so `Severity::High > Severity::Medium`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// No rating is known.
    Unknown,
    /// Technically a security problem, but only theoretical or with negligible impact.
    Negligible,
    /// Low impact or hard to exploit.
    Low,
    /// Real risk under some configurations.
    Medium,
    /// Serious risk in common configurations.
    High,
    /// Exploitable remotely with severe impact in most configurations.
    Critical,
    /// Clair's level above Critical, for issues that demand an emergency response.
    Defcon1,
}

impl Severity {
    /// All levels, least severe first.
    pub const ALL: [Severity; 7] = [
        Severity::Unknown,
        Severity::Negligible,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
        Severity::Defcon1,
    ];

    /// Returns the level's canonical name, as used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "Unknown",
            Severity::Negligible => "Negligible",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
            Severity::Defcon1 => "Defcon1",
        }
    }

    /// Maps a CVSS base score (0.0 to 10.0) to a level with the CVSS v3 rating bands:
    /// 0.0 None (reported as Negligible), 0.1-3.9 Low, 4.0-6.9 Medium, 7.0-8.9 High,
    /// 9.0-10.0 Critical.
    pub fn from_cvss_score(score: f64) -> Severity {
        if score.is_nan() || score < 0.0 {
            Severity::Unknown
        } else if score == 0.0 {
            Severity::Negligible
        } else if score < 4.0 {
            Severity::Low
        } else if score < 7.0 {
            Severity::Medium
        } else if score < 9.0 {
            Severity::High
        } else {
            Severity::Critical
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a severity name that is not one of the seven levels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid severity `{0}`: expected one of Unknown, Negligible, Low, Medium, High, Critical, Defcon1")]
pub struct ParseSeverityError(pub String);

impl FromStr for Severity {
    type Err = ParseSeverityError;

    /// Parses a level name case-insensitively; `moderate` is accepted as Medium because
    /// GitHub advisories use it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "unknown" => Ok(Severity::Unknown),
            "negligible" => Ok(Severity::Negligible),
            "low" => Ok(Severity::Low),
            "medium" | "moderate" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            "defcon1" => Ok(Severity::Defcon1),
            _ => Err(ParseSeverityError(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_follows_clair_scale() {
        for pair in Severity::ALL.windows(2) {
            assert!(pair[0] < pair[1], "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn names_round_trip() {
        for level in Severity::ALL {
            assert_eq!(level.as_str().parse::<Severity>(), Ok(level));
        }
        assert_eq!("MODERATE".parse::<Severity>(), Ok(Severity::Medium));
        assert!("severe".parse::<Severity>().is_err());
    }

    #[test]
    fn cvss_bands() {
        assert_eq!(Severity::from_cvss_score(0.0), Severity::Negligible);
        assert_eq!(Severity::from_cvss_score(3.9), Severity::Low);
        assert_eq!(Severity::from_cvss_score(4.0), Severity::Medium);
        assert_eq!(Severity::from_cvss_score(7.0), Severity::High);
        assert_eq!(Severity::from_cvss_score(8.9), Severity::High);
        assert_eq!(Severity::from_cvss_score(9.0), Severity::Critical);
        assert_eq!(Severity::from_cvss_score(10.0), Severity::Critical);
    }
}
