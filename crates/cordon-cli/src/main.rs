//! The `cordon` command.
#![forbid(unsafe_code)]

mod commands;
mod upload;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    commands::run(cli)
}
