//! `cordon sandbox`: run an image for a set time in the isolated sandbox and judge what it did.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use cordon_model::Severity;
use cordon_sandbox::engine::DockerEngine;
use cordon_sandbox::hardening::Limits;
use cordon_sandbox::report::render_summary;
use cordon_sandbox::{ImageSource, NetworkProfile, RuntimeChoice, Sandbox, SandboxOptions};

/// Arguments of `cordon sandbox`.
#[derive(Debug, Args)]
pub(crate) struct SandboxArgs {
    /// Image to run, read like `cordon scan` reads it: docker-archive:PATH[:NAME:TAG],
    /// oci-dir:PATH[:REF], oci-archive:PATH[:REF] or a path; or docker:NAME:TAG for an image
    /// already in the local Docker Engine. An image file is loaded under a private name and
    /// removed after the run; its own tags are never applied.
    image: String,

    /// Observation window, such as 30s or 2m; the target is killed when it ends.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,

    /// Entrypoint to run instead of the image's, as one argument per option.
    #[arg(long, value_name = "ARG")]
    entrypoint: Vec<String>,

    /// Command to run instead of the image's, as one argument per option.
    #[arg(long, value_name = "ARG")]
    cmd: Vec<String>,

    /// Environment variable for the target, as K=V; repeat for several.
    #[arg(long, value_name = "K=V")]
    env: Vec<String>,

    /// Container runtime: runsc (gVisor, with its syscall trace) or runc (host process-events
    /// monitor).
    #[arg(long, value_enum, default_value_t = RuntimeArg::Runsc)]
    runtime: RuntimeArg,

    /// CPU limit in cores (more than 0).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true, value_parser = parse_cpus)]
    cpus: f64,

    /// Memory limit in MiB (swap disabled), at least 6.
    #[arg(long, value_name = "MIB", default_value_t = 512, allow_negative_numbers = true,
          value_parser = clap::value_parser!(i64).range(6..=(1 << 30)))]
    memory: i64,

    /// Maximum number of processes and threads (at least 1).
    #[arg(long, default_value_t = 256, allow_negative_numbers = true,
          value_parser = clap::value_parser!(i64).range(1..))]
    pids_limit: i64,

    /// Network: fake (DNS sinkhole, catch-all listeners, capture) or none (loopback only).
    #[arg(long, value_enum, default_value_t = NetworkArg::Fake)]
    network_profile: NetworkArg,

    /// Directory for report.json, capture.pcapng and the raw logs; it must be empty or
    /// missing unless --force is given.
    #[arg(long, short, value_name = "DIR", default_value = "cordon-sandbox-out")]
    output: PathBuf,

    /// Reuse a non-empty --output directory: remove the files an earlier run wrote there
    /// (report.json, capture.pcapng, raw/...) first. Other files still stop the run.
    #[arg(long)]
    force: bool,

    /// Exit with code 1 when a raised signal is at or above this severity (Clair scale:
    /// Negligible, Low, Medium, High, Critical, Defcon1).
    #[arg(long, value_name = "SEVERITY", default_value = "High")]
    fail_on: Severity,

    #[command(flatten)]
    upload: crate::upload::UploadArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RuntimeArg {
    Runsc,
    Runc,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum NetworkArg {
    Fake,
    None,
}

fn parse_cpus(value: &str) -> Result<f64, String> {
    let cpus: f64 = value
        .parse()
        .map_err(|_| format!("invalid CPU count {value:?}: expected a number such as 0.5 or 2"))?;
    if !(cpus.is_finite() && (0.01..=1024.0).contains(&cpus)) {
        return Err(format!(
            "CPU count {value:?} is out of range: use at least 0.01 and at most 1024"
        ));
    }
    Ok(cpus)
}

fn parse_duration(value: &str) -> Result<Duration, String> {
    let (number, unit) = match value.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => value.split_at(i),
        None => (value, "s"),
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {value:?}: expected a number with s, m or ms"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60.0,
        "ms" => n / 1000.0,
        other => {
            return Err(format!(
                "invalid duration unit {other:?} in {value:?}: use s, m or ms"
            ))
        }
    };
    if !(seconds > 0.0 && seconds <= 3600.0) {
        return Err(format!(
            "duration {value:?} is out of range: use more than 0 and at most 1 hour"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Runs `cordon sandbox`: exit 0 when no signal reaches `--fail-on`, 1 when one does.
pub(crate) fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let options = SandboxOptions {
        image: ImageSource::parse(&args.image)?,
        duration: args.duration,
        entrypoint: (!args.entrypoint.is_empty()).then(|| args.entrypoint.clone()),
        cmd: (!args.cmd.is_empty()).then(|| args.cmd.clone()),
        env: args.env.clone(),
        runtime: match args.runtime {
            RuntimeArg::Runsc => RuntimeChoice::Runsc,
            RuntimeArg::Runc => RuntimeChoice::Runc,
        },
        limits: Limits {
            cpus: args.cpus,
            memory: args.memory << 20,
            pids: args.pids_limit,
            ..Limits::default()
        },
        network: match args.network_profile {
            NetworkArg::Fake => NetworkProfile::Fake,
            NetworkArg::None => NetworkProfile::None,
        },
        output: args.output.clone(),
        replace_output: args.force,
        file_limits: Default::default(),
    };
    for entry in &options.env {
        if !entry.contains('=') {
            anyhow::bail!("invalid --env {entry:?}: expected K=V");
        }
    }
    let uploader = args.upload.uploader()?;
    // Files the run added or changed go through the same rules as `cordon scan`.
    let scanner = super::malware::MalwareArgs::bundled().scanner()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let report = runtime.block_on(async {
        let engine = DockerEngine::connect().await?;
        Sandbox::new(engine)
            .with_scanner(Box::new(super::malware::SandboxContentScanner(scanner)))
            .run(&options)
            .await
    })?;
    print!("{}", render_summary(&report));
    println!("Report: {}", args.output.join("report.json").display());
    if let Some(uploader) = &uploader {
        crate::upload::upload_run(uploader, &runtime, &args.output, &report.run_id)?;
    }
    let failing = report.signals.iter().any(|s| s.severity >= args.fail_on);
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_sandbox(extra: &[&str]) -> Result<SandboxArgs, clap::Error> {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: SandboxArgs,
        }
        let argv = ["sandbox", "docker:x:1"].iter().chain(extra);
        Wrapper::try_parse_from(argv).map(|w| w.args)
    }

    #[test]
    fn unlimited_resource_values_rejected() {
        for bad in [
            ["--cpus", "0"],
            ["--cpus", "nan"],
            ["--cpus", "inf"],
            ["--cpus", "-1"],
            ["--memory", "0"],
            ["--memory", "-5"],
            ["--pids-limit", "0"],
            ["--pids-limit", "-1"],
        ] {
            let error = parse_sandbox(&bad)
                .err()
                .unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert_eq!(error.exit_code(), 2, "{bad:?}");
            let line = super::super::usage_error_lines(&error);
            let first = line.lines().next().unwrap_or_default();
            assert!(first.contains(bad[0]), "{bad:?}: {line}");
            assert!(first.contains(bad[1]), "{bad:?}: {line}");
        }
        let args =
            parse_sandbox(&["--cpus", "0.5", "--memory", "64", "--pids-limit", "1"]).unwrap();
        assert_eq!((args.cpus, args.memory, args.pids_limit), (0.5, 64, 1));
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("15").unwrap(), Duration::from_secs(15));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("3h").is_err());
    }

    /// Returns the corpus image that has files only (no ENTRYPOINT, no CMD), or `None` when
    /// the machine cannot run the sandbox and `CORDON_REQUIRE_E2E` is unset.
    fn commandless_image() -> Option<PathBuf> {
        let dir = std::env::var_os("CORDON_CORPUS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/var/cache/cordon/images/corpus"));
        let archive = dir.join("eicar.docker.tar");
        let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
        });
        let ready =
            root && archive.is_file() && std::path::Path::new("/var/run/docker.sock").exists();
        if !ready {
            assert!(
                std::env::var_os("CORDON_REQUIRE_E2E").is_none(),
                "CORDON_REQUIRE_E2E is set but root, Docker or {} is missing",
                archive.display()
            );
            eprintln!(
                "skipping: the sandbox needs root, Docker and {}",
                archive.display()
            );
            return None;
        }
        Some(archive)
    }

    #[test]
    fn image_without_command_exits_two() {
        use clap::Parser;
        let Some(archive) = commandless_image() else {
            return;
        };
        let out = tempfile::tempdir().unwrap();
        let argv = [
            "cordon".as_ref(),
            "sandbox".as_ref(),
            archive.as_os_str(),
            "--output".as_ref(),
            out.path().as_os_str(),
        ];
        let code = super::super::run(super::super::Cli::parse_from(argv));
        assert_eq!(code, ExitCode::from(2));

        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: SandboxArgs,
        }
        let error = run(Wrapper::parse_from(&argv[1..]).args).unwrap_err();
        let message = super::super::one_line_message(&error);
        assert!(
            message.contains(&archive.display().to_string()),
            "{message}"
        );
        assert!(message.contains("no ENTRYPOINT or CMD"), "{message}");
        assert!(message.contains("--cmd"), "{message}");
        assert!(!out.path().join("report.json").exists());
    }
}
