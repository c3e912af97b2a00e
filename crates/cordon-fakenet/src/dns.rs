//! DNS sinkhole logic: fake address pool and answers to queries.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::str::FromStr;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, MX, NS, PTR, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// TTL of every answer, in seconds.
const ANSWER_TTL: u32 = 60;

/// Hands out one fake IPv4 address per name from a pool, stable for the life of the run.
#[derive(Debug, Clone)]
pub struct FakeNames {
    base: u32,
    size: u32,
    next: u32,
    by_name: HashMap<String, Ipv4Addr>,
    by_addr: BTreeMap<Ipv4Addr, String>,
}

impl FakeNames {
    /// Creates a pool of the addresses in `network/prefix_len`, without the network and
    /// broadcast addresses.
    pub fn new(network: Ipv4Addr, prefix_len: u8) -> Self {
        let prefix_len = prefix_len.clamp(8, 30);
        let size = 1u32 << (32 - u32::from(prefix_len));
        let mask = !(size - 1);
        FakeNames {
            base: u32::from(network) & mask,
            size,
            next: 1,
            by_name: HashMap::new(),
            by_addr: BTreeMap::new(),
        }
    }

    /// Returns the address for `name`, allocating the next free one for a new name.
    ///
    /// When the pool is exhausted, allocation starts again at the first address, and the
    /// address then maps to the newest name.
    pub fn address_for(&mut self, name: &str) -> Ipv4Addr {
        let key = normalize_name(name);
        if let Some(addr) = self.by_name.get(&key) {
            return *addr;
        }
        let addr = Ipv4Addr::from(self.base + self.next);
        self.next += 1;
        if self.next >= self.size - 1 {
            self.next = 1;
        }
        if let Some(old) = self.by_addr.insert(addr, key.clone()) {
            self.by_name.remove(&old);
        }
        self.by_name.insert(key, addr);
        addr
    }

    /// Returns the name a fake address was handed out for.
    pub fn name_for(&self, addr: Ipv4Addr) -> Option<&str> {
        self.by_addr.get(&addr).map(String::as_str)
    }

    /// Returns the whole address-to-name map.
    pub fn map(&self) -> &BTreeMap<Ipv4Addr, String> {
        &self.by_addr
    }
}

/// Lower-cases a DNS name and strips the trailing dot.
pub fn normalize_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A parsed query and the response the sinkhole built for it.
#[derive(Debug)]
pub(crate) struct Answered {
    pub id: u16,
    pub name: String,
    pub qtype: String,
    pub rcode: String,
    pub answers: Vec<String>,
    pub response: Vec<u8>,
}

/// Parses a DNS query and builds the sinkhole's response.
///
/// Returns `None` for data that is not a DNS query (so the caller drops it without replying).
/// Every name gets an answer: `A` a fake address from `names`, `PTR` of a fake address the
/// name it was handed out for, `MX` and `NS` a host under the name, `TXT` an SPF-like string,
/// `SOA` a minimal record, and every other type an empty NOERROR response.
pub(crate) fn answer_query(packet: &[u8], names: &mut FakeNames) -> Option<Answered> {
    let query = Message::from_vec(packet).ok()?;
    if query.message_type() != MessageType::Query {
        return None;
    }
    let mut response = Message::new();
    response
        .set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_op_code(query.op_code())
        .set_recursion_desired(query.recursion_desired())
        .set_recursion_available(true)
        .set_authoritative(true);

    let (name, qtype) = match query.queries().first() {
        Some(first) => (first.name().clone(), first.query_type()),
        None => {
            response.set_response_code(ResponseCode::FormErr);
            let bytes = response.to_vec().ok()?;
            return Some(Answered {
                id: query.id(),
                name: String::new(),
                qtype: String::new(),
                rcode: ResponseCode::FormErr.to_string(),
                answers: Vec::new(),
                response: bytes,
            });
        }
    };
    if let Some(first) = query.queries().first() {
        response.add_query(first.clone());
    }

    let rcode = if query.op_code() == OpCode::Query {
        ResponseCode::NoError
    } else {
        ResponseCode::NotImp
    };
    response.set_response_code(rcode);

    let mut records = Vec::new();
    if rcode == ResponseCode::NoError {
        records = answer_records(&name, qtype, names);
    }
    let answers = records
        .iter()
        .map(|record| record.data().to_string())
        .collect();
    response.add_answers(records);

    let bytes = response.to_vec().ok()?;
    Some(Answered {
        id: query.id(),
        name: normalize_name(&name.to_ascii()),
        qtype: qtype.to_string(),
        rcode: rcode.to_string(),
        answers,
        response: bytes,
    })
}

fn answer_records(name: &Name, qtype: RecordType, names: &mut FakeNames) -> Vec<Record> {
    let text = normalize_name(&name.to_ascii());
    let record = |data: RData| Record::from_rdata(name.clone(), ANSWER_TTL, data);
    let child = |label: &str| Name::from_str(&format!("{label}.{text}.")).ok();
    match qtype {
        RecordType::A | RecordType::ANY => {
            vec![record(RData::A(A(names.address_for(&text))))]
        }
        RecordType::PTR => match reverse_to_ipv4(&text).and_then(|addr| names.name_for(addr)) {
            Some(target) => Name::from_str(&format!("{target}."))
                .map(|target| vec![record(RData::PTR(PTR(target)))])
                .unwrap_or_default(),
            None => Vec::new(),
        },
        RecordType::MX => child("mail")
            .map(|host| vec![record(RData::MX(MX::new(10, host)))])
            .unwrap_or_default(),
        RecordType::NS => child("ns1")
            .map(|host| vec![record(RData::NS(NS(host)))])
            .unwrap_or_default(),
        RecordType::TXT => vec![record(RData::TXT(TXT::new(vec!["v=spf1 -all".into()])))],
        RecordType::SOA => match (child("ns1"), child("hostmaster")) {
            (Some(mname), Some(rname)) => vec![record(RData::SOA(SOA::new(
                mname, rname, 1, 3600, 600, 86400, ANSWER_TTL,
            )))],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Parses `d.c.b.a.in-addr.arpa` into `a.b.c.d`.
fn reverse_to_ipv4(name: &str) -> Option<Ipv4Addr> {
    let labels = name.strip_suffix(".in-addr.arpa")?;
    let mut octets = [0u8; 4];
    let parts: Vec<&str> = labels.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    for (index, part) in parts.iter().rev().enumerate() {
        octets[index] = part.parse().ok()?;
    }
    Some(Ipv4Addr::from(octets))
}

/// Summary of one parsed DNS message, used by the capture decoder.
#[derive(Debug, Clone)]
pub(crate) struct ParsedMessage {
    pub id: u16,
    pub is_response: bool,
    pub name: String,
    pub qtype: String,
    pub rcode: String,
    pub answers: Vec<String>,
}

/// Parses any DNS message; returns `None` when the bytes are not DNS or carry no question.
pub(crate) fn parse_message(bytes: &[u8]) -> Option<ParsedMessage> {
    let message = Message::from_vec(bytes).ok()?;
    let query = message.queries().first()?;
    Some(ParsedMessage {
        id: message.id(),
        is_response: message.message_type() == MessageType::Response,
        name: normalize_name(&query.name().to_ascii()),
        qtype: query.query_type().to_string(),
        rcode: message.response_code().to_string(),
        answers: message
            .answers()
            .iter()
            .map(|record| record.data().to_string())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;

    fn query_bytes(name: &str, qtype: RecordType) -> Vec<u8> {
        let mut message = Message::new();
        message
            .set_id(0x1234)
            .set_message_type(MessageType::Query)
            .set_op_code(OpCode::Query)
            .set_recursion_desired(true)
            .add_query(Query::query(Name::from_str(name).unwrap(), qtype));
        message.to_vec().unwrap()
    }

    fn pool() -> FakeNames {
        FakeNames::new(Ipv4Addr::new(10, 200, 0, 0), 16)
    }

    #[test]
    fn a_query_gets_stable_fake_address() {
        let mut names = pool();
        let first =
            answer_query(&query_bytes("Pool.Minexmr.com.", RecordType::A), &mut names).unwrap();
        let again =
            answer_query(&query_bytes("pool.minexmr.com.", RecordType::A), &mut names).unwrap();
        let other = answer_query(&query_bytes("shodan.io.", RecordType::A), &mut names).unwrap();
        assert_eq!(first.name, "pool.minexmr.com");
        assert_eq!(first.qtype, "A");
        assert_eq!(first.answers, vec!["10.200.0.1"]);
        assert_eq!(again.answers, vec!["10.200.0.1"]);
        assert_eq!(other.answers, vec!["10.200.0.2"]);
        assert_eq!(
            names.name_for(Ipv4Addr::new(10, 200, 0, 1)),
            Some("pool.minexmr.com")
        );
    }

    #[test]
    fn response_echoes_id_and_question() {
        let mut names = pool();
        let answered =
            answer_query(&query_bytes("example.org.", RecordType::A), &mut names).unwrap();
        let response = Message::from_vec(&answered.response).unwrap();
        assert_eq!(response.id(), 0x1234);
        assert_eq!(response.message_type(), MessageType::Response);
        assert_eq!(response.queries()[0].name().to_ascii(), "example.org.");
        assert_eq!(response.answers().len(), 1);
    }

    #[test]
    fn aaaa_query_gets_empty_noerror() {
        let mut names = pool();
        let answered =
            answer_query(&query_bytes("example.org.", RecordType::AAAA), &mut names).unwrap();
        assert_eq!(answered.rcode, "No Error");
        assert!(answered.answers.is_empty());
    }

    #[test]
    fn other_types_get_plausible_answers() {
        let mut names = pool();
        let mx = answer_query(&query_bytes("example.org.", RecordType::MX), &mut names).unwrap();
        assert_eq!(mx.answers, vec!["10 mail.example.org."]);
        let txt = answer_query(&query_bytes("example.org.", RecordType::TXT), &mut names).unwrap();
        assert_eq!(txt.answers.len(), 1);
        let srv = answer_query(
            &query_bytes("_x._tcp.example.org.", RecordType::SRV),
            &mut names,
        )
        .unwrap();
        assert!(srv.answers.is_empty());
    }

    #[test]
    fn ptr_of_fake_address_returns_name() {
        let mut names = pool();
        answer_query(&query_bytes("c2.example.org.", RecordType::A), &mut names).unwrap();
        let ptr = answer_query(
            &query_bytes("1.0.200.10.in-addr.arpa.", RecordType::PTR),
            &mut names,
        )
        .unwrap();
        assert_eq!(ptr.answers, vec!["c2.example.org."]);
    }

    #[test]
    fn non_dns_bytes_are_not_answered() {
        let mut names = pool();
        for junk in [&b""[..], b"GET / HTTP/1.1\r\n\r\n", &[0xff; 3]] {
            assert!(
                answer_query(junk, &mut names).is_none(),
                "{junk:?} answered"
            );
        }
        let empty_question = answer_query(&[0u8; 12], &mut names).unwrap();
        assert_eq!(empty_question.rcode, ResponseCode::FormErr.to_string());
    }

    #[test]
    fn pool_wraps_when_exhausted() {
        let mut names = FakeNames::new(Ipv4Addr::new(10, 200, 0, 0), 30);
        let a = names.address_for("a");
        let b = names.address_for("b");
        let c = names.address_for("c");
        assert_eq!(a, Ipv4Addr::new(10, 200, 0, 1));
        assert_eq!(b, Ipv4Addr::new(10, 200, 0, 2));
        assert_eq!(c, a);
        assert_eq!(names.name_for(a), Some("c"));
    }
}
