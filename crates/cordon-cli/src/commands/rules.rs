//! `cordon rules`: compile and check the YARA rules of the malware scanner.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use cordon_malware::rules::{cache_path, default_cache_dir, write_compiled};
use cordon_malware::{load_rules, RuleOptions};

/// Arguments of `cordon rules`.
#[derive(Debug, Args)]
pub(crate) struct RulesArgs {
    #[command(subcommand)]
    command: RulesCommand,
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// Compile the bundled and user rules once and store the result in the rules cache.
    Compile(CompileArgs),
}

#[derive(Debug, Args)]
struct CompileArgs {
    /// Directory of extra YARA rule files (*.yar, *.yara), searched recursively;
    /// repeat the option to add several directories.
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,

    /// Leave out Cordon's bundled rules.
    #[arg(long)]
    no_bundled: bool,

    /// Fail when any rule file does not compile, instead of skipping that file.
    #[arg(long)]
    strict: bool,

    /// Also write the compiled rule set to FILE (YARA-X serialized format).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Cache directory for compiled rules [default: the user's cache directory, for
    /// example ~/.cache/cordon/rules].
    #[arg(long, value_name = "DIR", env = "CORDON_RULES_CACHE")]
    cache_dir: Option<PathBuf>,
}

/// Runs `cordon rules`.
pub(crate) fn run(args: RulesArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        RulesCommand::Compile(args) => compile(args),
    }
}

fn compile(args: CompileArgs) -> anyhow::Result<ExitCode> {
    let cache_dir = args.cache_dir.clone().or_else(default_cache_dir);
    let options = RuleOptions {
        rule_dirs: args.rules.clone(),
        include_bundled: !args.no_bundled,
        strict: args.strict,
        cache_dir: cache_dir.clone(),
        use_cache: cache_dir.is_some(),
    };
    let compiled = load_rules(&options).context("rule compilation failed")?;

    for error in &compiled.errors {
        eprintln!("warning: invalid YARA rule left out: {error}");
    }
    let rule_count = compiled.rules.iter().len();
    let origin = if compiled.from_cache {
        "reused from the cache"
    } else {
        "compiled"
    };
    println!(
        "{rule_count} rules from {} files {origin}, {} with errors, key {}",
        compiled.source_count,
        compiled.errors.len(),
        compiled.key
    );
    if let Some(dir) = &cache_dir {
        println!("cache: {}", cache_path(dir, &compiled.key).display());
    }
    if let Some(output) = &args.output {
        write_compiled(output, &compiled.rules)
            .with_context(|| format!("failed to write compiled rules to {}", output.display()))?;
        println!("written: {}", output.display());
    }
    Ok(ExitCode::SUCCESS)
}
