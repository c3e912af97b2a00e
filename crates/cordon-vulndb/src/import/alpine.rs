//! Alpine secdb importer: the YAML files of the 2020 alpine-secdb repository or the JSON
//! documents of secdb.alpinelinux.org (`v3.NN/{main,community}.json`); both have the
//! same shape.

use std::path::Path;
use std::sync::OnceLock;

use indexmap::IndexMap;
use regex::Regex;
use serde::Deserialize;

use super::{null_as_default, Import};
use crate::input::{for_each_document, Document};
use crate::record::AlpineRecord;
use crate::store::Writer;
use crate::DbError;

#[derive(Deserialize)]
struct SecdbDocument {
    distroversion: String,
    reponame: String,
    #[serde(default, deserialize_with = "null_as_default")]
    packages: Vec<SecdbPackage>,
}

#[derive(Deserialize)]
struct SecdbPackage {
    pkg: SecdbPkg,
}

#[derive(Deserialize)]
struct SecdbPkg {
    name: String,
    /// Fixed version to the ids fixed in it, in document order. YAML writes an empty
    /// list as no value, hence the `Option`.
    #[serde(default, deserialize_with = "null_as_default")]
    secfixes: IndexMap<String, Option<Vec<String>>>,
}

/// Imports every secdb document of `path` (a file, or a directory of `*.yaml`, `*.yml`
/// and `*.json` files).
pub(crate) fn import(
    path: &Path,
    import: &mut Import<'_>,
    writer: &mut Writer<'_>,
) -> Result<(), DbError> {
    let limits = *import.limits;
    let extensions = [".yaml", ".yml", ".json"];
    for_each_document(path, &extensions, &limits, |document| {
        import_document(&document, path, import, writer)
    })
}

fn import_document(
    document: &Document<'_>,
    input: &Path,
    import: &mut Import<'_>,
    writer: &mut Writer<'_>,
) -> Result<(), DbError> {
    let location = if input.is_dir() {
        format!("{} in {}", document.member, import.location)
    } else {
        import.location.to_owned()
    };
    let invalid = |reason: String| DbError::InvalidInput {
        what: "Alpine secdb document".to_owned(),
        location: location.clone(),
        reason,
    };

    let first = document
        .bytes
        .iter()
        .find(|byte| !byte.is_ascii_whitespace());
    let parsed: SecdbDocument = if first == Some(&b'{') {
        serde_json::from_slice(document.bytes).map_err(|error| invalid(error.to_string()))?
    } else {
        serde_norway::from_slice(document.bytes).map_err(|error| invalid(error.to_string()))?
    };

    let branch = parsed
        .distroversion
        .strip_prefix('v')
        .unwrap_or(&parsed.distroversion);
    for package in parsed.packages {
        for (fixed_version, entries) in package.pkg.secfixes {
            for entry in entries.unwrap_or_default() {
                let ids = split_ids(&entry);
                if ids.is_empty() {
                    import.skip(invalid(format!(
                        "package {} fixed version {fixed_version}: no vulnerability id in `{entry}`",
                        package.pkg.name
                    )))?;
                    continue;
                }
                for id in ids {
                    let record = AlpineRecord {
                        id,
                        package: package.pkg.name.clone(),
                        branch: branch.to_owned(),
                        repository: parsed.reponame.clone(),
                        fixed_version: fixed_version.clone(),
                        source: import.name.to_owned(),
                    };
                    writer.insert_alpine(&record)?;
                    import.records += 1;
                }
            }
        }
    }
    Ok(())
}

/// Extracts the vulnerability ids from one `secfixes` list entry.
///
/// Entries are usually one CVE id, but the published files also contain several ids on
/// one line (`CVE-2016-6258 XSA-182`), trailing comments (`CVE-2018-14468 (FrameRelay)`),
/// patch names (`CVE-2017-8073.patch`), typos (`CVE_2019-2426`, `CVE 2018-16859`),
/// numbered parts (`CVE-2017-17434-1`) and placeholders (`CVE-????-?????`).
fn split_ids(entry: &str) -> Vec<String> {
    static CVE: OnceLock<Option<Regex>> = OnceLock::new();
    static OTHER: OnceLock<Option<Regex>> = OnceLock::new();
    let cve = CVE.get_or_init(|| Regex::new(r"(?i)\bCVE[-_ ]?(\d{4})-(\d{4,})").ok());
    // Project advisory ids: XSA-182, TALOS-2019-0844, ZBX-11023, wnpa-sec-2017-18.
    let other = OTHER.get_or_init(|| Regex::new(r"^[A-Za-z]+(?:-[A-Za-z]+)*-\d+(?:-\d+)*$").ok());
    let (Some(cve), Some(other)) = (cve, other) else {
        return Vec::new();
    };

    // Text from the first parenthesis on is a comment.
    let text = entry.split('(').next().unwrap_or_default();
    let mut ids: Vec<String> = Vec::new();
    let mut push = |id: String| {
        if !ids.contains(&id) {
            ids.push(id);
        }
    };
    for captures in cve.captures_iter(text) {
        push(format!("CVE-{}-{}", &captures[1], &captures[2]));
    }
    for token in text.split_whitespace() {
        let token = token.trim_end_matches([',', ';', ':']);
        if !token.to_ascii_uppercase().starts_with("CVE") && other.is_match(token) {
            push(token.to_owned());
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::split_ids;

    #[test]
    fn plain_cve_kept() {
        assert_eq!(split_ids("CVE-2019-14904"), ["CVE-2019-14904"]);
    }

    #[test]
    fn several_ids_on_one_line() {
        assert_eq!(
            split_ids("CVE-2017-5753 CVE-2017-5715 CVE-2017-5754 XSA-254 XPTI"),
            ["CVE-2017-5753", "CVE-2017-5715", "CVE-2017-5754", "XSA-254"]
        );
        assert_eq!(
            split_ids("CVE-2019-5060 TALOS-2019-0844"),
            ["CVE-2019-5060", "TALOS-2019-0844"]
        );
    }

    #[test]
    fn comments_and_suffixes_dropped() {
        assert_eq!(split_ids("CVE-2018-14468 (FrameRelay)"), ["CVE-2018-14468"]);
        assert_eq!(
            split_ids("CVE-2017-2616 (+ regression fix)"),
            ["CVE-2017-2616"]
        );
        assert_eq!(split_ids("CVE-2017-8073.patch"), ["CVE-2017-8073"]);
        assert_eq!(split_ids("CVE-2017-17434-1"), ["CVE-2017-17434"]);
    }

    #[test]
    fn misspelled_cve_prefixes_repaired() {
        assert_eq!(split_ids("CVE_2019-2426"), ["CVE-2019-2426"]);
        assert_eq!(split_ids("CVE 2018-16859"), ["CVE-2018-16859"]);
    }

    #[test]
    fn placeholders_and_words_yield_nothing() {
        assert_eq!(split_ids("CVE-????-?????  XSA-284"), ["XSA-284"]);
        assert!(split_ids("patch").is_empty());
        assert_eq!(split_ids("wnpa-sec-2017-18"), ["wnpa-sec-2017-18"]);
    }
}
