//! Dynamic analysis for Cordon: runs an image for a set time in a hardened container whose only
//! network is a fake internet, records every process, file change, DNS query and flow, and
//! judges the behaviour.
#![forbid(unsafe_code)]

pub mod events;
pub mod overlay;
pub mod signals;
