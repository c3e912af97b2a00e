//! Decoder of the fakenet's pcapng capture into flows and DNS events.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_file::pcapng::{Block, PcapNgReader};
use time::OffsetDateTime;

use crate::dns::parse_message;
use crate::error::{Error, Result};
use crate::report::{AppProtocol, DnsEvent, Flow, Transport};
use crate::sniff::{classify, parse_client_hello, parse_http_head};

/// Bytes of each TCP direction kept in order for protocol sniffing and DNS over TCP.
const STREAM_KEEP: usize = 64 * 1024;

/// Bytes of the first payload shown in hex.
const FIRST_PAYLOAD_HEX: usize = 256;

/// Flows and DNS messages decoded from a capture.
#[derive(Debug, Default, Clone)]
pub struct Decoded {
    /// Flows in order of their first packet.
    pub flows: Vec<Flow>,
    /// DNS queries with the answer matched by client, server and id.
    pub dns: Vec<DnsEvent>,
    /// Packets on port 53 that did not parse as DNS.
    pub non_dns_on_port_53: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FlowKey {
    protocol: u8,
    client: SocketAddr,
    server: SocketAddr,
}

/// One direction of a TCP stream, reassembled in order from its first payload.
#[derive(Debug, Default)]
struct Stream {
    next_seq: Option<u32>,
    data: Vec<u8>,
}

impl Stream {
    fn push(&mut self, seq: u32, syn: bool, payload: &[u8]) {
        if syn {
            self.next_seq = Some(seq.wrapping_add(1));
        }
        if payload.is_empty() {
            return;
        }
        let expected = *self.next_seq.get_or_insert(seq);
        // Retransmissions and out-of-order segments are skipped: only the in-order prefix
        // matters for sniffing the first request.
        if seq != expected || self.data.len() >= STREAM_KEEP {
            return;
        }
        let room = STREAM_KEEP - self.data.len();
        self.data
            .extend_from_slice(&payload[..room.min(payload.len())]);
        self.next_seq = Some(seq.wrapping_add(payload.len() as u32));
    }
}

#[derive(Debug)]
struct FlowState {
    flow: Flow,
    to_server: Stream,
    to_client: Stream,
}

/// Decodes the pcapng file at `path`; `fake_names` maps fake addresses back to names.
pub fn decode_pcapng(path: &Path, fake_names: &BTreeMap<Ipv4Addr, String>) -> Result<Decoded> {
    let pcap_error = |reason: String| Error::Pcap {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|err| Error::io(path, err))?;
    let mut reader =
        PcapNgReader::new(BufReader::new(file)).map_err(|err| pcap_error(err.to_string()))?;

    let mut flows: Vec<FlowState> = Vec::new();
    let mut index: HashMap<FlowKey, usize> = HashMap::new();
    let mut dns_messages: Vec<DnsMessage> = Vec::new();
    let mut decoded = Decoded::default();

    while let Some(block) = reader.next_block() {
        let block = block.map_err(|err| pcap_error(err.to_string()))?;
        let Block::EnhancedPacket(packet) = block else {
            continue;
        };
        let time = OffsetDateTime::from_unix_timestamp_nanos(packet.timestamp.as_nanos() as i128)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let Ok(sliced) = SlicedPacket::from_ethernet(&packet.data) else {
            continue;
        };
        let (src_ip, dst_ip, ip_protocol, ip_len) = match &sliced.net {
            Some(NetSlice::Ipv4(ipv4)) => (
                IpAddr::V4(ipv4.header().source_addr()),
                IpAddr::V4(ipv4.header().destination_addr()),
                ipv4.header().protocol().0,
                u64::from(ipv4.header().total_len()),
            ),
            Some(NetSlice::Ipv6(ipv6)) => (
                IpAddr::V6(ipv6.header().source_addr()),
                IpAddr::V6(ipv6.header().destination_addr()),
                ipv6.payload().ip_number.0,
                u64::from(ipv6.header().payload_length()) + 40,
            ),
            _ => continue,
        };
        let (transport, src_port, dst_port, payload, tcp) = match &sliced.transport {
            Some(TransportSlice::Tcp(tcp)) => (
                Transport::Tcp,
                tcp.source_port(),
                tcp.destination_port(),
                tcp.payload(),
                Some((tcp.sequence_number(), tcp.syn(), tcp.ack())),
            ),
            Some(TransportSlice::Udp(udp)) => (
                Transport::Udp,
                udp.source_port(),
                udp.destination_port(),
                udp.payload(),
                None,
            ),
            Some(TransportSlice::Icmpv4(_)) | Some(TransportSlice::Icmpv6(_)) => {
                (Transport::Icmp, 0, 0, &[][..], None)
            }
            Some(TransportSlice::Igmp(_)) | None => (Transport::Other, 0, 0, &[][..], None),
        };
        let src = SocketAddr::new(src_ip, src_port);
        let dst = SocketAddr::new(dst_ip, dst_port);

        // The flow's client is the sender of its first packet, or of a bare SYN.
        let forward = FlowKey {
            protocol: ip_protocol,
            client: src,
            server: dst,
        };
        let reverse = FlowKey {
            protocol: ip_protocol,
            client: dst,
            server: src,
        };
        let (slot, to_server) = if let Some(&slot) = index.get(&forward) {
            (slot, true)
        } else if let Some(&slot) = index.get(&reverse) {
            (slot, false)
        } else {
            let slot = flows.len();
            let dst_name = match dst_ip {
                IpAddr::V4(v4) => fake_names.get(&v4).cloned(),
                IpAddr::V6(_) => None,
            };
            flows.push(FlowState {
                flow: Flow {
                    protocol: transport,
                    ip_protocol,
                    src_ip,
                    src_port,
                    dst_ip,
                    dst_port,
                    dst_name,
                    first_time: time,
                    last_time: time,
                    packets: 0,
                    bytes: 0,
                    bytes_to_server: 0,
                    bytes_to_client: 0,
                    first_payload_hex: None,
                    app_protocol: AppProtocol::Unknown,
                    sni: None,
                    alpn: Vec::new(),
                    http_host: None,
                    http_path: None,
                },
                to_server: Stream::default(),
                to_client: Stream::default(),
            });
            index.insert(forward, slot);
            (slot, true)
        };
        let state = &mut flows[slot];
        state.flow.packets += 1;
        state.flow.bytes += ip_len;
        state.flow.last_time = time;
        if to_server {
            state.flow.bytes_to_server += payload.len() as u64;
            if state.flow.first_payload_hex.is_none() && !payload.is_empty() {
                state.flow.first_payload_hex = Some(hex::encode(
                    &payload[..payload.len().min(FIRST_PAYLOAD_HEX)],
                ));
            }
        } else {
            state.flow.bytes_to_client += payload.len() as u64;
        }
        if let Some((seq, syn, _ack)) = tcp {
            let stream = if to_server {
                &mut state.to_server
            } else {
                &mut state.to_client
            };
            stream.push(seq, syn, payload);
        }

        if transport == Transport::Udp && (src_port == 53 || dst_port == 53) {
            match parse_message(payload) {
                Some(message) => dns_messages.push((time, Transport::Udp, src, dst, message)),
                None => decoded.non_dns_on_port_53 += 1,
            }
        }
    }

    for state in &mut flows {
        finish_flow(state, &mut dns_messages, &mut decoded.non_dns_on_port_53);
    }
    decoded.flows = flows.into_iter().map(|state| state.flow).collect();
    decoded.dns = pair_dns(dns_messages);
    Ok(decoded)
}

type DnsMessage = (
    OffsetDateTime,
    Transport,
    SocketAddr,
    SocketAddr,
    crate::dns::ParsedMessage,
);

/// Fills the protocol fields of a finished flow and extracts DNS over TCP.
fn finish_flow(state: &mut FlowState, dns: &mut Vec<DnsMessage>, non_dns: &mut u64) {
    let flow = &mut state.flow;
    let client = SocketAddr::new(flow.src_ip, flow.src_port);
    let server = SocketAddr::new(flow.dst_ip, flow.dst_port);
    if flow.dst_port == 53 && matches!(flow.protocol, Transport::Udp | Transport::Tcp) {
        flow.app_protocol = AppProtocol::Dns;
    }
    if flow.protocol == Transport::Tcp && flow.dst_port == 53 {
        let time = flow.first_time;
        for (bytes, src, dst) in [
            (&state.to_server.data, client, server),
            (&state.to_client.data, server, client),
        ] {
            let mut rest = &bytes[..];
            while rest.len() >= 2 {
                let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                if rest.len() < 2 + len {
                    break;
                }
                match parse_message(&rest[2..2 + len]) {
                    Some(message) => dns.push((time, Transport::Tcp, src, dst, message)),
                    None => *non_dns += 1,
                }
                rest = &rest[2 + len..];
            }
        }
        return;
    }
    if flow.protocol != Transport::Tcp || flow.app_protocol == AppProtocol::Dns {
        return;
    }
    let data = &state.to_server.data;
    flow.app_protocol = classify(data).unwrap_or(AppProtocol::Unknown);
    match flow.app_protocol {
        AppProtocol::Tls => {
            if let Some(hello) = parse_client_hello(data) {
                flow.sni = hello.sni;
                flow.alpn = hello.alpn;
            }
        }
        AppProtocol::Http => {
            if let Ok(Some(head)) = parse_http_head(data) {
                flow.http_host = head.host;
                flow.http_path = Some(head.path);
            }
        }
        _ => {}
    }
    if flow.app_protocol == AppProtocol::Unknown && data.is_empty() {
        flow.app_protocol = match flow.dst_port {
            22 => AppProtocol::Ssh,
            25 | 465 | 587 => AppProtocol::Smtp,
            _ => AppProtocol::Unknown,
        };
    }
}

/// Pairs each query with the first response from its server to its client with the same id.
fn pair_dns(messages: Vec<DnsMessage>) -> Vec<DnsEvent> {
    let mut events: Vec<DnsEvent> = Vec::new();
    let mut open: HashMap<(SocketAddr, SocketAddr, u16), usize> = HashMap::new();
    for (time, transport, src, dst, message) in messages {
        if !message.is_response {
            open.insert((src, dst, message.id), events.len());
            events.push(DnsEvent {
                time,
                transport,
                client: src,
                server: dst,
                id: message.id,
                name: message.name,
                qtype: message.qtype,
                rcode: None,
                answers: Vec::new(),
            });
        } else if let Some(slot) = open.remove(&(dst, src, message.id)) {
            events[slot].rcode = Some(message.rcode);
            events[slot].answers = message.answers;
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::str::FromStr;
    use std::time::Duration;

    use etherparse::PacketBuilder;
    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::rr::{Name, RecordType};
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::DataLink;

    use super::*;
    use crate::dns::{answer_query, FakeNames};

    const CLIENT: [u8; 4] = [10, 66, 0, 2];
    const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];

    fn udp(src: ([u8; 4], u16), dst: ([u8; 4], u16), payload: &[u8]) -> Vec<u8> {
        let mut frame = Vec::new();
        PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4(src.0, dst.0, 64)
            .udp(src.1, dst.1)
            .write(&mut frame, payload)
            .unwrap();
        frame
    }

    fn tcp(
        src: ([u8; 4], u16),
        dst: ([u8; 4], u16),
        seq: u32,
        syn: bool,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut frame = Vec::new();
        let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4(src.0, dst.0, 64)
            .tcp(src.1, dst.1, seq, 64240);
        let builder = if syn { builder.syn() } else { builder.ack(1) };
        builder.write(&mut frame, payload).unwrap();
        frame
    }

    fn query(name: &str, id: u16) -> Vec<u8> {
        let mut message = Message::new();
        message
            .set_id(id)
            .set_message_type(MessageType::Query)
            .set_op_code(OpCode::Query)
            .add_query(Query::query(Name::from_str(name).unwrap(), RecordType::A));
        message.to_vec().unwrap()
    }

    fn write_pcapng(path: &Path, frames: &[Vec<u8>]) {
        let mut writer = PcapNgWriter::new(File::create(path).unwrap()).unwrap();
        writer
            .write_pcapng_block(InterfaceDescriptionBlock {
                linktype: DataLink::ETHERNET,
                snaplen: 65535,
                options: vec![],
            })
            .unwrap();
        for (index, frame) in frames.iter().enumerate() {
            writer
                .write_pcapng_block(EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp: Duration::from_millis(1_700_000_000_000 + index as u64),
                    original_len: frame.len() as u32,
                    data: Cow::Borrowed(frame),
                    options: vec![],
                })
                .unwrap();
        }
    }

    #[test]
    fn decoder_pairs_dns_and_sniffs_http() {
        let mut names = FakeNames::new(Ipv4Addr::new(10, 200, 0, 0), 16);
        let question = query("c2.example.org.", 5);
        let answer = answer_query(&question, &mut names).unwrap().response;
        let server = ([8, 8, 8, 8], 53);
        let web = ([10, 200, 0, 1], 80);
        let request = b"GET /a.sh HTTP/1.1\r\nHost: c2.example.org\r\n\r\n";
        let frames = vec![
            udp((CLIENT, 40000), server, &question),
            udp(server, (CLIENT, 40000), &answer),
            // A DNS message on a port other than 53 is not DNS for the decoder.
            udp(
                (CLIENT, 40001),
                ([10, 200, 0, 1], 5353),
                &query("other.example.org.", 6),
            ),
            // Non-DNS data on port 53 is counted, not parsed.
            udp((CLIENT, 40002), server, b"not dns at all"),
            tcp((CLIENT, 50000), web, 100, true, &[]),
            tcp((CLIENT, 50000), web, 101, false, &request[..10]),
            // A retransmission of the first segment does not duplicate data.
            tcp((CLIENT, 50000), web, 101, false, &request[..10]),
            tcp((CLIENT, 50000), web, 111, false, &request[10..]),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.pcapng");
        write_pcapng(&path, &frames);

        let decoded = decode_pcapng(&path, names.map()).unwrap();

        assert_eq!(decoded.dns.len(), 1, "{:?}", decoded.dns);
        assert_eq!(decoded.dns[0].name, "c2.example.org");
        assert_eq!(decoded.dns[0].answers, vec!["10.200.0.1"]);
        assert_eq!(decoded.dns[0].server, SocketAddr::from(([8, 8, 8, 8], 53)));
        assert_eq!(decoded.non_dns_on_port_53, 1);

        let http = decoded.flows.iter().find(|f| f.dst_port == 80).unwrap();
        assert_eq!(http.app_protocol, AppProtocol::Http);
        assert_eq!(http.http_host.as_deref(), Some("c2.example.org"));
        assert_eq!(http.http_path.as_deref(), Some("/a.sh"));
        assert_eq!(http.dst_name.as_deref(), Some("c2.example.org"));
        assert_eq!(http.packets, 4);
        assert_eq!(http.bytes_to_server, (request.len() + 10) as u64);

        let dns_flow = decoded
            .flows
            .iter()
            .find(|f| f.dst_port == 53 && f.src_port == 40000)
            .unwrap();
        assert_eq!(dns_flow.app_protocol, AppProtocol::Dns);
        assert_eq!(dns_flow.packets, 2);
        let mdns = decoded.flows.iter().find(|f| f.dst_port == 5353).unwrap();
        assert_eq!(mdns.app_protocol, AppProtocol::Unknown);
    }

    #[test]
    fn decoder_rejects_non_pcapng_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.pcapng");
        std::fs::write(&path, b"this is not a capture").unwrap();
        let err = decode_pcapng(&path, &BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("bad.pcapng"), "{err}");
    }
}
