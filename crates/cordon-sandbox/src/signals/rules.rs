//! The rule table: one function per behaviour.

use cordon_model::Severity;

use super::lists::*;
use super::{Evidence, Rule};
use crate::events::{ChangeKind, FileKind, FileOp, Observations, ProcessRecord};

/// Every rule, in catalogue order.
pub static RULES: &[Rule] = &[
    Rule {
        id: "mining-pool-domain",
        severity: Severity::High,
        attack_id: "T1496",
        title: "DNS lookup of a cryptocurrency mining pool",
        check: mining_pool_domain,
    },
    Rule {
        id: "stratum-protocol",
        severity: Severity::Critical,
        attack_id: "T1496",
        title: "Stratum mining protocol sent to a remote host",
        check: stratum_protocol,
    },
    Rule {
        id: "miner-command-line",
        severity: Severity::Critical,
        attack_id: "T1496",
        title: "Process with a cryptocurrency miner name or arguments",
        check: miner_command_line,
    },
    Rule {
        id: "miner-port",
        severity: Severity::Medium,
        attack_id: "T1571",
        title: "Connection to a port that mining pools use",
        check: miner_port,
    },
    Rule {
        id: "tor-usage",
        severity: Severity::High,
        attack_id: "T1090.003",
        title: "Tor lookup, Tor port or Tor program",
        check: tor_usage,
    },
    Rule {
        id: "reverse-shell",
        severity: Severity::Critical,
        attack_id: "T1059.004",
        title: "Shell wired to a network connection",
        check: reverse_shell,
    },
    Rule {
        id: "sshd-started",
        severity: Severity::High,
        attack_id: "T1021.004",
        title: "SSH server started in an image that does not expose port 22",
        check: sshd_started,
    },
    Rule {
        id: "ssh-key-persistence",
        severity: Severity::High,
        attack_id: "T1098.004",
        title: "SSH authorized_keys written",
        check: ssh_key_persistence,
    },
    Rule {
        id: "cron-persistence",
        severity: Severity::High,
        attack_id: "T1053.003",
        title: "Cron, at or init-script persistence",
        check: cron_persistence,
    },
    Rule {
        id: "profile-persistence",
        severity: Severity::High,
        attack_id: "T1546.004",
        title: "Shell profile or rc file modified",
        check: profile_persistence,
    },
    Rule {
        id: "ld-preload-hijack",
        severity: Severity::High,
        attack_id: "T1574.006",
        title: "Dynamic-loader preload set",
        check: ld_preload_hijack,
    },
    Rule {
        id: "drop-and-execute",
        severity: Severity::High,
        attack_id: "T1105",
        title: "File written during the run was executed",
        check: drop_and_execute,
    },
    Rule {
        id: "exec-from-temp",
        severity: Severity::High,
        attack_id: "T1036.005",
        title: "Program executed from a temporary or hidden directory",
        check: exec_from_temp,
    },
    Rule {
        id: "fileless-exec",
        severity: Severity::Critical,
        attack_id: "T1620",
        title: "Program executed from memory (memfd or deleted file)",
        check: fileless_exec,
    },
    Rule {
        id: "download-and-run",
        severity: Severity::High,
        attack_id: "T1105",
        title: "Download piped into or followed by execution",
        check: download_and_run,
    },
    Rule {
        id: "payload-decoding",
        severity: Severity::Medium,
        attack_id: "T1140",
        title: "Encoded payload decoded on the command line",
        check: payload_decoding,
    },
    Rule {
        id: "network-scanning",
        severity: Severity::High,
        attack_id: "T1046",
        title: "Many destinations or ports contacted, or a scanner run",
        check: network_scanning,
    },
    Rule {
        id: "recon-service",
        severity: Severity::High,
        attack_id: "T1596.005",
        title: "Internet-scan search service contacted",
        check: recon_service,
    },
    Rule {
        id: "public-ip-discovery",
        severity: Severity::Medium,
        attack_id: "T1016",
        title: "Public-IP lookup service contacted",
        check: public_ip_discovery,
    },
    Rule {
        id: "beaconing",
        severity: Severity::Medium,
        attack_id: "T1071",
        title: "Periodic connections to one destination",
        check: beaconing,
    },
    Rule {
        id: "cpu-saturation",
        severity: Severity::Medium,
        attack_id: "T1496",
        title: "CPU use near the limit for most of the run",
        check: cpu_saturation,
    },
    Rule {
        id: "log-tampering",
        severity: Severity::Medium,
        attack_id: "T1070",
        title: "Logs, history or firewall tampered with",
        check: log_tampering,
    },
    Rule {
        id: "credential-harvesting",
        severity: Severity::High,
        attack_id: "T1552.001",
        title: "Credential or secret files read or searched",
        check: credential_harvesting,
    },
    Rule {
        id: "cloud-metadata-access",
        severity: Severity::High,
        attack_id: "T1552.005",
        title: "Cloud instance-metadata address contacted",
        check: cloud_metadata_access,
    },
    Rule {
        id: "container-escape",
        severity: Severity::Critical,
        attack_id: "T1611",
        title: "Container escape attempt",
        check: container_escape,
    },
    Rule {
        id: "setuid-file",
        severity: Severity::High,
        attack_id: "T1548.001",
        title: "Setuid or setgid file created",
        check: setuid_file,
    },
    Rule {
        id: "account-tampering",
        severity: Severity::High,
        attack_id: "T1136.001",
        title: "User accounts or sudoers modified",
        check: account_tampering,
    },
    Rule {
        id: "system-survey",
        severity: Severity::Low,
        attack_id: "T1082",
        title: "System information collected",
        check: system_survey,
    },
    Rule {
        id: "raw-ip-connection",
        severity: Severity::Low,
        attack_id: "T1071",
        title: "Connection to an address that was never looked up",
        check: raw_ip_connection,
    },
    Rule {
        id: "known-malware-content",
        severity: Severity::Critical,
        attack_id: "T1588.001",
        title: "Malware scanner matched a file of the run",
        check: known_malware_content,
    },
];

fn domain_matches(name: &str, suffix: &str) -> bool {
    name == suffix || name.ends_with(&format!(".{suffix}"))
}

fn is_pool_domain(name: &str) -> bool {
    if POOL_SUFFIXES.iter().any(|s| domain_matches(name, s)) {
        return true;
    }
    let mut labels = name.split('.');
    let first = labels.next().unwrap_or("");
    let rest = name.get(first.len()..).unwrap_or("");
    POOL_LABELS.contains(&first) && POOL_WORDS.iter().any(|w| rest.contains(w))
}

/// Exec records with their index, for process rules. Records of forks without exec are left
/// out because they repeat their parent's argv, which the rules already saw.
fn processes(obs: &Observations) -> impl Iterator<Item = (usize, &ProcessRecord)> {
    obs.processes
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.forked_only)
}

fn proc_evidence(index: usize, p: &ProcessRecord) -> Evidence {
    let text = if p.argv.is_empty() {
        p.exe.clone()
    } else {
        p.command_line()
    };
    Evidence::new("processes", index, format!("pid {}: {}", p.pid, text))
}

fn cmd_matches(obs: &Observations, test: impl Fn(&ProcessRecord, &str) -> bool) -> Vec<Evidence> {
    processes(obs)
        .filter(|(_, p)| test(p, &p.command_line()))
        .map(|(i, p)| proc_evidence(i, p))
        .collect()
}

fn dns_matches(obs: &Observations, test: impl Fn(&str) -> bool) -> Vec<Evidence> {
    obs.dns
        .iter()
        .enumerate()
        .filter(|(_, d)| test(&d.name))
        .map(|(i, d)| Evidence::new("dns", i, format!("{} {}", d.qtype, d.name)))
        .collect()
}

fn flow_detail(f: &crate::events::FlowRecord) -> String {
    match &f.dst_name {
        Some(name) => format!("{} {}:{} ({name})", f.protocol, f.dst_ip, f.dst_port),
        None => format!("{} {}:{}", f.protocol, f.dst_ip, f.dst_port),
    }
}

/// Files added or changed by the run, with the index.
fn written_files(obs: &Observations) -> impl Iterator<Item = (usize, &crate::events::FileRecord)> {
    obs.files.iter().enumerate().filter(|(_, f)| {
        matches!(
            f.change,
            Some(ChangeKind::Added) | Some(ChangeKind::Changed) | Some(ChangeKind::Transient)
        ) && f.kind != FileKind::Directory
    })
}

fn file_writes(obs: &Observations, test: impl Fn(&str) -> bool) -> Vec<Evidence> {
    let mut out: Vec<Evidence> = written_files(obs)
        .filter(|(_, f)| test(&f.path))
        .map(|(i, f)| {
            let change = f.change.map(|c| c.letter()).unwrap_or('?');
            Evidence::new("files", i, format!("{change} {}", f.path))
        })
        .collect();
    out.extend(
        obs.file_accesses
            .iter()
            .enumerate()
            .filter(|(_, a)| a.op == FileOp::Write && test(&a.path))
            .map(|(i, a)| {
                Evidence::new(
                    "file_accesses",
                    i,
                    format!("pid {} wrote {}", a.pid, a.path),
                )
            }),
    );
    out
}

fn mining_pool_domain(obs: &Observations) -> Vec<Evidence> {
    dns_matches(obs, is_pool_domain)
}

fn stratum_protocol(obs: &Observations) -> Vec<Evidence> {
    obs.flows
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            let payload = f.first_payload();
            let text = String::from_utf8_lossy(&payload);
            let json_rpc = text.contains("\"method\"");
            json_rpc
                && (text.contains("\"login\"")
                    || text.contains("mining.subscribe")
                    || text.contains("mining.authorize")
                    || text.contains("mining.submit")
                    || text.contains("\"submit\"")
                    || text.contains("\"keepalived\""))
        })
        .map(|(i, f)| Evidence::new("flows", i, format!("stratum to {}", flow_detail(f))))
        .collect()
}

fn miner_command_line(obs: &Observations) -> Vec<Evidence> {
    cmd_matches(obs, |p, cmd| {
        let program = p.applet().to_ascii_lowercase();
        let lower = cmd.to_ascii_lowercase();
        MINER_PROGRAMS.contains(&program.as_str()) || MINER_ARGS.iter().any(|a| lower.contains(a))
    })
}

fn miner_port(obs: &Observations) -> Vec<Evidence> {
    obs.flows
        .iter()
        .enumerate()
        .filter(|(_, f)| f.protocol == "tcp" && MINER_PORTS.contains(&f.dst_port))
        .map(|(i, f)| Evidence::new("flows", i, flow_detail(f)))
        .collect()
}

fn tor_usage(obs: &Observations) -> Vec<Evidence> {
    let mut out = dns_matches(obs, |n| n.ends_with(".onion") || n == "onion");
    out.extend(
        obs.flows
            .iter()
            .enumerate()
            .filter(|(_, f)| f.protocol == "tcp" && TOR_PORTS.contains(&f.dst_port))
            .map(|(i, f)| Evidence::new("flows", i, flow_detail(f))),
    );
    out.extend(cmd_matches(obs, |p, _| p.applet() == "tor"));
    out.extend(attempts(obs, &["tor"]));
    out.extend(file_writes(obs, |path| path.ends_with("/torrc")));
    out
}

fn is_shell(p: &ProcessRecord) -> bool {
    SHELLS.contains(&p.applet())
}

fn reverse_shell(obs: &Observations) -> Vec<Evidence> {
    let mut out = cmd_matches(obs, |p, cmd| {
        let args: Vec<&str> = p.applet_args().iter().map(String::as_str).collect();
        let program = p.applet();
        let nc_like = ["nc", "ncat", "netcat", "nc.traditional", "nc.openbsd"].contains(&program);
        let exec_flag = args.iter().any(|a| {
            *a == "-e" || *a == "-c" || a.starts_with("--exec") || a.starts_with("--sh-exec")
        });
        (nc_like && exec_flag)
            || (cmd.contains("/dev/tcp/") || cmd.contains("/dev/udp/"))
                && (cmd.contains("0>&1")
                    || cmd.contains("0<&")
                    || cmd.contains(">& /dev/")
                    || cmd.contains(">&/dev/")
                    || cmd.contains(" -i"))
            || (program == "socat" && cmd.contains("exec:"))
            || (cmd.contains("socket") && cmd.contains("pty.spawn"))
            || (cmd.contains("mkfifo") && (cmd.contains("| nc") || cmd.contains("|nc")))
            || (program.starts_with("perl") && cmd.contains("Socket") && cmd.contains("exec"))
    });
    // A process that put a socket on its stdin/stdout and then executed a shell.
    for (i, call) in obs.socket_calls.iter().enumerate() {
        if call.call != "dup-stdio" {
            continue;
        }
        let shell = obs
            .processes
            .iter()
            .find(|p| p.pid == call.pid && p.start >= call.time && is_shell(p));
        if let Some(p) = shell {
            out.push(Evidence::new(
                "socket_calls",
                i,
                format!(
                    "pid {} ran {} with a socket as stdio",
                    p.pid,
                    p.command_line()
                ),
            ));
        }
    }
    // A shell whose own process connected out: its stdio is the likely use of that socket.
    for (i, call) in obs.socket_calls.iter().enumerate() {
        if call.call != "connect" {
            continue;
        }
        let is_remote = call
            .address
            .as_deref()
            .is_some_and(|a| !a.starts_with("127.") && !a.starts_with("/") && !a.ends_with(":53"));
        if !is_remote {
            continue;
        }
        let shell = obs
            .processes
            .iter()
            .rev()
            .find(|p| p.pid == call.pid && p.start <= call.time);
        if let Some(p) = shell.filter(|p| is_shell(p) && p.argv.len() <= 2) {
            out.push(Evidence::new(
                "socket_calls",
                i,
                format!(
                    "interactive shell pid {} connected to {}",
                    p.pid,
                    call.address.clone().unwrap_or_default()
                ),
            ));
        }
    }
    out
}

fn sshd_started(obs: &Observations) -> Vec<Evidence> {
    let exposes_ssh = obs.image.exposed_ports.iter().any(|p| p.starts_with("22/"));
    let image_is_sshd = obs
        .image
        .command
        .iter()
        .any(|c| c.contains("sshd") || c.contains("dropbear"));
    if exposes_ssh || image_is_sshd {
        return Vec::new();
    }
    let mut out = cmd_matches(obs, |p, _| {
        let program = p.applet();
        program == "sshd"
            || program == "dropbear"
            || program.starts_with("sshd-")
            || (program == "service" && p.argv.iter().any(|a| a == "ssh" || a == "sshd"))
    });
    out.extend(attempts(obs, &["sshd", "dropbear"]));
    out
}

/// Failed execs of the named programs: the attempt shows intent even when the program is
/// missing from the image.
fn attempts(obs: &Observations, programs: &[&str]) -> Vec<Evidence> {
    obs.exec_attempts
        .iter()
        .enumerate()
        .filter(|(_, a)| programs.contains(&a.path.rsplit('/').next().unwrap_or("")))
        .map(|(i, a)| {
            Evidence::new(
                "exec_attempts",
                i,
                format!("pid {} tried to run {} (failed)", a.pid, a.path),
            )
        })
        .collect()
}

fn ssh_key_persistence(obs: &Observations) -> Vec<Evidence> {
    file_writes(obs, |p| {
        p.ends_with("/.ssh/authorized_keys") || p.ends_with("/.ssh/authorized_keys2")
    })
}

fn cron_persistence(obs: &Observations) -> Vec<Evidence> {
    let mut out = file_writes(obs, |p| {
        p.starts_with("/etc/cron")
            || p.starts_with("/var/spool/cron/")
            || p == "/etc/crontab"
            || p.starts_with("/var/spool/at")
            || p.starts_with("/etc/systemd/system/")
            || p.starts_with("/etc/init.d/")
            || p == "/etc/rc.local"
    });
    out.extend(cmd_matches(obs, |p, _| {
        let program = p.applet();
        let applet = p.applet();
        (applet == "crontab" && !p.argv.iter().any(|a| a == "-l")) || program == "at"
    }));
    out
}

fn profile_persistence(obs: &Observations) -> Vec<Evidence> {
    file_writes(obs, |p| {
        p == "/etc/profile"
            || p.starts_with("/etc/profile.d/")
            || p == "/etc/bash.bashrc"
            || p.ends_with("/.bashrc")
            || p.ends_with("/.bash_profile")
            || p.ends_with("/.profile")
            || p.ends_with("/.zshrc")
    })
}

fn ld_preload_hijack(obs: &Observations) -> Vec<Evidence> {
    let mut out = file_writes(obs, |p| p == "/etc/ld.so.preload");
    out.extend(
        processes(obs)
            .filter(|(_, p)| {
                p.env
                    .iter()
                    .any(|e| e.starts_with("LD_PRELOAD=") && e.len() > 11)
            })
            .map(|(i, p)| proc_evidence(i, p)),
    );
    out
}

/// Paths written during the run: added or changed files, transient files and traced writes.
fn written_paths(obs: &Observations) -> std::collections::BTreeSet<&str> {
    let mut set: std::collections::BTreeSet<&str> =
        written_files(obs).map(|(_, f)| f.path.as_str()).collect();
    set.extend(
        obs.file_accesses
            .iter()
            .filter(|a| a.op == FileOp::Write)
            .map(|a| a.path.as_str()),
    );
    set
}

fn drop_and_execute(obs: &Observations) -> Vec<Evidence> {
    let written = written_paths(obs);
    processes(obs)
        .filter(|(_, p)| p.executed_files().any(|f| written.contains(f.as_str())))
        .map(|(i, p)| proc_evidence(i, p))
        .collect()
}

fn exec_from_temp(obs: &Observations) -> Vec<Evidence> {
    processes(obs)
        .filter(|(_, p)| {
            p.executed_files().any(|exe| {
                let temp = ["/tmp/", "/var/tmp/", "/dev/shm/", "/run/", "/var/run/"]
                    .iter()
                    .any(|d| exe.starts_with(d));
                let hidden = exe
                    .split('/')
                    .any(|c| c.starts_with('.') && c != "." && c != ".." && c.len() > 1);
                temp || hidden
            })
        })
        .map(|(i, p)| proc_evidence(i, p))
        .collect()
}

fn fileless_exec(obs: &Observations) -> Vec<Evidence> {
    processes(obs)
        .filter(|(_, p)| {
            p.exe.starts_with("memfd:")
                || p.exe.starts_with("/memfd:")
                || p.exe.starts_with("/proc/self/fd/")
                || (p.exe.starts_with("/proc/") && p.exe.contains("/fd/"))
                || p.exe.starts_with("/dev/fd/")
                || p.exe.ends_with(" (deleted)")
        })
        .map(|(i, p)| proc_evidence(i, p))
        .collect()
}

fn is_downloader(p: &ProcessRecord) -> bool {
    ["curl", "wget", "tftp", "fetch", "aria2c"].contains(&p.applet())
}

fn download_and_run(obs: &Observations) -> Vec<Evidence> {
    let mut out = cmd_matches(obs, |_, cmd| {
        let lower = cmd.to_ascii_lowercase();
        let fetch = lower.contains("curl") || lower.contains("wget") || lower.contains("tftp");
        let pipe_to_shell = ["| sh", "|sh", "| bash", "|bash", "| /bin/sh", "| /bin/bash"]
            .iter()
            .any(|s| lower.contains(s));
        fetch
            && (pipe_to_shell
                || lower.contains("chmod +x")
                || lower.contains("&& ./")
                || lower.contains("; ./"))
    });
    // A download followed within 10 s by an exec of a file written during the run.
    let written = written_paths(obs);
    for (i, p) in processes(obs).filter(|(_, p)| is_downloader(p)) {
        let ran = obs.processes.iter().any(|q| {
            q.start >= p.start && q.start - p.start <= 10.0 && written.contains(q.exe.as_str())
        });
        if ran {
            out.push(proc_evidence(i, p));
        }
    }
    out
}

fn payload_decoding(obs: &Observations) -> Vec<Evidence> {
    cmd_matches(obs, |p, cmd| {
        let program = p.applet();
        let args: Vec<&str> = p.applet_args().iter().map(String::as_str).collect();
        let base64 = program == "base64"
            && args
                .iter()
                .any(|a| *a == "-d" || *a == "--decode" || *a == "-D");
        base64
            || cmd.contains("base64 -d")
            || cmd.contains("base64 --decode")
            || (program == "openssl" && args.contains(&"enc") && args.contains(&"-d"))
            || (program == "xxd" && args.contains(&"-r"))
            || cmd.contains("b64decode")
    })
}

fn network_scanning(obs: &Observations) -> Vec<Evidence> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut out = cmd_matches(obs, |p, _| SCANNERS.contains(&p.applet()));
    let ips: BTreeSet<&str> = obs.flows.iter().map(|f| f.dst_ip.as_str()).collect();
    if ips.len() >= 20 {
        out.push(Evidence::new(
            "flows",
            0,
            format!("{} distinct destination addresses", ips.len()),
        ));
    }
    let mut ports: BTreeMap<&str, BTreeSet<u16>> = BTreeMap::new();
    for f in &obs.flows {
        ports
            .entry(f.dst_ip.as_str())
            .or_default()
            .insert(f.dst_port);
    }
    for (ip, set) in ports {
        if set.len() >= 20 {
            let index = obs.flows.iter().position(|f| f.dst_ip == ip).unwrap_or(0);
            out.push(Evidence::new(
                "flows",
                index,
                format!("{} ports on {ip}", set.len()),
            ));
        }
    }
    out
}

fn recon_service(obs: &Observations) -> Vec<Evidence> {
    let mut out = dns_matches(obs, |n| RECON_DOMAINS.iter().any(|d| domain_matches(n, d)));
    out.extend(
        obs.flows
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                let payload = f.first_payload();
                let text = String::from_utf8_lossy(&payload);
                text.contains("/shodan/host/") || text.contains("Host: api.shodan.io")
            })
            .map(|(i, f)| Evidence::new("flows", i, flow_detail(f))),
    );
    out.extend(cmd_matches(obs, |_, cmd| {
        RECON_DOMAINS.iter().any(|d| cmd.contains(d))
    }));
    out
}

fn public_ip_discovery(obs: &Observations) -> Vec<Evidence> {
    let mut out = dns_matches(obs, |n| {
        PUBLIC_IP_DOMAINS.iter().any(|d| domain_matches(n, d))
    });
    out.extend(cmd_matches(obs, |_, cmd| {
        PUBLIC_IP_DOMAINS.iter().any(|d| cmd.contains(d))
    }));
    out
}

fn beaconing(obs: &Observations) -> Vec<Evidence> {
    use std::collections::BTreeMap;
    let mut groups: BTreeMap<(String, u16), Vec<(usize, f64)>> = BTreeMap::new();
    for (i, f) in obs.flows.iter().enumerate() {
        if f.dst_port == 53 {
            continue;
        }
        let key = (
            f.dst_name.clone().unwrap_or_else(|| f.dst_ip.clone()),
            f.dst_port,
        );
        groups.entry(key).or_default().push((i, f.time));
    }
    let mut out = Vec::new();
    for ((dst, port), mut times) in groups {
        if times.len() < 4 {
            continue;
        }
        times.sort_by(|a, b| a.1.total_cmp(&b.1));
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1].1 - w[0].1).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        if mean < 0.5 {
            continue;
        }
        let variance = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        if variance.sqrt() <= 0.2 * mean {
            out.push(Evidence::new(
                "flows",
                times[0].0,
                format!(
                    "{} connections to {dst}:{port} every {mean:.1} s",
                    times.len()
                ),
            ));
        }
    }
    out
}

fn cpu_saturation(obs: &Observations) -> Vec<Evidence> {
    if obs.stats.len() < 5 {
        return Vec::new();
    }
    let limit = if obs.cpu_limit > 0.0 {
        obs.cpu_limit
    } else {
        1.0
    };
    let busy: Vec<(usize, f64)> = obs
        .stats
        .iter()
        .enumerate()
        .filter(|(_, s)| s.cpu_percent >= 80.0 * limit)
        .map(|(i, s)| (i, s.cpu_percent))
        .collect();
    if busy.len() * 10 < obs.stats.len() * 6 {
        return Vec::new();
    }
    let (index, cpu) = busy[0];
    vec![Evidence::new(
        "stats",
        index,
        format!(
            "{} of {} samples at or above 80 % of {limit} cores (first {cpu:.0} %)",
            busy.len(),
            obs.stats.len()
        ),
    )]
}

fn log_tampering(obs: &Observations) -> Vec<Evidence> {
    let mut out = cmd_matches(obs, |p, cmd| {
        let program = p.applet();
        let args: Vec<&str> = p.argv.iter().map(String::as_str).collect();
        (program == "iptables" || program == "ip6tables")
            && args.iter().any(|a| *a == "-F" || *a == "--flush")
            || (program == "ufw" && args.contains(&"disable"))
            || (program == "setenforce" && args.contains(&"0"))
            || cmd.contains("history -c")
            || cmd.contains("unset HISTFILE")
            || cmd.contains("HISTFILE=/dev/null")
            || ((program == "rm" || program == "shred" || program == "truncate")
                && cmd.contains("/var/log"))
            || (["pkill", "kill", "killall"].contains(&program)
                && ["auditd", "falco", "aliyun", "osqueryd", "rsyslogd"]
                    .iter()
                    .any(|a| cmd.contains(a)))
    });
    out.extend(
        processes(obs)
            .filter(|(_, p)| {
                p.env
                    .iter()
                    .any(|e| e == "HISTFILE=/dev/null" || e == "HISTSIZE=0")
            })
            .map(|(i, p)| proc_evidence(i, p)),
    );
    out.extend(
        obs.files
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                f.change == Some(ChangeKind::Deleted) && f.path.starts_with("/var/log/")
            })
            .map(|(i, f)| Evidence::new("files", i, format!("D {}", f.path))),
    );
    out
}

fn credential_harvesting(obs: &Observations) -> Vec<Evidence> {
    let mut out = cmd_matches(obs, |p, cmd| {
        let program = p.applet();
        let reads_secret = SECRET_PATHS.iter().any(|s| cmd.contains(s));
        let search = (program == "find"
            && (cmd.contains("id_rsa") || cmd.contains("*.pem") || cmd.contains("credentials")))
            || (program == "grep" && (cmd.contains("password") || cmd.contains("AKIA")));
        (reads_secret && program != "chmod" && program != "mkdir") || search
    });
    out.extend(
        obs.file_accesses
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a.op == FileOp::Read && SECRET_PATHS.iter().any(|s| a.path.ends_with(s))
            })
            .map(|(i, a)| {
                Evidence::new("file_accesses", i, format!("pid {} read {}", a.pid, a.path))
            }),
    );
    out
}

fn cloud_metadata_access(obs: &Observations) -> Vec<Evidence> {
    let mut out: Vec<Evidence> = obs
        .flows
        .iter()
        .enumerate()
        .filter(|(_, f)| METADATA_ADDRESSES.contains(&f.dst_ip.as_str()))
        .map(|(i, f)| Evidence::new("flows", i, flow_detail(f)))
        .collect();
    out.extend(dns_matches(obs, |n| METADATA_NAMES.contains(&n)));
    out.extend(cmd_matches(obs, |_, cmd| {
        METADATA_ADDRESSES.iter().any(|a| cmd.contains(a))
            || METADATA_NAMES.iter().any(|n| cmd.contains(n))
    }));
    out.extend(
        obs.socket_calls
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.address
                    .as_deref()
                    .is_some_and(|a| METADATA_ADDRESSES.iter().any(|m| a.starts_with(m)))
            })
            .map(|(i, c)| {
                Evidence::new(
                    "socket_calls",
                    i,
                    format!(
                        "pid {} {} {}",
                        c.pid,
                        c.call,
                        c.address.clone().unwrap_or_default()
                    ),
                )
            }),
    );
    out
}

fn container_escape(obs: &Observations) -> Vec<Evidence> {
    let escape_path = |p: &str| {
        p.ends_with("docker.sock")
            || p.ends_with("containerd.sock")
            || p.ends_with("/release_agent")
            || p.ends_with("/notify_on_release")
            || p == "/proc/sys/kernel/core_pattern"
            || p == "/proc/sysrq-trigger"
            || p.starts_with("/dev/sd")
            || p.starts_with("/dev/nvme")
            || p.starts_with("/dev/vd")
    };
    let mut out = cmd_matches(obs, |p, cmd| {
        let applet = p.applet();
        [
            "nsenter", "unshare", "mount", "insmod", "modprobe", "kexec", "chroot", "debugfs",
            "capsh",
        ]
        .contains(&applet)
            || escape_path_in(cmd, &escape_path)
    });
    out.extend(
        obs.file_accesses
            .iter()
            .enumerate()
            .filter(|(_, a)| escape_path(&a.path))
            .map(|(i, a)| {
                Evidence::new(
                    "file_accesses",
                    i,
                    format!("pid {} opened {}", a.pid, a.path),
                )
            }),
    );
    out.extend(
        obs.socket_calls
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.address.as_deref().is_some_and(|a| {
                    a.ends_with("docker.sock") || a.ends_with(":2375") || a.ends_with(":2376")
                })
            })
            .map(|(i, c)| {
                Evidence::new(
                    "socket_calls",
                    i,
                    format!(
                        "pid {} {} {}",
                        c.pid,
                        c.call,
                        c.address.clone().unwrap_or_default()
                    ),
                )
            }),
    );
    out.extend(
        obs.flows
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                f.protocol == "tcp"
                    && (f.dst_port == 2375 || f.dst_port == 2376 || f.dst_port == 10250)
            })
            .map(|(i, f)| {
                Evidence::new(
                    "flows",
                    i,
                    format!("container API port: {}", flow_detail(f)),
                )
            }),
    );
    out
}

fn escape_path_in(cmd: &str, escape_path: &dyn Fn(&str) -> bool) -> bool {
    cmd.split(|c: char| {
        c.is_whitespace() || c == '>' || c == '<' || c == '=' || c == '\'' || c == '"'
    })
    .any(escape_path)
}

fn setuid_file(obs: &Observations) -> Vec<Evidence> {
    let mut out: Vec<Evidence> = written_files(obs)
        .filter(|(_, f)| {
            f.change == Some(ChangeKind::Added) && f.mode.is_some_and(|m| m & 0o6000 != 0)
        })
        .map(|(i, f)| {
            Evidence::new(
                "files",
                i,
                format!("{} mode {:o}", f.path, f.mode.unwrap_or(0)),
            )
        })
        .collect();
    out.extend(
        obs.file_accesses
            .iter()
            .enumerate()
            .filter(|(_, a)| matches!(a.op, FileOp::Chmod(m) if m & 0o6000 != 0))
            .map(|(i, a)| {
                Evidence::new(
                    "file_accesses",
                    i,
                    format!("pid {} chmod setuid {}", a.pid, a.path),
                )
            }),
    );
    out.extend(cmd_matches(obs, |p, cmd| {
        p.applet() == "chmod"
            && (cmd.contains("u+s")
                || cmd.contains("g+s")
                || cmd.contains(" 4755")
                || cmd.contains(" 6755"))
    }));
    out
}

fn account_tampering(obs: &Observations) -> Vec<Evidence> {
    let mut out = file_writes(obs, |p| {
        ["/etc/passwd", "/etc/shadow", "/etc/group", "/etc/sudoers"].contains(&p)
            || p.starts_with("/etc/sudoers.d/")
    });
    out.extend(cmd_matches(obs, |p, _| {
        [
            "useradd", "adduser", "usermod", "chpasswd", "passwd", "visudo",
        ]
        .contains(&p.applet())
    }));
    out
}

fn system_survey(obs: &Observations) -> Vec<Evidence> {
    let mut out = cmd_matches(obs, |p, cmd| {
        let program = p.applet();
        ["lscpu", "nproc", "dmidecode", "lspci", "lshw"].contains(&program)
            || (program == "uname" && p.argv.iter().any(|a| a == "-a" || a == "-m"))
            || cmd.contains("/proc/cpuinfo")
            || cmd.contains("/proc/meminfo")
    });
    out.extend(
        obs.file_accesses
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a.op == FileOp::Read && (a.path == "/proc/cpuinfo" || a.path == "/proc/meminfo")
            })
            .map(|(i, a)| {
                Evidence::new("file_accesses", i, format!("pid {} read {}", a.pid, a.path))
            }),
    );
    out
}

fn raw_ip_connection(obs: &Observations) -> Vec<Evidence> {
    obs.flows
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.dst_name.is_none()
                && f.dst_port != 53
                && !METADATA_ADDRESSES.contains(&f.dst_ip.as_str())
        })
        .map(|(i, f)| Evidence::new("flows", i, flow_detail(f)))
        .collect()
}

fn known_malware_content(obs: &Observations) -> Vec<Evidence> {
    obs.content_matches
        .iter()
        .enumerate()
        .map(|(i, m)| Evidence::new("content_matches", i, format!("{} in {}", m.rule, m.path)))
        .collect()
}

#[cfg(test)]
mod tests;
