//! Vulnerability matching.
#![forbid(unsafe_code)]
