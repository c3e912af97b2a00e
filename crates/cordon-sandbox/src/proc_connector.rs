//! Exec tracing for runc containers through the kernel's process-events connector.
//!
//! The connector (netlink `NETLINK_CONNECTOR`, group `CN_IDX_PROC`) multicasts every fork,
//! exec and exit on the host. It needs CAP_NET_ADMIN in the initial network namespace and
//! carries no argv, so the monitor reads `/proc/<pid>/{cgroup,cmdline,exe,cwd,status}` the
//! moment an exec event arrives. A process that has exited by then keeps its pid, parent and
//! times but no argv; such records have `details_complete = false`. Attribution to the target
//! does not depend on those reads: after the run, the fork events are followed down from the
//! container's first process.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use netlink_sys::protocols::NETLINK_CONNECTOR;
use netlink_sys::{Socket, SocketAddr};
use sha2::{Digest, Sha256};

use crate::events::ProcessRecord;

const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
const PROC_CN_MCAST_LISTEN: u32 = 1;
const NLMSG_DONE: u16 = 3;
const PROC_EVENT_FORK: u32 = 0x0000_0001;
const PROC_EVENT_EXEC: u32 = 0x0000_0002;
const PROC_EVENT_UID: u32 = 0x0000_0004;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

/// Details read from `/proc` at exec time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecDetails {
    /// Argument vector.
    pub argv: Vec<String>,
    /// Executable path.
    pub exe: String,
    /// Working directory.
    pub cwd: Option<String>,
    /// Real uid.
    pub uid: Option<u32>,
    /// SHA-256 of the executable, read through `/proc/<pid>/exe` (works for deleted files).
    pub exe_sha256: Option<String>,
    /// Whether `/proc/<pid>/cgroup` named the target container.
    pub in_target_cgroup: bool,
}

/// One process event.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcEvent {
    /// A new process (not a thread).
    Fork {
        /// Parent tgid.
        parent: u32,
        /// Child tgid.
        child: u32,
    },
    /// An exec, with whatever could be read.
    Exec {
        /// Process tgid.
        pid: u32,
        /// Details, absent when the process was gone.
        details: Option<ExecDetails>,
    },
    /// A change of the real user id (`setuid` and relatives).
    Uid {
        /// Process tgid.
        pid: u32,
        /// New real uid.
        uid: u32,
    },
    /// A process exit.
    Exit {
        /// Process tgid.
        pid: u32,
        /// Exit status as `wait` reports it.
        code: u32,
    },
}

/// Event with its kernel timestamp (CLOCK_MONOTONIC nanoseconds).
#[derive(Debug, Clone, PartialEq)]
pub struct TimedEvent {
    /// Monotonic time in nanoseconds.
    pub time_ns: u64,
    /// The event.
    pub event: ProcEvent,
}

/// Copy of an executed file, taken at exec time.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutableCopy {
    /// Path the process ran.
    pub path: String,
    /// SHA-256 of the content.
    pub sha256: String,
    /// Content, up to the copy limit.
    pub content: Vec<u8>,
}

/// Running monitor; stop it with [`ExecMonitor::stop`].
pub struct ExecMonitor {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<MonitorOutput>,
}

/// Events and executable copies the monitor collected.
#[derive(Debug, Clone, Default)]
pub struct MonitorOutput {
    /// All fork, exec and exit events on the host during the run.
    pub events: Vec<TimedEvent>,
    /// Executables run inside the target, one per content hash.
    pub executables: Vec<ExecutableCopy>,
    /// Receive errors such as ENOBUFS (events lost because the socket buffer overflowed).
    pub receive_errors: u64,
}

impl ExecMonitor {
    /// Subscribes to process events and starts the reading thread. `container_id` selects which
    /// exec events get their `/proc` details read.
    pub fn start(container_id: &str, copy_limit: u64) -> std::io::Result<Self> {
        let mut socket = Socket::new(NETLINK_CONNECTOR)?;
        socket.set_rx_buf_sz(16usize << 20)?;
        socket.bind(&SocketAddr::new(std::process::id(), CN_IDX_PROC))?;
        let timeout = nix::sys::time::TimeVal::new(0, 100_000);
        nix::sys::socket::setsockopt(&socket, nix::sys::socket::sockopt::ReceiveTimeout, &timeout)
            .map_err(std::io::Error::from)?;
        socket.send(&listen_message(std::process::id()), 0)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let id = container_id.to_string();
        let handle = std::thread::Builder::new()
            .name("cordon-proc-events".to_string())
            .spawn(move || read_loop(socket, &flag, &id, copy_limit))?;
        Ok(ExecMonitor { stop, handle })
    }

    /// Stops the thread and returns the events.
    pub fn stop(self) -> MonitorOutput {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().unwrap_or_default()
    }
}

fn listen_message(port: u32) -> Vec<u8> {
    let mut msg = Vec::with_capacity(40);
    let total = 16 + 20 + 4;
    msg.extend_from_slice(&(total as u32).to_ne_bytes());
    msg.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    msg.extend_from_slice(&0u16.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&port.to_ne_bytes());
    msg.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    msg.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&4u16.to_ne_bytes());
    msg.extend_from_slice(&0u16.to_ne_bytes());
    msg.extend_from_slice(&PROC_CN_MCAST_LISTEN.to_ne_bytes());
    msg
}

fn read_loop(
    socket: Socket,
    stop: &AtomicBool,
    container_id: &str,
    copy_limit: u64,
) -> MonitorOutput {
    let mut out = MonitorOutput::default();
    // Reading and hashing executables happens on a second thread, so this one is back on
    // the socket at once and reads the next process's /proc entries before it exits.
    let (opened_sender, opened_receiver) = std::sync::mpsc::channel::<OpenedExecutable>();
    let copier = std::thread::Builder::new()
        .name("cordon-exec-copy".to_string())
        .spawn(move || copy_executables(opened_receiver, copy_limit));
    let mut seen_inodes: HashSet<(u64, u64)> = HashSet::new();
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    // After the stop request the loop keeps reading until the socket is empty, so events that
    // were queued while earlier ones were handled are not lost.
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        buf.clear();
        match socket.recv(&mut buf, 0) {
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                if stopping {
                    break;
                }
                continue;
            }
            Err(e) => {
                out.receive_errors += 1;
                tracing::warn!(error = %e, "process-events socket receive failed");
                if stopping {
                    break;
                }
                continue;
            }
        }
        for (time_ns, event) in parse_messages(&buf) {
            let event = match event {
                ProcEvent::Exec { pid, .. } => {
                    let details = read_details(pid, container_id);
                    if let Some(d) = details.as_ref().filter(|d| d.in_target_cgroup) {
                        if let Some(opened) = open_executable(pid, d, copy_limit, &mut seen_inodes)
                        {
                            let _ = opened_sender.send(opened);
                        }
                    }
                    ProcEvent::Exec { pid, details }
                }
                other => other,
            };
            out.events.push(TimedEvent { time_ns, event });
        }
    }
    drop(opened_sender);
    match copier.map(|handle| handle.join()) {
        Ok(Ok(copies)) => out.executables = copies,
        _ => tracing::warn!("the executable copy thread failed; no executables were copied"),
    }
    out
}

/// Parses the netlink datagram into events; unknown events are skipped.
pub fn parse_messages(buf: &[u8]) -> Vec<(u64, ProcEvent)> {
    let mut events = Vec::new();
    let mut offset = 0;
    while offset + 16 <= buf.len() {
        let len = u32_at(buf, offset) as usize;
        if len < 16 || offset + len > buf.len() {
            break;
        }
        // nlmsghdr (16) + cn_msg (20) + proc_event header: what, cpu, timestamp_ns.
        let ev = offset + 16 + 20;
        if ev + 16 <= offset + len {
            let what = u32_at(buf, ev);
            let time_ns = u64::from_ne_bytes(buf[ev + 8..ev + 16].try_into().unwrap_or([0; 8]));
            let data = ev + 16;
            let field = |i: usize| {
                if data + 4 * (i + 1) <= offset + len {
                    u32_at(buf, data + 4 * i)
                } else {
                    0
                }
            };
            match what {
                PROC_EVENT_FORK => {
                    // parent_pid, parent_tgid, child_pid, child_tgid; a thread has pid != tgid.
                    let (parent_tgid, child_pid, child_tgid) = (field(1), field(2), field(3));
                    if child_pid == child_tgid {
                        events.push((
                            time_ns,
                            ProcEvent::Fork {
                                parent: parent_tgid,
                                child: child_tgid,
                            },
                        ));
                    }
                }
                PROC_EVENT_EXEC => events.push((
                    time_ns,
                    ProcEvent::Exec {
                        pid: field(1),
                        details: None,
                    },
                )),
                PROC_EVENT_UID => {
                    // process_pid, process_tgid, ruid, euid.
                    let (pid, tgid, ruid) = (field(0), field(1), field(2));
                    if pid == tgid {
                        events.push((
                            time_ns,
                            ProcEvent::Uid {
                                pid: tgid,
                                uid: ruid,
                            },
                        ));
                    }
                }
                PROC_EVENT_EXIT => {
                    let (pid, tgid, code) = (field(0), field(1), field(2));
                    if pid == tgid {
                        events.push((time_ns, ProcEvent::Exit { pid: tgid, code }));
                    }
                }
                _ => {}
            }
        }
        offset += (len + 3) & !3;
    }
    events
}

fn u32_at(buf: &[u8], offset: usize) -> u32 {
    u32::from_ne_bytes(buf[offset..offset + 4].try_into().unwrap_or([0; 4]))
}

/// Strips the host-side prefix of a path read through another mount namespace.
fn container_path(path: String) -> String {
    match path.find("/merged/") {
        Some(i) => path[i + 7..].to_string(),
        None => path,
    }
}

fn read_details(pid: u32, container_id: &str) -> Option<ExecDetails> {
    let base = format!("/proc/{pid}");
    let cgroup = std::fs::read_to_string(format!("{base}/cgroup")).ok()?;
    let in_target_cgroup = !container_id.is_empty() && cgroup.contains(container_id);
    if !in_target_cgroup {
        return Some(ExecDetails::default());
    }
    let cmdline = std::fs::read(format!("{base}/cmdline")).unwrap_or_default();
    let argv = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let exe = std::fs::read_link(format!("{base}/exe"))
        .map(|p| container_path(p.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let cwd = std::fs::read_link(format!("{base}/cwd"))
        .ok()
        .map(|p| container_path(p.to_string_lossy().into_owned()));
    let uid = std::fs::read_to_string(format!("{base}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        });
    Some(ExecDetails {
        argv,
        exe,
        cwd,
        uid,
        exe_sha256: None,
        in_target_cgroup,
    })
}

/// An executable opened through `/proc/<pid>/exe` at exec time; the descriptor keeps the
/// content readable after the process exits or the file is deleted.
struct OpenedExecutable {
    path: String,
    file: std::fs::File,
}

/// Opens the executable of a target process unless one with the same inode was opened
/// already or it is larger than `limit`.
fn open_executable(
    pid: u32,
    details: &ExecDetails,
    limit: u64,
    seen_inodes: &mut HashSet<(u64, u64)>,
) -> Option<OpenedExecutable> {
    use std::os::unix::fs::MetadataExt;

    let file = std::fs::File::open(format!("/proc/{pid}/exe")).ok()?;
    let meta = file.metadata().ok()?;
    if meta.len() > limit || !seen_inodes.insert((meta.dev(), meta.ino())) {
        return None;
    }
    Some(OpenedExecutable {
        path: details.exe.clone(),
        file,
    })
}

/// Reads and hashes the opened executables, keeping one copy per content hash.
fn copy_executables(
    opened: std::sync::mpsc::Receiver<OpenedExecutable>,
    limit: u64,
) -> Vec<ExecutableCopy> {
    use std::io::Read;

    let mut seen_hashes: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for OpenedExecutable { path, file } in opened {
        let mut content = Vec::new();
        if file.take(limit).read_to_end(&mut content).is_err() {
            continue;
        }
        let sha256 = hex::encode(Sha256::digest(&content));
        if seen_hashes.insert(sha256.clone()) {
            out.push(ExecutableCopy {
                path,
                sha256,
                content,
            });
        }
    }
    out
}

/// Builds the target's process list from the host-wide events.
///
/// `init_pid` is the host pid of the container's first process and `t0_ns` the monotonic time
/// of the start. Returns the records and the number of execs whose details were missing.
/// A forked child that never executes a program gets a record with `forked_only` set and its
/// parent's argv, exe, uid and cwd.
pub fn attribute(events: &[TimedEvent], init_pid: u32, t0_ns: u64) -> (Vec<ProcessRecord>, u64) {
    let mut members: HashSet<u32> = HashSet::new();
    let mut parent_of: HashMap<u32, u32> = HashMap::new();
    let mut records: Vec<ProcessRecord> = Vec::new();
    let mut current: HashMap<u32, usize> = HashMap::new();
    let mut pending_forks: HashMap<u32, ProcessRecord> = HashMap::new();
    let mut forks: Vec<ProcessRecord> = Vec::new();
    let mut missing = 0;
    let seconds = |ns: u64| (ns.saturating_sub(t0_ns)) as f64 / 1e9;
    for e in events {
        match &e.event {
            ProcEvent::Fork { parent, child } => {
                if members.contains(parent) {
                    members.insert(*child);
                    parent_of.insert(*child, *parent);
                    let source = pending_forks
                        .get(parent)
                        .or_else(|| current.get(parent).map(|&i| &records[i]));
                    let mut record = source.cloned().unwrap_or_default();
                    record.pid = *child;
                    record.ppid = Some(*parent);
                    record.start = seconds(e.time_ns);
                    record.end = None;
                    record.exit_code = None;
                    record.forked_only = true;
                    pending_forks.insert(*child, record);
                }
            }
            ProcEvent::Uid { pid, uid } => {
                if let Some(fork) = pending_forks.get_mut(pid) {
                    fork.uid = Some(*uid);
                } else if let Some(&index) = current.get(pid) {
                    records[index].uid = Some(*uid);
                }
            }
            ProcEvent::Exec { pid, details } => {
                let in_cgroup = details.as_ref().is_some_and(|d| d.in_target_cgroup);
                if *pid == init_pid || in_cgroup {
                    members.insert(*pid);
                }
                if !members.contains(pid) {
                    continue;
                }
                pending_forks.remove(pid);
                let record = match details.as_ref().filter(|d| d.in_target_cgroup) {
                    Some(d) => ProcessRecord {
                        pid: *pid,
                        ppid: parent_of.get(pid).copied(),
                        argv: d.argv.clone(),
                        exe: d.exe.clone(),
                        uid: d.uid,
                        cwd: d.cwd.clone(),
                        start: seconds(e.time_ns),
                        details_complete: true,
                        ..Default::default()
                    },
                    None => {
                        missing += 1;
                        ProcessRecord {
                            pid: *pid,
                            ppid: parent_of.get(pid).copied(),
                            start: seconds(e.time_ns),
                            details_complete: false,
                            ..Default::default()
                        }
                    }
                };
                current.insert(*pid, records.len());
                records.push(record);
            }
            ProcEvent::Exit { pid, code } => {
                if let Some(mut fork) = pending_forks.remove(pid) {
                    fork.end = Some(seconds(e.time_ns));
                    fork.exit_code = Some((*code >> 8) as i32);
                    forks.push(fork);
                } else if let Some(index) = current.remove(pid) {
                    records[index].end = Some(seconds(e.time_ns));
                    records[index].exit_code = Some((*code >> 8) as i32);
                }
            }
        }
    }
    let mut alive: Vec<ProcessRecord> = pending_forks.into_values().collect();
    alive.sort_by_key(|r| r.pid);
    records.extend(forks);
    records.extend(alive);
    records.sort_by(|a, b| a.start.total_cmp(&b.start));
    (records, missing)
}

/// Returns the current CLOCK_MONOTONIC time in nanoseconds, the clock of the event timestamps.
pub fn monotonic_now_ns() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

/// Waits until the monitor thread had time to subscribe; the kernel delivers events only to
/// sockets that already listen.
pub fn settle() {
    std::thread::sleep(Duration::from_millis(20));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(pid: u32, argv: &[&str], t: u64) -> TimedEvent {
        TimedEvent {
            time_ns: t,
            event: ProcEvent::Exec {
                pid,
                details: Some(ExecDetails {
                    argv: argv.iter().map(|s| s.to_string()).collect(),
                    exe: format!("/bin/{}", argv[0]),
                    in_target_cgroup: true,
                    ..Default::default()
                }),
            },
        }
    }

    #[test]
    fn descendants_of_init_are_attributed() {
        let events = vec![
            TimedEvent {
                time_ns: 1,
                event: ProcEvent::Fork {
                    parent: 50,
                    child: 100,
                },
            },
            exec(100, &["sh", "-c", "true"], 2_000_000_000),
            TimedEvent {
                time_ns: 2_000_000_003,
                event: ProcEvent::Fork {
                    parent: 100,
                    child: 101,
                },
            },
            TimedEvent {
                time_ns: 2_000_000_004,
                event: ProcEvent::Exec {
                    pid: 101,
                    details: None,
                },
            },
            TimedEvent {
                time_ns: 2_000_000_005,
                event: ProcEvent::Exit {
                    pid: 101,
                    code: 256,
                },
            },
            TimedEvent {
                time_ns: 2_000_000_006,
                event: ProcEvent::Fork {
                    parent: 77,
                    child: 200,
                },
            },
            TimedEvent {
                time_ns: 2_000_000_007,
                event: ProcEvent::Exec {
                    pid: 200,
                    details: Some(ExecDetails::default()),
                },
            },
        ];
        let (records, missing) = attribute(&events, 100, 1_000_000_000);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].argv, vec!["sh", "-c", "true"]);
        assert!((records[0].start - 1.0).abs() < 1e-9);
        assert_eq!(records[1].pid, 101);
        assert_eq!(records[1].ppid, Some(100));
        assert!(!records[1].details_complete);
        assert_eq!(records[1].exit_code, Some(1));
        assert_eq!(missing, 1);
    }

    #[test]
    fn fork_without_exec_keeps_parent_details() {
        let at = |time_ns: u64, event: ProcEvent| TimedEvent { time_ns, event };
        let events = vec![
            exec(100, &["nginx", "-g", "daemon off;"], 1_000_000_000),
            at(
                1_500_000_000,
                ProcEvent::Fork {
                    parent: 100,
                    child: 102,
                },
            ),
            at(1_600_000_000, ProcEvent::Uid { pid: 102, uid: 33 }),
            at(
                1_700_000_000,
                ProcEvent::Fork {
                    parent: 100,
                    child: 103,
                },
            ),
            exec(103, &["true"], 1_800_000_000),
            at(2_000_000_000, ProcEvent::Exit { pid: 102, code: 0 }),
        ];
        let (records, missing) = attribute(&events, 100, 0);
        assert_eq!(missing, 0);
        assert_eq!(records.len(), 3, "{records:?}");
        let worker = records.iter().find(|r| r.pid == 102).unwrap();
        assert!(worker.forked_only);
        assert_eq!(worker.ppid, Some(100));
        assert_eq!(worker.argv, vec!["nginx", "-g", "daemon off;"]);
        assert_eq!(worker.exe, "/bin/nginx");
        assert_eq!(worker.uid, Some(33));
        assert!((worker.start - 1.5).abs() < 1e-9);
        assert_eq!(worker.end, Some(2.0));
        let child = records.iter().find(|r| r.pid == 103).unwrap();
        assert!(!child.forked_only);
        assert_eq!(child.argv, vec!["true"]);
    }

    #[test]
    fn fork_message_is_parsed() {
        let mut msg = Vec::new();
        let len: u32 = 16 + 20 + 16 + 16;
        msg.extend_from_slice(&len.to_ne_bytes());
        msg.extend_from_slice(&[0u8; 12]);
        msg.extend_from_slice(&[0u8; 20]);
        msg.extend_from_slice(&PROC_EVENT_FORK.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&42u64.to_ne_bytes());
        for v in [10u32, 10, 11, 11] {
            msg.extend_from_slice(&v.to_ne_bytes());
        }
        let events = parse_messages(&msg);
        assert_eq!(
            events,
            vec![(
                42,
                ProcEvent::Fork {
                    parent: 10,
                    child: 11
                }
            )]
        );
    }

    #[test]
    fn container_path_strips_overlay_prefix() {
        assert_eq!(
            container_path("/var/lib/docker/overlay2/abc/merged/tmp/x".to_string()),
            "/tmp/x"
        );
        assert_eq!(container_path("/usr/bin/x".to_string()), "/usr/bin/x");
    }
}
