//! Dynamic analysis for Cordon: runs an image for a set time in a hardened container whose only
//! network is a fake internet, records every process, file change, DNS query and flow, and
//! judges the behaviour.
#![forbid(unsafe_code)]

pub mod capture;
pub mod engine;
pub mod error;
pub mod events;
pub mod files;
pub mod hardening;
pub mod holder;
pub mod load;
pub mod output;
pub mod overlay;
pub mod proc_connector;
pub mod report;
pub mod run;
pub mod runsc_trace;
pub mod signals;

pub use error::SandboxError;
pub use run::{
    ContentScanner, ImageSource, NetworkProfile, RuntimeChoice, Sandbox, SandboxOptions,
};
