use std::fmt;

use serde::{Deserialize, Serialize};

/// Package ecosystem: which package manager installed a package and so which version
/// scheme and advisory namespace apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ecosystem {
    /// dpkg packages of Debian and its derivatives; compared with the dpkg algorithm.
    Deb,
    /// apk packages of Alpine Linux.
    Apk,
    /// Python distributions (PyPI); compared with PEP 440.
    Pypi,
    /// npm packages; compared with semver.
    Npm,
    /// Go modules.
    Go,
    /// Maven artifacts.
    Maven,
    /// Rust crates.
    Cargo,
}

impl Ecosystem {
    /// Returns the ecosystem's name in OSV records (`affected[].package.ecosystem`).
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::Deb => "Debian",
            Ecosystem::Apk => "Alpine",
            Ecosystem::Pypi => "PyPI",
            Ecosystem::Npm => "npm",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
            Ecosystem::Cargo => "crates.io",
        }
    }

    /// Returns the purl type (`pkg:<type>/...`) of the ecosystem.
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Pypi => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::Go => "golang",
            Ecosystem::Maven => "maven",
            Ecosystem::Cargo => "cargo",
        }
    }

    /// Returns the ecosystem whose OSV name is `name`, ignoring any `:release` suffix
    /// such as `Debian:11`.
    pub fn from_osv_name(name: &str) -> Option<Ecosystem> {
        let base = name.split(':').next().unwrap_or(name);
        Some(match base {
            "Debian" => Ecosystem::Deb,
            "Alpine" => Ecosystem::Apk,
            "PyPI" => Ecosystem::Pypi,
            "npm" => Ecosystem::Npm,
            "Go" => Ecosystem::Go,
            "Maven" => Ecosystem::Maven,
            "crates.io" => Ecosystem::Cargo,
            _ => return None,
        })
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.purl_type())
    }
}
