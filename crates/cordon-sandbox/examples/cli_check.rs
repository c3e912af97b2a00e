//! Compile check of the `cordon sandbox` command module.
#[path = "../../cordon-cli/src/commands/sandbox.rs"]
mod sandbox;

use clap::Parser;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: sandbox::SandboxArgs,
}

fn main() -> std::process::ExitCode {
    match sandbox::run(Cli::parse().args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
