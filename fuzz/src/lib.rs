//! Checks shared by Cordon's fuzz targets.
#![forbid(unsafe_code)]

use std::cmp::Ordering;
use std::fmt::Display;
use std::str::FromStr;

use cordon_versions::{compare, Scheme};

/// Order axioms that a scheme's `compare` must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axioms {
    /// Reflexivity, antisymmetry and transitivity.
    All,
    /// Reflexivity and antisymmetry only, for a scheme whose reference order is known to be
    /// intransitive on some inputs.
    WithoutTransitivity,
}

/// Parses three versions under `scheme` and, for those that parse, checks `axioms` and that
/// each version's displayed form parses back to an equal version.
///
/// Panics on a violation, which libFuzzer reports as a crash.
pub fn check_versions<V>(scheme: Scheme, inputs: [&str; 3], axioms: Axioms)
where
    V: FromStr + Ord + Display,
{
    let valid: Vec<&str> = inputs
        .into_iter()
        .filter(|text| text.parse::<V>().is_ok())
        .collect();

    for text in &valid {
        check_display_round_trip::<V>(text);
    }

    let cmp = |a: &str, b: &str| match compare(scheme, a, b) {
        Ok(ordering) => ordering,
        Err(error) => panic!("compare rejected versions that parse: {error}"),
    };
    for a in &valid {
        assert_eq!(cmp(a, a), Ordering::Equal, "{a:?} is not equal to itself");
        for b in &valid {
            assert_eq!(
                cmp(a, b),
                cmp(b, a).reverse(),
                "{a:?} and {b:?} are not antisymmetric"
            );
            if axioms == Axioms::WithoutTransitivity {
                continue;
            }
            for c in &valid {
                if cmp(a, b) != Ordering::Greater && cmp(b, c) != Ordering::Greater {
                    assert_ne!(
                        cmp(a, c),
                        Ordering::Greater,
                        "{a:?} <= {b:?} <= {c:?} but {a:?} > {c:?}"
                    );
                }
            }
        }
    }
}

fn check_display_round_trip<V>(text: &str)
where
    V: FromStr + Ord + Display,
{
    let Ok(version) = text.parse::<V>() else {
        return;
    };
    let displayed = version.to_string();
    match displayed.parse::<V>() {
        Ok(reparsed) => assert!(
            reparsed == version,
            "{text:?} displays as {displayed:?}, which orders differently"
        ),
        Err(_) => panic!("{text:?} displays as {displayed:?}, which does not parse"),
    }
}
