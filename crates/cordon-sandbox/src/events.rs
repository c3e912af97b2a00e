//! Observations collected during one sandbox run, the input of the behaviour signals.
//!
//! Times are seconds since the target container was started (`t = 0`).

use serde::{Deserialize, Serialize};

/// Executable names under which busybox's multi-call binary usually runs.
const MULTICALL_NAMES: &[&str] = &["busybox", "sh", "ash"];

/// One process that executed inside the target container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessRecord {
    /// Process id as seen by the collector: the sandbox pid on runsc, the host pid on runc.
    pub pid: u32,
    /// Parent process id in the same pid space, when known.
    pub ppid: Option<u32>,
    /// Argument vector of the exec; empty when the process was gone before it could be read.
    pub argv: Vec<String>,
    /// Path of the executed file as the container saw it.
    pub exe: String,
    /// Real user id, when known.
    pub uid: Option<u32>,
    /// Working directory at exec time, when known.
    pub cwd: Option<String>,
    /// Seconds since t = 0 when the exec happened.
    pub start: f64,
    /// Seconds since t = 0 when the process exited, when seen.
    pub end: Option<f64>,
    /// Exit status, when seen.
    pub exit_code: Option<i32>,
    /// Environment entries of the exec that matter for signals (`LD_PRELOAD`, `HISTFILE`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// False when the exec event arrived but the process had exited before its details were read.
    pub details_complete: bool,
    /// True for a process that was forked and never executed a program (a shell's subshell, a
    /// daemon's worker): `argv`, `exe`, `uid` and `cwd` are its parent's at the fork, and
    /// `start` is the fork time.
    #[serde(default)]
    pub forked_only: bool,
}

impl ProcessRecord {
    /// Returns the base name of the executable, or of `argv[0]` when the exe is unknown.
    pub fn program(&self) -> &str {
        let path = if self.exe.is_empty() {
            self.argv.first().map(String::as_str).unwrap_or("")
        } else {
            self.exe.as_str()
        };
        path.rsplit('/').next().unwrap_or(path)
    }

    /// Returns the program name with busybox's multi-call form resolved: for `busybox nc ...`
    /// or an exec of busybox through an applet link named `nc`, the applet `nc`.
    pub fn applet(&self) -> &str {
        let program = self.program();
        let argv0 = self.argv.first().map(String::as_str).unwrap_or("");
        let argv0 = argv0.rsplit('/').next().unwrap_or(argv0);
        // Busybox runs applets by re-executing itself (`/proc/self/exe`) with the applet name
        // in argv[0], so the recorded exe is the shell's busybox link.
        if !MULTICALL_NAMES.contains(&program) {
            return program;
        }
        if !argv0.is_empty() && argv0 != "busybox" {
            return argv0;
        }
        self.argv.get(1).map(String::as_str).unwrap_or(program)
    }

    /// Returns the arguments that follow the applet name (see [`ProcessRecord::applet`]).
    pub fn applet_args(&self) -> &[String] {
        let argv0 = self.argv.first().map(String::as_str).unwrap_or("");
        let argv0 = argv0.rsplit('/').next().unwrap_or(argv0);
        let skip = if self.program() == "busybox" && argv0 == "busybox" {
            2
        } else {
            1
        };
        self.argv.get(skip..).unwrap_or(&[])
    }

    /// Returns the script a known interpreter (a shell, Python, Perl, Ruby, PHP, Node.js)
    /// was started on: its first operand, made absolute with the working directory. `None`
    /// for other programs, for inline code (`sh -c`, `python -c`, `perl -e`) and for a
    /// script read from stdin. A script started through its `#!` line runs the same way,
    /// since the kernel passes the script path as the interpreter's operand.
    pub fn script(&self) -> Option<String> {
        let applet = self.applet();
        // (letters that make the next argument inline code, options that take a value)
        let (code, valued): (&str, &[&str]) = if crate::signals::lists::SHELLS.contains(&applet) {
            ("c", &["-o", "+o", "--rcfile", "--init-file"])
        } else if applet.starts_with("python") {
            ("cm", &["-W", "-X", "-Q"])
        } else if applet == "perl" {
            ("eE", &["-I", "-M", "-m"])
        } else if applet == "ruby" {
            ("e", &["-I", "-r", "-C"])
        } else if applet.starts_with("php") {
            ("rBRFE", &["-d", "-c", "-z"])
        } else if applet == "node" || applet == "nodejs" {
            ("ep", &["-r", "--require", "--import", "--loader"])
        } else {
            return None;
        };
        let mut args = self.applet_args().iter();
        let operand = loop {
            let arg = args.next()?;
            if arg == "--" {
                break args.next()?;
            }
            if matches!(arg.as_str(), "--eval" | "--print" | "--command") {
                return None;
            }
            if valued.contains(&arg.as_str()) {
                args.next();
                continue;
            }
            if let Some(flags) = arg.strip_prefix('-').or_else(|| arg.strip_prefix('+')) {
                if flags.is_empty() {
                    // `-`: the script comes from stdin.
                    return None;
                }
                if !flags.starts_with('-') && flags.chars().any(|c| code.contains(c)) {
                    return None;
                }
                // `php -f FILE` names the script with an option.
                if applet.starts_with("php") && arg == "-f" {
                    break args.next()?;
                }
                continue;
            }
            break arg;
        };
        if operand.starts_with('/') {
            return Some(operand.clone());
        }
        let cwd = self.cwd.as_deref()?;
        let relative = operand.strip_prefix("./").unwrap_or(operand);
        Some(format!("{}/{relative}", cwd.trim_end_matches('/')))
    }

    /// Returns the files this process executed: its program and, for an interpreter, the
    /// script it runs (see [`ProcessRecord::script`]).
    pub fn executed_files(&self) -> impl Iterator<Item = String> + '_ {
        (!self.exe.is_empty())
            .then(|| self.exe.clone())
            .into_iter()
            .chain(self.script())
    }

    /// Returns the argument vector joined by spaces.
    pub fn command_line(&self) -> String {
        self.argv.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(exe: &str, argv: &[&str], cwd: Option<&str>) -> ProcessRecord {
        ProcessRecord {
            exe: exe.to_string(),
            argv: argv.iter().map(|a| a.to_string()).collect(),
            cwd: cwd.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn interpreter_operand_is_the_script() {
        let dash = process("/usr/bin/dash", &["/bin/sh", "/root/cmd.sh"], None);
        assert_eq!(dash.script().as_deref(), Some("/root/cmd.sh"));
        let busybox = process("/bin/busybox", &["sh", "-e", "/tmp/x.sh", "arg"], None);
        assert_eq!(busybox.script().as_deref(), Some("/tmp/x.sh"));
        let multicall = process("/bin/busybox", &["busybox", "sh", "/tmp/y"], None);
        assert_eq!(multicall.script().as_deref(), Some("/tmp/y"));
        let python = process(
            "/usr/bin/python3.12",
            &["python3", "-u", "run.py"],
            Some("/app"),
        );
        assert_eq!(python.script().as_deref(), Some("/app/run.py"));
        let perl = process(
            "/usr/bin/perl",
            &["perl", "-I", "lib", "./x.pl"],
            Some("/srv/"),
        );
        assert_eq!(perl.script().as_deref(), Some("/srv/x.pl"));
        let bash = process(
            "/bin/bash",
            &["bash", "-o", "pipefail", "--", "/opt/s"],
            None,
        );
        assert_eq!(bash.script().as_deref(), Some("/opt/s"));
        assert_eq!(
            dash.executed_files().collect::<Vec<_>>(),
            ["/usr/bin/dash", "/root/cmd.sh"]
        );
    }

    #[test]
    fn inline_code_and_stdin_have_no_script() {
        for (exe, argv) in [
            ("/bin/sh", &["sh", "-c", "/root/cmd.sh"][..]),
            ("/bin/bash", &["bash", "-ec", "echo"][..]),
            ("/bin/sh", &["sh"][..]),
            ("/bin/sh", &["sh", "-"][..]),
            ("/usr/bin/python3", &["python3", "-c", "print(1)"][..]),
            ("/usr/bin/python3", &["python3", "-m", "http.server"][..]),
            ("/usr/bin/perl", &["perl", "-ne", "print"][..]),
            ("/usr/bin/node", &["node", "--eval", "1"][..]),
            ("/usr/bin/nginx", &["nginx", "-g", "daemon off;"][..]),
        ] {
            assert_eq!(process(exe, argv, Some("/")).script(), None, "{argv:?}");
        }
        assert_eq!(process("/bin/sh", &["sh", "x.sh"], None).script(), None);
    }
}

/// One DNS question seen by the sinkhole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// Queried name without the trailing dot, lower case.
    pub name: String,
    /// Record type (`A`, `AAAA`, `TXT`...).
    #[serde(rename = "type")]
    pub qtype: String,
    /// Record the sinkhole returned, if any.
    pub answer: Option<String>,
    /// Seconds since t = 0.
    pub time: f64,
}

/// One connection or datagram exchange the target started towards the fake internet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowRecord {
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Original destination address the target asked for.
    pub dst_ip: String,
    /// Original destination port.
    pub dst_port: u16,
    /// Name that the sinkhole resolved to `dst_ip`, when the target looked it up.
    pub dst_name: Option<String>,
    /// Bytes the target sent.
    pub bytes: u64,
    /// Hex of the first client payload, truncated by the collector.
    pub first_payload_hex: String,
    /// Seconds since t = 0 when the flow started.
    pub time: f64,
}

impl FlowRecord {
    /// Returns the first payload decoded from hex, or nothing when the hex is invalid.
    pub fn first_payload(&self) -> Vec<u8> {
        hex::decode(&self.first_payload_hex).unwrap_or_default()
    }
}

/// Kind of change of a path between the image and the end of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// The path did not exist in the image.
    Added,
    /// The path existed in the image and was modified.
    Changed,
    /// The path existed in the image and was removed.
    Deleted,
    /// The path was created during the run and removed again before the end.
    Transient,
}

impl ChangeKind {
    /// Returns the one-letter code that `docker diff` prints.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Added => 'A',
            ChangeKind::Changed => 'C',
            ChangeKind::Deleted => 'D',
            ChangeKind::Transient => 'T',
        }
    }
}

/// Content class of a file, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// ELF executable or shared object.
    Elf,
    /// Text starting with `#!`.
    Script,
    /// tar, gzip, zip, xz, bzip2 or zstd data.
    Archive,
    /// Directory.
    Directory,
    /// Symbolic link.
    Symlink,
    /// Anything else, or content that was not read.
    #[default]
    Other,
}

/// One file-system change with the content facts that were gathered for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Absolute path inside the container.
    pub path: String,
    /// Kind of change.
    pub change: Option<ChangeKind>,
    /// Size in bytes, for regular files.
    pub size: Option<u64>,
    /// Permission bits including setuid/setgid, for files whose metadata was read.
    pub mode: Option<u32>,
    /// SHA-256 of the content, for regular files that were read.
    pub sha256: Option<String>,
    /// Content class.
    pub kind: FileKind,
    /// True when an exec of this path was recorded.
    pub executed: bool,
    /// First bytes of text content (scripts and small text files), for content signals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_head: Option<String>,
    /// True when the path lies in a VOLUME the image declares.
    #[serde(default)]
    pub in_volume: bool,
    /// Reason content facts are missing, when they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// File-system syscall seen by the tracer, kept for signals that depend on reads and deletes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileAccess {
    /// Process that made the call.
    pub pid: u32,
    /// Absolute path, or the path as passed when it was relative.
    pub path: String,
    /// Kind of call.
    pub op: FileOp,
    /// Seconds since t = 0.
    pub time: f64,
}

/// Kind of traced file-system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOp {
    /// Opened for reading.
    Read,
    /// Opened for writing or created.
    Write,
    /// Removed.
    Unlink,
    /// Permission change to the given mode.
    Chmod(u32),
}

/// Exec that failed, seen by the tracer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecAttempt {
    /// Process that tried.
    pub pid: u32,
    /// Path it tried to execute.
    pub path: String,
    /// Seconds since t = 0.
    pub time: f64,
}

/// Socket call seen by the tracer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketCall {
    /// Process that made the call.
    pub pid: u32,
    /// `connect`, `bind` or `listen`.
    pub call: String,
    /// Address as `ip:port`, when the call carried one.
    pub address: Option<String>,
    /// Seconds since t = 0.
    pub time: f64,
}

/// One per-second sample of the Engine's stats stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsSample {
    /// Seconds since t = 0.
    pub time: f64,
    /// CPU use in percent of one core (200 means two cores busy).
    pub cpu_percent: f64,
    /// Memory use in bytes.
    pub memory_bytes: u64,
    /// Number of processes and threads.
    pub pids: u64,
}

/// Hit of the malware scanner on a file of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentMatch {
    /// Path of the scanned file.
    pub path: String,
    /// Rule or signature name.
    pub rule: String,
    /// Severity the rule assigns.
    pub severity: cordon_model::Severity,
}

/// Facts of the image that signals compare behaviour against.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageFacts {
    /// Image reference as run.
    pub reference: String,
    /// Entrypoint and command that started the target.
    pub command: Vec<String>,
    /// Ports the image exposes, as `80/tcp`.
    pub exposed_ports: Vec<String>,
    /// Paths the image declares as VOLUMEs.
    pub volumes: Vec<String>,
}

/// Everything one run observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observations {
    /// Facts of the image.
    pub image: ImageFacts,
    /// Every recorded exec, in start order.
    pub processes: Vec<ProcessRecord>,
    /// Exec events whose process could not be attributed to a container or read.
    pub unattributed_execs: u64,
    /// DNS questions.
    pub dns: Vec<DnsRecord>,
    /// Connections and UDP exchanges.
    pub flows: Vec<FlowRecord>,
    /// File-system changes.
    pub files: Vec<FileRecord>,
    /// Traced file-system calls (runsc only).
    pub file_accesses: Vec<FileAccess>,
    /// Traced socket calls (runsc only).
    pub socket_calls: Vec<SocketCall>,
    /// Execs that failed (runsc only), such as a program that is not installed.
    #[serde(default)]
    pub exec_attempts: Vec<ExecAttempt>,
    /// Resource samples.
    pub stats: Vec<StatsSample>,
    /// CPU limit of the target in cores.
    pub cpu_limit: f64,
    /// Length of the observation window in seconds.
    pub duration: f64,
    /// Malware-scanner hits on files of the run.
    pub content_matches: Vec<ContentMatch>,
}
