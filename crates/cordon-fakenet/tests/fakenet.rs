//! End-to-end tests of the fakenet in network namespaces that each test creates and removes.
//!
//! They need root. Without it they print why and pass, unless `CORDON_REQUIRE_E2E` is set.
//! Clients run on threads that entered a test-owned namespace with `setns`, so no Docker is
//! needed. Every packet a client sends goes to the fakenet namespace through the veth pair.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cordon_fakenet::{
    reap_stale, AppProtocol, FakeNet, FakeNetOptions, ProtocolDetails, NETNS_PREFIX,
    SCRIPT_MARKER_BODY,
};
use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RData, RecordType};
use nix::sched::CloneFlags;

const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 66, 0, 1);

fn can_run() -> bool {
    if nix::unistd::Uid::effective().is_root() {
        return true;
    }
    assert!(
        std::env::var_os("CORDON_REQUIRE_E2E").is_none(),
        "CORDON_REQUIRE_E2E is set but the fakenet tests need root"
    );
    eprintln!("skipping: the fakenet tests need root to create network namespaces");
    false
}

fn ip(args: &[&str]) -> String {
    let output = Command::new("ip").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A unique short id for run ids and namespace names of this test process.
fn unique(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("t{:x}{n}{tag}", std::process::id())
}

/// A network namespace standing in for the analysed container, deleted on drop.
struct TargetNs {
    name: String,
}

impl TargetNs {
    fn new() -> Self {
        let name = format!("cordon-fntest-{}", unique(""));
        ip(&["netns", "add", &name]);
        TargetNs { name }
    }

    fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }

    /// Runs `f` on a thread inside this namespace.
    fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = self.path();
        std::thread::spawn(move || {
            let file = std::fs::File::open(&path).unwrap();
            nix::sched::setns(&file, CloneFlags::CLONE_NEWNET).unwrap();
            f()
        })
        .join()
        .unwrap()
    }
}

impl Drop for TargetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
    }
}

fn start(tag: &str) -> (FakeNet, TargetNs, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let options = FakeNetOptions::new(unique(tag), out.path());
    let mut fakenet = FakeNet::start(&options).unwrap();
    let target = TargetNs::new();
    fakenet.attach(&target.path()).unwrap();
    (fakenet, target, out)
}

fn dns_query_bytes(name: &str, qtype: RecordType, id: u16) -> Vec<u8> {
    let mut message = Message::new();
    message
        .set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(Name::from_str(name).unwrap(), qtype));
    message.to_vec().unwrap()
}

/// Sends one UDP DNS query and returns the first A answer.
fn resolve(server: SocketAddr, name: &str) -> Option<Ipv4Addr> {
    let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    socket
        .send_to(&dns_query_bytes(name, RecordType::A, 0x4242), server)
        .unwrap();
    let mut buf = [0u8; 1500];
    let (len, _) = socket.recv_from(&mut buf).ok()?;
    let response = Message::from_vec(&buf[..len]).unwrap();
    assert_eq!(response.id(), 0x4242);
    response
        .answers()
        .iter()
        .find_map(|record| match record.data() {
            RData::A(a) => Some(a.0),
            _ => None,
        })
}

fn in_fake_pool(addr: Ipv4Addr) -> bool {
    addr.octets()[0] == 10 && addr.octets()[1] == 200
}

/// Counts packets to the given addresses in the host's network namespace with an nftables
/// table of its own, on every hook a packet leaving this machine passes.
struct EgressProbe {
    table: String,
}

/// Loopback address that a probe also counts, to show that its counters work.
const PROBE_CONTROL: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 99);

impl EgressProbe {
    fn install(addrs: &[Ipv4Addr]) -> Self {
        let table = format!("cordon_egress_probe_{}", unique(""));
        let mut ruleset = format!("table inet {table} {{\n");
        for hook in ["prerouting", "input", "forward", "output", "postrouting"] {
            ruleset.push_str(&format!(
                "  chain {hook} {{\n    type filter hook {hook} priority -400; policy accept;\n"
            ));
            for addr in addrs.iter().chain([&PROBE_CONTROL]) {
                ruleset.push_str(&format!("    ip daddr {addr} counter\n"));
            }
            ruleset.push_str("  }\n");
        }
        ruleset.push_str("}\n");
        let mut child = Command::new("nft")
            .args(["-f", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ruleset.as_bytes())
            .unwrap();
        assert!(
            child.wait().unwrap().success(),
            "nft rejected the probe table"
        );
        let probe = EgressProbe { table };

        // Control: a datagram to a loopback address from the host namespace must be counted.
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.send_to(b"probe", (PROBE_CONTROL, 9)).unwrap();
        assert!(
            probe.packets_to(PROBE_CONTROL) > 0,
            "the probe counted no control packet"
        );
        probe
    }

    /// Returns the packets counted to `addr` on all hooks.
    fn packets_to(&self, addr: Ipv4Addr) -> u64 {
        let output = Command::new("nft")
            .args(["list", "table", "inet", &self.table])
            .output()
            .unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        let prefix = format!("ip daddr {addr} counter packets ");
        text.lines()
            .filter_map(|line| line.trim().strip_prefix(&prefix))
            .map(|rest| rest.split(' ').next().unwrap().parse::<u64>().unwrap())
            .sum()
    }

    /// Returns the packets counted to every probed address but the control.
    fn packets(&self, addrs: &[Ipv4Addr]) -> u64 {
        addrs.iter().map(|addr| self.packets_to(*addr)).sum()
    }
}

impl Drop for EgressProbe {
    fn drop(&mut self) {
        let _ = Command::new("nft")
            .args(["delete", "table", "inet", &self.table])
            .status();
    }
}

fn gateway_dns() -> SocketAddr {
    SocketAddr::from((GATEWAY, 53))
}

#[test]
fn dns_query_answered_with_fake_address() {
    if !can_run() {
        return;
    }
    let (fakenet, target, _out) = start("dns");
    let answer = target.run(|| resolve(gateway_dns(), "pool.minexmr.com."));
    let report = fakenet.stop().unwrap();

    let addr = answer.expect("no A answer");
    assert!(in_fake_pool(addr), "{addr} is not from the fake pool");
    assert_eq!(
        report.fake_names.get(&addr).map(String::as_str),
        Some("pool.minexmr.com")
    );

    let logged = report
        .sinkhole
        .iter()
        .find(|e| e.name == "pool.minexmr.com")
        .expect("not in sinkhole log");
    assert_eq!(logged.qtype, "A");
    assert_eq!(logged.id, 0x4242);
    assert_eq!(logged.answers, vec![addr.to_string()]);

    let captured = report
        .dns
        .iter()
        .find(|e| e.name == "pool.minexmr.com")
        .expect("not decoded from capture");
    assert_eq!(captured.answers, vec![addr.to_string()]);
    assert_eq!(captured.server, gateway_dns());
}

#[test]
fn stratum_login_answered_with_job() {
    if !can_run() {
        return;
    }
    let (fakenet, target, _out) = start("str");
    let job_line = target.run(|| {
        let addr = resolve(gateway_dns(), "pool.minexmr.com.").unwrap();
        let mut stream = TcpStream::connect_timeout(&SocketAddr::from((addr, 3333)), Duration::from_secs(3)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        stream
            .write_all(b"{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"48wallet.worker\",\"pass\":\"x\",\"agent\":\"XMRig/6.21.0 (Linux x86_64)\"}}\n")
            .unwrap();
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while stream.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        String::from_utf8(line).unwrap()
    });
    let report = fakenet.stop().unwrap();

    let reply: serde_json::Value = serde_json::from_str(&job_line).unwrap();
    assert_eq!(reply["id"], 1);
    assert!(reply["result"]["job"]["blob"].is_string(), "{job_line}");

    let connection = report
        .connections
        .iter()
        .find(|c| c.original_dst.port() == 3333)
        .expect("no connection record");
    assert_eq!(connection.dst_name.as_deref(), Some("pool.minexmr.com"));
    assert_eq!(connection.protocol, AppProtocol::Stratum);
    let ProtocolDetails::Stratum {
        login,
        agent,
        methods,
        ..
    } = &connection.details
    else {
        panic!("details are not stratum: {:?}", connection.details);
    };
    assert_eq!(login.as_deref(), Some("48wallet.worker"));
    assert_eq!(agent.as_deref(), Some("XMRig/6.21.0 (Linux x86_64)"));
    assert_eq!(methods, &vec!["login".to_string()]);

    let flow = report
        .flows
        .iter()
        .find(|f| f.dst_port == 3333)
        .expect("no flow on port 3333");
    assert_eq!(flow.dst_name.as_deref(), Some("pool.minexmr.com"));
    assert_eq!(flow.app_protocol, AppProtocol::Stratum);
}

#[test]
fn http_get_recorded_with_host() {
    if !can_run() {
        return;
    }
    let (fakenet, target, _out) = start("http");
    let body = target.run(|| {
        let addr = resolve(gateway_dns(), "dl.example.org.").unwrap();
        let mut stream = TcpStream::connect_timeout(&SocketAddr::from((addr, 80)), Duration::from_secs(3)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        stream
            .write_all(b"GET /install.sh HTTP/1.1\r\nHost: dl.example.org\r\nUser-Agent: curl/7.88.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    });
    let report = fakenet.stop().unwrap();

    assert!(body.starts_with("HTTP/1.1 200 OK"), "{body}");
    assert!(body.ends_with(SCRIPT_MARKER_BODY), "{body}");
    let connection = report
        .connections
        .iter()
        .find(|c| c.original_dst.port() == 80)
        .expect("no connection record");
    let ProtocolDetails::Http { requests } = &connection.details else {
        panic!("details are not http: {:?}", connection.details);
    };
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].host.as_deref(), Some("dl.example.org"));
    assert_eq!(requests[0].path, "/install.sh");
    assert_eq!(requests[0].user_agent.as_deref(), Some("curl/7.88.1"));

    let flow = report
        .flows
        .iter()
        .find(|f| f.dst_port == 80)
        .expect("no flow on port 80");
    assert_eq!(flow.http_host.as_deref(), Some("dl.example.org"));
    assert_eq!(flow.http_path.as_deref(), Some("/install.sh"));
    assert_eq!(flow.dst_name.as_deref(), Some("dl.example.org"));
}

/// A TLS 1.2 ClientHello record with one SNI host name and ALPN `h2`, laid out as RFC 5246
/// section 7.4.1.2, RFC 6066 section 3 and RFC 7301 section 3.1 define it.
fn client_hello(sni: &str) -> Vec<u8> {
    let name = sni.as_bytes();
    let mut ext = Vec::new();
    ext.extend_from_slice(&[0x00, 0x00]);
    ext.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
    ext.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    ext.extend_from_slice(name);
    ext.extend_from_slice(&[0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, b'h', b'2']);
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x11; 32]);
    body.push(0);
    body.extend_from_slice(&[0x00, 0x02, 0x13, 0x01, 0x01, 0x00]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut handshake = vec![0x01];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

#[test]
fn tls_client_hello_sni_recorded() {
    if !can_run() {
        return;
    }
    let (fakenet, target, _out) = start("tls");
    let reply = target.run(|| {
        let addr = resolve(gateway_dns(), "c2.example.net.").unwrap();
        let mut stream =
            TcpStream::connect_timeout(&SocketAddr::from((addr, 443)), Duration::from_secs(3))
                .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(&client_hello("c2.example.net")).unwrap();
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        reply
    });
    let report = fakenet.stop().unwrap();

    assert_eq!(reply.first(), Some(&0x15), "expected a TLS alert record");
    let connection = report
        .connections
        .iter()
        .find(|c| c.original_dst.port() == 443)
        .expect("no connection record");
    assert_eq!(
        connection.details,
        ProtocolDetails::Tls {
            sni: Some("c2.example.net".into()),
            alpn: vec!["h2".into()]
        }
    );
    let flow = report
        .flows
        .iter()
        .find(|f| f.dst_port == 443)
        .expect("no flow on port 443");
    assert_eq!(flow.app_protocol, AppProtocol::Tls);
    assert_eq!(flow.sni.as_deref(), Some("c2.example.net"));
}

#[test]
fn hardcoded_resolver_query_redirected() {
    if !can_run() {
        return;
    }
    // 8.8.8.8 is a public resolver, used because malware hard-codes it. The query cannot
    // leave this machine: the target namespace's only route is the veth to the fakenet
    // namespace, which has no route out and no link to the host namespace. The probe below
    // proves it by counting packets to 8.8.8.8 in the host namespace.
    let probe = EgressProbe::install(&[Ipv4Addr::new(8, 8, 8, 8)]);
    let (fakenet, target, _out) = start("res");
    let answer = target.run(|| resolve(SocketAddr::from(([8, 8, 8, 8], 53)), "shodan.io."));
    let report = fakenet.stop().unwrap();

    let addr = answer.expect("no answer from the redirected resolver");
    assert!(in_fake_pool(addr));
    let captured = report
        .dns
        .iter()
        .find(|e| e.name == "shodan.io")
        .expect("not decoded from capture");
    assert_eq!(captured.server, SocketAddr::from(([8, 8, 8, 8], 53)));
    assert_eq!(captured.answers, vec![addr.to_string()]);
    assert_eq!(
        probe.packets(&[Ipv4Addr::new(8, 8, 8, 8)]),
        0,
        "packets to 8.8.8.8 reached the host namespace"
    );
}

#[test]
fn short_lived_client_fully_captured() {
    if !can_run() {
        return;
    }
    let (fakenet, target, _out) = start("short");
    // The client sends one query, waits at most 50 ms for the answer and exits; the fakenet
    // is stopped right after, so only frames captured from the first instant are decoded.
    target.run(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        socket
            .send_to(
                &dns_query_bytes("quick.example.org.", RecordType::TXT, 7),
                gateway_dns(),
            )
            .unwrap();
        let mut buf = [0u8; 512];
        let _ = socket.recv_from(&mut buf);
    });
    let report = fakenet.stop().unwrap();

    let event = report
        .dns
        .iter()
        .find(|e| e.name == "quick.example.org")
        .expect("query not in the capture");
    assert_eq!(event.qtype, "TXT");
    assert_eq!(event.id, 7);
    assert_eq!(event.rcode.as_deref(), Some("No Error"));
    assert!(report.capture.packets >= 2, "{:?}", report.capture);
    assert_eq!(report.capture.kernel_drops, 0);
    assert!(report.pcap_path.exists());
}

/// Sends an ICMP echo request through a raw socket.
fn send_icmp_echo(dst: Ipv4Addr) {
    let socket = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::RAW,
        Some(socket2::Protocol::ICMPV4),
    )
    .unwrap();
    // Echo request, code 0, checksum over the 8-byte header with id 0x1234 and sequence 1.
    let mut packet = [8u8, 0, 0, 0, 0x12, 0x34, 0, 1];
    let sum: u32 = packet
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    let checksum = !(((sum & 0xffff) + (sum >> 16)) as u16);
    packet[2..4].copy_from_slice(&checksum.to_be_bytes());
    socket
        .send_to(&packet, &SocketAddr::from((dst, 0)).into())
        .unwrap();
}

#[test]
fn no_packet_leaves_the_namespaces() {
    if !can_run() {
        return;
    }
    // These are public addresses on purpose: the test shows that even traffic to real
    // internet destinations never leaves the namespaces this test created. The target
    // namespace's only interface is the veth into the fakenet namespace, which has no
    // default route, no forwarding and no interface in the host namespace; the nftables
    // probe in the host namespace counts every packet to these addresses and must stay at 0.
    let public = [
        Ipv4Addr::new(8, 8, 8, 8),
        Ipv4Addr::new(1, 1, 1, 1),
        Ipv4Addr::new(203, 0, 113, 10),
    ];
    let probe = EgressProbe::install(&public);
    let (fakenet, target, _out) = start("egr");
    let fakenet_ns = fakenet.netns_name().to_string();

    target.run(move || {
        for dst in public {
            for port in [22u16, 443, 4444] {
                let _ = TcpStream::connect_timeout(
                    &SocketAddr::from((dst, port)),
                    Duration::from_millis(500),
                );
            }
            let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
            for port in [123u16, 5353, 40000] {
                socket
                    .send_to(b"cordon-egress-probe", SocketAddr::from((dst, port)))
                    .unwrap();
            }
            send_icmp_echo(dst);
        }
    });

    // The fakenet namespace has only lo and its veth end, and no default route.
    let links = ip(&["-n", &fakenet_ns, "-o", "link", "show"]);
    assert_eq!(links.lines().count(), 2, "{links}");
    assert!(ip(&["-n", &fakenet_ns, "route", "show", "default"])
        .trim()
        .is_empty());
    let forward = Command::new("ip")
        .args([
            "netns",
            "exec",
            &fakenet_ns,
            "sysctl",
            "-n",
            "net.ipv4.ip_forward",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&forward.stdout).trim(), "0");

    std::thread::sleep(Duration::from_millis(200));
    let report = fakenet.stop().unwrap();
    assert_eq!(
        probe.packets(&public),
        0,
        "packets to public addresses reached the host namespace"
    );

    // The packets were sent: the capture on the fakenet side saw all of them.
    for dst in public {
        let seen = |protocol: cordon_fakenet::Transport| {
            report
                .flows
                .iter()
                .any(|f| f.dst_ip == IpAddr::V4(dst) && f.protocol == protocol)
        };
        assert!(seen(cordon_fakenet::Transport::Tcp), "no TCP flow to {dst}");
        assert!(seen(cordon_fakenet::Transport::Udp), "no UDP flow to {dst}");
        assert!(
            seen(cordon_fakenet::Transport::Icmp),
            "no ICMP flow to {dst}"
        );
    }
    let udp = report
        .connections
        .iter()
        .find(|c| c.original_dst == SocketAddr::from(([1, 1, 1, 1], 123)))
        .expect("UDP catch-all did not record 1.1.1.1:123");
    assert_eq!(udp.first_bytes_hex, hex::encode(b"cordon-egress-probe"));
}

#[test]
fn stop_removes_namespace_and_veth() {
    if !can_run() {
        return;
    }
    let (fakenet, target, _out) = start("stop");
    let netns = fakenet.netns_name().to_string();
    let veth = fakenet.veth_name().to_string();
    assert!(Path::new("/run/netns").join(&netns).exists());
    fakenet.stop().unwrap();

    assert!(
        !Path::new("/run/netns").join(&netns).exists(),
        "{netns} still exists"
    );
    let host_links = ip(&["-o", "link", "show"]);
    assert!(
        !host_links.contains(&veth),
        "{veth} left in the host: {host_links}"
    );
    let target_links = ip(&["-n", &target.name, "-o", "link", "show"]);
    assert_eq!(
        target_links.lines().count(),
        1,
        "veth left in the target: {target_links}"
    );
    let reaped = reap_stale(&netns).unwrap();
    assert!(reaped.namespaces.is_empty(), "{reaped:?}");
}

#[test]
fn reap_stale_removes_leaked_namespace() {
    if !can_run() {
        return;
    }
    let leaked = format!("{NETNS_PREFIX}{}", unique("leak"));
    ip(&["netns", "add", &leaked]);
    ip(&[
        "-n", &leaked, "link", "add", "cfnleakf", "type", "veth", "peer", "name", "cfnleakt",
    ]);

    // A live run next to it must survive.
    let out = tempfile::tempdir().unwrap();
    let live = FakeNet::start(&FakeNetOptions::new(unique("live"), out.path())).unwrap();

    let reaped = reap_stale(NETNS_PREFIX).unwrap();
    assert!(reaped.namespaces.contains(&leaked), "{reaped:?}");
    assert!(!Path::new("/run/netns").join(&leaked).exists());
    assert!(Path::new("/run/netns").join(live.netns_name()).exists());
    live.stop().unwrap();
}

#[test]
fn dns_over_tcp_answered_and_decoded() {
    if !can_run() {
        return;
    }
    let (fakenet, target, _out) = start("tcpdns");
    let answer_count = target.run(|| {
        let mut stream =
            TcpStream::connect_timeout(&SocketAddr::from((GATEWAY, 53)), Duration::from_secs(3))
                .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let query = dns_query_bytes("tcp.example.org.", RecordType::MX, 99);
        let mut framed = (query.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&query);
        stream.write_all(&framed).unwrap();
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).unwrap();
        let mut response = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut response).unwrap();
        let response = Message::from_vec(&response).unwrap();

        // Data on port 53 that is not DNS gets no reply and is only counted.
        let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        socket
            .send_to(b"GET / HTTP/1.0\r\n\r\n", SocketAddr::from((GATEWAY, 53)))
            .unwrap();
        let mut buf = [0u8; 512];
        assert!(
            socket.recv_from(&mut buf).is_err(),
            "non-DNS data got a reply"
        );
        response.answers().len()
    });
    let report = fakenet.stop().unwrap();

    assert_eq!(answer_count, 1);
    let logged = report
        .sinkhole
        .iter()
        .find(|e| e.name == "tcp.example.org")
        .expect("not in sinkhole log");
    assert_eq!(logged.transport, cordon_fakenet::Transport::Tcp);
    assert_eq!(logged.qtype, "MX");
    let captured = report
        .dns
        .iter()
        .find(|e| e.name == "tcp.example.org")
        .expect("TCP query not decoded from capture");
    assert_eq!(captured.transport, cordon_fakenet::Transport::Tcp);
    assert_eq!(captured.id, 99);
    assert_eq!(
        captured.answers,
        vec!["10 mail.tcp.example.org.".to_string()]
    );
    assert_eq!(
        report.discarded.non_dns_on_port_53, 2,
        "sinkhole and capture each count it once"
    );
}

#[test]
fn connection_limit_closes_extra_connections() {
    if !can_run() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let mut options = FakeNetOptions::new(unique("lim"), out.path());
    options.limits.max_connections = 2;
    let mut fakenet = FakeNet::start(&options).unwrap();
    let target = TargetNs::new();
    fakenet.attach(&target.path()).unwrap();

    target.run(|| {
        // Three silent connections to one TEST-NET-1 address: two are held, the third closed.
        let mut held = Vec::new();
        for _ in 0..3 {
            let stream = TcpStream::connect_timeout(
                &SocketAddr::from(([192, 0, 2, 7], 7000)),
                Duration::from_secs(3),
            )
            .unwrap();
            std::thread::sleep(Duration::from_millis(100));
            held.push(stream);
        }
        let mut third = &held[2];
        third
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(
            third.read(&mut buf).unwrap_or(0),
            0,
            "third connection not closed"
        );
    });
    let report = fakenet.stop().unwrap();
    assert_eq!(report.discarded.connections_rejected, 1);
    let recorded = report
        .connections
        .iter()
        .filter(|c| c.original_dst == SocketAddr::from(([192, 0, 2, 7], 7000)))
        .count();
    assert_eq!(recorded, 2);
}

#[test]
fn fakenet_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FakeNet>();
}
