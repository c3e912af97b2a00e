//! Fuzzes the go version parser and checks that its order is a total order.
#![no_main]

use cordon_fuzz::Axioms;
use cordon_versions::{go, Scheme};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|inputs: (&str, &str, &str)| {
    let (a, b, c) = inputs;
    cordon_fuzz::check_versions::<go::Version>(Scheme::Go, [a, b, c], Axioms::All);
});
