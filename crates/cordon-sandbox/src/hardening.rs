//! Container configurations for the holder and the target, with the sandbox's hardening.
//!
//! Both containers run unprivileged, with every capability dropped except the add-back set,
//! `no-new-privileges`, Docker's default seccomp profile (no `seccomp=` option is passed, so
//! the default applies; runsc replaces it with its own system-call filter), Docker's masked and
//! read-only `/proc` and `/sys` paths, no bind mounts, no devices and resource limits. The
//! target has no network of its own: it joins the holder's network namespace, which has only
//! loopback and the veth that the fake internet plugs in.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType, ResourcesUlimits};

/// Label every sandbox container carries; the reaper selects on it.
pub const LABEL_SANDBOX: &str = "io.cordon.sandbox";
/// Label with the run id.
pub const LABEL_RUN: &str = "io.cordon.sandbox.run";
/// Label with `pid:start-time` of the Cordon process that owns the run.
pub const LABEL_OWNER: &str = "io.cordon.sandbox.owner";
/// Label naming the container's role (`holder` or `target`).
pub const LABEL_ROLE: &str = "io.cordon.sandbox.role";

/// Capabilities the target keeps: file ownership and permission handling, switching to an
/// unprivileged user (web servers and daemons do it at start-up), binding ports below 1024
/// and signalling its own children.
pub const TARGET_CAPABILITIES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "SETUID",
    "SETGID",
    "NET_BIND_SERVICE",
    "KILL",
];

/// Paths Docker 20.10 masks by default, repeated because setting `MaskedPaths` replaces them.
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths Docker 20.10 makes read-only by default, plus `/proc/sys/kernel` spelled out.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Resource limits of the target.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// CPU cores (fractions allowed).
    pub cpus: f64,
    /// Memory in bytes; swap is disabled by setting the same value as memory+swap.
    pub memory: i64,
    /// Maximum number of processes and threads.
    pub pids: i64,
    /// Maximum size of one file the target writes, in bytes.
    pub file_size: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpus: 1.0,
            memory: 512 << 20,
            pids: 256,
            file_size: 256 << 20,
        }
    }
}

/// Everything the target's configuration depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetPlan {
    /// Image reference.
    pub image: String,
    /// Entrypoint override.
    pub entrypoint: Option<Vec<String>>,
    /// Command override.
    pub cmd: Option<Vec<String>>,
    /// Extra environment, `K=V`.
    pub env: Vec<String>,
    /// Docker runtime name.
    pub runtime: String,
    /// Id of the holder container whose network namespace the target joins.
    pub holder_id: String,
    /// Labels to set.
    pub labels: HashMap<String, String>,
    /// Resource limits.
    pub limits: Limits,
    /// Directories to back with anonymous Docker volumes, so that files written there reach a
    /// host directory the sandbox reads (see [`SCRATCH_DIRS`]).
    pub scratch_volumes: Vec<String>,
}

fn hardened_host_config(
    runtime: &str,
    network_mode: String,
    limits: &Limits,
    cap_add: &[&str],
) -> HostConfig {
    HostConfig {
        runtime: Some(runtime.to_string()),
        network_mode: Some(network_mode),
        privileged: Some(false),
        cap_drop: Some(vec!["ALL".to_string()]),
        cap_add: Some(cap_add.iter().map(|c| c.to_string()).collect()),
        security_opt: Some(vec!["no-new-privileges".to_string()]),
        masked_paths: Some(MASKED_PATHS.iter().map(|p| p.to_string()).collect()),
        readonly_paths: Some(READONLY_PATHS.iter().map(|p| p.to_string()).collect()),
        ipc_mode: Some("private".to_string()),
        pid_mode: Some(String::new()),
        binds: Some(Vec::new()),
        mounts: Some(Vec::new()),
        devices: Some(Vec::new()),
        publish_all_ports: Some(false),
        nano_cpus: Some((limits.cpus * 1e9) as i64),
        memory: Some(limits.memory),
        memory_swap: Some(limits.memory),
        pids_limit: Some(limits.pids),
        oom_kill_disable: Some(false),
        shm_size: Some(64 << 20),
        ulimits: Some(vec![
            ResourcesUlimits {
                name: Some("fsize".to_string()),
                soft: Some(limits.file_size),
                hard: Some(limits.file_size),
            },
            ResourcesUlimits {
                name: Some("core".to_string()),
                soft: Some(0),
                hard: Some(0),
            },
            ResourcesUlimits {
                name: Some("nofile".to_string()),
                soft: Some(4096),
                hard: Some(4096),
            },
        ]),
        auto_remove: Some(false),
        init: Some(false),
        ..Default::default()
    }
}

/// Builds the target's configuration.
pub fn target_config(plan: &TargetPlan) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(plan.image.clone()),
        entrypoint: plan.entrypoint.clone(),
        cmd: plan.cmd.clone(),
        env: Some(plan.env.clone()),
        labels: Some(plan.labels.clone()),
        attach_stdin: Some(false),
        open_stdin: Some(false),
        tty: Some(false),
        network_disabled: Some(false),
        host_config: Some(HostConfig {
            mounts: Some(
                plan.scratch_volumes
                    .iter()
                    .map(|dir| anonymous_volume(dir))
                    .collect(),
            ),
            ..hardened_host_config(
                &plan.runtime,
                format!("container:{}", plan.holder_id),
                &plan.limits,
                TARGET_CAPABILITIES,
            )
        }),
        ..Default::default()
    }
}

/// Directories of the target that are memory file systems unless the container configuration
/// mounts something there: Docker mounts a tmpfs at `/dev/shm`, and gVisor mounts its own at an
/// empty `/tmp`.
pub const SCRATCH_DIRS: &[&str] = &["/tmp", "/dev/shm"];

/// Returns an anonymous volume at `target`. It has no source: Docker creates it under its own
/// volume directory and removes it with the container, so it mounts no existing host path.
fn anonymous_volume(target: &str) -> Mount {
    Mount {
        target: Some(target.to_string()),
        source: None,
        typ: Some(MountType::VOLUME),
        read_only: Some(false),
        ..Default::default()
    }
}

/// Builds the holder's configuration: the static busybox `sleep` in a container with no
/// network (`NetworkMode=none`) under runc, which only owns the network namespace.
pub fn holder_config(image: &str, labels: HashMap<String, String>) -> ContainerCreateBody {
    let limits = Limits {
        cpus: 0.1,
        memory: 16 << 20,
        pids: 8,
        file_size: 1 << 20,
    };
    let mut host = hardened_host_config("runc", "none".to_string(), &limits, &[]);
    host.readonly_rootfs = Some(true);
    ContainerCreateBody {
        image: Some(image.to_string()),
        entrypoint: Some(vec![
            "/bin/busybox".to_string(),
            "sleep".to_string(),
            "2147483647".to_string(),
        ]),
        cmd: Some(Vec::new()),
        labels: Some(labels),
        host_config: Some(host),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> TargetPlan {
        TargetPlan {
            image: "corpus/nginx:latest".to_string(),
            entrypoint: None,
            cmd: None,
            env: vec!["A=1".to_string()],
            runtime: "runc".to_string(),
            holder_id: "abc".to_string(),
            labels: HashMap::from([(LABEL_SANDBOX.to_string(), "1".to_string())]),
            limits: Limits::default(),
            scratch_volumes: Vec::new(),
        }
    }

    #[test]
    fn scratch_volumes_are_anonymous_and_bind_nothing() {
        let host = target_config(&TargetPlan {
            scratch_volumes: SCRATCH_DIRS.iter().map(|d| d.to_string()).collect(),
            ..plan()
        })
        .host_config
        .unwrap();
        let mounts = host.mounts.unwrap();
        assert_eq!(mounts.len(), 2);
        for (mount, dir) in mounts.iter().zip(SCRATCH_DIRS) {
            assert_eq!(mount.typ, Some(MountType::VOLUME));
            assert_eq!(mount.target.as_deref(), Some(*dir));
            assert_eq!(mount.source, None);
        }
        assert_eq!(host.binds, Some(Vec::new()));
        assert!(target_config(&plan())
            .host_config
            .unwrap()
            .mounts
            .unwrap()
            .is_empty());
    }

    #[test]
    fn target_joins_holder_network() {
        let host = target_config(&plan()).host_config.unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("container:abc"));
    }

    #[test]
    fn target_drops_all_capabilities() {
        let host = target_config(&plan()).host_config.unwrap();
        assert_eq!(host.cap_drop, Some(vec!["ALL".to_string()]));
        assert_eq!(host.privileged, Some(false));
        assert!(!host
            .cap_add
            .unwrap()
            .iter()
            .any(|c| c == "SYS_ADMIN" || c == "NET_ADMIN" || c == "NET_RAW"));
    }

    #[test]
    fn holder_has_no_network_and_no_capabilities() {
        let host = holder_config("cordon-sandbox/holder:1", HashMap::new())
            .host_config
            .unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("none"));
        assert_eq!(host.cap_add, Some(Vec::new()));
        assert_eq!(host.readonly_rootfs, Some(true));
    }
}
