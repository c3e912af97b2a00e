//! Protocol recognition from the first bytes of a flow, shared by the responders and the
//! capture decoder.

use tls_parser::{
    parse_tls_client_hello_extensions, parse_tls_plaintext, TlsExtension, TlsMessage,
    TlsMessageHandshake,
};

use crate::report::AppProtocol;

/// HTTP methods that start a request line.
const HTTP_METHODS: &[&str] = &[
    "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",
];

/// Guesses the application protocol from the first bytes a client sent.
///
/// Returns `None` when the bytes are too short to decide and more may follow.
pub(crate) fn classify(first: &[u8]) -> Option<AppProtocol> {
    if first.is_empty() {
        return None;
    }
    if first.len() >= 2 && first[0] == 0x16 && first[1] == 0x03 {
        return Some(AppProtocol::Tls);
    }
    let upper: Vec<u8> = first.iter().take(8).map(u8::to_ascii_uppercase).collect();
    for method in HTTP_METHODS {
        let method = method.as_bytes();
        if first.starts_with(method) {
            return Some(AppProtocol::Http);
        }
        if method.starts_with(first) {
            return None;
        }
    }
    if first.starts_with(b"SSH-") {
        return Some(AppProtocol::Ssh);
    }
    let trimmed = first
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |start| &first[start..]);
    if trimmed.first() == Some(&b'{') {
        return Some(AppProtocol::Stratum);
    }
    for command in [&b"NICK "[..], b"USER ", b"PASS ", b"CAP "] {
        if upper.starts_with(command) {
            return Some(AppProtocol::Irc);
        }
    }
    for command in [&b"EHLO"[..], b"HELO"] {
        if upper.starts_with(command) {
            return Some(AppProtocol::Smtp);
        }
    }
    if first.len() < 4 && first.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    Some(AppProtocol::Unknown)
}

/// Fields of a TLS ClientHello.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ClientHello {
    pub sni: Option<String>,
    pub alpn: Vec<String>,
}

/// Returns how many bytes the first TLS record needs in total, once its header is known.
pub(crate) fn tls_record_len(bytes: &[u8]) -> Option<usize> {
    if bytes.len() < 5 {
        return None;
    }
    Some(5 + usize::from(u16::from_be_bytes([bytes[3], bytes[4]])))
}

/// Parses the ClientHello in the first TLS record; `None` when it is not one.
pub(crate) fn parse_client_hello(bytes: &[u8]) -> Option<ClientHello> {
    let (_, record) = parse_tls_plaintext(bytes).ok()?;
    for message in &record.msg {
        let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello)) = message else {
            continue;
        };
        let mut fields = ClientHello::default();
        let Some(ext) = hello.ext else {
            return Some(fields);
        };
        let Ok((_, extensions)) = parse_tls_client_hello_extensions(ext) else {
            return Some(fields);
        };
        for extension in extensions {
            match extension {
                TlsExtension::SNI(names) => {
                    fields.sni = names
                        .first()
                        .map(|(_, name)| String::from_utf8_lossy(name).into_owned());
                }
                TlsExtension::ALPN(protocols) => {
                    fields.alpn = protocols
                        .iter()
                        .map(|p| String::from_utf8_lossy(p).into_owned())
                        .collect();
                }
                _ => {}
            }
        }
        return Some(fields);
    }
    None
}

/// Request line and headers of an HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpHead {
    pub method: String,
    pub path: String,
    pub host: Option<String>,
    pub user_agent: Option<String>,
    pub content_length: usize,
    pub close: bool,
    pub head_len: usize,
}

/// Parses an HTTP request head.
///
/// Returns `Ok(None)` when the head is incomplete and `Err(())` when the bytes are not HTTP.
#[allow(clippy::result_unit_err)]
pub(crate) fn parse_http_head(bytes: &[u8]) -> Result<Option<HttpHead>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let status = request.parse(bytes).map_err(|_| ())?;
    let httparse::Status::Complete(head_len) = status else {
        return Ok(None);
    };
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).into_owned())
    };
    let content_length = header("content-length")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let close = request.version == Some(0)
        || header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    Ok(Some(HttpHead {
        method: request.method.unwrap_or_default().to_string(),
        path: request.path.unwrap_or_default().to_string(),
        host: header("host"),
        user_agent: header("user-agent"),
        content_length,
        close,
        head_len,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A TLS 1.2 ClientHello with SNI `c2.example.org` and ALPN `h2`, `http/1.1`, built from
    /// the record layout of RFC 8446 section 4.1.2 and RFC 6066/7301 extensions.
    pub(crate) fn client_hello(sni: &str) -> Vec<u8> {
        let mut ext = Vec::new();
        let name = sni.as_bytes();
        let mut sni_ext = Vec::new();
        sni_ext.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        sni_ext.push(0);
        sni_ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni_ext.extend_from_slice(name);
        ext.extend_from_slice(&0u16.to_be_bytes());
        ext.extend_from_slice(&(sni_ext.len() as u16).to_be_bytes());
        ext.extend_from_slice(&sni_ext);
        let mut alpn_list = Vec::new();
        for proto in [&b"h2"[..], b"http/1.1"] {
            alpn_list.push(proto.len() as u8);
            alpn_list.extend_from_slice(proto);
        }
        ext.extend_from_slice(&16u16.to_be_bytes());
        ext.extend_from_slice(&((alpn_list.len() + 2) as u16).to_be_bytes());
        ext.extend_from_slice(&(alpn_list.len() as u16).to_be_bytes());
        ext.extend_from_slice(&alpn_list);

        let mut body = Vec::new();
        body.extend_from_slice(&[0x03, 0x03]);
        body.extend_from_slice(&[0x42; 32]);
        body.push(0);
        body.extend_from_slice(&[0x00, 0x02, 0xc0, 0x2f]);
        body.extend_from_slice(&[0x01, 0x00]);
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
    fn client_hello_sni_and_alpn_parsed() {
        let hello = parse_client_hello(&client_hello("c2.example.org")).unwrap();
        assert_eq!(hello.sni.as_deref(), Some("c2.example.org"));
        assert_eq!(hello.alpn, vec!["h2", "http/1.1"]);
    }

    #[test]
    fn truncated_client_hello_not_parsed() {
        let bytes = client_hello("c2.example.org");
        assert_eq!(parse_client_hello(&bytes[..20]), None);
    }

    #[test]
    fn classify_recognises_protocols() {
        assert_eq!(classify(b"GET / HTTP/1.1\r\n"), Some(AppProtocol::Http));
        assert_eq!(classify(b"GE"), None);
        assert_eq!(classify(&client_hello("x")), Some(AppProtocol::Tls));
        assert_eq!(
            classify(b"{\"id\":1,\"method\":\"login\"}\n"),
            Some(AppProtocol::Stratum)
        );
        assert_eq!(classify(b"NICK bot\r\n"), Some(AppProtocol::Irc));
        assert_eq!(classify(b"EHLO x\r\n"), Some(AppProtocol::Smtp));
        assert_eq!(classify(b"SSH-2.0-Go\r\n"), Some(AppProtocol::Ssh));
        assert_eq!(classify(&[0, 1, 2, 3, 4]), Some(AppProtocol::Unknown));
    }

    #[test]
    fn http_head_fields_parsed() {
        let head = parse_http_head(
            b"GET /x.sh HTTP/1.1\r\nHost: dl.example.org\r\nUser-Agent: curl/8\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.path, "/x.sh");
        assert_eq!(head.host.as_deref(), Some("dl.example.org"));
        assert_eq!(head.user_agent.as_deref(), Some("curl/8"));
        assert!(!head.close);
        assert_eq!(parse_http_head(b"GET / HTTP/1.1\r\nHost: a"), Ok(None));
        assert_eq!(parse_http_head(b"\x00\x01 garbage\r\n\r\n"), Err(()));
    }
}
