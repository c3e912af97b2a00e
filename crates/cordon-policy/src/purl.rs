//! Package URL patterns: a purl whose omitted parts match any value.

use std::str::FromStr;

use packageurl::PackageUrl;

/// A package URL used as a pattern. Type, namespace and name must equal the package's;
/// the version, when given, must equal too; each qualifier given must be present with the
/// same value. Subpaths are not compared.
#[derive(Debug, Clone)]
pub struct PurlPattern {
    text: String,
    parsed: Parts,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Parts {
    ty: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: Vec<(String, String)>,
}

impl Parts {
    fn parse(text: &str) -> Result<Parts, String> {
        let purl = PackageUrl::from_str(text)
            .map_err(|error| format!("invalid package URL `{text}`: {error}"))?;
        Ok(Parts {
            ty: purl.ty().to_ascii_lowercase(),
            namespace: purl.namespace().map(str::to_string),
            name: purl.name().to_string(),
            version: purl.version().map(str::to_string),
            qualifiers: purl
                .qualifiers()
                .iter()
                .map(|(key, value)| (key.to_ascii_lowercase(), value.to_string()))
                .collect(),
        })
    }
}

impl PurlPattern {
    /// Parses `text` as a package URL.
    pub fn parse(text: &str) -> Result<PurlPattern, String> {
        Ok(PurlPattern {
            text: text.to_string(),
            parsed: Parts::parse(text)?,
        })
    }

    /// Returns the pattern as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Tells whether the package with purl `purl` matches; an unparsable `purl` never does.
    pub fn matches(&self, purl: &str) -> bool {
        let Ok(package) = Parts::parse(purl) else {
            return false;
        };
        let pattern = &self.parsed;
        if pattern.ty != package.ty
            || pattern.namespace != package.namespace
            || pattern.name != package.name
        {
            return false;
        }
        if pattern.version.is_some() && pattern.version != package.version {
            return false;
        }
        pattern
            .qualifiers
            .iter()
            .all(|qualifier| package.qualifiers.contains(qualifier))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIBSSL: &str = "pkg:deb/debian/libssl1.1@1.1.1k-1%2Bdeb11u1?arch=amd64&distro=debian-11";

    #[test]
    fn bare_name_matches_any_version() {
        assert!(PurlPattern::parse("pkg:deb/debian/libssl1.1")
            .unwrap()
            .matches(LIBSSL));
    }

    #[test]
    fn version_compared_after_decoding() {
        let pattern = PurlPattern::parse("pkg:deb/debian/libssl1.1@1.1.1k-1+deb11u1").unwrap();
        assert!(pattern.matches(LIBSSL));
    }

    #[test]
    fn qualifier_must_be_present() {
        let amd64 = PurlPattern::parse("pkg:deb/debian/libssl1.1?arch=amd64").unwrap();
        assert!(amd64.matches(LIBSSL));
        let arm64 = PurlPattern::parse("pkg:deb/debian/libssl1.1?arch=arm64").unwrap();
        assert!(!arm64.matches(LIBSSL));
    }

    #[test]
    fn other_namespace_or_type_rejected() {
        assert!(!PurlPattern::parse("pkg:deb/ubuntu/libssl1.1")
            .unwrap()
            .matches(LIBSSL));
        assert!(!PurlPattern::parse("pkg:rpm/debian/libssl1.1")
            .unwrap()
            .matches(LIBSSL));
    }

    #[test]
    fn invalid_purl_reports_text() {
        let error = PurlPattern::parse("pkg:").unwrap_err();
        assert!(error.contains("`pkg:`"), "{error}");
    }
}
