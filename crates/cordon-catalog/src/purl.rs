//! Package URL construction (<https://github.com/package-url/purl-spec>).

use packageurl::PackageUrl;

/// Builds a purl string, percent-encoding each part as the purl specification requires.
///
/// Qualifiers with empty values are left out, as the specification requires, and the
/// crate sorts the others by key.
pub(crate) fn build(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, Option<&str>)],
) -> String {
    match try_build(ty, namespace, name, version, qualifiers) {
        Ok(purl) => purl,
        Err(error) => {
            // The package types used here all pass the crate's validation, so this branch
            // is reached only for names the crate rejects.
            tracing::debug!(%error, package.name = name, "invalid package URL parts");
            format!("pkg:{ty}/{name}@{version}")
        }
    }
}

fn try_build(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, Option<&str>)],
) -> Result<String, packageurl::Error> {
    let mut purl = PackageUrl::new(ty, name)?;
    if let Some(namespace) = namespace.filter(|namespace| !namespace.is_empty()) {
        purl.with_namespace(namespace)?;
    }
    if !version.is_empty() {
        purl.with_version(version)?;
    }
    for (key, value) in qualifiers {
        if let Some(value) = value.filter(|value| !value.is_empty()) {
            purl.add_qualifier(*key, value)?;
        }
    }
    Ok(purl.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb_version_plus_is_encoded() {
        let purl = build(
            "deb",
            Some("debian"),
            "util-linux",
            "1:2.36.1-8+deb11u2",
            &[("distro", Some("debian-11")), ("arch", Some("amd64"))],
        );
        assert_eq!(
            purl,
            "pkg:deb/debian/util-linux@1:2.36.1-8%2Bdeb11u2?arch=amd64&distro=debian-11"
        );
    }

    #[test]
    fn npm_scope_at_sign_is_encoded() {
        let purl = build("npm", Some("@babel"), "core", "7.0.0", &[]);
        assert_eq!(purl, "pkg:npm/%40babel/core@7.0.0");
    }

    #[test]
    fn empty_qualifier_is_omitted() {
        let purl = build(
            "apk",
            Some("alpine"),
            "musl",
            "1.1.24-r2",
            &[("arch", None), ("distro", Some(""))],
        );
        assert_eq!(purl, "pkg:apk/alpine/musl@1.1.24-r2");
    }
}
