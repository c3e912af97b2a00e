//! Report presenters.
#![forbid(unsafe_code)]
