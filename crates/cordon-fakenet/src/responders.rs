//! Small protocol responders for the TCP catch-all. Each replies just enough for the client
//! to reveal its next request, and records what it parsed.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::timeout;

use crate::report::{AppProtocol, HttpRequest, ProtocolDetails};
use crate::sniff::{classify, parse_client_hello, parse_http_head, tls_record_len};

/// Maximum length of a line or an HTTP head that a responder buffers.
const MAX_LINE: usize = 16 * 1024;

/// Maximum number of items kept in each list of [`ProtocolDetails`].
const MAX_ITEMS: usize = 32;

/// Maximum length of a recorded string field, in bytes.
const MAX_FIELD: usize = 512;

/// Body of the script served for paths ending in `.sh`: it only prints a marker.
pub const SCRIPT_MARKER_BODY: &str = "#!/bin/sh\necho cordon-fakenet-marker\n";

/// Body served for every other HTTP path.
const HTML_BODY: &str = "<html><head><title>Welcome</title></head><body><p>OK</p></body></html>\n";

/// SSH identification string the responder sends.
const SSH_BANNER: &[u8] = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";

/// Limits of one responder session.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionLimits {
    /// Bytes of the client's data kept for the record.
    pub record_bytes: usize,
    /// Bytes read from the client before the connection is closed.
    pub max_bytes: u64,
    /// Time without data from the client before the connection is closed.
    pub idle: Duration,
    /// Time to wait for the client's first bytes before the port decides the protocol.
    pub first_data_wait: Duration,
}

/// Protocol fields and byte counts recorded by one session.
#[derive(Debug, Default)]
pub(crate) struct SessionRecord {
    pub protocol: Option<AppProtocol>,
    pub first_bytes: Vec<u8>,
    pub received: u64,
    pub sent: u64,
    pub details: ProtocolDetails,
}

struct Session<S> {
    stream: S,
    pending: Vec<u8>,
    limits: SessionLimits,
    record: SessionRecord,
    eof: bool,
    stop: watch::Receiver<bool>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    /// Reads more bytes into `pending`; returns false on end of stream, idle timeout, error,
    /// or when the byte limit is reached.
    async fn fill(&mut self, wait: Duration) -> bool {
        if self.eof || self.record.received >= self.limits.max_bytes {
            self.eof = true;
            return false;
        }
        if *self.stop.borrow() {
            self.eof = true;
            return false;
        }
        let mut chunk = [0u8; 4096];
        let read = tokio::select! {
            read = timeout(wait, self.stream.read(&mut chunk)) => read,
            _ = self.stop.changed() => {
                self.eof = true;
                return false;
            }
        };
        match read {
            Ok(Ok(n)) if n > 0 => {
                let data = &chunk[..n];
                let room = self
                    .limits
                    .record_bytes
                    .saturating_sub(self.record.first_bytes.len());
                self.record
                    .first_bytes
                    .extend_from_slice(&data[..room.min(n)]);
                self.record.received += n as u64;
                self.pending.extend_from_slice(data);
                true
            }
            Ok(_) => {
                self.eof = true;
                false
            }
            Err(_) => false,
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> bool {
        match self.stream.write_all(bytes).await {
            Ok(()) => {
                self.record.sent += bytes.len() as u64;
                true
            }
            Err(_) => {
                self.eof = true;
                false
            }
        }
    }

    /// Returns the next line without its line ending, reading as needed.
    async fn read_line(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                let text = String::from_utf8_lossy(&line);
                return Some(text.trim_end_matches(['\r', '\n']).to_string());
            }
            if self.pending.len() > MAX_LINE {
                let line: Vec<u8> = std::mem::take(&mut self.pending);
                return Some(String::from_utf8_lossy(&line).into_owned());
            }
            if !self.fill(self.limits.idle).await {
                return None;
            }
        }
    }

    /// Discards `count` bytes of the stream.
    async fn skip(&mut self, mut count: usize) -> bool {
        loop {
            let take = count.min(self.pending.len());
            self.pending.drain(..take);
            count -= take;
            if count == 0 {
                return true;
            }
            if !self.fill(self.limits.idle).await {
                return false;
            }
        }
    }

    /// Reads and discards everything until the client closes or goes idle.
    async fn hold(&mut self) {
        self.pending.clear();
        while self.fill(self.limits.idle).await {
            self.pending.clear();
        }
    }
}

/// Serves one redirected TCP connection and returns what it recorded.
pub(crate) async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    dst_port: u16,
    limits: SessionLimits,
    stop: watch::Receiver<bool>,
) -> SessionRecord {
    let mut session = Session {
        stream,
        pending: Vec::new(),
        limits,
        record: SessionRecord::default(),
        eof: false,
        stop,
    };

    let server_first = match dst_port {
        22 | 2222 => Some(AppProtocol::Ssh),
        25 | 465 | 587 | 2525 => Some(AppProtocol::Smtp),
        _ => None,
    };
    let protocol = match server_first {
        Some(protocol) => protocol,
        None => loop {
            if let Some(protocol) = classify(&session.pending) {
                break protocol;
            }
            if !session.fill(limits.first_data_wait).await {
                break AppProtocol::Unknown;
            }
        },
    };
    session.record.protocol = Some(protocol);

    match protocol {
        AppProtocol::Http => serve_http(&mut session).await,
        AppProtocol::Tls => serve_tls(&mut session).await,
        AppProtocol::Stratum => serve_stratum(&mut session).await,
        AppProtocol::Irc => serve_irc(&mut session).await,
        AppProtocol::Smtp => serve_smtp(&mut session).await,
        AppProtocol::Ssh => serve_ssh(&mut session).await,
        AppProtocol::Dns | AppProtocol::Unknown => session.hold().await,
    }
    session.record
}

fn cap(text: &str) -> String {
    let mut end = text.len().min(MAX_FIELD);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

fn push_capped<T>(items: &mut Vec<T>, item: T) {
    if items.len() < MAX_ITEMS {
        items.push(item);
    }
}

async fn serve_http<S: AsyncRead + AsyncWrite + Unpin>(session: &mut Session<S>) {
    let mut requests = Vec::new();
    loop {
        let head = loop {
            match parse_http_head(&session.pending) {
                Ok(Some(head)) => break Some(head),
                Ok(None) if session.pending.len() < MAX_LINE => {
                    if !session.fill(session.limits.idle).await {
                        break None;
                    }
                }
                _ => break None,
            }
        };
        let Some(head) = head else { break };
        session.pending.drain(..head.head_len);
        push_capped(
            &mut requests,
            HttpRequest {
                method: cap(&head.method),
                path: cap(&head.path),
                host: head.host.as_deref().map(cap),
                user_agent: head.user_agent.as_deref().map(cap),
            },
        );
        let path = head.path.split(['?', '#']).next().unwrap_or_default();
        let (content_type, body) = if path.ends_with(".sh") {
            ("text/x-sh", SCRIPT_MARKER_BODY)
        } else {
            ("text/html", HTML_BODY)
        };
        let body = if head.method.eq_ignore_ascii_case("HEAD") {
            ""
        } else {
            body
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n{body}",
            if body.is_empty() { HTML_BODY.len() } else { body.len() },
            if head.close { "close" } else { "keep-alive" },
        );
        if !session.send(response.as_bytes()).await || head.close {
            break;
        }
        if !session.skip(head.content_length).await {
            break;
        }
    }
    session.record.details = ProtocolDetails::Http { requests };
}

async fn serve_tls<S: AsyncRead + AsyncWrite + Unpin>(session: &mut Session<S>) {
    loop {
        if let Some(len) = tls_record_len(&session.pending) {
            if session.pending.len() >= len || len > MAX_LINE {
                break;
            }
        }
        if !session.fill(session.limits.idle).await {
            break;
        }
    }
    let hello = parse_client_hello(&session.pending).unwrap_or_default();
    session.record.details = ProtocolDetails::Tls {
        sni: hello.sni.as_deref().map(cap),
        alpn: hello.alpn.iter().map(|p| cap(p)).collect(),
    };
    // Fatal handshake_failure alert (RFC 8446 section 6): the client sees a server that
    // rejected the handshake rather than a dead address.
    session
        .send(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
        .await;
}

/// Builds a fake mining job: a zero block template with an easy difficulty target.
fn stratum_job() -> Value {
    json!({
        "blob": "0".repeat(152),
        "job_id": "1",
        "target": "ffff0000",
        "algo": "rx/0",
        "height": 3_000_000,
        "seed_hash": "0".repeat(64),
    })
}

async fn serve_stratum<S: AsyncRead + AsyncWrite + Unpin>(session: &mut Session<S>) {
    let mut methods = Vec::new();
    let mut login = None;
    let mut pass = None;
    let mut agent = None;
    while let Some(line) = session.read_line().await {
        if line.trim().is_empty() {
            continue;
        }
        let Ok(request) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let method = request
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let params = request.get("params").cloned().unwrap_or(Value::Null);
        push_capped(&mut methods, cap(&method));
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(cap);

        let mut replies = Vec::new();
        match method.as_str() {
            "login" => {
                login = text(params.get("login")).or(login);
                pass = text(params.get("pass")).or(pass);
                agent = text(params.get("agent")).or(agent);
                replies.push(json!({
                    "id": id, "jsonrpc": "2.0", "error": null,
                    "result": {
                        "id": "1", "job": stratum_job(), "status": "OK",
                        "extensions": ["algo", "nicehash", "connect", "keepalive"],
                    },
                }));
            }
            "getjob" => replies.push(json!({"id": id, "jsonrpc": "2.0", "error": null, "result": stratum_job()})),
            "submit" => replies.push(json!({"id": id, "jsonrpc": "2.0", "error": null, "result": {"status": "OK"}})),
            "keepalived" => replies.push(json!({"id": id, "jsonrpc": "2.0", "error": null, "result": {"status": "KEEPALIVED"}})),
            "mining.subscribe" => {
                agent = text(params.get(0)).or(agent);
                replies.push(json!({
                    "id": id, "error": null,
                    "result": [[["mining.set_difficulty", "1"], ["mining.notify", "1"]], "08000002", 4],
                }));
            }
            "mining.authorize" => {
                login = text(params.get(0)).or(login);
                pass = text(params.get(1)).or(pass);
                replies.push(json!({"id": id, "error": null, "result": true}));
                replies.push(json!({"id": null, "method": "mining.set_difficulty", "params": [1]}));
                replies.push(json!({
                    "id": null, "method": "mining.notify",
                    "params": ["1", "0".repeat(64), "01000000010000", "ffffffff", [], "20000000", "1d00ffff", "00000000", true],
                }));
            }
            "mining.submit" => replies.push(json!({"id": id, "error": null, "result": true})),
            _ => replies.push(json!({"id": id, "error": null, "result": null})),
        }
        let mut out = String::new();
        for reply in replies {
            out.push_str(&reply.to_string());
            out.push('\n');
        }
        if !session.send(out.as_bytes()).await {
            break;
        }
    }
    session.record.details = ProtocolDetails::Stratum {
        methods,
        login,
        pass,
        agent,
    };
}

async fn serve_irc<S: AsyncRead + AsyncWrite + Unpin>(session: &mut Session<S>) {
    let mut nick: Option<String> = None;
    let mut user: Option<String> = None;
    let mut joins = Vec::new();
    let mut messages = Vec::new();
    let mut welcomed = false;
    session
        .send(b":irc.local NOTICE * :*** Looking up your hostname...\r\n")
        .await;
    while let Some(line) = session.read_line().await {
        let (command, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let mut reply = String::new();
        let current_nick = nick.clone().unwrap_or_else(|| "*".into());
        match command.to_ascii_uppercase().as_str() {
            "NICK" => nick = Some(cap(rest.trim_start_matches(':'))),
            "USER" => user = Some(cap(rest)),
            "JOIN" => {
                for channel in rest.split(' ').next().unwrap_or_default().split(',') {
                    if !channel.is_empty() {
                        push_capped(&mut joins, cap(channel));
                        reply.push_str(&format!(":{current_nick}!user@host JOIN :{channel}\r\n"));
                    }
                }
            }
            "PRIVMSG" | "NOTICE" => push_capped(&mut messages, cap(&line)),
            "PING" => reply.push_str(&format!("PONG {rest}\r\n")),
            "QUIT" => break,
            _ => {}
        }
        if !welcomed && nick.is_some() && user.is_some() {
            welcomed = true;
            let nick = nick.clone().unwrap_or_default();
            reply.push_str(&format!(
                ":irc.local 001 {nick} :Welcome to the IRC Network {nick}\r\n:irc.local 002 {nick} :Your host is irc.local\r\n:irc.local 376 {nick} :End of /MOTD command.\r\n"
            ));
        }
        if !reply.is_empty() && !session.send(reply.as_bytes()).await {
            break;
        }
    }
    session.record.details = ProtocolDetails::Irc {
        nick,
        user,
        joins,
        messages,
    };
}

async fn serve_smtp<S: AsyncRead + AsyncWrite + Unpin>(session: &mut Session<S>) {
    let mut helo = None;
    let mut mail_from = None;
    let mut rcpt_to = Vec::new();
    let mut data_bytes = 0u64;
    if session
        .send(b"220 mx1 ESMTP Postfix (Debian/GNU)\r\n")
        .await
    {
        while let Some(line) = session.read_line().await {
            let upper = line.to_ascii_uppercase();
            let argument = |prefix: &str| cap(line[prefix.len().min(line.len())..].trim());
            let reply: &[u8] = if upper.starts_with("EHLO") {
                helo = Some(argument("EHLO"));
                b"250-mx1\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("HELO") {
                helo = Some(argument("HELO"));
                b"250 mx1\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                mail_from = Some(argument("MAIL FROM:"));
                b"250 2.1.0 Ok\r\n"
            } else if upper.starts_with("RCPT TO:") {
                push_capped(&mut rcpt_to, argument("RCPT TO:"));
                b"250 2.1.5 Ok\r\n"
            } else if upper.starts_with("DATA") {
                if !session
                    .send(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                {
                    break;
                }
                while let Some(data_line) = session.read_line().await {
                    if data_line == "." {
                        break;
                    }
                    data_bytes += data_line.len() as u64 + 2;
                }
                b"250 2.0.0 Ok: queued as 4F2A1C0123\r\n"
            } else if upper.starts_with("AUTH") {
                b"235 2.7.0 Authentication successful\r\n"
            } else if upper.starts_with("STARTTLS") {
                b"454 4.7.0 TLS not available due to local problem\r\n"
            } else if upper.starts_with("QUIT") {
                session.send(b"221 2.0.0 Bye\r\n").await;
                break;
            } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
                b"250 2.0.0 Ok\r\n"
            } else {
                b"502 5.5.2 Error: command not recognized\r\n"
            };
            if !session.send(reply).await {
                break;
            }
        }
    }
    session.record.details = ProtocolDetails::Smtp {
        helo,
        mail_from,
        rcpt_to,
        data_bytes,
    };
}

async fn serve_ssh<S: AsyncRead + AsyncWrite + Unpin>(session: &mut Session<S>) {
    session.send(SSH_BANNER).await;
    let client_banner = session.read_line().await.map(|line| cap(&line));
    session.record.details = ProtocolDetails::Ssh { client_banner };
    session.hold().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    fn limits() -> SessionLimits {
        SessionLimits {
            record_bytes: 4096,
            max_bytes: 1 << 20,
            idle: Duration::from_secs(2),
            first_data_wait: Duration::from_millis(200),
        }
    }

    async fn exchange(port: u16, input: &[u8]) -> (SessionRecord, Vec<u8>) {
        let (mut client, server) = duplex(1 << 16);
        let (stop_tx, stop) = watch::channel(false);
        let task = tokio::spawn(async move { serve(server, port, limits(), stop).await });
        client.write_all(input).await.unwrap();
        client.shutdown().await.unwrap();
        let mut output = Vec::new();
        client.read_to_end(&mut output).await.unwrap();
        let record = task.await.unwrap();
        drop(stop_tx);
        (record, output)
    }

    #[tokio::test]
    async fn http_script_path_gets_marker() {
        let (record, output) = exchange(
            80,
            b"GET /cmd.sh HTTP/1.1\r\nHost: dl.example.org\r\nUser-Agent: Wget/1.21\r\n\r\n",
        )
        .await;
        let output = String::from_utf8(output).unwrap();
        assert!(output.starts_with("HTTP/1.1 200 OK\r\n"), "{output}");
        assert!(output.ends_with(SCRIPT_MARKER_BODY));
        let ProtocolDetails::Http { requests } = record.details else {
            panic!("not http: {:?}", record.details);
        };
        assert_eq!(requests[0].host.as_deref(), Some("dl.example.org"));
        assert_eq!(requests[0].user_agent.as_deref(), Some("Wget/1.21"));
        assert_eq!(requests[0].path, "/cmd.sh");
    }

    #[tokio::test]
    async fn stratum_login_gets_job() {
        let (record, output) = exchange(
            3333,
            b"{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"44wallet\",\"pass\":\"x\",\"agent\":\"XMRig/6.21.0\"}}\n",
        )
        .await;
        let reply: Value =
            serde_json::from_slice(output.split(|b| *b == b'\n').next().unwrap()).unwrap();
        assert_eq!(reply["id"], 1);
        assert_eq!(reply["result"]["job"]["job_id"], "1");
        assert_eq!(record.protocol, Some(AppProtocol::Stratum));
        let ProtocolDetails::Stratum { login, agent, .. } = record.details else {
            panic!("not stratum");
        };
        assert_eq!(login.as_deref(), Some("44wallet"));
        assert_eq!(agent.as_deref(), Some("XMRig/6.21.0"));
    }

    #[tokio::test]
    async fn irc_registration_recorded() {
        let (record, output) =
            exchange(6667, b"NICK bot123\r\nUSER bot 0 * :bot\r\nJOIN #cmd\r\n").await;
        let output = String::from_utf8(output).unwrap();
        assert!(output.contains(" 001 bot123 "), "{output}");
        assert!(output.contains("JOIN :#cmd"), "{output}");
        let ProtocolDetails::Irc { nick, joins, .. } = record.details else {
            panic!("not irc");
        };
        assert_eq!(nick.as_deref(), Some("bot123"));
        assert_eq!(joins, vec!["#cmd"]);
    }

    #[tokio::test]
    async fn smtp_envelope_recorded() {
        let (record, output) = exchange(
            25,
            b"EHLO host\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
        )
        .await;
        let output = String::from_utf8(output).unwrap();
        assert!(output.starts_with("220 "));
        assert!(output.contains("250 2.0.0 Ok: queued"));
        let ProtocolDetails::Smtp {
            mail_from, rcpt_to, ..
        } = record.details
        else {
            panic!("not smtp");
        };
        assert_eq!(mail_from.as_deref(), Some("<a@example.org>"));
        assert_eq!(rcpt_to, vec!["<b@example.org>"]);
    }

    #[tokio::test]
    async fn tls_client_hello_sni_recorded() {
        let hello = crate::sniff::tests::client_hello("c2.example.org");
        let (record, output) = exchange(443, &hello).await;
        assert_eq!(output[0], 0x15, "alert record expected");
        let ProtocolDetails::Tls { sni, alpn } = record.details else {
            panic!("not tls");
        };
        assert_eq!(sni.as_deref(), Some("c2.example.org"));
        assert_eq!(alpn, vec!["h2", "http/1.1"]);
    }

    #[tokio::test]
    async fn unknown_bytes_held_and_recorded() {
        let (record, output) = exchange(4444, &[0xde, 0xad, 0xbe, 0xef, 0, 1]).await;
        assert!(output.is_empty());
        assert_eq!(record.protocol, Some(AppProtocol::Unknown));
        assert_eq!(record.first_bytes, vec![0xde, 0xad, 0xbe, 0xef, 0, 1]);
    }

    #[tokio::test]
    async fn record_limited_to_configured_bytes() {
        let (mut client, server) = duplex(1 << 16);
        let small = SessionLimits {
            record_bytes: 8,
            max_bytes: 100,
            ..limits()
        };
        let (stop_tx, stop) = watch::channel(false);
        let task = tokio::spawn(async move { serve(server, 9999, small, stop).await });
        client.write_all(&[7u8; 1000]).await.unwrap();
        let record = task.await.unwrap();
        drop(stop_tx);
        assert_eq!(record.first_bytes.len(), 8);
        assert!(record.received <= 1000);
    }
}
