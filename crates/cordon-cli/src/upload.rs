//! `--upload` of `cordon sandbox`: copies the run's output directory to S3-compatible storage.

use std::path::Path;

use anyhow::Context;
use clap::Args;
use cordon_upload::{Credentials, S3Settings, S3Url, Uploader};

/// Upload arguments of `cordon sandbox`.
#[derive(Debug, Args)]
pub(crate) struct UploadArgs {
    /// After the run, upload every file of the output directory to
    /// s3://BUCKET/PREFIX/<run id>/ and print the object URLs. Credentials come from
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
    #[arg(long, value_name = "s3://BUCKET/PREFIX")]
    upload: Option<S3Url>,

    /// S3 endpoint URL for storage other than AWS, such as http://127.0.0.1:9000 for MinIO.
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    s3_endpoint: Option<String>,

    /// S3 signing region; without it, AWS_DEFAULT_REGION, then us-east-1.
    #[arg(long, env = "AWS_REGION", value_name = "REGION")]
    s3_region: Option<String>,

    /// Send path-style requests (ENDPOINT/BUCKET/KEY) instead of virtual-hosted-style ones
    /// (BUCKET.ENDPOINT/KEY); most self-hosted servers and IP-address endpoints need it.
    #[arg(long)]
    s3_path_style: bool,
}

impl UploadArgs {
    /// Checks the target, endpoint and credentials and builds the client, so that a bad
    /// setting stops the command before the sandbox runs. Returns `None` without `--upload`.
    pub(crate) fn uploader(&self) -> anyhow::Result<Option<Uploader>> {
        let Some(target) = &self.upload else {
            return Ok(None);
        };
        let mut settings = S3Settings::default().with_path_style(self.s3_path_style);
        if let Some(endpoint) = &self.s3_endpoint {
            settings = settings.with_endpoint(endpoint);
        }
        let region = self.s3_region.clone().or_else(|| {
            std::env::var("AWS_DEFAULT_REGION")
                .ok()
                .filter(|region| !region.is_empty())
        });
        if let Some(region) = region {
            settings = settings.with_region(region);
        }
        let credentials = Credentials::from_env()?;
        Ok(Some(Uploader::new(target, &settings, credentials)?))
    }
}

/// Uploads `dir` under `run_id` and prints one object URL per line on standard output.
pub(crate) fn upload_run(
    uploader: &Uploader,
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    run_id: &str,
) -> anyhow::Result<()> {
    let objects = runtime
        .block_on(uploader.upload_dir(dir, run_id))
        .with_context(|| format!("upload failed; the artifacts remain in {}", dir.display()))?;
    println!("Uploaded {} files:", objects.len());
    for object in &objects {
        println!("  {}", object.url);
    }
    Ok(())
}
