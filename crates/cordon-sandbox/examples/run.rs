//! Runs one image in the sandbox and prints the summary: `run IMAGE RUNTIME SECONDS OUTDIR [CMD...]`.

use std::path::PathBuf;
use std::time::Duration;

use cordon_sandbox::engine::DockerEngine;
use cordon_sandbox::{ImageSource, NetworkProfile, RuntimeChoice, Sandbox, SandboxOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().collect();
    let cmd: Vec<String> = args[5..].to_vec();
    let options = SandboxOptions {
        image: ImageSource::parse(&args[1])?,
        duration: Duration::from_secs(args[3].parse()?),
        entrypoint: if cmd.is_empty() {
            None
        } else {
            Some(cmd[..1].to_vec())
        },
        cmd: if cmd.is_empty() {
            None
        } else {
            Some(cmd[1..].to_vec())
        },
        env: Vec::new(),
        runtime: if args[2] == "runsc" {
            RuntimeChoice::Runsc
        } else {
            RuntimeChoice::Runc
        },
        limits: Default::default(),
        network: NetworkProfile::Fake,
        output: PathBuf::from(&args[4]),
        replace_output: true,
        file_limits: Default::default(),
    };
    let sandbox = Sandbox::new(DockerEngine::connect().await?);
    let report = sandbox.run(&options).await?;
    print!("{}", cordon_sandbox::report::render_summary(&report));
    println!("timings: {:?}", report.timings);
    Ok(())
}
