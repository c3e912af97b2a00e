//! Package catalogers.
#![forbid(unsafe_code)]
