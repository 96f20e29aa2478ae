//! The client's address. Forwarding headers are believed only when the
//! direct peer is a configured trusted proxy; anything malformed falls back
//! to the peer address, so a bad header can never move a client into a zone
//! (SECURITY.md E1).

use ipnet::IpNet;
use std::net::IpAddr;

/// Longest forwarding header we parse; longer ones are ignored whole.
const MAX_HEADER: usize = 2048;

/// Walks `X-Forwarded-For` from the right, skipping trusted proxies; the
/// first untrusted hop is the client.
#[must_use]
pub fn resolve(peer: IpAddr, xff: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(xff) = xff.filter(|h| h.len() <= MAX_HEADER) else {
        return peer;
    };
    let mut hops = Vec::new();
    for part in xff.split(',') {
        match parse_hop(part.trim()) {
            Some(ip) => hops.push(ip),
            None => return peer,
        }
    }
    for ip in hops.iter().rev() {
        if !is_trusted(ip) {
            return *ip;
        }
    }
    hops.first().copied().unwrap_or(peer)
}

/// One address: IPv4, IPv6, or `[IPv6]`; no ports, no zone ids.
fn parse_hop(s: &str) -> Option<IpAddr> {
    let s = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    if s.contains('%') {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(v: &[&str]) -> Vec<IpNet> {
        v.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn forwarded_headers_only_from_trusted_peers() {
        let t = nets(&["127.0.0.1/32", "10.9.0.0/16"]);
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let out: IpAddr = "203.0.113.5".parse().unwrap();
        assert_eq!(
            resolve(out, Some("10.1.1.1"), &t),
            out,
            "untrusted peer cannot spoof"
        );
        assert_eq!(
            resolve(lo, Some("198.51.100.7"), &t),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            resolve(lo, Some("198.51.100.7, 10.9.0.3"), &t),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            resolve(lo, Some("10.1.1.1, 198.51.100.7"), &t),
            "198.51.100.7".parse::<IpAddr>().unwrap(),
            "left-most spoof ignored"
        );
        assert_eq!(
            resolve(lo, Some("[2001:db8::1]"), &t),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn malformed_values_fall_back_to_the_peer() {
        let t = nets(&["127.0.0.1/32"]);
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        for bad in [
            "a",
            "",
            "1.2.3.4:80",
            "fe80::1%eth0",
            "1.2.3.4,,5.6.7.8",
            &"1".repeat(4096),
        ] {
            assert_eq!(resolve(lo, Some(bad), &t), lo, "{bad:?}");
        }
    }
}
