//! Shared domain types of Cordon.
//!
//! Every other crate speaks in these types: the image reader reports [`LayerRef`]s, the
//! catalogers produce [`Package`]s, the matcher produces [`Finding`]s and the presenters
//! render them. Nothing here performs I/O.

#![forbid(unsafe_code)]

mod ecosystem;
mod finding;
mod malware;
mod package;
mod severity;

pub use ecosystem::Ecosystem;
pub use finding::{Finding, FindingStatus, SeverityRating};
pub use malware::{MalwareEngine, MalwareFinding, MalwareReport, MalwareWarning, StringMatch};
pub use package::{Distro, LayerRef, Package};
pub use severity::{ParseSeverityError, Severity};
