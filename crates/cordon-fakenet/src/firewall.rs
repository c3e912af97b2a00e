//! The nftables ruleset of the fakenet namespace.

/// Firewall mark that sends TPROXY'd UDP datagrams to the local routing table.
pub(crate) const TPROXY_MARK: u32 = 1;

/// Routing table that delivers marked datagrams locally.
pub(crate) const TPROXY_TABLE: u32 = 100;

/// Ports of the local services that the ruleset redirects to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServicePorts {
    pub dns: u16,
    pub tcp_catch_all: u16,
    pub udp_catch_all: u16,
}

/// Builds the ruleset for `nft -f`.
///
/// Only traffic that arrives on the fakenet side of the veth is redirected. DNS (port 53, any
/// destination address) goes to the sinkhole by NAT redirect, every other TCP destination goes
/// to the TCP catch-all by NAT redirect (original destination readable with `SO_ORIGINAL_DST`),
/// and every other UDP datagram goes to the UDP catch-all by TPROXY (original destination
/// readable with `IP_RECVORIGDSTADDR`). Forwarding is dropped in every case, and so is any
/// packet the namespace would send out of an interface other than the veth or `lo`.
pub(crate) fn ruleset(veth: &str, ports: ServicePorts) -> String {
    let ServicePorts {
        dns,
        tcp_catch_all,
        udp_catch_all,
    } = ports;
    format!(
        r#"table inet cordon_fakenet
delete table inet cordon_fakenet
table inet cordon_fakenet {{
  chain prerouting_nat {{
    type nat hook prerouting priority dstnat; policy accept;
    iifname "{veth}" meta nfproto ipv4 udp dport 53 counter redirect to :{dns}
    iifname "{veth}" meta nfproto ipv4 tcp dport 53 counter redirect to :{dns}
    iifname "{veth}" meta nfproto ipv4 meta l4proto tcp counter redirect to :{tcp_catch_all}
  }}
  chain prerouting_mangle {{
    type filter hook prerouting priority mangle; policy accept;
    iifname "{veth}" meta nfproto ipv4 udp dport != 53 counter tproxy ip to :{udp_catch_all} meta mark set {TPROXY_MARK}
  }}
  chain input {{
    type filter hook input priority filter; policy accept;
    iifname "{veth}" meta nfproto ipv6 counter drop
  }}
  chain forward {{
    type filter hook forward priority filter; policy drop;
    counter drop
  }}
  chain output {{
    type filter hook output priority filter; policy drop;
    oifname "lo" accept
    oifname "{veth}" meta nfproto ipv4 accept
    counter drop
  }}
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruleset_drops_forwarding_and_redirects() {
        let text = ruleset(
            "cfnxf",
            ServicePorts {
                dns: 53,
                tcp_catch_all: 1000,
                udp_catch_all: 1001,
            },
        );
        assert!(text.contains("hook forward priority filter; policy drop;"));
        assert!(text.contains("udp dport 53 counter redirect to :53"));
        assert!(text.contains("meta l4proto tcp counter redirect to :1000"));
        assert!(text.contains("tproxy ip to :1001 meta mark set 1"));
    }
}
