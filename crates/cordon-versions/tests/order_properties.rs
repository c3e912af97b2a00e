//! Property tests: every scheme's order is a total order on generated valid versions.
//!
//! The generators use small alphabets so that equal versions and shared prefixes are
//! common, which is where ordering bugs hide.

use std::cmp::Ordering;
use std::fmt::Display;
use std::str::FromStr;

use cordon_versions::{apk, compare, dpkg, go, maven, pep440, semver, Scheme};
use proptest::prelude::*;
use proptest::string::string_regex;

/// dpkg versions, where a colon in the upstream version needs an epoch.
const DPKG: &str = r"([0-2]:[0-9][0-9ab.+~:]{0,5}|[0-9][0-9ab.+~]{0,5})(-[0-9ab.+~]{1,3})?";
const APK: &str =
    r"[0-9]{1,2}(\.[0-9]{1,2}){0,2}[ab]?(_(alpha|beta|pre|rc|p|git)[0-9]?){0,2}(-r[0-9]{1,2})?";
const PEP440: &str = r"(v|V)?([0-2]!)?[0-9](\.[0-9]){0,2}((a|b|rc|alpha|c|-pre)[0-9]?)?(\.post[0-9]?|-[0-9])?(\.dev[0-9]?)?(\+[ab0-9]{1,2}([._-][ab0-9]{1,2})?)?";
const SEMVER: &str =
    r"(v|=)?[0-2]\.[0-2]\.[0-2](-[0-9ab-]{1,2}(\.[0-9ab-]{1,2}){0,2})?(\+[a-z0-9]{1,3})?";
/// Maven versions in the shapes that real artifacts use: numbers, then `-qualifier` with an
/// optional number, then an optional `-SNAPSHOT`. maven-artifact orders its whole grammar
/// intransitively (`0a < 0ga-snapshot < 0 < 0a`, and `1-ga-SNAPSHOT > 1-jre > 1 >
/// 1-ga-SNAPSHOT`, as maven-artifact 3.8.7 prints them), and this crate follows it, so the
/// total-order properties hold only on these shapes.
const MAVEN: &str = r"[0-9]{1,2}(\.[0-9]{1,2}){0,3}(-(alpha|beta|milestone|rc|cr|sp|snapshot|jre|android)(-?[0-9]{1,2})?)?(-SNAPSHOT)?";
/// Any Maven text from a small alphabet, for the properties that hold on every pair.
const MAVEN_ANY: &str =
    r"[0-9a-z.-]{1,8}|[0-9]{1,2}([.-]?[0-9]{1,2}|[.-]?(alpha|beta|rc|sp|ga|snapshot|a|b|m|x)){0,4}";
const GO: &str =
    r"v?[0-2](\.[0-2](\.[0-2](-[0-9ab-]{1,2}(\.[0-9ab-]{1,2}){0,2})?(\+incompatible)?)?)?";

/// Strategy for versions from `pattern` that `scheme` accepts.
fn versions(pattern: &str, scheme: Scheme) -> impl Strategy<Value = String> {
    string_regex(pattern)
        .unwrap()
        .prop_filter("version the scheme accepts", move |text| {
            cordon_versions::validate(scheme, text).is_ok()
        })
}

/// Checks reflexivity and antisymmetry of `compare` on three versions.
fn check_pair_axioms(scheme: Scheme, a: &str, b: &str, c: &str) -> Result<(), TestCaseError> {
    let cmp = |x: &str, y: &str| compare(scheme, x, y).unwrap();

    for x in [a, b, c] {
        prop_assert_eq!(cmp(x, x), Ordering::Equal, "{} is not equal to itself", x);
    }
    for (x, y) in [(a, b), (b, c), (a, c)] {
        prop_assert_eq!(
            cmp(x, y),
            cmp(y, x).reverse(),
            "{} and {} are not antisymmetric",
            x,
            y
        );
    }
    Ok(())
}

/// Checks reflexivity, antisymmetry and transitivity of `compare` on three versions.
fn check_order_axioms(scheme: Scheme, a: &str, b: &str, c: &str) -> Result<(), TestCaseError> {
    check_pair_axioms(scheme, a, b, c)?;
    let cmp = |x: &str, y: &str| compare(scheme, x, y).unwrap();
    for (x, y, z) in [
        (a, b, c),
        (a, c, b),
        (b, a, c),
        (b, c, a),
        (c, a, b),
        (c, b, a),
    ] {
        if cmp(x, y) != Ordering::Greater && cmp(y, z) != Ordering::Greater {
            prop_assert_ne!(
                cmp(x, z),
                Ordering::Greater,
                "{} <= {} <= {} but {} > {}",
                x,
                y,
                z,
                x,
                z
            );
        }
        if cmp(x, y) == Ordering::Equal {
            prop_assert_eq!(
                cmp(x, z),
                cmp(y, z),
                "{} == {} but they order {} differently",
                x,
                y,
                z
            );
        }
    }
    Ok(())
}

/// Checks that sorting agrees with every pairwise comparison.
fn check_sorted<V: Ord + FromStr>(texts: &[String]) -> Result<(), TestCaseError>
where
    V::Err: std::fmt::Debug,
{
    let mut parsed: Vec<(V, &String)> = texts
        .iter()
        .map(|text| (text.parse().unwrap(), text))
        .collect();
    parsed.sort_by(|a, b| a.0.cmp(&b.0));
    for (index, (low, low_text)) in parsed.iter().enumerate() {
        for (high, high_text) in &parsed[index + 1..] {
            prop_assert_ne!(
                low.cmp(high),
                Ordering::Greater,
                "sorted {} before {}",
                low_text,
                high_text
            );
        }
    }
    Ok(())
}

/// Checks that the displayed form parses back to an equal version.
fn check_display_round_trip<V: Ord + FromStr + Display>(text: &str) -> Result<(), TestCaseError>
where
    V::Err: std::fmt::Debug,
{
    let version: V = text.parse().unwrap();
    let displayed = version.to_string();
    let reparsed: V = displayed.parse().unwrap();
    prop_assert_eq!(
        version.cmp(&reparsed),
        Ordering::Equal,
        "{} displays as {}",
        text,
        displayed
    );
    Ok(())
}

macro_rules! order_properties {
    ($module:ident, $version:ty, $scheme:expr, $pattern:expr) => {
        mod $module {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(512))]

                #[test]
                fn order_axioms_hold(
                    a in versions($pattern, $scheme),
                    b in versions($pattern, $scheme),
                    c in versions($pattern, $scheme),
                ) {
                    check_order_axioms($scheme, &a, &b, &c)?;
                }

                #[test]
                fn sort_agrees_with_pairs(texts in prop::collection::vec(versions($pattern, $scheme), 2..12)) {
                    check_sorted::<$version>(&texts)?;
                }

                #[test]
                fn display_round_trips(text in versions($pattern, $scheme)) {
                    check_display_round_trip::<$version>(&text)?;
                }
            }
        }
    };
}

order_properties!(dpkg_order, dpkg::Version, Scheme::Dpkg, DPKG);
order_properties!(apk_order, apk::Version, Scheme::Apk, APK);
order_properties!(pep440_order, pep440::Version, Scheme::Pep440, PEP440);
order_properties!(semver_order, semver::Version, Scheme::Semver, SEMVER);
order_properties!(maven_order, maven::Version, Scheme::Maven, MAVEN);
order_properties!(go_order, go::Version, Scheme::Go, GO);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Every pair of Maven texts compares consistently both ways, even where the whole
    /// grammar has no total order.
    #[test]
    fn maven_pairs_antisymmetric(
        a in versions(MAVEN_ANY, Scheme::Maven),
        b in versions(MAVEN_ANY, Scheme::Maven),
        c in versions(MAVEN_ANY, Scheme::Maven),
    ) {
        check_pair_axioms(Scheme::Maven, &a, &b, &c)?;
    }
}

proptest! {
    #[test]
    fn pep440_normalize_is_idempotent(text in versions(PEP440, Scheme::Pep440)) {
        let once = pep440::normalize(&text).unwrap();
        let twice = pep440::normalize(&once).unwrap();
        prop_assert_eq!(&once, &twice);
        prop_assert_eq!(compare(Scheme::Pep440, &text, &once).unwrap(), Ordering::Equal);
    }

    #[test]
    fn parsers_never_panic(text in "\\PC{0,24}") {
        for scheme in [Scheme::Dpkg, Scheme::Apk, Scheme::Pep440, Scheme::Semver, Scheme::Maven, Scheme::Go] {
            let _ = cordon_versions::validate(scheme, &text);
        }
    }
}

#[test]
fn compare_reports_invalid_version() {
    let error = compare(Scheme::Dpkg, "1.0", "").unwrap_err();
    assert_eq!(error.scheme, Scheme::Dpkg);
    assert_eq!(error.version, "");
    assert_eq!(
        error.to_string(),
        "invalid Dpkg version ``: version string is empty"
    );
}

#[test]
fn schemes_map_from_ecosystems() {
    use cordon_model::Ecosystem;
    assert_eq!(Scheme::for_ecosystem(Ecosystem::Deb), Scheme::Dpkg);
    assert_eq!(Scheme::for_ecosystem(Ecosystem::Apk), Scheme::Apk);
    assert_eq!(Scheme::for_ecosystem(Ecosystem::Pypi), Scheme::Pep440);
    assert_eq!(Scheme::for_ecosystem(Ecosystem::Npm), Scheme::Semver);
    assert_eq!(Scheme::for_ecosystem(Ecosystem::Maven), Scheme::Maven);
    assert_eq!(Scheme::for_ecosystem(Ecosystem::Go), Scheme::Go);
}
