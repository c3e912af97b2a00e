//! Fuzzes the maven version parser and checks that its order is reflexive and antisymmetric.
#![no_main]

use cordon_fuzz::Axioms;
use cordon_versions::{maven, Scheme};
use libfuzzer_sys::fuzz_target;

// maven-artifact 3.9 orders some versions intransitively (`2.abc-0 > 2 > 2alpha-0 >
// 2.abc-0`), and the parser follows it, so this target skips the transitivity check.
fuzz_target!(|inputs: (&str, &str, &str)| {
    let (a, b, c) = inputs;
    cordon_fuzz::check_versions::<maven::Version>(
        Scheme::Maven,
        [a, b, c],
        Axioms::WithoutTransitivity,
    );
});
