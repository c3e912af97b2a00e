//! Serializable records that a fakenet run produces.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Everything a fakenet run observed, returned by [`crate::FakeNet::stop`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetReport {
    /// Run id the fakenet was started with.
    pub run_id: String,
    /// The pcapng file with every frame seen on the fakenet side of the veth pair.
    pub pcap_path: PathBuf,
    /// Packet, byte and drop counters of the capture.
    pub capture: CaptureStats,
    /// DNS queries and the answers on the wire, decoded from the capture (UDP and TCP, any
    /// resolver address, only packets to or from port 53 that parse as DNS).
    pub dns: Vec<DnsEvent>,
    /// Flows decoded from the capture, one per 5-tuple, in order of their first packet.
    pub flows: Vec<Flow>,
    /// Queries as the DNS sinkhole logged them, with the answer it sent.
    pub sinkhole: Vec<DnsEvent>,
    /// Connections and datagrams as the catch-all listeners recorded them.
    pub connections: Vec<ServiceEvent>,
    /// Fake address handed out by the sinkhole for each name.
    pub fake_names: BTreeMap<Ipv4Addr, String>,
    /// Counters of events that limits or parsers discarded.
    pub discarded: DiscardCounters,
}

/// Counters of the packet capture.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CaptureStats {
    /// Frames written to the pcapng file.
    pub packets: u64,
    /// Bytes of the frames on the wire (before truncation to the snap length).
    pub bytes: u64,
    /// Frames the kernel dropped because the capture socket's receive buffer was full, as
    /// reported by `SO_RXQ_OVFL` with the last frame received.
    pub kernel_drops: u64,
    /// Frames longer than the snap length, stored truncated.
    pub truncated: u64,
}

/// Transport protocol of a DNS message or a flow.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP (flows only).
    Icmp,
    /// Any other IP protocol (flows only).
    Other,
}

/// One DNS query and the answer to it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DnsEvent {
    /// When the query was received or captured.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// UDP or TCP.
    pub transport: Transport,
    /// Address and port of the client that asked.
    pub client: SocketAddr,
    /// Resolver address and port the client sent the query to, as the capture shows it. The
    /// sinkhole's own log has the original destination for TCP but its bound address
    /// (`0.0.0.0:53`) for UDP, because NAT redirect hides the original UDP destination.
    pub server: SocketAddr,
    /// DNS message id.
    pub id: u16,
    /// Queried name, lower case, without the trailing dot.
    pub name: String,
    /// Query type as its mnemonic (`A`, `AAAA`, `TXT`...).
    #[serde(rename = "type")]
    pub qtype: String,
    /// Response code of the answer (`NoError`...), or `None` when no answer was seen.
    pub rcode: Option<String>,
    /// Answer records in presentation form (`10.200.0.1`, `10 mail.example.org.`...).
    pub answers: Vec<String>,
}

/// One flow decoded from the capture.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flow {
    /// Transport protocol.
    pub protocol: Transport,
    /// IP protocol number.
    pub ip_protocol: u8,
    /// Address of the side that sent the first packet (the analysed container).
    pub src_ip: IpAddr,
    /// Source port, 0 for protocols without ports.
    pub src_port: u16,
    /// Original destination address, as the container addressed it.
    pub dst_ip: IpAddr,
    /// Destination port, 0 for protocols without ports.
    pub dst_port: u16,
    /// Name the sinkhole handed out `dst_ip` for, if it is a fake address.
    pub dst_name: Option<String>,
    /// Time of the first packet.
    #[serde(with = "time::serde::rfc3339")]
    pub first_time: OffsetDateTime,
    /// Time of the last packet.
    #[serde(with = "time::serde::rfc3339")]
    pub last_time: OffsetDateTime,
    /// Packets in both directions.
    pub packets: u64,
    /// IP bytes in both directions.
    pub bytes: u64,
    /// Payload bytes the container sent.
    pub bytes_to_server: u64,
    /// Payload bytes the container received.
    pub bytes_to_client: u64,
    /// First payload bytes the container sent, in hex (at most 256 bytes).
    pub first_payload_hex: Option<String>,
    /// Application protocol guessed from the first payload and the port.
    pub app_protocol: AppProtocol,
    /// TLS server name from the ClientHello.
    pub sni: Option<String>,
    /// TLS ALPN protocols from the ClientHello.
    pub alpn: Vec<String>,
    /// HTTP `Host` header of the first request.
    pub http_host: Option<String>,
    /// HTTP path of the first request.
    pub http_path: Option<String>,
}

/// Application protocol recognised on a flow or a connection.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum AppProtocol {
    /// DNS on port 53.
    Dns,
    /// HTTP/1.x.
    Http,
    /// TLS (ClientHello seen).
    Tls,
    /// Stratum mining JSON-RPC.
    Stratum,
    /// IRC.
    Irc,
    /// SMTP.
    Smtp,
    /// SSH.
    Ssh,
    /// Nothing recognised, or no payload.
    Unknown,
}

/// One connection or datagram that a catch-all listener handled.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServiceEvent {
    /// When the connection was accepted or the datagram received.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// When the connection was closed (TCP only).
    #[serde(with = "time::serde::rfc3339::option")]
    pub end_time: Option<OffsetDateTime>,
    /// TCP or UDP.
    pub transport: Transport,
    /// The container's address and port.
    pub client: SocketAddr,
    /// Destination the container addressed before the redirect.
    pub original_dst: SocketAddr,
    /// Name the sinkhole handed out the destination address for, if it is a fake address.
    pub dst_name: Option<String>,
    /// Protocol the responder recognised.
    pub protocol: AppProtocol,
    /// Bytes received from the container (counted beyond the recorded prefix too).
    pub bytes_received: u64,
    /// Bytes sent back to the container.
    pub bytes_sent: u64,
    /// First bytes received, in hex, up to the configured limit.
    pub first_bytes_hex: String,
    /// What the responder parsed from the protocol.
    pub details: ProtocolDetails,
}

/// Protocol fields recorded by a responder.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ProtocolDetails {
    /// Nothing parsed.
    #[default]
    None,
    /// HTTP requests on the connection.
    Http {
        /// Requests in order (at most 32).
        requests: Vec<HttpRequest>,
    },
    /// TLS ClientHello fields.
    Tls {
        /// Server name indication.
        sni: Option<String>,
        /// ALPN protocol names.
        alpn: Vec<String>,
    },
    /// Stratum JSON-RPC fields.
    Stratum {
        /// Methods called, in order (at most 32).
        methods: Vec<String>,
        /// Wallet or worker login (`login` params or the first `mining.authorize` param).
        login: Option<String>,
        /// Password field of the login.
        pass: Option<String>,
        /// Miner user agent.
        agent: Option<String>,
    },
    /// IRC registration and channel commands.
    Irc {
        /// `NICK` argument.
        nick: Option<String>,
        /// `USER` line arguments.
        user: Option<String>,
        /// Channels joined (at most 32).
        joins: Vec<String>,
        /// `PRIVMSG` lines (at most 32).
        messages: Vec<String>,
    },
    /// SMTP envelope.
    Smtp {
        /// `HELO`/`EHLO` argument.
        helo: Option<String>,
        /// `MAIL FROM` argument.
        mail_from: Option<String>,
        /// `RCPT TO` arguments (at most 32).
        rcpt_to: Vec<String>,
        /// Bytes of message data received.
        data_bytes: u64,
    },
    /// SSH identification string of the client.
    Ssh {
        /// The client's `SSH-2.0-...` line.
        client_banner: Option<String>,
    },
}

/// One HTTP request recorded by the HTTP responder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HttpRequest {
    /// Request method.
    pub method: String,
    /// Request target (path and query).
    pub path: String,
    /// `Host` header.
    pub host: Option<String>,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
}

/// Counters of events that limits or parsers discarded.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DiscardCounters {
    /// TCP connections closed at once because the connection limit was reached.
    pub connections_rejected: u64,
    /// Events not recorded because the event limit was reached.
    pub events_dropped: u64,
    /// Messages on port 53 that did not parse as DNS (sinkhole and capture together).
    pub non_dns_on_port_53: u64,
}
