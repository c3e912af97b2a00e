//! Language packages of the corpus's python-app and node-app images against real OSV
//! records.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::{assert_same_findings, build_db, image_from_env, scan_json, vulndata};

/// Returns `finding["package"]["location"]` without the metadata file name, with a
/// leading `/`, as the expectation file writes paths.
fn dist_dir(location: &str) -> String {
    let trimmed = location
        .strip_suffix("/METADATA")
        .or_else(|| location.strip_suffix("/PKG-INFO"));
    format!("/{}", trimmed.unwrap_or(location))
}

fn normalise(name: &str) -> String {
    let mut out = String::new();
    let mut last_dash = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_dash {
                out.push('-');
            }
            last_dash = true;
        } else {
            out.extend(c.to_lowercase());
            last_dash = false;
        }
    }
    out
}

#[test]
fn python_app_matches_expected_findings() {
    let Some(image) = image_from_env("CORDON_CORPUS_DIR", "python-app.docker.tar") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = build_db(
        dir.path(),
        &[format!("osv={}", vulndata("osv/PyPI/all.zip").display())],
    );
    let (_, report) = scan_json(&format!("docker-archive:{}", image.display()), &db, &[]);

    let text =
        std::fs::read_to_string(vulndata("expected/python-app.json")).expect("expectation file");
    let expected: Value = serde_json::from_str(&text).expect("expectation JSON");
    let mut must = BTreeSet::new();
    for item in expected["must_report"].as_array().expect("must_report") {
        for path in item["paths"].as_array().expect("paths") {
            must.insert(format!(
                "{} {} {} {}",
                normalise(item["package"].as_str().unwrap_or("")),
                item["version"].as_str().unwrap_or(""),
                item["advisory"].as_str().unwrap_or(""),
                path.as_str().unwrap_or("")
            ));
        }
    }
    let may: BTreeSet<String> = expected["may_report"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|item| {
            let item = item.clone();
            item["paths"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |path| {
                    format!(
                        "{} {} {} {}",
                        normalise(item["package"].as_str().unwrap_or("")),
                        item["version"].as_str().unwrap_or(""),
                        item["advisory"].as_str().unwrap_or(""),
                        path.as_str().unwrap_or("")
                    )
                })
        })
        .collect();

    let found: BTreeSet<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["package"]["ecosystem"] == "pypi")
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["package"]["name"].as_str().unwrap_or(""),
                f["installed_version"].as_str().unwrap_or(""),
                f["id"].as_str().unwrap_or(""),
                dist_dir(f["package"]["location"].as_str().unwrap_or(""))
            )
        })
        .collect();
    assert_same_findings("python-app", &must, &may, &found);

    // Packages removed by whiteouts in a later layer are not installed.
    let names: BTreeSet<&str> = report["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["ecosystem"] == "pypi")
        .filter_map(|p| p["name"].as_str())
        .collect();
    for removed in ["py", "apipkg", "iniconfig", "flask"] {
        assert!(
            !names.contains(removed),
            "{removed} is not installed in python-app"
        );
    }
}

/// The node-app lockfile and `node_modules` pin lodash 4.17.4, minimist 0.0.8, jquery
/// 3.3.1 and moment 2.19.3. Against the seven GitHub advisories of `osv/npm/all.zip`:
/// lodash < 4.17.12, < 4.17.20 and < 4.17.21 match; jquery in [1.2.0, 3.5.0) matches;
/// minimist < 0.2.1 and < 0.2.4 match; moment is fixed in 2.19.3 itself, so it does
/// not. The handlebars package ships its own development lockfile inside
/// `node_modules/handlebars/`, whose entries are not installed and must not match.
#[test]
fn node_app_matches_expected_findings() {
    let Some(image) = image_from_env("CORDON_CORPUS_DIR", "node-app.docker.tar") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = build_db(
        dir.path(),
        &[format!("osv={}", vulndata("osv/npm/all.zip").display())],
    );
    let (code, report) = scan_json(&format!("docker-archive:{}", image.display()), &db, &[]);
    assert_eq!(
        code, 1,
        "Critical lodash and minimist findings fail the gate"
    );

    let expected: BTreeSet<String> = [
        "lodash 4.17.4 GHSA-jf85-cpcp-j695",
        "lodash 4.17.4 GHSA-p6mc-m468-83gw",
        "lodash 4.17.4 GHSA-35jh-r3h4-6jhm",
        "jquery 3.3.1 GHSA-gxr4-xjj5-5px2",
        "minimist 0.0.8 GHSA-vh95-rmgr-6w4m",
        "minimist 0.0.8 GHSA-xvch-5gv4-984h",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    let findings = report["findings"].as_array().expect("findings");
    let found: BTreeSet<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["package"]["name"].as_str().unwrap_or(""),
                f["installed_version"].as_str().unwrap_or(""),
                f["id"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_same_findings("node-app", &expected, &BTreeSet::new(), &found);

    let severity_of = |id: &str| {
        findings
            .iter()
            .find(|f| f["id"] == id)
            .map(|f| f["severity"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(severity_of("GHSA-jf85-cpcp-j695"), "Critical");
    assert_eq!(severity_of("GHSA-gxr4-xjj5-5px2"), "Medium");
    let lodash = findings
        .iter()
        .find(|f| f["id"] == "GHSA-jf85-cpcp-j695")
        .expect("lodash finding");
    assert_eq!(lodash["fixed_version"], "4.17.12");
    assert_eq!(lodash["aliases"], serde_json::json!(["CVE-2019-10744"]));
}
