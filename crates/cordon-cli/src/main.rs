//! The `cordon` command.
#![forbid(unsafe_code)]

mod commands;
mod upload;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match commands::Cli::try_parse() {
        Ok(cli) => commands::run(cli),
        Err(error) => commands::report_usage_error(&error),
    }
}
