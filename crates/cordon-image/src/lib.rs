//! Container image reading for Cordon.
//!
//! An image is read into a [`Rootfs`]: the merged view of all its layers, applied in order
//! with OCI whiteouts. Only metadata is kept for every path; file contents are kept only
//! for the paths a caller asks for, so memory stays bounded by metadata, not image size.

#![forbid(unsafe_code)]

mod rootfs;

pub use rootfs::{normalize_path, Node, NodeKind, Rootfs, MAX_SYMLINK_HOPS};
