//! Subcommands; one module per verb.

pub(crate) mod db;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Container image security scanner.
#[derive(Debug, Parser)]
#[command(name = "cordon", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build, update and inspect the local vulnerability database.
    Db(db::DbArgs),
}

/// Runs the parsed command and maps its outcome to Cordon's exit codes.
pub(crate) fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Db(args) => db::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
