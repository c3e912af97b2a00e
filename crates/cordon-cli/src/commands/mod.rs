//! Subcommands, one module per verb, and the exit-code contract.
//!
//! Exit codes: 0 the command succeeded and the image passed its gate; 1 the image failed
//! the gate; 2 the command could not run (bad arguments, unreadable image or database).

pub(crate) mod db;
mod image;
mod malware;
mod output;
pub(crate) mod rules;
mod sandbox;
mod sbom;
mod scan;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Container image security: vulnerability and malware scans with a CI gate (scan),
/// SBOMs (sbom), the vulnerability database (db), dynamic analysis in a sandbox (sandbox)
/// and malware rule checks (rules).
#[derive(Debug, Parser)]
#[command(name = "cordon", version, propagate_version = true)]
pub(crate) struct Cli {
    /// Print errors only: no progress lines and no warnings on standard error.
    #[arg(long, short = 'q', global = true)]
    quiet: bool,

    /// Log more detail on standard error (-v info, -vv debug, -vvv trace); `RUST_LOG`
    /// overrides it.
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan an image for vulnerable packages and gate the result.
    Scan(scan::ScanArgs),
    /// List every package in an image (CycloneDX 1.6 by default).
    Sbom(sbom::SbomArgs),
    /// Build, update and inspect the local vulnerability database.
    Db(db::DbArgs),
    /// Run an image in the isolated sandbox and judge its behaviour.
    Sandbox(sandbox::SandboxArgs),
    /// Compile and check the malware-scanning YARA rules.
    Rules(rules::RulesArgs),
}

/// Progress lines for people, on standard error, separate from logs.
pub(crate) struct Progress {
    enabled: bool,
}

impl Progress {
    /// Prints one status line unless `--quiet` was given.
    pub(crate) fn status(&self, message: &str) {
        if self.enabled {
            eprintln!("cordon: {message}");
        }
    }
}

/// Runs the parsed command and maps its outcome to Cordon's exit codes.
pub(crate) fn run(cli: Cli) -> ExitCode {
    init_logging(cli.verbose, cli.quiet);
    let progress = Progress {
        enabled: !cli.quiet,
    };
    let result = match cli.command {
        Command::Scan(args) => scan::run(args, &progress),
        Command::Sbom(args) => sbom::run(args, &progress),
        Command::Db(args) => db::run(args),
        Command::Sandbox(args) => sandbox::run(args),
        Command::Rules(args) => rules::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line_message(&error));
            ExitCode::from(2)
        }
    }
}

/// Joins an error chain into one printable line.
///
/// A cause whose text the message already contains is left out, because many library
/// errors repeat their source in their own message. Control characters (from hostile
/// archive member names or binary garbage quoted in an error) are escaped so that the
/// message stays on one line and cannot drive the terminal.
fn one_line_message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    let mut line = String::with_capacity(message.len());
    for c in message.chars() {
        if c.is_control() || c == char::REPLACEMENT_CHARACTER {
            line.extend(c.escape_unicode());
        } else {
            line.push(c);
        }
    }
    line
}

/// Prints a command-line parsing error as one line plus clap's "try '--help'" hint, and
/// returns exit code 2; `--help` and `--version` print as clap formats them.
pub(crate) fn report_usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;

    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
    }
    eprintln!("{}", usage_error_lines(error));
    ExitCode::from(2)
}

/// Condenses clap's multi-line error into its first line, with the valid values or the
/// suggested name appended, then the "try '--help'" line when clap gives one.
fn usage_error_lines(error: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};

    let rendered = error.render().to_string();
    let mut line = rendered
        .lines()
        .next()
        .unwrap_or("error: invalid arguments")
        .to_string();
    if let Some(ContextValue::Strings(values)) = error.get(ContextKind::ValidValue) {
        line.push_str(&format!(" (possible values: {})", values.join(", ")));
    }
    for kind in [ContextKind::SuggestedArg, ContextKind::SuggestedSubcommand] {
        match error.get(kind) {
            Some(ContextValue::String(name)) => {
                line.push_str(&format!(" (did you mean '{name}'?)"))
            }
            Some(ContextValue::Strings(names)) if !names.is_empty() => {
                line.push_str(&format!(" (did you mean '{}'?)", names.join("', '")));
            }
            _ => {}
        }
    }
    if let Some(hint) = rendered.lines().rev().find(|text| text.contains("--help")) {
        line.push('\n');
        line.push_str(hint.trim());
    }
    line
}

/// Sets up logging on standard error: warnings and errors by default, errors only with
/// `--quiet`, more with each `-v`. `RUST_LOG` overrides all of these.
fn init_logging(verbose: u8, quiet: bool) {
    let default = match verbose {
        _ if quiet => "error",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Tells whether `error` is a closed pipe (`cordon sbom ... | head`), which is a normal
/// end rather than an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn repeated_cause_printed_once() {
        let io = std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "No such file or directory (os error 2)",
        );
        let error = anyhow::Error::new(io)
            .context("cannot open `x.tar`: No such file or directory (os error 2)");
        assert_eq!(
            one_line_message(&error),
            "cannot open `x.tar`: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        let error = anyhow::anyhow!("corrupt archive: bad field \u{1b}[31m\nnext\u{fffd}");
        let message = one_line_message(&error);
        assert!(!message.contains('\n'), "{message}");
        assert!(!message.contains('\u{1b}'), "{message}");
        assert!(message.contains("\\u{1b}"), "{message}");
    }
}
