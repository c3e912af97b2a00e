//! Fuzzes the pep440 version parser and checks that its order is a total order.
#![no_main]

use cordon_fuzz::Axioms;
use cordon_versions::{pep440, Scheme};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|inputs: (&str, &str, &str)| {
    let (a, b, c) = inputs;
    cordon_fuzz::check_versions::<pep440::Version>(Scheme::Pep440, [a, b, c], Axioms::All);
});
