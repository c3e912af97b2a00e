//! `cordon db`: build, update and inspect the vulnerability database.

use std::process::ExitCode;

use clap::Args;

/// Arguments of `cordon db`.
#[derive(Debug, Args)]
pub(crate) struct DbArgs {}

/// Runs `cordon db`.
pub(crate) fn run(_args: DbArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`cordon db` is not implemented yet")
}
