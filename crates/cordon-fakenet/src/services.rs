//! The fakenet services: DNS sinkhole and catch-all listeners, run by a tokio runtime on a
//! dedicated thread inside the fakenet network namespace.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, IoSliceMut};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sched::CloneFlags;
use nix::sys::socket::{self, sockopt, ControlMessageOwned, MsgFlags, SockaddrIn};
use socket2::{Domain, Protocol, Socket, Type};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::timeout;

use crate::dns::{answer_query, FakeNames};
use crate::error::{Error, Result};
use crate::firewall::ServicePorts;
use crate::report::{
    AppProtocol, DiscardCounters, DnsEvent, ProtocolDetails, ServiceEvent, Transport,
};
use crate::responders::{serve, SessionLimits};
use crate::Limits;

/// Most DNS messages served on one TCP connection.
const MAX_DNS_PER_TCP: usize = 100;

/// Receive buffer of the UDP catch-all socket, in bytes (the kernel caps it at
/// `net.core.rmem_max`).
const UDP_RECEIVE_BUFFER: usize = 4 << 20;

/// How often the UDP catch-all checks for stop.
const UDP_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Time that open connections get to finish their record after shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Moves the calling thread into the network namespace at `path`.
pub(crate) fn enter_netns(path: &Path) -> Result<()> {
    let file = File::open(path).map_err(|err| Error::io(path, err))?;
    nix::sched::setns(&file, CloneFlags::CLONE_NEWNET).map_err(|errno| {
        Error::sys(
            format!("failed to enter network namespace {}", path.display()),
            errno,
        )
    })
}

/// Records of the services, shared between the service thread and the owner.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub names: FakeNames,
    pub sinkhole: Vec<DnsEvent>,
    pub connections: Vec<ServiceEvent>,
    pub discarded: DiscardCounters,
    max_events: usize,
    udp_flows: HashMap<(SocketAddr, SocketAddr), usize>,
}

impl Shared {
    pub(crate) fn new(names: FakeNames, max_events: usize) -> Self {
        Shared {
            state: Mutex::new(State {
                names,
                sinkhole: Vec::new(),
                connections: Vec::new(),
                discarded: DiscardCounters::default(),
                max_events,
                udp_flows: HashMap::new(),
            }),
        }
    }

    /// Locks the state; a panic in another holder does not make the records unreadable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn push_dns(&mut self, event: DnsEvent) {
        if self.sinkhole.len() < self.max_events {
            self.sinkhole.push(event);
        } else {
            self.discarded.events_dropped += 1;
        }
    }

    fn push_connection(&mut self, event: ServiceEvent) {
        if self.connections.len() < self.max_events {
            self.connections.push(event);
        } else {
            self.discarded.events_dropped += 1;
        }
    }

    fn name_for(&self, addr: SocketAddr) -> Option<String> {
        match addr {
            SocketAddr::V4(v4) => self.names.name_for(*v4.ip()).map(str::to_string),
            SocketAddr::V6(_) => None,
        }
    }
}

/// Settings of the service thread.
#[derive(Debug, Clone)]
pub(crate) struct ServiceConfig {
    pub netns_path: PathBuf,
    pub ports: ServicePorts,
    pub limits: Limits,
}

/// The running service thread.
#[derive(Debug)]
pub(crate) struct Services {
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<Result<()>>>,
}

impl Services {
    /// Starts the thread and returns once every socket is bound.
    pub(crate) fn start(config: ServiceConfig, shared: Arc<Shared>) -> Result<Self> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<()>>();
        let thread = std::thread::Builder::new()
            .name("fakenet-services".into())
            .spawn(move || service_thread(config, shared, stop_rx, ready_tx))
            .map_err(|err| Error::sys("failed to spawn the fakenet service thread", err))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Services {
                stop: stop_tx,
                thread: Some(thread),
            }),
            Ok(Err(err)) => {
                let _ = thread.join();
                Err(err)
            }
            Err(_) => {
                let reason = match thread.join() {
                    Ok(Err(err)) => err.to_string(),
                    _ => "exited before binding its sockets".to_string(),
                };
                Err(Error::Thread {
                    what: "services",
                    reason,
                })
            }
        }
    }

    /// Stops the services and waits for the thread.
    pub(crate) fn stop(&mut self) -> Result<()> {
        let _ = self.stop.send(true);
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        match thread.join() {
            Ok(result) => result,
            Err(_) => Err(Error::Thread {
                what: "services",
                reason: "panicked".into(),
            }),
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn service_thread(
    config: ServiceConfig,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    ready: std::sync::mpsc::Sender<Result<()>>,
) -> Result<()> {
    // Threads inherit the network namespace of the thread that creates them, so the tokio
    // runtime and every socket it opens live in the fakenet namespace.
    if let Err(err) = enter_netns(&config.netns_path) {
        let _ = ready.send(Err(Error::sys(
            "service thread",
            io::Error::other(err.to_string()),
        )));
        return Err(err);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::sys("failed to build the service runtime", err))?;
    runtime.block_on(async move {
        let sockets = match bind_all(config.ports).await {
            Ok(sockets) => sockets,
            Err(err) => {
                let _ = ready.send(Err(Error::sys(
                    "service thread",
                    io::Error::other(err.to_string()),
                )));
                return Err(err);
            }
        };
        let _ = ready.send(Ok(()));
        tracing::info!(ports = ?config.ports, "fakenet services listening");
        run_services(sockets, config.limits, shared, stop).await;
        tracing::info!("fakenet services stopped");
        Ok(())
    })
}

struct Sockets {
    dns_udp: UdpSocket,
    dns_tcp: TcpListener,
    tcp: TcpListener,
    udp: std::net::UdpSocket,
}

async fn bind_all(ports: ServicePorts) -> Result<Sockets> {
    let any = |port| SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
    let dns_udp = UdpSocket::bind(any(ports.dns))
        .await
        .map_err(|err| Error::sys(format!("failed to bind DNS UDP port {}", ports.dns), err))?;
    let dns_tcp = TcpListener::bind(any(ports.dns))
        .await
        .map_err(|err| Error::sys(format!("failed to bind DNS TCP port {}", ports.dns), err))?;
    let tcp = TcpListener::bind(any(ports.tcp_catch_all))
        .await
        .map_err(|err| {
            Error::sys(
                format!("failed to bind catch-all TCP port {}", ports.tcp_catch_all),
                err,
            )
        })?;
    let udp = bind_tproxy_udp(ports.udp_catch_all).map_err(|err| {
        Error::sys(
            format!("failed to bind catch-all UDP port {}", ports.udp_catch_all),
            err,
        )
    })?;
    Ok(Sockets {
        dns_udp,
        dns_tcp,
        tcp,
        udp,
    })
}

fn bind_tproxy_udp(port: u16) -> io::Result<std::net::UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_ip_transparent_v4(true)?;
    socket::setsockopt(&socket, sockopt::Ipv4OrigDstAddr, &true)?;
    socket.set_read_timeout(Some(UDP_POLL_INTERVAL))?;
    socket.set_recv_buffer_size(UDP_RECEIVE_BUFFER)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)).into())?;
    Ok(std::net::UdpSocket::from(socket))
}

async fn run_services(
    sockets: Sockets,
    limits: Limits,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) {
    let mut tasks = JoinSet::new();
    tasks.spawn(dns_udp_loop(sockets.dns_udp, shared.clone(), stop.clone()));
    tasks.spawn(dns_tcp_loop(
        sockets.dns_tcp,
        limits,
        shared.clone(),
        stop.clone(),
    ));
    tasks.spawn(tcp_loop(sockets.tcp, limits, shared.clone(), stop.clone()));
    let udp = sockets.udp;
    tasks.spawn_blocking(move || udp_loop(&udp, limits, &shared, &stop));
    while tasks.join_next().await.is_some() {}
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

async fn dns_udp_loop(socket: UdpSocket, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut buf = vec![0u8; 65535];
    let local = socket
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 53)));
    loop {
        let (len, client) = tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok(received) => received,
                Err(err) => {
                    tracing::warn!(error = %err, "DNS UDP receive failed");
                    continue;
                }
            },
            () = stopped(&mut stop) => return,
        };
        let reply = handle_dns(&buf[..len], client, local, Transport::Udp, &shared);
        if let Some(reply) = reply {
            if let Err(err) = socket.send_to(&reply, client).await {
                tracing::warn!(error = %err, %client, "DNS UDP reply failed");
            }
        }
    }
}

fn handle_dns(
    packet: &[u8],
    client: SocketAddr,
    server: SocketAddr,
    transport: Transport,
    shared: &Shared,
) -> Option<Vec<u8>> {
    let mut state = shared.lock();
    let Some(answered) = answer_query(packet, &mut state.names) else {
        state.discarded.non_dns_on_port_53 += 1;
        tracing::debug!(%client, len = packet.len(), "non-DNS data on the DNS port");
        return None;
    };
    tracing::debug!(%client, name = %answered.name, qtype = %answered.qtype, "DNS query");
    state.push_dns(DnsEvent {
        time: OffsetDateTime::now_utc(),
        transport,
        client,
        server,
        id: answered.id,
        name: answered.name,
        qtype: answered.qtype,
        rcode: Some(answered.rcode),
        answers: answered.answers,
    });
    Some(answered.response)
}

async fn dns_tcp_loop(
    listener: TcpListener,
    limits: Limits,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let semaphore = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = JoinSet::new();
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "DNS TCP accept failed");
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        let Ok(permit) = semaphore.clone().try_acquire_owned() else {
            shared.lock().discarded.connections_rejected += 1;
            continue;
        };
        let shared = shared.clone();
        let stop = stop.clone();
        connections.spawn(async move {
            let _permit = permit;
            serve_dns_tcp(stream, client, limits.idle_timeout, &shared, stop).await;
        });
    }
    let _ = timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

async fn serve_dns_tcp(
    mut stream: TcpStream,
    client: SocketAddr,
    idle: Duration,
    shared: &Shared,
    mut stop: watch::Receiver<bool>,
) {
    let server = original_dst(&stream).unwrap_or_else(|| {
        stream
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 53)))
    });
    for _ in 0..MAX_DNS_PER_TCP {
        let mut message = Vec::new();
        let read = async {
            let len = stream.read_u16().await?;
            message.resize(usize::from(len), 0);
            stream.read_exact(&mut message).await?;
            io::Result::Ok(())
        };
        let result = tokio::select! {
            result = timeout(idle, read) => result,
            () = stopped(&mut stop) => return,
        };
        if !matches!(result, Ok(Ok(()))) {
            return;
        }
        let Some(reply) = handle_dns(&message, client, server, Transport::Tcp, shared) else {
            return;
        };
        let Ok(len) = u16::try_from(reply.len()) else {
            return;
        };
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

/// Reads the destination a redirected connection had before the NAT redirect.
fn original_dst(stream: &TcpStream) -> Option<SocketAddr> {
    let raw = socket::getsockopt(stream, sockopt::OriginalDst).ok()?;
    Some(SocketAddr::V4(SocketAddrV4::from(SockaddrIn::from(raw))))
}

async fn tcp_loop(
    listener: TcpListener,
    limits: Limits,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let semaphore = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = JoinSet::new();
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "catch-all TCP accept failed");
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        let Ok(permit) = semaphore.clone().try_acquire_owned() else {
            shared.lock().discarded.connections_rejected += 1;
            tracing::debug!(%client, "connection limit reached, closing");
            continue;
        };
        let Some(original) = original_dst(&stream) else {
            tracing::warn!(%client, "no original destination on a catch-all connection");
            continue;
        };
        let shared = shared.clone();
        let stop = stop.clone();
        connections.spawn(async move {
            let _permit = permit;
            let time = OffsetDateTime::now_utc();
            tracing::debug!(%client, %original, "catch-all TCP connection");
            let session_limits = SessionLimits {
                record_bytes: limits.record_bytes,
                max_bytes: limits.max_bytes_per_flow,
                idle: limits.idle_timeout,
                first_data_wait: limits.first_data_wait,
            };
            let record = serve(stream, original.port(), session_limits, stop).await;
            let mut state = shared.lock();
            let dst_name = state.name_for(original);
            state.push_connection(ServiceEvent {
                time,
                end_time: Some(OffsetDateTime::now_utc()),
                transport: Transport::Tcp,
                client,
                original_dst: original,
                dst_name,
                protocol: record.protocol.unwrap_or(AppProtocol::Unknown),
                bytes_received: record.received,
                bytes_sent: record.sent,
                first_bytes_hex: hex::encode(&record.first_bytes),
                details: record.details,
            });
        });
    }
    let _ = timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// Receives catch-all datagrams on a blocking thread: `recvmsg` with control messages has no
/// safe tokio API, so the socket polls with a read timeout and checks for stop in between.
fn udp_loop(
    socket: &std::net::UdpSocket,
    limits: Limits,
    shared: &Shared,
    stop: &watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 65535];
    while !*stop.borrow() {
        match recv_with_original_dst(socket, &mut buf) {
            Ok((len, client, original)) => {
                record_datagram(shared, &buf[..len], client, original, limits.record_bytes);
            }
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(err) => {
                tracing::warn!(error = %err, "catch-all UDP receive failed");
                std::thread::sleep(UDP_POLL_INTERVAL);
            }
        }
    }
}

fn recv_with_original_dst(
    socket: &std::net::UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, SocketAddr)> {
    let mut cmsg = nix::cmsg_space!(nix::libc::sockaddr_in);
    let mut iov = [IoSliceMut::new(buf)];
    let message = socket::recvmsg::<SockaddrIn>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::empty(),
    )
    .map_err(io::Error::from)?;
    let client = message
        .address
        .map(|addr| SocketAddr::V4(SocketAddrV4::from(addr)))
        .ok_or_else(|| io::Error::other("datagram without a source address"))?;
    let mut original = None;
    for control in message.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::Ipv4OrigDstAddr(raw) = control {
            original = Some(SocketAddr::V4(SocketAddrV4::from(SockaddrIn::from(raw))));
        }
    }
    let original = original.ok_or_else(|| io::Error::other("datagram without IP_ORIGDSTADDR"))?;
    Ok((message.bytes, client, original))
}

/// Records a datagram, merged into one event per client and original destination.
fn record_datagram(
    shared: &Shared,
    data: &[u8],
    client: SocketAddr,
    original: SocketAddr,
    record_bytes: usize,
) {
    let mut state = shared.lock();
    if let Some(&index) = state.udp_flows.get(&(client, original)) {
        let event = &mut state.connections[index];
        event.bytes_received += data.len() as u64;
        let have = event.first_bytes_hex.len() / 2;
        let room = record_bytes.saturating_sub(have).min(data.len());
        event.first_bytes_hex.push_str(&hex::encode(&data[..room]));
        event.end_time = Some(OffsetDateTime::now_utc());
        return;
    }
    let dst_name = state.name_for(original);
    let index = state.connections.len();
    state.push_connection(ServiceEvent {
        time: OffsetDateTime::now_utc(),
        end_time: None,
        transport: Transport::Udp,
        client,
        original_dst: original,
        dst_name,
        protocol: AppProtocol::Unknown,
        bytes_received: data.len() as u64,
        bytes_sent: 0,
        first_bytes_hex: hex::encode(&data[..record_bytes.min(data.len())]),
        details: ProtocolDetails::None,
    });
    if state.connections.len() > index {
        state.udp_flows.insert((client, original), index);
    }
}
