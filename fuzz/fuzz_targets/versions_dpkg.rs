//! Fuzzes the dpkg version parser and checks that its order is a total order.
#![no_main]

use cordon_fuzz::Axioms;
use cordon_versions::{dpkg, Scheme};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|inputs: (&str, &str, &str)| {
    let (a, b, c) = inputs;
    cordon_fuzz::check_versions::<dpkg::Version>(Scheme::Dpkg, [a, b, c], Axioms::All);
});
