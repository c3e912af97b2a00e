//! Network namespace and veth plumbing through the `ip`, `nsenter` and `nft` commands.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, Result};

/// Prefix of every network namespace that a fakenet creates.
pub const NETNS_PREFIX: &str = "cordon-fn-";

/// Prefix of every veth interface name that a fakenet creates.
pub const VETH_PREFIX: &str = "cfn";

/// Directory where `ip netns add` mounts named namespaces.
const NETNS_RUN_DIR: &str = "/run/netns";

/// Directory of the lock files that mark live runs.
const LOCK_DIR: &str = "/run/cordon-fakenet";

/// Longest accepted run id.
const MAX_RUN_ID_LEN: usize = 40;

/// Names of the kernel objects of one run.
#[derive(Debug, Clone)]
pub(crate) struct RunNames {
    pub netns: String,
    pub veth_fakenet: String,
    pub veth_target: String,
}

impl RunNames {
    pub(crate) fn new(run_id: &str) -> Result<Self> {
        validate_run_id(run_id)?;
        let key = interface_key(run_id);
        Ok(RunNames {
            netns: format!("{NETNS_PREFIX}{run_id}"),
            veth_fakenet: format!("{VETH_PREFIX}{key}f"),
            veth_target: format!("{VETH_PREFIX}{key}t"),
        })
    }

    pub(crate) fn netns_path(&self) -> PathBuf {
        Path::new(NETNS_RUN_DIR).join(&self.netns)
    }
}

fn validate_run_id(run_id: &str) -> Result<()> {
    let valid_chars = run_id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let valid_start = run_id
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if run_id.is_empty() || run_id.len() > MAX_RUN_ID_LEN || !valid_chars || !valid_start {
        return Err(Error::InvalidRunId(run_id.to_string()));
    }
    Ok(())
}

/// Returns the part of an interface name that identifies the run.
///
/// Linux interface names have at most 15 bytes, so `cfn` + key + one letter leaves 11 bytes
/// for the key: short run ids are used as they are (without dashes), longer ones are replaced
/// by 11 hex digits of their FNV-1a hash.
fn interface_key(run_id: &str) -> String {
    let compact: String = run_id.chars().filter(|c| *c != '-').collect();
    if compact.len() <= 11 && !compact.is_empty() {
        return compact;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in run_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:011x}", hash & 0xfff_ffff_ffff)
}

/// Runs a command, returns its standard output, and turns a failure status into an error.
pub(crate) fn run(program: &str, args: &[&str]) -> Result<String> {
    run_with_input(program, args, None)
}

pub(crate) fn run_with_input(program: &str, args: &[&str], input: Option<&str>) -> Result<String> {
    let command_line = format!("{program} {}", args.join(" "));
    tracing::debug!(command = %command_line, "running");
    let mut child = Command::new(program)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            command: command_line.clone(),
            source,
        })?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(text.as_bytes())
            .map_err(|source| Error::Spawn {
                command: command_line.clone(),
                source,
            })?;
    }
    let output = child.wait_with_output().map_err(|source| Error::Spawn {
        command: command_line.clone(),
        source,
    })?;
    if !output.status.success() {
        return Err(Error::Command {
            command: command_line,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs a command inside the network namespace at `netns_path` with `nsenter`.
pub(crate) fn run_in(netns_path: &Path, program: &str, args: &[&str]) -> Result<String> {
    let net = format!("--net={}", netns_path.display());
    let mut full = vec![net.as_str(), program];
    full.extend_from_slice(args);
    run("nsenter", &full)
}

/// Lists the named network namespaces whose names start with `prefix`.
pub(crate) fn list_netns(prefix: &str) -> Result<Vec<String>> {
    let entries = match fs::read_dir(NETNS_RUN_DIR) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(Error::io(NETNS_RUN_DIR, err)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| Error::io(NETNS_RUN_DIR, err))?;
        if let Some(name) = entry.file_name().to_str() {
            if name.starts_with(prefix) {
                names.push(name.to_string());
            }
        }
    }
    names.sort();
    Ok(names)
}

/// Lists the interfaces of the host's network namespace whose names start with `prefix`.
pub(crate) fn list_host_links(prefix: &str) -> Result<Vec<String>> {
    let output = run("ip", &["-o", "link", "show"])?;
    Ok(parse_link_names(&output)
        .into_iter()
        .filter(|name| name.starts_with(prefix))
        .collect())
}

/// Extracts interface names from `ip -o link show` output (`2: name@peer: <...>`).
pub(crate) fn parse_link_names(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.split_once(": ")?.1;
            let name = rest.split_once(':')?.0;
            Some(name.split('@').next().unwrap_or(name).to_string())
        })
        .collect()
}

/// Deletes a named network namespace; a namespace that is already gone is not an error.
pub(crate) fn delete_netns(name: &str) -> Result<()> {
    if !Path::new(NETNS_RUN_DIR).join(name).exists() {
        return Ok(());
    }
    run("ip", &["netns", "delete", name]).map(|_| ())
}

/// An exclusive lock that marks a run as live for [`crate::reap_stale`].
#[derive(Debug)]
pub(crate) struct RunLock {
    path: PathBuf,
    _lock: Flock<File>,
}

impl RunLock {
    pub(crate) fn acquire(netns: &str) -> Result<Self> {
        fs::create_dir_all(LOCK_DIR).map_err(|err| Error::io(LOCK_DIR, err))?;
        let path = lock_path(netns);
        let file = open_lock_file(&path)?;
        let lock = Flock::lock(file, FlockArg::LockExclusiveNonblock)
            .map_err(|_| Error::AlreadyExists(netns.to_string()))?;
        Ok(RunLock { path, _lock: lock })
    }

    pub(crate) fn release(self) {
        // Removing the file before unlocking keeps a concurrent reaper from treating the
        // run as dead while its objects still exist: the objects are gone at this point.
        let _ = fs::remove_file(&self.path);
    }
}

fn lock_path(netns: &str) -> PathBuf {
    Path::new(LOCK_DIR).join(format!("{netns}.lock"))
}

fn open_lock_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|err| Error::io(path, err))
}

/// Returns true when a live process holds the lock of the run that owns `netns`.
pub(crate) fn run_is_live(netns: &str) -> Result<bool> {
    let path = lock_path(netns);
    if !path.exists() {
        return Ok(false);
    }
    let file = open_lock_file(&path)?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(_lock) => Ok(false),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(true),
        Err((_, errno)) => Err(Error::sys(
            format!("failed to lock {}", path.display()),
            errno,
        )),
    }
}

/// Removes the lock file of a dead run.
pub(crate) fn remove_lock(netns: &str) {
    let _ = fs::remove_file(lock_path(netns));
}

/// Returns the veth names a run id maps to, so that stale host-side veths can be matched.
pub(crate) fn veth_names_for_netns(netns: &str, prefix: &str) -> Option<[String; 2]> {
    let run_id = netns.strip_prefix(prefix)?;
    let names = RunNames::new(run_id).ok()?;
    Some([names.veth_fakenet, names.veth_target])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_run_id_kept_in_names() {
        let names = RunNames::new("ab-12").unwrap();
        assert_eq!(names.netns, "cordon-fn-ab-12");
        assert_eq!(names.veth_fakenet, "cfnab12f");
        assert_eq!(names.veth_target, "cfnab12t");
    }

    #[test]
    fn long_run_id_hashed_within_ifnamsiz() {
        let names = RunNames::new("0123456789abcdef-0123456789").unwrap();
        assert!(names.veth_fakenet.len() <= 15, "{}", names.veth_fakenet);
        assert_ne!(
            names.veth_fakenet,
            RunNames::new("0123456789abcdef-x").unwrap().veth_fakenet
        );
    }

    #[test]
    fn run_id_rejects_unsafe_characters() {
        for bad in ["", "-a", "a/b", "A", "a b", "a.b", &"x".repeat(41)] {
            assert!(RunNames::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn link_names_parsed_from_ip_output() {
        let output = "1: lo: <LOOPBACK,UP> mtu 65536\n5: cfnab12f@if4: <BROADCAST> mtu 1500\n";
        assert_eq!(parse_link_names(output), vec!["lo", "cfnab12f"]);
    }
}
