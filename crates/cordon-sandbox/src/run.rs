//! One sandbox run: holder, fake internet, target, collection, teardown and judgement.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::capture::{DeletedFile, HostRoots, TraceFollower};
use crate::engine::{Engine, ImageInfo};
use crate::error::SandboxError;
use crate::events::{
    ChangeKind, ContentMatch, DnsRecord, FileKind, FileOp, FileRecord, FlowRecord, ImageFacts,
    Observations, StatsSample,
};
use crate::files::{read_tar, FileLimits};
use crate::hardening::{
    self, Limits, TargetPlan, LABEL_OWNER, LABEL_ROLE, LABEL_RUN, LABEL_SANDBOX,
};
use crate::overlay::{self, LowerDirs, UpperKind};
use crate::proc_connector::{self, ExecMonitor};
use crate::report::{CaptureInfo, Report, Summary, Timings};
use crate::signals;

/// Docker runtime entry with gVisor and its syscall trace (see `tests/register-runsc-runtime.sh`).
pub const RUNSC_RUNTIME: &str = "cordon-runsc";
/// Directory the `cordon-runsc` runtime writes its debug logs to.
pub const RUNSC_LOG_DIR: &str = "/var/log/cordon-runsc";
/// Image of the holder container.
pub const HOLDER_IMAGE: &str = "cordon-sandbox/holder:1";

/// Source of the image to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// An image file read with the same references and selection rules as `cordon scan`
    /// (docker-archive, OCI layout directory or OCI archive), loaded into the Engine under a
    /// private per-run name only.
    File(cordon_image::ImageSource),
    /// An image already in the local Engine.
    Engine(String),
}

impl ImageSource {
    /// Parses `docker:NAME[:TAG]` (an image in the local Engine) or any image reference
    /// `cordon scan` reads: `docker-archive:PATH[:NAME:TAG]`, `oci-dir:PATH[:REF]`,
    /// `oci-archive:PATH[:REF]`, `dir:PATH` or a path whose format is detected.
    pub fn parse(value: &str) -> Result<Self, SandboxError> {
        if let Some(name) = value.strip_prefix("docker:") {
            if name.is_empty() {
                return Err(SandboxError::Invalid {
                    what: "image",
                    value: value.to_string(),
                    reason: "the image name after docker: is empty".to_string(),
                });
            }
            return Ok(ImageSource::Engine(name.to_string()));
        }
        let source: cordon_image::ImageSource =
            value
                .parse()
                .map_err(|e: cordon_image::ImageError| SandboxError::Invalid {
                    what: "image",
                    value: value.to_string(),
                    reason: e.to_string(),
                })?;
        if !source.path.exists() {
            return Err(SandboxError::Invalid {
                what: "image",
                value: value.to_string(),
                reason: format!(
                    "{} does not exist; use a docker-archive, an OCI layout or docker:NAME:TAG",
                    source.path.display()
                ),
            });
        }
        Ok(ImageSource::File(source))
    }
}

/// Runtime choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeChoice {
    /// gVisor through the `cordon-runsc` runtime entry.
    Runsc,
    /// runc with the host-side process-events monitor.
    Runc,
}

/// Network given to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkProfile {
    /// The fake internet: DNS sinkhole, catch-all listeners and capture.
    Fake,
    /// Loopback only.
    None,
}

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Image to run.
    pub image: ImageSource,
    /// Observation window; the target is killed when it ends.
    pub duration: Duration,
    /// Entrypoint override.
    pub entrypoint: Option<Vec<String>>,
    /// Command override.
    pub cmd: Option<Vec<String>>,
    /// Extra environment entries, `K=V`.
    pub env: Vec<String>,
    /// Runtime.
    pub runtime: RuntimeChoice,
    /// Resource limits.
    pub limits: Limits,
    /// Network profile.
    pub network: NetworkProfile,
    /// Output directory for `report.json`, the capture and raw logs; it must be empty or
    /// missing unless `replace_output` is set.
    pub output: PathBuf,
    /// Remove the files of an earlier run (those [`crate::output::LAYOUT_FILES`] names) from
    /// the output directory instead of rejecting it.
    pub replace_output: bool,
    /// Limits for fetching file content.
    pub file_limits: FileLimits,
}

/// Scanner the integrator can plug in to match files of the run against malware rules.
pub trait ContentScanner: Send + Sync {
    /// Scans one file's content and returns the matches.
    fn scan(&self, path: &str, content: &[u8]) -> Vec<ContentMatch>;
}

/// The sandbox over an [`Engine`].
pub struct Sandbox<E: Engine> {
    engine: E,
    scanner: Option<Box<dyn ContentScanner>>,
}

struct RunIds {
    run_id: String,
    labels: HashMap<String, String>,
}

fn owner_label() -> String {
    format!(
        "{}:{}",
        std::process::id(),
        process_start_time(std::process::id()).unwrap_or(0)
    )
}

/// Returns field 22 of `/proc/<pid>/stat` (start time in clock ticks since boot).
fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    after.split_whitespace().nth(19)?.parse().ok()
}

fn owner_alive(label: &str) -> bool {
    let Some((pid, start)) = label.split_once(':') else {
        return false;
    };
    let (Ok(pid), Ok(start)) = (pid.parse::<u32>(), start.parse::<u64>()) else {
        return false;
    };
    process_start_time(pid) == Some(start)
}

impl<E: Engine> Sandbox<E> {
    /// Wraps an engine.
    pub fn new(engine: E) -> Self {
        Sandbox {
            engine,
            scanner: None,
        }
    }

    /// Sets the malware scanner run on every added or changed regular file.
    pub fn with_scanner(mut self, scanner: Box<dyn ContentScanner>) -> Self {
        self.scanner = Some(scanner);
        self
    }

    /// Returns the engine.
    pub fn engine(&self) -> &E {
        &self.engine
    }

    /// Removes containers and privately named images of earlier runs whose owning Cordon
    /// process is gone, and stale fake-internet namespaces. Returns the removed container
    /// ids.
    pub async fn reap(&self) -> Result<Vec<String>, SandboxError> {
        let mut removed = Vec::new();
        for c in self.engine.list_by_label(LABEL_SANDBOX).await? {
            let alive = c.labels.get(LABEL_OWNER).is_some_and(|o| owner_alive(o));
            if !alive {
                tracing::info!(container = %c.id, "removing container of a crashed sandbox run");
                self.engine.remove_container(&c.id).await?;
                removed.push(c.id);
            }
        }
        for tag in self
            .engine
            .list_image_tags(crate::load::PRIVATE_REPOSITORY_PREFIX)
            .await?
        {
            let alive = crate::load::private_tag_owner(&tag).is_some_and(|o| owner_alive(&o));
            if !alive {
                tracing::info!(image = %tag, "removing image of a crashed sandbox run");
                self.engine.remove_image(&tag).await?;
            }
        }
        if let Err(e) = cordon_fakenet::reap_stale(cordon_fakenet::NETNS_PREFIX) {
            tracing::warn!(error = %e, "failed to reap stale fake-internet namespaces");
        }
        Ok(removed)
    }

    /// Makes sure the holder image exists, building it from the host's static busybox.
    pub async fn ensure_holder_image(&self) -> Result<(), SandboxError> {
        if self.engine.inspect_image(HOLDER_IMAGE).await.is_ok() {
            return Ok(());
        }
        let dir = tempfile_dir()?;
        let archive = dir.join("holder.tar");
        crate::holder::write_holder_archive(
            Path::new(crate::holder::BUSYBOX_PATH),
            HOLDER_IMAGE,
            &archive,
        )?;
        let result = self.engine.load_image(&archive).await;
        let _ = std::fs::remove_dir_all(&dir);
        result.map(|_| ())
    }

    /// Inspects the image, checks it has a command, makes sure the holder image exists and
    /// resolves the runtime.
    async fn prepare(
        &self,
        options: &SandboxOptions,
        image_name: &str,
        reference: &str,
    ) -> Result<(ImageInfo, String), SandboxError> {
        let image = self.engine.inspect_image(image_name).await?;
        if command_line(options, &image).is_empty() {
            return Err(SandboxError::NoCommand {
                image: reference.to_string(),
            });
        }
        self.ensure_holder_image().await?;
        let runtime = match options.runtime {
            RuntimeChoice::Runsc => {
                let known = self.engine.runtimes().await?;
                if !known.iter().any(|r| r == RUNSC_RUNTIME) {
                    return Err(SandboxError::MissingRuntime {
                        runtime: RUNSC_RUNTIME.to_string(),
                    });
                }
                RUNSC_RUNTIME.to_string()
            }
            RuntimeChoice::Runc => "runc".to_string(),
        };
        Ok((image, runtime))
    }

    /// Opens an image file with the rules of `cordon scan` and returns the image id to run,
    /// and whether this run loaded it. An image whose id the Engine already has is run as
    /// it is; otherwise it is loaded under `tag` alone, so no existing name moves.
    async fn load_file(
        &self,
        source: &cordon_image::ImageSource,
        tag: &str,
    ) -> Result<(String, bool), SandboxError> {
        let rootfs_dir = source.format == Some(cordon_image::ImageFormat::Dir)
            || (source.format.is_none()
                && source.path.is_dir()
                && !source.path.join("index.json").is_file());
        if rootfs_dir {
            return Err(rootfs_unsupported(source));
        }
        let opened = {
            let owned = source.clone();
            tokio::task::spawn_blocking(move || {
                cordon_image::Image::open(&owned, &cordon_image::OpenOptions::default())
                    .map(|image| image.info().clone())
            })
            .await
            .map_err(|e| SandboxError::io(&source.path, std::io::Error::other(e)))?
        };

        let info = opened.map_err(|e| SandboxError::Invalid {
            what: "image",
            value: source.to_string(),
            reason: e.to_string(),
        })?;
        if info.format == cordon_image::ImageFormat::Dir {
            return Err(rootfs_unsupported(source));
        }
        let Some(config) = info.config_digest.clone() else {
            return Err(SandboxError::Invalid {
                what: "image",
                value: source.to_string(),
                reason: "the image has no config".to_string(),
            });
        };

        if let Ok(existing) = self.engine.inspect_image(&config).await {
            if existing.id == config {
                tracing::info!(image = %config, "the Engine already has this image; running it as it is");
                return Ok((config, false));
            }
        }

        let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
        let path = source.path.clone();
        let writer_tag = tag.to_string();
        let error_sender = sender.clone();
        let writer = tokio::task::spawn_blocking(move || {
            let result = crate::load::write_docker_archive(
                &path,
                &info,
                &writer_tag,
                crate::load::ChannelWriter::new(sender),
            );
            if let Err(e) = &result {
                // End the upload with an error so the Engine discards the partial image.
                let _ = error_sender.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
            result
        });
        let body = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx)).boxed();
        let loaded = self
            .engine
            .load_image_stream(&source.to_string(), body)
            .await;
        let written = writer
            .await
            .map_err(|e| SandboxError::io(&source.path, std::io::Error::other(e)))?;
        written?;
        loaded?;

        let image = self.engine.inspect_image(tag).await?;
        if image.id != config {
            self.remove_private_image(tag, &image.id).await;
            return Err(SandboxError::Invalid {
                what: "image",
                value: source.to_string(),
                reason: format!("the Engine loaded {} instead of {config}", image.id),
            });
        }
        Ok((config, true))
    }

    /// Removes an image this run loaded, by id; returns a warning when that fails.
    async fn remove_private_image(&self, tag: &str, id: &str) -> Option<String> {
        // By id without force, so the Engine rejects the request when another name points at
        // the image.
        match self.engine.remove_image(id).await {
            Ok(()) => None,
            Err(e) => {
                // Another name points at it now: drop only the private name.
                match self.engine.remove_image(tag).await {
                    Ok(()) => None,
                    Err(_) => Some(format!("failed to remove image {id} ({tag}): {e}")),
                }
            }
        }
    }

    /// Runs the image and writes the report into the output directory.
    pub async fn run(&self, options: &SandboxOptions) -> Result<Report, SandboxError> {
        let begin = Instant::now();
        crate::output::prepare_output_dir(&options.output, options.replace_output)?;
        self.reap().await?;

        let run_id = format!("sbx-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let owner = owner_label();
        let load_start = Instant::now();
        let (image_name, reference, private) = match &options.image {
            ImageSource::Engine(name) => (name.clone(), format!("docker:{name}"), None),
            ImageSource::File(source) => {
                let tag = crate::load::private_tag(&run_id, &owner);
                let (id, loaded) = self.load_file(source, &tag).await?;
                (id, source.to_string(), loaded.then_some(tag))
            }
        };
        let image_load_ms = load_start.elapsed().as_millis() as u64;
        let setup_start = Instant::now();
        let prepared = self.prepare(options, &image_name, &reference).await;
        let (image, runtime) = match prepared {
            Ok(v) => v,
            Err(e) => {
                if let Some(tag) = &private {
                    self.remove_private_image(tag, &image_name).await;
                }
                return Err(e);
            }
        };

        let ids = RunIds {
            labels: HashMap::from([
                (LABEL_SANDBOX.to_string(), "1".to_string()),
                (LABEL_RUN.to_string(), run_id.clone()),
                (LABEL_OWNER.to_string(), owner),
            ]),
            run_id,
        };

        let mut state = RunState::default();
        let outcome = self
            .run_inner(
                options,
                &ids,
                &image_name,
                &image,
                &runtime,
                &mut state,
                setup_start,
            )
            .await;
        let teardown_start = Instant::now();
        let mut teardown_warnings = self.teardown(&mut state).await;
        if let Some(tag) = &private {
            if let Some(w) = self.remove_private_image(tag, &image_name).await {
                teardown_warnings.push(w);
            }
        }
        let teardown_ms = teardown_start.elapsed().as_millis() as u64 + state.collect_ms;
        let mut report = outcome?;
        report.warnings.extend(teardown_warnings);
        report.image = reference;
        report.timings.image_load_ms = image_load_ms;
        report.timings.teardown_ms = teardown_ms;
        let _ = begin;
        write_report(&options.output, &report)?;
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_inner(
        &self,
        options: &SandboxOptions,
        ids: &RunIds,
        image_name: &str,
        image: &ImageInfo,
        runtime: &str,
        state: &mut RunState,
        setup_start: Instant,
    ) -> Result<Report, SandboxError> {
        let raw = options.output.join("raw");
        let mut warnings = Vec::new();
        let mut runtime_notes = Vec::new();

        // Holder: owns the network namespace, never runs image code.
        let mut holder_labels = ids.labels.clone();
        holder_labels.insert(LABEL_ROLE.to_string(), "holder".to_string());
        let holder_name = format!("cordon-{}-holder", ids.run_id);
        let holder_id = self
            .engine
            .create_container(
                &holder_name,
                hardening::holder_config(HOLDER_IMAGE, holder_labels),
            )
            .await?;
        state.holder = Some(holder_id.clone());
        self.engine.start_container(&holder_id).await?;
        let holder = self.engine.inspect_container(&holder_id).await?;

        if options.network == NetworkProfile::Fake {
            let fake_options =
                cordon_fakenet::FakeNetOptions::new(ids.run_id.clone(), raw.join("fakenet"));
            let mut net = cordon_fakenet::FakeNet::start(&fake_options)
                .map_err(|e| SandboxError::Network(e.to_string()))?;
            let netns = PathBuf::from(format!("/proc/{}/ns/net", holder.pid));
            let attached = net.attach(&netns);
            state.fakenet = Some(net);
            attached.map_err(|e| SandboxError::Network(e.to_string()))?;
        }

        // Target.
        let mut target_labels = ids.labels.clone();
        target_labels.insert(LABEL_ROLE.to_string(), "target".to_string());
        let plan = TargetPlan {
            image: image_name.to_string(),
            entrypoint: options.entrypoint.clone(),
            cmd: options.cmd.clone(),
            env: options.env.clone(),
            runtime: runtime.to_string(),
            holder_id: holder_id.clone(),
            labels: target_labels,
            limits: options.limits.clone(),
            // runc writes /tmp to the overlay upper directory, so only /dev/shm needs a volume.
            scratch_volumes: hardening::SCRATCH_DIRS
                .iter()
                .filter(|dir| runtime == RUNSC_RUNTIME || **dir == "/dev/shm")
                .filter(|dir| !image.volumes.iter().any(|v| v == *dir))
                .map(|dir| dir.to_string())
                .collect(),
        };
        let target_name = format!("cordon-{}-target", ids.run_id);
        let target_id = self
            .engine
            .create_container(&target_name, hardening::target_config(&plan))
            .await?;
        state.target = Some(target_id.clone());
        let created = self
            .engine
            .inspect_container(&target_id)
            .await
            .unwrap_or_default();
        let host_roots = HostRoots {
            upper: created.upper_dir.as_ref().map(PathBuf::from),
            volumes: created
                .volume_mounts
                .iter()
                .map(|(dest, source)| (dest.clone(), PathBuf::from(source)))
                .collect(),
        };
        // Docker copies an image directory into its new volume with its owner and mode, and a
        // volume for a directory the image lacks starts as root's 0755. Without the volumes
        // both directories are memory file systems with mode 1777. Docker mounts one at
        // /dev/shm whatever the image has there (some base images ship /dev/shm as 0755).
        // gVisor mounts one at /tmp when the image's /tmp is empty. The volumes get that mode
        // in the same cases, so non-root processes can write there as they could without them.
        let lower = created
            .lower_dir
            .as_deref()
            .map(LowerDirs::from_lowerdir_value);
        for dir in &plan.scratch_volumes {
            let image_has_content = lower.as_ref().is_some_and(|l| {
                use crate::overlay::LowerListing;
                !l.children(dir).is_empty()
            });
            let memory_mode = dir == "/dev/shm" || !image_has_content;
            let host = created.volume_mounts.iter().find(|(dest, _)| dest == dir);
            if let (true, Some((_, source))) = (memory_mode, host) {
                use std::os::unix::fs::PermissionsExt;
                if let Err(e) =
                    std::fs::set_permissions(source, std::fs::Permissions::from_mode(0o1777))
                {
                    warnings.push(format!(
                        "failed to set mode 1777 on the {dir} volume {source}: {e}"
                    ));
                }
            }
        }
        // On runc the uid of every process is read from /proc instead.
        let entrypoint_uid = if runtime == RUNSC_RUNTIME {
            self.image_uid(&target_id, &image.user).await
        } else {
            None
        };
        if runtime == RUNSC_RUNTIME && entrypoint_uid.is_none() {
            warnings.push(format!(
                "user {:?} of the image is not in its /etc/passwd; uids of processes are unknown",
                image.user
            ));
        }

        let monitor = if runtime == "runc" {
            match ExecMonitor::start(&target_id, options.file_limits.max_file_bytes) {
                Ok(m) => {
                    proc_connector::settle();
                    Some(m)
                }
                Err(e) => {
                    runtime_notes.push(format!(
                        "process-events monitor failed to start ({e}); processes are not recorded"
                    ));
                    None
                }
            }
        } else {
            None
        };

        // Started before the target, so it reads the trace from its first line.
        let follower = if runtime == RUNSC_RUNTIME {
            let id = target_id.clone();
            match TraceFollower::start(
                move || find_runsc_log(&id),
                host_roots,
                options.file_limits.max_file_bytes,
            ) {
                Ok(f) => Some(f),
                Err(e) => {
                    runtime_notes.push(format!(
                        "trace follower failed to start ({e}); deleted files keep no content"
                    ));
                    None
                }
            }
        } else {
            None
        };
        let t0_mono = proc_connector::monotonic_now_ns();
        let t0_wall = time::OffsetDateTime::now_utc();
        // NOTE: gVisor stamps its log in the host's local time; UTC is assumed here, which holds
        // for containers and CI machines that run with TZ unset.
        let t0_local = t0_wall;
        let start_result = self.engine.start_container(&target_id).await;
        let t0 = Instant::now();
        let setup_ms = setup_start.elapsed().as_millis() as u64;
        if let Err(e) = start_result {
            if let Some(m) = monitor {
                m.stop();
            }
            if let Some(f) = follower {
                f.stop();
            }
            if let Some(log) = find_runsc_log(&target_id) {
                // A copy, because the output directory may be on another file system.
                let _ = std::fs::copy(&log, raw.join("runsc-boot.log"));
                let _ = std::fs::remove_file(&log);
            }
            return Err(e);
        }
        let target = self
            .engine
            .inspect_container(&target_id)
            .await
            .unwrap_or_default();

        // Stats stream until the container stops.
        let mut stats_stream = self.engine.stats(&target_id);
        let samples_shared: std::sync::Arc<std::sync::Mutex<Vec<StatsSample>>> = Default::default();
        let samples_writer = samples_shared.clone();
        let stats_task = tokio::spawn(async move {
            let mut previous: Option<crate::engine::StatsPoint> = None;
            while let Some(point) = stats_stream.next().await {
                let time = t0.elapsed().as_secs_f64();
                let cpu_percent = match &previous {
                    Some(prev) if point.system_total > prev.system_total => {
                        let cpu = point.cpu_total.saturating_sub(prev.cpu_total) as f64;
                        let sys = (point.system_total - prev.system_total) as f64;
                        cpu / sys * f64::from(point.online_cpus.max(1)) * 100.0
                    }
                    _ => 0.0,
                };
                if let Ok(mut samples) = samples_writer.lock() {
                    samples.push(StatsSample {
                        time,
                        cpu_percent,
                        memory_bytes: point.memory,
                        pids: point.pids,
                    });
                }
                previous = Some(point);
            }
        });

        // Wait for exit or the deadline.
        let deadline = t0 + options.duration;
        let mut killed = false;
        let mut info = target.clone();
        loop {
            info = self
                .engine
                .inspect_container(&target_id)
                .await
                .unwrap_or(info);
            if !info.running {
                break;
            }
            if Instant::now() >= deadline {
                self.engine.kill_container(&target_id).await?;
                killed = true;
                for _ in 0..50 {
                    info = self
                        .engine
                        .inspect_container(&target_id)
                        .await
                        .unwrap_or(info);
                    if !info.running {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let run_ms = t0.elapsed().as_millis() as u64;
        let follower_output = follower.map(TraceFollower::stop).unwrap_or_default();
        if follower_output.limit_reached {
            runtime_notes.push(format!(
                "the trace follower held its maximum of {} files; later files that were deleted keep only their path",
                crate::capture::MAX_HELD_FILES
            ));
        }
        let deleted_files = follower_output.deleted;
        let collect_start = Instant::now();

        // The stream may stay open after the stop (seen with runsc), so it is cancelled.
        stats_task.abort();
        let stats = per_second(samples_shared.lock().map(|s| s.clone()).unwrap_or_default());

        // Processes.
        let entrypoint = command_line(options, image);
        let mut obs = Observations {
            image: ImageFacts {
                reference: image_name.to_string(),
                command: entrypoint.clone(),
                exposed_ports: image.exposed_ports.clone(),
                volumes: image.volumes.clone(),
            },
            cpu_limit: options.limits.cpus,
            duration: options.duration.as_secs_f64(),
            stats,
            ..Default::default()
        };
        let mut executable_copies = Vec::new();
        if let Some(m) = monitor {
            let output = m.stop();
            let (records, missing) = proc_connector::attribute(&output.events, target.pid, t0_mono);
            obs.processes = records;
            obs.unattributed_execs = missing;
            if output.receive_errors > 0 {
                runtime_notes.push(format!(
                    "{} process-event receive errors (events may be missing)",
                    output.receive_errors
                ));
            }
            executable_copies = output.executables;
        } else if runtime == RUNSC_RUNTIME {
            match find_runsc_log(&target_id) {
                Some(path) => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let sod = f64::from(t0_local.hour()) * 3600.0 + f64::from(t0_local.minute()) * 60.0 + f64::from(t0_local.second()) + f64::from(t0_local.nanosecond()) / 1e9;
                    let trace = crate::runsc_trace::parse(&text, sod, &entrypoint, entrypoint_uid);
                    obs.processes = trace.processes;
                    obs.file_accesses = trace.file_accesses;
                    obs.socket_calls = trace.socket_calls;
                    obs.exec_attempts = trace.exec_attempts;
                    let _ = std::fs::rename(&path, raw.join("runsc-boot.log"))
                        .or_else(|_| std::fs::copy(&path, raw.join("runsc-boot.log")).map(|_| ()));
                    let _ = std::fs::remove_file(&path);
                }
                None => runtime_notes.push(format!("no gVisor trace log for {target_id} in {RUNSC_LOG_DIR}; processes are not recorded")),
            }
        }

        // Files.
        let engine_changes = self.engine.changes(&target_id).await.unwrap_or_else(|e| {
            warnings.push(format!("change list unavailable: {e}"));
            Vec::new()
        });
        let _ = std::fs::write(
            raw.join("engine-changes.txt"),
            engine_changes
                .iter()
                .map(|(p, k)| format!("{} {p}\n", k.letter()))
                .collect::<String>(),
        );
        let changes = match (&info.upper_dir, &info.lower_dir) {
            (Some(upper), Some(lower)) if Path::new(upper).is_dir() => {
                match overlay::read_upper_dir(Path::new(upper)) {
                    Ok(entries) => {
                        let dirs: BTreeSet<String> = entries
                            .iter()
                            .filter(|e| matches!(e.kind, UpperKind::Directory { .. }))
                            .map(|e| e.path.clone())
                            .collect();
                        let list = overlay::changes_from_upper(
                            &entries,
                            &LowerDirs::from_lowerdir_value(lower),
                        );
                        list.into_iter()
                            .map(|c| (c.path.clone(), c.change, dirs.contains(&c.path)))
                            .collect()
                    }
                    Err(e) => {
                        warnings.push(format!("overlay upper dir {upper} unreadable ({e}); using the Engine's change list"));
                        engine_changes
                            .iter()
                            .map(|(p, k)| (p.clone(), *k, false))
                            .collect()
                    }
                }
            }
            _ => engine_changes
                .iter()
                .map(|(p, k)| (p.clone(), *k, false))
                .collect::<Vec<_>>(),
        };
        let executed: BTreeSet<String> = obs
            .processes
            .iter()
            .flat_map(|p| p.executed_files())
            .collect();
        obs.files = self
            .collect_files(
                &target_id,
                &changes,
                &executed,
                options.file_limits,
                &mut warnings,
                &mut obs.content_matches,
            )
            .await;
        let mut volumes: Vec<(String, bool)> =
            image.volumes.iter().map(|v| (v.clone(), true)).collect();
        volumes.extend(plan.scratch_volumes.iter().map(|dir| (dir.clone(), false)));
        let lower = info
            .lower_dir
            .as_deref()
            .map(LowerDirs::from_lowerdir_value);
        self.collect_volumes(
            &target_id,
            &volumes,
            lower.as_ref(),
            &executed,
            options.file_limits,
            &mut obs,
            &mut warnings,
        )
        .await;
        if let Some(scanner) = &self.scanner {
            for copy in executable_copies
                .iter()
                .filter(|c| is_transient_copy(&c.path))
            {
                obs.content_matches
                    .extend(scanner.scan(copy.path.trim_end_matches(" (deleted)"), &copy.content));
            }
            for file in &deleted_files {
                obs.content_matches
                    .extend(scanner.scan(&file.path, &file.content));
            }
        }
        add_transient_files(&mut obs, &executable_copies, &deleted_files, &raw);
        if runtime == RUNSC_RUNTIME {
            add_trace_only_writes(&mut obs, &mut runtime_notes);
        }

        // Logs.
        match self.engine.logs(&target_id, 4 << 20).await {
            Ok((out, err)) => {
                let _ = std::fs::write(raw.join("stdout.log"), out);
                let _ = std::fs::write(raw.join("stderr.log"), err);
            }
            Err(e) => warnings.push(format!("container logs unavailable: {e}")),
        }
        state.collect_ms = collect_start.elapsed().as_millis() as u64;

        // Network.
        let mut capture = CaptureInfo::default();
        if let Some(net) = state.fakenet.take() {
            let teardown_start = Instant::now();
            match net.stop() {
                Ok(net_report) => {
                    let pcap = options.output.join("capture.pcapng");
                    if std::fs::rename(&net_report.pcap_path, &pcap).is_ok() {
                        capture.pcap = Some("capture.pcapng".to_string());
                    }
                    capture.packets = net_report.capture.packets;
                    capture.drops = net_report.capture.kernel_drops;
                    obs.dns = net_report
                        .dns
                        .iter()
                        .map(|d| DnsRecord {
                            name: d.name.clone(),
                            qtype: d.qtype.clone(),
                            answer: (!d.answers.is_empty()).then(|| d.answers.join(", ")),
                            time: seconds_since(t0_wall, d.time),
                        })
                        .collect();
                    obs.flows = net_report
                        .flows
                        .iter()
                        .filter(|f| {
                            matches!(
                                f.protocol,
                                cordon_fakenet::Transport::Tcp | cordon_fakenet::Transport::Udp
                            )
                        })
                        .filter(|f| f.dst_port != 53)
                        .map(|f| FlowRecord {
                            protocol: if f.protocol == cordon_fakenet::Transport::Tcp {
                                "tcp"
                            } else {
                                "udp"
                            }
                            .to_string(),
                            dst_ip: f.dst_ip.to_string(),
                            dst_port: f.dst_port,
                            dst_name: f.dst_name.clone(),
                            bytes: f.bytes_to_server,
                            first_payload_hex: f.first_payload_hex.clone().unwrap_or_default(),
                            time: seconds_since(t0_wall, f.first_time),
                        })
                        .collect();
                }
                Err(e) => warnings.push(format!("fake network failed to stop cleanly: {e}")),
            }
            state.collect_ms += teardown_start.elapsed().as_millis() as u64;
        }

        let signals = signals::evaluate(&obs);
        let judgement = signals::judge(&signals);
        let summary = Summary {
            file_changes: obs.files.iter().filter(|f| f.change.is_some()).count(),
            processes: obs.processes.len(),
            dns_queries: obs.dns.len(),
            flows: obs.flows.len(),
            signals: signals.len(),
        };
        let _ = std::fs::write(
            raw.join("file-accesses.json"),
            serde_json::to_vec_pretty(&obs.file_accesses)?,
        );
        let _ = std::fs::write(
            raw.join("exec-attempts.json"),
            serde_json::to_vec_pretty(&obs.exec_attempts)?,
        );
        let _ = std::fs::write(
            raw.join("socket-calls.json"),
            serde_json::to_vec_pretty(&obs.socket_calls)?,
        );
        Ok(Report {
            schema_version: crate::report::SCHEMA_VERSION,
            run_id: ids.run_id.clone(),
            image: String::new(),
            image_id: image.id.clone(),
            runtime: runtime.to_string(),
            runtime_notes,
            network_profile: match options.network {
                NetworkProfile::Fake => "fake",
                NetworkProfile::None => "none",
            }
            .to_string(),
            verdict: Some(judgement.verdict),
            score: judgement.score,
            reasons: judgement.reasons,
            signals,
            execs_without_details: obs.unattributed_execs,
            processes: obs.processes,
            dns: obs.dns,
            flows: obs.flows,
            files: obs.files,
            stats: obs.stats,
            summary,
            exit_code: if killed { None } else { info.exit_code },
            killed_at_deadline: killed,
            oom_killed: info.oom_killed,
            timings: Timings {
                started_at: t0_wall
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                duration_s: options.duration.as_secs_f64(),
                setup_ms,
                run_ms,
                teardown_ms: 0,
                image_load_ms: 0,
            },
            capture,
            warnings,
        })
    }

    async fn collect_files(
        &self,
        target_id: &str,
        changes: &[(String, ChangeKind, bool)],
        executed: &BTreeSet<String>,
        limits: FileLimits,
        warnings: &mut Vec<String>,
        matches: &mut Vec<ContentMatch>,
    ) -> Vec<FileRecord> {
        let mut files = Vec::new();
        let mut fetched = 0usize;
        let mut total = 0u64;

        // A directory with many changed files (a database initialised at start-up) is fetched
        // with one archive request instead of one request per file.
        let mut per_parent: BTreeMap<String, usize> = BTreeMap::new();
        for (path, change, is_dir) in changes {
            if matches!(change, ChangeKind::Added | ChangeKind::Changed) && !is_dir {
                let parent = Path::new(path)
                    .parent()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                *per_parent.entry(parent).or_default() += 1;
            }
        }
        let mut prefetched: HashMap<String, crate::files::FileContent> = HashMap::new();
        for (parent, count) in per_parent {
            if count < 16 || parent == "/" || total >= limits.max_total_bytes {
                continue;
            }
            let Ok(bytes) = self
                .engine
                .archive(target_id, &parent, limits.max_total_bytes - total)
                .await
            else {
                continue;
            };
            total += bytes.len() as u64;
            let base = Path::new(&parent)
                .parent()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            for entry in read_tar(&bytes).unwrap_or_default() {
                if entry.size > limits.max_file_bytes {
                    continue;
                }
                let path = format!(
                    "{}/{}",
                    base.trim_end_matches('/'),
                    entry.name.trim_end_matches('/')
                );
                prefetched.insert(path, entry);
            }
        }

        for (path, change, is_dir) in changes {
            let mut record = FileRecord {
                path: path.clone(),
                change: Some(*change),
                executed: executed.contains(path),
                ..Default::default()
            };
            if *is_dir {
                record.kind = FileKind::Directory;
            }
            let wants_content =
                matches!(change, ChangeKind::Added | ChangeKind::Changed) && !is_dir;
            if let Some(entry) = prefetched.remove(path.as_str()).filter(|_| wants_content) {
                if let Some(scanner) = &self.scanner {
                    matches.extend(scanner.scan(path, &entry.content));
                }
                record.size = Some(entry.size);
                record.mode = Some(entry.mode);
                record.sha256 = entry.sha256;
                record.kind = entry.kind;
                record.text_head = entry.text_head;
            } else if wants_content {
                if fetched >= limits.max_files || total >= limits.max_total_bytes {
                    record.note = Some("content not fetched: run limit reached".to_string());
                } else {
                    match self
                        .engine
                        .archive(target_id, path, limits.max_file_bytes)
                        .await
                    {
                        Ok(bytes) => {
                            fetched += 1;
                            total += bytes.len() as u64;
                            match read_tar(&bytes) {
                                Ok(entries) => {
                                    if let Some(entry) = entries.into_iter().next() {
                                        if entry.kind == FileKind::Directory {
                                            record.kind = FileKind::Directory;
                                        } else {
                                            if let Some(scanner) = &self.scanner {
                                                matches.extend(scanner.scan(path, &entry.content));
                                            }
                                            record.size = Some(entry.size);
                                            record.mode = Some(entry.mode);
                                            record.sha256 = entry.sha256;
                                            record.kind = entry.kind;
                                            record.text_head = entry.text_head;
                                        }
                                    }
                                }
                                Err(e) => {
                                    record.note = Some(format!("archive of {path} unreadable: {e}"))
                                }
                            }
                        }
                        Err(e) => record.note = Some(format!("content not fetched: {e}")),
                    }
                }
            }
            files.push(record);
        }
        if fetched >= limits.max_files {
            warnings.push(format!(
                "content of only the first {} changed files was fetched",
                limits.max_files
            ));
        }
        files
    }

    /// Adds the files of volumes. `volumes` contains each volume path and whether the image
    /// declares it (the undeclared ones back `/dev/shm`, and `/tmp` on runsc). A
    /// file that the image already had there with the same content is left out, and one with
    /// other content is `changed`.
    #[allow(clippy::too_many_arguments)]
    async fn collect_volumes(
        &self,
        target_id: &str,
        volumes: &[(String, bool)],
        lower: Option<&LowerDirs>,
        executed: &BTreeSet<String>,
        limits: FileLimits,
        obs: &mut Observations,
        warnings: &mut Vec<String>,
    ) {
        for (volume, declared) in volumes {
            let bytes = match self
                .engine
                .archive(target_id, volume, limits.max_total_bytes)
                .await
            {
                Ok(b) => b,
                Err(e) => {
                    warnings.push(format!("volume {volume} not read: {e}"));
                    continue;
                }
            };
            let Ok(entries) = read_tar(&bytes) else {
                continue;
            };
            let parent = Path::new(volume)
                .parent()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            for entry in entries {
                if entry.kind == FileKind::Directory {
                    continue;
                }
                let path = format!(
                    "{}/{}",
                    parent.trim_end_matches('/'),
                    entry.name.trim_end_matches('/')
                );
                if obs.files.iter().any(|f| f.path == path) {
                    continue;
                }
                let change = match lower.map(|l| image_file_sha256(l, &path)) {
                    Some(ImageFile::Same(sha)) if Some(&sha) == entry.sha256.as_ref() => continue,
                    Some(ImageFile::Same(_)) | Some(ImageFile::Present) => ChangeKind::Changed,
                    Some(ImageFile::Absent) | None => ChangeKind::Added,
                };
                if let Some(scanner) = &self.scanner {
                    obs.content_matches
                        .extend(scanner.scan(&path, &entry.content));
                }
                let note = if *declared {
                    "in a VOLUME the image declares; read from the volume"
                } else {
                    "in /dev/shm (or /tmp on runsc), which the sandbox backs with an anonymous volume"
                };
                obs.files.push(FileRecord {
                    executed: executed.contains(&path),
                    path,
                    change: Some(change),
                    size: Some(entry.size),
                    mode: Some(entry.mode),
                    sha256: entry.sha256,
                    kind: entry.kind,
                    text_head: entry.text_head,
                    in_volume: *declared,
                    note: Some(note.to_string()),
                });
            }
        }
    }

    /// Returns the uid the image's `USER` names, reading the image's `/etc/passwd` from the
    /// created target for a user name. Root when `USER` is empty.
    async fn image_uid(&self, target_id: &str, user: &str) -> Option<u32> {
        let name = user.split(':').next().unwrap_or("");
        if name.is_empty() || name.parse::<u32>().is_ok() {
            return resolve_uid(user, None);
        }
        let passwd = self
            .engine
            .archive(target_id, "/etc/passwd", 1 << 20)
            .await
            .ok()
            .and_then(|bytes| read_tar(&bytes).ok())
            .and_then(|entries| entries.into_iter().next())
            .map(|entry| String::from_utf8_lossy(&entry.content).into_owned());
        resolve_uid(user, passwd.as_deref())
    }

    async fn teardown(&self, state: &mut RunState) -> Vec<String> {
        let mut warnings = Vec::new();
        for id in [state.target.take(), state.holder.take()]
            .into_iter()
            .flatten()
        {
            if let Err(e) = self.engine.remove_container(&id).await {
                warnings.push(format!("failed to remove container {id}: {e}"));
            }
        }
        if let Some(net) = state.fakenet.take() {
            if let Err(e) = net.stop() {
                warnings.push(format!("failed to stop the fake network: {e}"));
            }
        }
        warnings
    }
}

#[derive(Default)]
struct RunState {
    holder: Option<String>,
    target: Option<String>,
    fakenet: Option<cordon_fakenet::FakeNet>,
    collect_ms: u64,
}

/// Returns the error for a root filesystem directory, which has no image config to run.
fn rootfs_unsupported(source: &cordon_image::ImageSource) -> SandboxError {
    SandboxError::Invalid {
        what: "image",
        value: source.to_string(),
        reason: crate::load::ROOTFS_UNSUPPORTED.to_string(),
    }
}

fn tempfile_dir() -> Result<PathBuf, SandboxError> {
    let dir = std::env::temp_dir().join(format!("cordon-holder-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).map_err(|e| SandboxError::io(&dir, e))?;
    Ok(dir)
}

fn seconds_since(t0: time::OffsetDateTime, t: time::OffsetDateTime) -> f64 {
    ((t - t0).as_seconds_f64()).max(0.0)
}

/// Keeps the last sample of each second.
fn per_second(samples: Vec<StatsSample>) -> Vec<StatsSample> {
    let mut by_second: BTreeMap<u64, StatsSample> = BTreeMap::new();
    for s in samples {
        by_second.insert(s.time as u64, s);
    }
    by_second.into_values().collect()
}

/// Finds the `boot` debug log of the sandbox that ran `container_id`.
fn find_runsc_log(container_id: &str) -> Option<PathBuf> {
    use std::io::Read;
    let entries = std::fs::read_dir(RUNSC_LOG_DIR).ok()?;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.to_string_lossy().ends_with(".boot.txt") {
            continue;
        }
        let mut head = vec![0u8; 8192];
        let n = std::fs::File::open(&path)
            .and_then(|mut f| f.read(&mut head))
            .unwrap_or(0);
        if String::from_utf8_lossy(&head[..n]).contains(container_id) {
            return Some(path);
        }
    }
    None
}

/// Returns the command the target runs: the entrypoint (given or the image's) followed by the
/// command (given, or the image's unless an entrypoint was given).
fn command_line(options: &SandboxOptions, image: &ImageInfo) -> Vec<String> {
    let entrypoint = options
        .entrypoint
        .clone()
        .unwrap_or_else(|| image.entrypoint.clone());
    let cmd = match (&options.cmd, &options.entrypoint) {
        (Some(cmd), _) => cmd.clone(),
        (None, Some(_)) => Vec::new(),
        (None, None) => image.cmd.clone(),
    };
    entrypoint.into_iter().chain(cmd).collect()
}

/// Resolves a `USER` value (`name`, `uid`, `name:group`, `uid:gid`, or empty for root) to a
/// uid, looking names up in the given `/etc/passwd` text.
fn resolve_uid(user: &str, passwd: Option<&str>) -> Option<u32> {
    let name = user.split(':').next().unwrap_or("");
    if name.is_empty() {
        return Some(0);
    }
    if let Ok(uid) = name.parse() {
        return Some(uid);
    }
    passwd?.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next() == Some(name))
            .then(|| fields.nth(1)?.parse().ok())
            .flatten()
    })
}

/// Content of the image at a path.
enum ImageFile {
    /// A regular file with this SHA-256.
    Same(String),
    /// Something else, or a file that could not be read.
    Present,
    /// Nothing.
    Absent,
}

/// Looks `path` up in the image's layers, topmost first.
fn image_file_sha256(lower: &LowerDirs, path: &str) -> ImageFile {
    use sha2::Digest;
    use std::io::Read;
    for dir in lower.dirs() {
        match crate::capture::open_beneath(dir, path) {
            Ok(mut file) => {
                let mut hasher = sha2::Sha256::new();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match file.read(&mut buf) {
                        Ok(0) => return ImageFile::Same(hex::encode(hasher.finalize())),
                        Ok(n) => hasher.update(&buf[..n]),
                        Err(_) => return ImageFile::Present,
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(_) => return ImageFile::Present,
        }
    }
    ImageFile::Absent
}

/// True for an exec-time copy of a file the process ran from memory or that was deleted.
fn is_transient_copy(path: &str) -> bool {
    path.ends_with(" (deleted)") || path.starts_with("/memfd:")
}

/// Adds files that were executed or written and then deleted before the end of the run.
fn add_transient_files(
    obs: &mut Observations,
    copies: &[proc_connector::ExecutableCopy],
    deleted: &[DeletedFile],
    raw: &Path,
) {
    let mut present: BTreeSet<String> = obs.files.iter().map(|f| f.path.clone()).collect();
    let executed: BTreeSet<String> = obs
        .processes
        .iter()
        .flat_map(|p| p.executed_files())
        .collect();
    // runsc: files whose host descriptor was kept while the target ran.
    for file in deleted {
        if present.contains(&file.path) {
            continue;
        }
        let dir = raw.join("executables");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(&file.sha256), &file.content);
        obs.files.push(FileRecord {
            path: file.path.clone(),
            change: Some(ChangeKind::Transient),
            size: Some(file.content.len() as u64),
            mode: Some(file.mode),
            sha256: Some(file.sha256.clone()),
            kind: crate::files::classify(&file.content),
            executed: executed.contains(&file.path),
            text_head: crate::files::text_head(&file.content),
            note: Some(
                "deleted before the end of the run; content read through a descriptor opened when it was written or executed"
                    .to_string(),
            ),
            ..Default::default()
        });
    }
    present.extend(deleted.iter().map(|d| d.path.clone()));
    // runc: executables copied at exec time.
    for copy in copies {
        if present.contains(&copy.path) || !is_transient_copy(&copy.path) {
            continue;
        }
        let dir = raw.join("executables");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(&copy.sha256), &copy.content);
        obs.files.push(FileRecord {
            path: copy.path.trim_end_matches(" (deleted)").to_string(),
            change: Some(ChangeKind::Transient),
            size: Some(copy.content.len() as u64),
            sha256: Some(copy.sha256.clone()),
            kind: crate::files::classify(&copy.content),
            executed: true,
            note: Some("deleted before the end of the run; copied at exec time".to_string()),
            ..Default::default()
        });
    }
    // runsc: paths written and later unlinked, from the syscall trace.
    let unlinked: BTreeSet<&str> = obs
        .file_accesses
        .iter()
        .filter(|a| a.op == FileOp::Unlink)
        .map(|a| a.path.as_str())
        .collect();
    let written: BTreeSet<&str> = obs
        .file_accesses
        .iter()
        .filter(|a| a.op == FileOp::Write)
        .map(|a| a.path.as_str())
        .collect();
    let mut transient = Vec::new();
    for path in written.intersection(&unlinked) {
        if present.contains(*path) || path.starts_with("/proc/") || path.starts_with("/dev/") {
            continue;
        }
        transient.push(FileRecord {
            path: path.to_string(),
            change: Some(ChangeKind::Transient),
            executed: executed.contains(*path),
            note: Some(
                "written and deleted during the run (from the syscall trace); content not kept"
                    .to_string(),
            ),
            ..Default::default()
        });
    }
    obs.files.extend(transient);
}

/// Adds files under `/tmp` and `/dev/shm` that the syscall trace saw written and the file
/// list lacks.
///
/// Both are anonymous volumes on runsc, so the list normally has them. Without those volumes
/// gVisor keeps both directories in sandbox memory, where the host cannot read them.
fn add_trace_only_writes(obs: &mut Observations, notes: &mut Vec<String>) {
    let present: BTreeSet<String> = obs.files.iter().map(|f| f.path.clone()).collect();
    let unlinked: BTreeSet<String> = obs
        .file_accesses
        .iter()
        .filter(|a| a.op == FileOp::Unlink)
        .map(|a| a.path.clone())
        .collect();
    let executed: BTreeSet<String> = obs
        .processes
        .iter()
        .flat_map(|p| p.executed_files())
        .collect();
    let mut added = BTreeSet::new();
    for access in &obs.file_accesses {
        let path = &access.path;
        let in_sandbox_memory = path.starts_with("/tmp/") || path.starts_with("/dev/shm/");
        if access.op != FileOp::Write
            || present.contains(path)
            || unlinked.contains(path)
            || !in_sandbox_memory
        {
            continue;
        }
        added.insert(path.clone());
    }
    if !added.is_empty() {
        notes.push("some files written under /tmp or /dev/shm were not in their volume: they come from the syscall trace and have no content facts".to_string());
    }
    for path in added {
        obs.files.push(FileRecord {
            executed: executed.contains(&path),
            path,
            change: Some(ChangeKind::Added),
            note: Some(
                "seen only in the syscall trace; not in the container's change list".to_string(),
            ),
            ..Default::default()
        });
    }
}

/// Writes `report.json` into the output directory.
pub fn write_report(output: &Path, report: &Report) -> Result<(), SandboxError> {
    let path = output.join("report.json");
    let json = serde_json::to_vec_pretty(report)?;
    std::fs::write(&path, json).map_err(|e| SandboxError::io(&path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_resolve_through_passwd() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
        assert_eq!(resolve_uid("", None), Some(0));
        assert_eq!(resolve_uid("1001", None), Some(1001));
        assert_eq!(resolve_uid("1001:50", None), Some(1001));
        assert_eq!(resolve_uid("app", Some(passwd)), Some(1000));
        assert_eq!(resolve_uid("app:staff", Some(passwd)), Some(1000));
        assert_eq!(resolve_uid("ghost", Some(passwd)), None);
        assert_eq!(resolve_uid("app", None), None);
    }

    #[test]
    fn given_entrypoint_drops_image_command() {
        let image = ImageInfo {
            entrypoint: vec!["/entry".to_string()],
            cmd: vec!["serve".to_string()],
            ..Default::default()
        };
        let mut options = SandboxOptions {
            image: ImageSource::Engine("x".to_string()),
            duration: Duration::from_secs(1),
            entrypoint: None,
            cmd: None,
            env: Vec::new(),
            runtime: RuntimeChoice::Runc,
            limits: Limits::default(),
            network: NetworkProfile::None,
            output: PathBuf::from("out"),
            replace_output: false,
            file_limits: FileLimits::default(),
        };
        assert_eq!(command_line(&options, &image), ["/entry", "serve"]);
        options.cmd = Some(vec!["debug".to_string()]);
        assert_eq!(command_line(&options, &image), ["/entry", "debug"]);
        options.entrypoint = Some(vec!["/bin/sh".to_string()]);
        options.cmd = None;
        assert_eq!(command_line(&options, &image), ["/bin/sh"]);
        assert!(command_line(
            &SandboxOptions {
                entrypoint: None,
                ..options
            },
            &ImageInfo::default()
        )
        .is_empty());
    }
}
