//! The SSRF guard's rules: which addresses and names a fetch may reach.
//! Every address a name resolves to is checked, and the connection is then
//! pinned to exactly those addresses, so DNS cannot change its answer
//! between the check and the connect.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::AllowEntry;

/// Why an address is refused; the caller is told only that it is not public.
pub fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let why = match (a, b, c) {
        (0, _, _) => "unspecified (0.0.0.0/8)",
        (10, _, _) => "private (10.0.0.0/8)",
        (100, 64..=127, _) => "shared address space (100.64.0.0/10)",
        (127, _, _) => "loopback",
        (169, 254, _) => "link-local (169.254.0.0/16, cloud metadata)",
        (172, 16..=31, _) => "private (172.16.0.0/12)",
        (192, 0, 0) => "IETF protocol assignments (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (192, 88, 99) => "6to4 relay anycast",
        (192, 168, _) => "private (192.168.0.0/16)",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved or broadcast",
        _ => return None,
    };
    Some(why)
}

/// The IPv6 rules, including every form that embeds an IPv4 address
/// (mapped, compatible, NAT64, 6to4), judged by the address inside.
pub fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated).
    if s[..5] == [0; 5] && (s[5] == 0xffff || (s[4] == 0xffff && s[5] == 0)) {
        return refused_v4(v4_of(s[6], s[7]));
    }
    // ::a.b.c.d (compatible, deprecated): nothing public lives there.
    if s[..6] == [0; 6] {
        return Some("IPv4-compatible");
    }
    // 64:ff9b::a.b.c.d (NAT64 well-known prefix).
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return refused_v4(v4_of(s[6], s[7]));
    }
    // 64:ff9b:1::/48: NAT64 for local use.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
        return Some("local-use NAT64");
    }
    // 2002:a.b.c.d::/48 (6to4).
    if s[0] == 0x2002 {
        return refused_v4(v4_of(s[1], s[2]));
    }
    let why = match s[0] {
        0xfc00..=0xfdff => "unique local (fc00::/7)",
        0xfe80..=0xfebf => "link-local (fe80::/10)",
        0xfec0..=0xfeff => "site-local (fec0::/10)",
        0xff00..=0xffff => "multicast",
        0x0100 if s[1..4] == [0, 0, 0] => "discard-only (100::/64)",
        0x2001 if s[1] == 0 => "Teredo (2001::/32)",
        0x2001 if s[1] == 0x0db8 => "documentation (2001:db8::/32)",
        0x2001 if s[1] < 0x0200 => "IETF protocol assignments (2001::/23)",
        0x3fff if s[1] < 0x1000 => "documentation (3fff::/20)",
        // Only global unicast (2000::/3) is routed on the internet.
        x if !(0x2000..=0x3fff).contains(&x) => "not global unicast",
        _ => return None,
    };
    Some(why)
}

fn v4_of(hi: u16, lo: u16) -> Ipv4Addr {
    Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
}

/// Why `ip` may not be reached, or `None` when it is a public address.
pub fn refused(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

/// Names refused before any lookup: the metadata service's names and
/// everything under `localhost`, `internal` and `local`.
pub fn refused_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host == "metadata"
        || host.ends_with(".localhost")
        || host.ends_with(".internal")
        || host.ends_with(".local")
        || host.is_empty()
}

/// The deployment's exemptions (`FETCH_ALLOW`).
#[derive(Debug, Clone, Default)]
pub struct Allow {
    entries: Vec<AllowEntry>,
}

impl Allow {
    pub fn new(entries: Vec<AllowEntry>) -> Allow {
        Allow { entries }
    }

    pub fn host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.entries
            .iter()
            .any(|e| matches!(e, AllowEntry::Host(h) if *h == host))
    }

    /// True when some entry is a network (an address may still be allowed
    /// after the name is resolved).
    pub fn has_networks(&self) -> bool {
        self.entries.iter().any(|e| matches!(e, AllowEntry::Net(_)))
    }

    pub fn ip(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.entries
            .iter()
            .any(|e| matches!(e, AllowEntry::Net(net) if net.contains(&ip)))
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no(s: &str) -> bool {
        refused(s.parse().expect(s)).is_some()
    }

    #[test]
    fn private_and_special_ipv4_ranges_are_refused_and_public_ones_pass() {
        for bad in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.255",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.170",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(no(bad), "{bad} should be refused");
        }
        for good in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.1.1",
            "193.0.0.1",
        ] {
            assert!(!no(good), "{good} should pass");
        }
    }

    #[test]
    fn ipv6_forms_that_embed_a_private_ipv4_are_refused() {
        for bad in [
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::ffff:0:127.0.0.1",
            "::127.0.0.1",
            "::8.8.8.8",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:db8::1",
            "3fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "100::1",
            "4000::1",
        ] {
            assert!(no(bad), "{bad} should be refused");
        }
        for good in [
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!no(good), "{good} should pass");
        }
    }

    #[test]
    fn metadata_and_local_names_are_refused_before_any_lookup() {
        for bad in [
            "localhost",
            "LOCALHOST.",
            "metadata",
            "metadata.google.internal",
            "metadata.google.internal.",
            "api.localhost",
            "printer.local",
        ] {
            assert!(refused_name(bad), "{bad}");
        }
        assert!(!refused_name("example.com"));
        assert!(!refused_name("internal.example.com"));
    }

    #[test]
    fn the_allow_list_matches_hosts_and_networks_including_mapped_addresses() {
        let allow = Allow::new(
            crate::config::parse_allow("Files.Example, 10.1.0.0/16, 127.0.0.1").expect("parse"),
        );
        assert!(allow.host("files.example"));
        assert!(allow.host("FILES.example."));
        assert!(!allow.host("example"));
        assert!(allow.ip("10.1.200.3".parse().expect("ip")));
        assert!(!allow.ip("10.2.0.1".parse().expect("ip")));
        assert!(allow.ip("127.0.0.1".parse().expect("ip")));
        assert!(allow.ip("::ffff:127.0.0.1".parse().expect("ip")));
        assert!(!allow.ip("127.0.0.2".parse().expect("ip")));
        assert!(crate::config::parse_allow("10.0.0.0/99").is_err());
        assert!(crate::config::parse_allow("http://x/").is_err());
    }
}
