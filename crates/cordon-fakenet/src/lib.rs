//! A fake internet for Cordon's dynamic analysis.
//!
//! [`FakeNet::start`] creates a network namespace `cordon-fn-<run id>` with one veth pair and
//! starts an `AF_PACKET` capture on the fakenet side of the pair. It then starts the services.
//! A DNS sinkhole resolves every name to a distinct fake address. Catch-all TCP and UDP
//! listeners record the original destination of every flow, and speak enough HTTP, TLS
//! (ClientHello only), stratum, IRC, SMTP and SSH for a client to reveal its next request.
//!
//! Every method blocks (it runs commands and joins threads), so async callers run them with
//! `tokio::task::spawn_blocking`.
//! [`FakeNet::attach`] then moves the other end of the pair into the analysed container's
//! network namespace and configures it (address, default route, no IPv6). The capture runs
//! before the peer is moved, so the first packet the container sends is recorded.
//!
//! Zero egress follows from the namespace layout rather than from rules alone: the fakenet
//! namespace holds only `lo` and its veth end, has no default route and no route to any host
//! interface, forwarding is off, and nftables drops forwarded packets and locally sent packets
//! to any interface other than `lo` and the veth.
//!
//! [`FakeNet::stop`] stops the services and the capture, deletes the namespace (which deletes
//! the veth pair), and returns a [`NetReport`] with the decoded capture and the service
//! records. [`reap_stale`] deletes leftovers of runs whose process died.
//!
//! Everything here needs root (`CAP_NET_ADMIN`, `CAP_SYS_ADMIN` for `setns`, `CAP_NET_RAW`)
//! and the `ip`, `nsenter` and `nft` commands (Debian `iproute2`, `util-linux`, `nftables`).
//! See `docs/fakenet.md` for the design, the threat model and what is not covered.

#![forbid(unsafe_code)]

mod capture;
mod decode;
mod dns;
mod error;
mod firewall;
mod netns;
mod report;
mod responders;
mod services;
mod sniff;

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use decode::{decode_pcapng, Decoded};
pub use dns::{normalize_name, FakeNames};
pub use error::{Error, Result};
pub use netns::{NETNS_PREFIX, VETH_PREFIX};
pub use report::{
    AppProtocol, CaptureStats, DiscardCounters, DnsEvent, Flow, HttpRequest, NetReport,
    ProtocolDetails, ServiceEvent, Transport,
};
pub use responders::SCRIPT_MARKER_BODY;

use capture::Capture;
use firewall::{ServicePorts, TPROXY_MARK, TPROXY_TABLE};
use netns::{run, run_in, run_with_input, RunLock, RunNames};
use services::{ServiceConfig, Services, Shared};

/// File name of the capture inside [`FakeNetOptions::out_dir`].
pub const PCAP_FILE_NAME: &str = "fakenet.pcapng";

/// File name of the JSON report that [`FakeNet::stop`] writes into the output directory.
pub const REPORT_FILE_NAME: &str = "fakenet-report.json";

/// Interface name the veth peer gets inside the target namespace.
pub const TARGET_IFNAME: &str = "eth0";

/// Bounds on what the services keep and accept.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Concurrent TCP connections per listener; further connections are closed at once.
    pub max_connections: usize,
    /// Bytes of each connection's data kept in its record.
    pub record_bytes: usize,
    /// Bytes read from one connection before it is closed.
    pub max_bytes_per_flow: u64,
    /// DNS events and connection records kept; further ones are counted and dropped.
    pub max_events: usize,
    /// Time without data after which a connection is closed.
    pub idle_timeout: Duration,
    /// Time the TCP catch-all waits for a client's first bytes. After it, the connection
    /// stays open and silent until the idle timeout. Ports 22, 2222, 25, 465, 587 and 2525
    /// get a banner at once instead.
    pub first_data_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 256,
            record_bytes: 4096,
            max_bytes_per_flow: 1 << 20,
            max_events: 20_000,
            idle_timeout: Duration::from_secs(30),
            first_data_wait: Duration::from_secs(3),
        }
    }
}

/// Settings of one fakenet.
#[derive(Debug, Clone)]
pub struct FakeNetOptions {
    /// Run id: 1 to 40 characters from `[a-z0-9-]`, starting with a letter or digit. It names
    /// the namespace `cordon-fn-<run id>` and, shortened, the veth pair.
    pub run_id: String,
    /// Directory for the capture and the JSON report; created if missing.
    pub out_dir: PathBuf,
    /// Address of the fakenet side of the veth pair, the target's default gateway.
    pub gateway: Ipv4Addr,
    /// Address given to the target's interface.
    pub target_addr: Ipv4Addr,
    /// Prefix length of the veth link network.
    pub link_prefix_len: u8,
    /// Network the fake addresses are taken from.
    pub fake_network: Ipv4Addr,
    /// Prefix length of the fake address network.
    pub fake_prefix_len: u8,
    /// Bytes kept of each captured frame.
    pub snaplen: usize,
    /// Service limits.
    pub limits: Limits,
}

impl FakeNetOptions {
    /// Returns options with the defaults: link 10.66.0.0/30 (gateway .1, target .2), fake
    /// addresses from 10.200.0.0/16, 65535-byte snap length.
    pub fn new(run_id: impl Into<String>, out_dir: impl Into<PathBuf>) -> Self {
        FakeNetOptions {
            run_id: run_id.into(),
            out_dir: out_dir.into(),
            gateway: Ipv4Addr::new(10, 66, 0, 1),
            target_addr: Ipv4Addr::new(10, 66, 0, 2),
            link_prefix_len: 30,
            fake_network: Ipv4Addr::new(10, 200, 0, 0),
            fake_prefix_len: 16,
            snaplen: 65535,
            limits: Limits::default(),
        }
    }
}

/// Ports the services listen on inside the fakenet namespace. Nothing else listens there, and
/// redirected traffic keeps its original destination port in the records.
const PORTS: ServicePorts = ServicePorts {
    dns: 53,
    tcp_catch_all: 15001,
    udp_catch_all: 15002,
};

/// A running fake internet for one analysis run.
#[derive(Debug)]
pub struct FakeNet {
    options: FakeNetOptions,
    names: RunNames,
    pcap_path: PathBuf,
    capture: Option<Capture>,
    services: Option<Services>,
    shared: Arc<Shared>,
    attached: bool,
    lock: Option<RunLock>,
    torn_down: bool,
}

impl FakeNet {
    /// Creates the namespace and the veth pair, starts the capture and the services.
    ///
    /// Returns once the capture socket is open and every service socket is bound. On error,
    /// everything created so far is removed.
    pub fn start(options: &FakeNetOptions) -> Result<FakeNet> {
        let names = RunNames::new(&options.run_id)?;
        fs::create_dir_all(&options.out_dir).map_err(|err| Error::io(&options.out_dir, err))?;
        let lock = RunLock::acquire(&names.netns)?;
        if names.netns_path().exists() {
            lock.release();
            return Err(Error::AlreadyExists(names.netns.clone()));
        }
        let pcap_path = options.out_dir.join(PCAP_FILE_NAME);
        let shared = Arc::new(Shared::new(
            FakeNames::new(options.fake_network, options.fake_prefix_len),
            options.limits.max_events,
        ));
        let mut fakenet = FakeNet {
            options: options.clone(),
            names,
            pcap_path,
            capture: None,
            services: None,
            shared,
            attached: false,
            lock: Some(lock),
            torn_down: false,
        };
        if let Err(err) = fakenet.bring_up() {
            tracing::warn!(error = %err, netns = %fakenet.names.netns, "fakenet start failed, cleaning up");
            let _ = fakenet.teardown();
            return Err(err);
        }
        tracing::info!(netns = %fakenet.names.netns, pcap = %fakenet.pcap_path.display(), "fakenet started");
        Ok(fakenet)
    }

    fn bring_up(&mut self) -> Result<()> {
        let ns = self.names.netns.clone();
        let fake_if = self.names.veth_fakenet.clone();
        let peer_if = self.names.veth_target.clone();
        run("ip", &["netns", "add", &ns])?;
        let sysctls = [
            "net.ipv4.ip_forward=0",
            "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1",
            "net.ipv6.conf.all.forwarding=0",
        ];
        let mut args = vec!["netns", "exec", &ns, "sysctl", "-q", "-w"];
        args.extend(sysctls);
        run("ip", &args)?;
        run("ip", &["-n", &ns, "link", "set", "lo", "up"])?;
        run(
            "ip",
            &[
                "-n", &ns, "link", "add", &fake_if, "type", "veth", "peer", "name", &peer_if,
            ],
        )?;
        let gateway = format!("{}/{}", self.options.gateway, self.options.link_prefix_len);
        run("ip", &["-n", &ns, "addr", "add", &gateway, "dev", &fake_if])?;
        run("ip", &["-n", &ns, "link", "set", &fake_if, "up"])?;

        // UDP catch-all: TPROXY marks datagrams, and this table delivers them locally.
        let mark = TPROXY_MARK.to_string();
        let table = TPROXY_TABLE.to_string();
        run(
            "ip",
            &["-n", &ns, "rule", "add", "fwmark", &mark, "lookup", &table],
        )?;
        run(
            "ip",
            &[
                "-n",
                &ns,
                "route",
                "add",
                "local",
                "0.0.0.0/0",
                "dev",
                "lo",
                "table",
                &table,
            ],
        )?;
        let ruleset = firewall::ruleset(&fake_if, PORTS);
        run_with_input(
            "ip",
            &["netns", "exec", &ns, "nft", "-f", "-"],
            Some(&ruleset),
        )?;

        let netns_path = self.names.netns_path();
        self.capture = Some(Capture::start(
            &netns_path,
            &fake_if,
            &self.pcap_path,
            self.options.snaplen,
        )?);
        self.services = Some(Services::start(
            ServiceConfig {
                netns_path,
                ports: PORTS,
                limits: self.options.limits,
            },
            self.shared.clone(),
        )?);
        Ok(())
    }

    /// Name of the fakenet network namespace (`cordon-fn-<run id>`).
    pub fn netns_name(&self) -> &str {
        &self.names.netns
    }

    /// Path of the fakenet network namespace under `/run/netns`.
    pub fn netns_path(&self) -> PathBuf {
        self.names.netns_path()
    }

    /// Name of the veth end inside the fakenet namespace.
    pub fn veth_name(&self) -> &str {
        &self.names.veth_fakenet
    }

    /// Path of the pcapng capture.
    pub fn pcap_path(&self) -> &Path {
        &self.pcap_path
    }

    /// Moves the veth peer into the network namespace at `target_netns` (for example
    /// `/proc/<pid>/ns/net` of a container started with no network) and configures it:
    /// interface `eth0` with [`FakeNetOptions::target_addr`], `lo` up, default route via the
    /// gateway, IPv6 disabled.
    pub fn attach(&mut self, target_netns: &Path) -> Result<()> {
        if self.attached {
            return Err(Error::AlreadyAttached(self.names.netns.clone()));
        }
        let invalid = |reason: String| Error::InvalidTarget {
            path: target_netns.to_path_buf(),
            reason,
        };
        let target_meta = fs::metadata(target_netns).map_err(|err| invalid(err.to_string()))?;
        // The main thread's namespace: the one this process was started in.
        let host_meta =
            fs::metadata("/proc/self/ns/net").map_err(|err| Error::io("/proc/self/ns/net", err))?;
        let own_meta = fs::metadata(self.names.netns_path())
            .map_err(|err| Error::io(self.names.netns_path(), err))?;
        use std::os::unix::fs::MetadataExt;
        if (target_meta.dev(), target_meta.ino()) == (host_meta.dev(), host_meta.ino()) {
            return Err(invalid("it is this process's own network namespace".into()));
        }
        if (target_meta.dev(), target_meta.ino()) == (own_meta.dev(), own_meta.ino()) {
            return Err(invalid("it is the fakenet's own namespace".into()));
        }

        // IPv6 is disabled before the interface arrives, so it never gets a link-local
        // address and never sends router or neighbour solicitations.
        run_in(
            target_netns,
            "sysctl",
            &[
                "-q",
                "-w",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
            ],
        )?;
        let target = target_netns.to_string_lossy().into_owned();
        run(
            "ip",
            &[
                "-n",
                &self.names.netns,
                "link",
                "set",
                &self.names.veth_target,
                "netns",
                &target,
            ],
        )?;
        let address = format!(
            "{}/{}",
            self.options.target_addr, self.options.link_prefix_len
        );
        let gateway = self.options.gateway.to_string();
        run_in(target_netns, "ip", &["link", "set", "lo", "up"])?;
        run_in(
            target_netns,
            "ip",
            &[
                "link",
                "set",
                &self.names.veth_target,
                "name",
                TARGET_IFNAME,
            ],
        )?;
        run_in(
            target_netns,
            "ip",
            &["addr", "add", &address, "dev", TARGET_IFNAME],
        )?;
        run_in(target_netns, "ip", &["link", "set", TARGET_IFNAME, "up"])?;
        run_in(
            target_netns,
            "ip",
            &["route", "replace", "default", "via", &gateway],
        )?;
        self.attached = true;
        tracing::info!(netns = %self.names.netns, target = %target, "fakenet attached");
        Ok(())
    }

    /// Stops the services and the capture, removes the namespace and the veth pair, decodes
    /// the capture, writes [`REPORT_FILE_NAME`] into the output directory and returns the
    /// report.
    pub fn stop(mut self) -> Result<NetReport> {
        let capture_stats = self.teardown()?;
        let state = self.shared.lock();
        let fake_names = state.names.map().clone();
        let decoded = decode_pcapng(&self.pcap_path, &fake_names)?;
        let mut discarded = state.discarded.clone();
        discarded.non_dns_on_port_53 += decoded.non_dns_on_port_53;
        let report = NetReport {
            run_id: self.options.run_id.clone(),
            pcap_path: self.pcap_path.clone(),
            capture: capture_stats,
            dns: decoded.dns,
            flows: decoded.flows,
            sinkhole: state.sinkhole.clone(),
            connections: state.connections.clone(),
            fake_names,
            discarded,
        };
        drop(state);
        let report_path = self.options.out_dir.join(REPORT_FILE_NAME);
        let json = serde_json::to_vec_pretty(&report)
            .map_err(|err| Error::io(&report_path, std::io::Error::other(err.to_string())))?;
        fs::write(&report_path, json).map_err(|err| Error::io(&report_path, err))?;
        Ok(report)
    }

    /// Stops threads and deletes the namespace; safe to call more than once.
    fn teardown(&mut self) -> Result<CaptureStats> {
        if self.torn_down {
            return Ok(CaptureStats::default());
        }
        self.torn_down = true;

        let mut first_error = None;
        if let Some(mut services) = self.services.take() {
            if let Err(err) = services.stop() {
                first_error.get_or_insert(err);
            }
        }

        let mut stats = CaptureStats::default();
        if let Some(mut capture) = self.capture.take() {
            match capture.stop() {
                Ok(result) => stats = result,
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        // Deleting the veth end deletes its peer at once, wherever the peer is. Deleting only
        // the namespace would leave the peer in the target until a kernel work queue runs.
        if self.names.netns_path().exists() {
            let _ = run(
                "ip",
                &[
                    "-n",
                    &self.names.netns,
                    "link",
                    "delete",
                    &self.names.veth_fakenet,
                ],
            );
        }
        if let Err(err) = netns::delete_netns(&self.names.netns) {
            first_error.get_or_insert(err);
        }
        if let Some(lock) = self.lock.take() {
            lock.release();
        }
        tracing::info!(netns = %self.names.netns, "fakenet removed");

        match first_error {
            Some(err) => Err(err),
            None => Ok(stats),
        }
    }
}

impl Drop for FakeNet {
    fn drop(&mut self) {
        if let Err(err) = self.teardown() {
            tracing::warn!(error = %err, netns = %self.names.netns, "fakenet cleanup failed");
        }
    }
}

/// Objects deleted by [`reap_stale`].
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ReapReport {
    /// Network namespaces deleted.
    pub namespaces: Vec<String>,
    /// Host-side interfaces deleted.
    pub interfaces: Vec<String>,
}

/// Deletes the network namespaces whose names start with `prefix` (normally
/// [`NETNS_PREFIX`]) and whose run is not live, plus host interfaces named like their veth
/// pair. A run is live while a process holds its lock under `/run/cordon-fakenet`, which
/// [`FakeNet`] does from `start` to `stop`.
pub fn reap_stale(prefix: &str) -> Result<ReapReport> {
    let mut report = ReapReport::default();
    for name in netns::list_netns(prefix)? {
        if netns::run_is_live(&name)? {
            continue;
        }
        if let Some(veths) = netns::veth_names_for_netns(&name, prefix) {
            for veth in veths {
                if delete_host_link(&veth)? {
                    report.interfaces.push(veth);
                }
            }
        }
        netns::delete_netns(&name)?;
        netns::remove_lock(&name);
        tracing::info!(netns = %name, "removed stale fakenet namespace");
        report.namespaces.push(name);
    }
    Ok(report)
}

fn delete_host_link(name: &str) -> Result<bool> {
    if !netns::list_host_links(VETH_PREFIX)?
        .iter()
        .any(|link| link == name)
    {
        return Ok(false);
    }
    run("ip", &["link", "delete", name])?;
    Ok(true)
}
