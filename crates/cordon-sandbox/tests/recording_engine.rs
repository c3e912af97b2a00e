//! The sandbox against a recording double of the Engine: checks the hardening of every
//! container it creates, the teardown and the reaper, without a Docker daemon.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use bollard::models::ContainerCreateBody;
use cordon_sandbox::engine::{ContainerInfo, Engine, ImageInfo, ListedContainer, StatsPoint};
use cordon_sandbox::events::ChangeKind;
use cordon_sandbox::hardening::{LABEL_OWNER, LABEL_ROLE, LABEL_RUN, LABEL_SANDBOX};
use cordon_sandbox::{
    ImageSource, NetworkProfile, RuntimeChoice, Sandbox, SandboxError, SandboxOptions,
};
use futures_util::stream::{BoxStream, StreamExt};

#[derive(Default)]
struct Recorder {
    created: Vec<(String, ContainerCreateBody)>,
    removed: Vec<String>,
    killed: Vec<String>,
    listed: Vec<ListedContainer>,
}

#[derive(Default)]
struct RecordingEngine {
    calls: Mutex<Recorder>,
    without_runsc: bool,
}

impl Engine for RecordingEngine {
    async fn load_image(&self, _archive: &Path) -> Result<Vec<String>, SandboxError> {
        Ok(vec!["test/image:1".to_string()])
    }

    async fn load_image_stream(
        &self,
        _what: &str,
        _body: BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
    ) -> Result<Vec<String>, SandboxError> {
        Ok(vec!["img:1".to_string()])
    }

    async fn remove_image(&self, _name: &str) -> Result<(), SandboxError> {
        Ok(())
    }

    async fn list_image_tags(&self, _prefix: &str) -> Result<Vec<String>, SandboxError> {
        Ok(Vec::new())
    }

    async fn inspect_image(&self, _name: &str) -> Result<ImageInfo, SandboxError> {
        Ok(ImageInfo {
            id: "sha256:00".to_string(),
            cmd: vec!["/bin/true".to_string()],
            ..Default::default()
        })
    }

    async fn runtimes(&self) -> Result<Vec<String>, SandboxError> {
        if self.without_runsc {
            return Ok(vec!["runc".to_string()]);
        }
        Ok(vec!["runc".to_string(), "cordon-runsc".to_string()])
    }

    async fn create_container(
        &self,
        name: &str,
        body: ContainerCreateBody,
    ) -> Result<String, SandboxError> {
        let mut calls = self.calls.lock().unwrap();
        calls.created.push((name.to_string(), body));
        Ok(format!("id-{name}"))
    }

    async fn start_container(&self, _id: &str) -> Result<(), SandboxError> {
        Ok(())
    }

    async fn inspect_container(&self, _id: &str) -> Result<ContainerInfo, SandboxError> {
        Ok(ContainerInfo {
            pid: 0,
            running: false,
            exit_code: Some(0),
            ..Default::default()
        })
    }

    async fn kill_container(&self, id: &str) -> Result<(), SandboxError> {
        self.calls.lock().unwrap().killed.push(id.to_string());
        Ok(())
    }

    async fn remove_container(&self, id: &str) -> Result<(), SandboxError> {
        self.calls.lock().unwrap().removed.push(id.to_string());
        Ok(())
    }

    async fn changes(&self, _id: &str) -> Result<Vec<(String, ChangeKind)>, SandboxError> {
        Ok(vec![("/etc".to_string(), ChangeKind::Changed)])
    }

    async fn archive(&self, _id: &str, path: &str, _limit: u64) -> Result<Vec<u8>, SandboxError> {
        Err(SandboxError::TooLarge {
            path: path.to_string(),
            limit: 0,
        })
    }

    async fn logs(&self, _id: &str, _limit: usize) -> Result<(Vec<u8>, Vec<u8>), SandboxError> {
        Ok((b"out".to_vec(), Vec::new()))
    }

    async fn list_by_label(&self, _label: &str) -> Result<Vec<ListedContainer>, SandboxError> {
        Ok(self.calls.lock().unwrap().listed.clone())
    }

    fn stats(&self, _id: &str) -> BoxStream<'static, StatsPoint> {
        futures_util::stream::empty().boxed()
    }
}

fn options(output: &Path) -> SandboxOptions {
    SandboxOptions {
        image: ImageSource::Engine("test/image:1".to_string()),
        duration: Duration::from_secs(1),
        entrypoint: None,
        cmd: None,
        env: vec!["A=1".to_string()],
        runtime: RuntimeChoice::Runc,
        limits: Default::default(),
        network: NetworkProfile::None,
        output: output.to_path_buf(),
        replace_output: false,
        file_limits: Default::default(),
    }
}

async fn run_once() -> (Recorder, cordon_sandbox::report::Report) {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::new(RecordingEngine::default());
    let report = sandbox.run(&options(dir.path())).await.unwrap();
    assert!(dir.path().join("report.json").is_file());
    let calls = std::mem::take(&mut *sandbox.engine().calls.lock().unwrap());
    (calls, report)
}

fn by_role<'a>(calls: &'a Recorder, role: &str) -> &'a ContainerCreateBody {
    &calls
        .created
        .iter()
        .find(|(_, body)| {
            body.labels
                .as_ref()
                .unwrap()
                .get(LABEL_ROLE)
                .map(String::as_str)
                == Some(role)
        })
        .unwrap_or_else(|| panic!("no {role} container created"))
        .1
}

#[tokio::test]
async fn no_container_is_privileged_or_shares_host() {
    let (calls, _) = run_once().await;
    assert!(calls.created.len() >= 2);
    for (name, body) in &calls.created {
        let host = body.host_config.as_ref().unwrap();
        assert_eq!(host.privileged, Some(false), "{name}");
        assert_ne!(host.network_mode.as_deref(), Some("host"), "{name}");
        assert!(
            host.pid_mode.as_deref().unwrap_or("").is_empty(),
            "{name} shares a pid namespace"
        );
        assert_eq!(host.ipc_mode.as_deref(), Some("private"), "{name}");
        assert_eq!(host.cap_drop, Some(vec!["ALL".to_string()]), "{name}");
        assert!(
            host.security_opt
                .as_ref()
                .unwrap()
                .contains(&"no-new-privileges".to_string()),
            "{name}"
        );
        assert!(
            !host
                .security_opt
                .as_ref()
                .unwrap()
                .iter()
                .any(|o| o.contains("unconfined")),
            "{name}"
        );
        assert!(
            host.binds.as_ref().is_none_or(|b| b.is_empty()),
            "{name} has bind mounts"
        );
        // The only mounts allowed are anonymous volumes (no source, so no host path) at the
        // directories that would otherwise be memory file systems.
        for mount in host.mounts.iter().flatten() {
            assert_eq!(
                mount.typ,
                Some(bollard::models::MountType::VOLUME),
                "{name} has a mount that is not a volume: {mount:?}"
            );
            assert_eq!(
                mount.source, None,
                "{name} mounts a named source: {mount:?}"
            );
            let target = mount.target.as_deref().unwrap_or("");
            assert!(
                cordon_sandbox::hardening::SCRATCH_DIRS.contains(&target),
                "{name} mounts {target}"
            );
        }
        assert!(
            host.devices.as_ref().is_none_or(|d| d.is_empty()),
            "{name} has devices"
        );
        assert!(host.pids_limit.unwrap() > 0, "{name}");
        assert!(host.memory.unwrap() > 0, "{name}");
        assert_eq!(host.memory_swap, host.memory, "{name} may swap");
        assert!(
            host.readonly_paths
                .as_ref()
                .unwrap()
                .contains(&"/proc/sys".to_string()),
            "{name}"
        );
        assert!(
            host.masked_paths
                .as_ref()
                .unwrap()
                .contains(&"/proc/kcore".to_string()),
            "{name}"
        );
        let binds_docker_socket = format!("{body:?}").contains("docker.sock");
        assert!(!binds_docker_socket, "{name} mentions the Docker socket");
    }
}

#[tokio::test]
async fn target_joins_holder_namespace() {
    let (calls, _) = run_once().await;
    let holder = by_role(&calls, "holder");
    let target = by_role(&calls, "target");
    assert_eq!(
        holder.host_config.as_ref().unwrap().network_mode.as_deref(),
        Some("none")
    );
    let holder_name = &calls
        .created
        .iter()
        .find(|(_, b)| std::ptr::eq(b, holder))
        .unwrap()
        .0;
    assert_eq!(
        target.host_config.as_ref().unwrap().network_mode.as_deref(),
        Some(format!("container:id-{holder_name}").as_str())
    );
    assert_eq!(
        target.host_config.as_ref().unwrap().runtime.as_deref(),
        Some("runc")
    );
    assert_eq!(target.env, Some(vec!["A=1".to_string()]));
}

#[tokio::test]
async fn containers_carry_run_labels_and_are_removed() {
    let (calls, report) = run_once().await;
    for (name, body) in &calls.created {
        let labels = body.labels.as_ref().unwrap();
        assert_eq!(
            labels.get(LABEL_SANDBOX).map(String::as_str),
            Some("1"),
            "{name}"
        );
        assert_eq!(labels.get(LABEL_RUN), Some(&report.run_id), "{name}");
        assert!(labels.contains_key(LABEL_OWNER), "{name}");
        assert!(name.contains(&report.run_id), "{name} lacks the run id");
        assert!(
            calls.removed.contains(&format!("id-{name}")),
            "{name} was not removed"
        );
    }
}

#[tokio::test]
async fn reaper_removes_only_dead_owners() {
    let engine = RecordingEngine::default();
    let own = format!(
        "{}:{}",
        std::process::id(),
        std::fs::read_to_string(format!("/proc/{}/stat", std::process::id()))
            .unwrap()
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .nth(19)
            .unwrap()
    );
    engine.calls.lock().unwrap().listed = vec![
        ListedContainer {
            id: "live".to_string(),
            labels: HashMap::from([(LABEL_OWNER.to_string(), own)]),
        },
        ListedContainer {
            id: "dead".to_string(),
            labels: HashMap::from([(LABEL_OWNER.to_string(), "999999999:1".to_string())]),
        },
    ];
    let sandbox = Sandbox::new(engine);
    let removed = sandbox.reap().await.unwrap();
    assert_eq!(removed, vec!["dead".to_string()]);
}

#[tokio::test]
async fn missing_runsc_runtime_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path());
    opts.runtime = RuntimeChoice::Runsc;
    let sandbox = Sandbox::new(RecordingEngine {
        without_runsc: true,
        ..Default::default()
    });
    let error = sandbox.run(&opts).await.unwrap_err();
    assert!(
        matches!(error, SandboxError::MissingRuntime { .. }),
        "{error}"
    );
    assert!(sandbox.engine().calls.lock().unwrap().created.is_empty());
}

#[tokio::test]
async fn registered_runsc_runtime_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path());
    opts.runtime = RuntimeChoice::Runsc;
    let sandbox = Sandbox::new(RecordingEngine::default());
    let report = sandbox.run(&opts).await.unwrap();
    assert_eq!(report.runtime, "cordon-runsc");
    let calls = sandbox.engine().calls.lock().unwrap();
    assert_eq!(
        by_role(&calls, "holder")
            .host_config
            .as_ref()
            .unwrap()
            .runtime
            .as_deref(),
        Some("runc")
    );
    assert_eq!(
        by_role(&calls, "target")
            .host_config
            .as_ref()
            .unwrap()
            .runtime
            .as_deref(),
        Some("cordon-runsc")
    );
}
