//! Which target databases a deployed function may connect to (ARCHITECTURE.md,
//! "Decisions so far"; issue 6).
//!
//! Owns the allowlist (`TARGET_ALLOWED_HOSTS`: host names, `*.suffix` wildcards, IP
//! addresses and CIDR ranges, each optionally with a port: `db.internal:5432`,
//! `10.0.0.0/8:5432`, `[2001:db8::/32]:5432`) and the rules that
//! - loopback, link-local (which holds the cloud metadata service), unspecified and other
//!   special addresses are refused unless an entry names them explicitly;
//! - the cloud metadata addresses, IPv6 link-local, multicast, documentation and other
//!   special IPv6 ranges, and every IPv6 spelling that embeds a special IPv4 address
//!   (IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4
//!   `2002::/16`, Teredo `2001::/32`; IPv4-mapped `::ffff:a.b.c.d` is judged as the IPv4
//!   address itself) are refused whatever the allowlist says.
//!
//! Host names are resolved here, every address is checked, and the connection is then
//! pinned to the checked addresses so a second DNS answer cannot point it elsewhere. A
//! refusal names the host as the caller gave it, never the address it resolved to, and
//! says the same whether a name does not resolve or resolves somewhere not allowed (no
//! internal-DNS oracle). It must never connect to anything itself, and never let a
//! target through when an allowlist is configured and any check fails.

use std::net::IpAddr;

/// One allowlist entry and the port it is limited to (`None`: any port).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    kind: EntryKind,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum EntryKind {
    /// Exact host name, lowercase.
    Host(String),
    /// `*.example.com`: any host ending in `.example.com`, lowercase.
    Suffix(String),
    /// An address range (a single address is a /32 or /128).
    Net(IpAddr, u8),
}

/// The configured allowlist; empty means "no allowlist" (local development).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    entries: Vec<Entry>,
}

/// Why a target was refused. Names the host (not a secret), never the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn parse_net(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a.parse::<IpAddr>().ok()?, Some(b.parse::<u8>().ok()?)),
        None => (s.parse::<IpAddr>().ok()?, None),
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((addr, bits))
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits as u32)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits as u32)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V4(_)) => a
            .to_ipv4_mapped()
            .is_some_and(|v4| in_net(IpAddr::V4(v4), net, bits)),
        _ => false,
    }
}

/// Address blocks a target may reach only when an entry lies inside one: loopback,
/// link-local (169.254.0.0/16 holds the cloud metadata service), unspecified,
/// multicast, broadcast, and the IPv6 equivalents incl. AWS's fd00:ec2::254.
const SPECIAL_BLOCKS: &[(&str, u8)] = &[
    ("127.0.0.0", 8),
    ("169.254.0.0", 16),
    ("0.0.0.0", 8),
    ("224.0.0.0", 4),
    ("240.0.0.0", 4),
    ("::1", 128),
    ("::", 128),
    ("fe80::", 10),
    ("ff00::", 8),
    ("fd00:ec2::254", 128),
];

fn special_blocks() -> impl Iterator<Item = (IpAddr, u8)> {
    blocks(SPECIAL_BLOCKS)
}

fn blocks(list: &'static [(&'static str, u8)]) -> impl Iterator<Item = (IpAddr, u8)> {
    list.iter()
        .filter_map(|(a, bits)| Some((a.parse::<IpAddr>().ok()?, *bits)))
}

/// Address blocks no entry can admit: the cloud metadata and credential endpoints, and
/// the IPv6 ranges no database lives in (link-local, multicast, discard, documentation,
/// site-local, the IETF protocol block that holds Teredo is handled by [`embedded_v4`]).
const NEVER_BLOCKS: &[(&str, u8)] = &[
    ("169.254.169.254", 32),
    ("169.254.170.2", 32),
    ("169.254.170.23", 32),
    ("fd00:ec2::", 32),
    // Local-use NAT64 (RFC 8215) may embed an IPv4 address at any RFC 6052 position.
    ("64:ff9b:1::", 48),
    ("::", 128),
    ("fe80::", 10),
    ("fec0::", 10),
    ("ff00::", 8),
    ("100::", 64),
    ("2001:db8::", 32),
    ("3fff::", 20),
];

/// The IPv4 address an IPv6 address embeds by a translation or tunnelling convention:
/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`), 6to4
/// (`2002:aabb:ccdd::/48`) and Teredo (`2001:0::/32`, the client address inverted in
/// the last 32 bits; the server address too). IPv4-mapped is not here: it is the IPv4
/// address itself (see `in_net`).
fn embedded_v4(ip: std::net::Ipv6Addr) -> Vec<std::net::Ipv4Addr> {
    let bits = u128::from(ip);
    let seg = ip.segments();
    let v4 = |x: u32| std::net::Ipv4Addr::from(x);
    let low = bits as u32;
    let mut out = Vec::new();
    if bits >> 32 == 0 && bits > 1 {
        out.push(v4(low)); // ::a.b.c.d
    }
    if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
        out.push(v4(low)); // 64:ff9b::/96
    }
    if seg[0] == 0x2002 {
        out.push(v4((u32::from(seg[1]) << 16) | u32::from(seg[2]))); // 6to4
    }
    if seg[0] == 0x2001 && seg[1] == 0 {
        out.push(v4(!low)); // Teredo client
        out.push(v4((u32::from(seg[2]) << 16) | u32::from(seg[3]))); // Teredo server
    }
    out
}

/// True for an address in one of the special blocks (IPv4-mapped IPv6 included).
pub fn is_special(ip: IpAddr) -> bool {
    special_blocks().any(|(net, bits)| in_net(ip, net, bits))
}

/// True for an address no allowlist entry can admit: [`NEVER_BLOCKS`], or an IPv6
/// address embedding a special IPv4 address.
pub fn is_never_allowed(ip: IpAddr) -> bool {
    if blocks(NEVER_BLOCKS).any(|(net, bits)| in_net(ip, net, bits)) {
        return true;
    }
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => embedded_v4(v6)
            .into_iter()
            .any(|v4| is_special(IpAddr::V4(v4)) || is_never_allowed(IpAddr::V4(v4))),
        _ => false,
    }
}

/// True when the whole range `net/bits` lies inside one special block, i.e. an entry
/// that names special addresses on purpose (`127.0.0.1`, `127.0.0.0/8`), unlike
/// `0.0.0.0/0`.
fn range_is_special(net: IpAddr, bits: u8) -> bool {
    special_blocks()
        .any(|(b, bbits)| bits >= bbits && net.is_ipv4() == b.is_ipv4() && in_net(net, b, bbits))
}

impl TargetPolicy {
    /// Parses `TARGET_ALLOWED_HOSTS`: comma- or space-separated entries, each optionally
    /// followed by `:port` (an IPv6 address or range with a port goes in brackets).
    pub fn parse(spec: &str) -> Result<TargetPolicy, String> {
        let mut entries = Vec::new();
        for raw in spec
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let bad = || {
                format!("TARGET_ALLOWED_HOSTS: not a host, address or CIDR (with an optional :port): {raw:?}")
            };
            let e = raw.to_ascii_lowercase();
            // A bare IPv6 address or range has colons of its own and no port.
            let (body, port) = if parse_net(&e).is_some() {
                (e.clone(), None)
            } else if let Some(rest) = e.strip_prefix('[') {
                let (inside, after) = rest.split_once(']').ok_or_else(bad)?;
                let port = match after {
                    "" => None,
                    p => Some(p.strip_prefix(':').ok_or_else(bad)?),
                };
                (inside.to_string(), port.map(str::to_string))
            } else if let Some((host, p)) = e.rsplit_once(':') {
                (host.to_string(), Some(p.to_string()))
            } else {
                (e.clone(), None)
            };
            let port = match port {
                None => None,
                Some(p) => Some(
                    p.parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| format!("TARGET_ALLOWED_HOSTS: bad port in {raw:?}"))?,
                ),
            };
            let kind = if let Some((ip, bits)) = parse_net(&body) {
                EntryKind::Net(ip, bits)
            } else if let Some(suffix) = body.strip_prefix("*.") {
                if suffix.is_empty() || suffix.contains(['*', '/', ':']) {
                    return Err(format!("TARGET_ALLOWED_HOSTS: bad wildcard {raw:?}"));
                }
                EntryKind::Suffix(format!(".{suffix}"))
            } else if body.is_empty()
                || body.contains(['/', '*', ':', '[', ']'])
                || body.chars().any(|c| c.is_control())
            {
                return Err(bad());
            } else {
                EntryKind::Host(body)
            };
            entries.push(Entry { kind, port });
        }
        Ok(TargetPolicy { entries })
    }

    pub fn is_configured(&self) -> bool {
        !self.entries.is_empty()
    }

    fn host_listed(&self, host: &str, port: u16) -> bool {
        self.entries.iter().any(|e| {
            e.port.is_none_or(|p| p == port)
                && match &e.kind {
                    EntryKind::Host(h) => h == host,
                    EntryKind::Suffix(s) => host.ends_with(s.as_str()),
                    EntryKind::Net(..) => false,
                }
        })
    }

    /// True when some range entry could admit an address (so resolving a name that no
    /// name entry lists is worth it).
    fn has_ranges(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e.kind, EntryKind::Net(..)))
    }

    /// An address passes when a range covers it (on the port), or when its host name is
    /// listed; a special address only when a range lying inside the special ranges
    /// covers it (so `0.0.0.0/0` never admits loopback or the metadata service); the
    /// never-allowed addresses never.
    fn address_allowed(&self, ip: IpAddr, port: u16, host_listed: bool) -> bool {
        if is_never_allowed(ip) {
            return false;
        }
        let explicit = self.entries.iter().any(|e| match e.kind {
            EntryKind::Net(net, bits) => {
                e.port.is_none_or(|p| p == port)
                    && in_net(ip, net, bits)
                    && (!is_special(ip) || range_is_special(net, bits))
            }
            _ => false,
        });
        if is_special(ip) {
            return explicit;
        }
        explicit || host_listed
    }

    /// Checks every host of a target (as tokio-postgres parsed it) and returns the
    /// addresses to pin the connection to, in order. With no allowlist configured,
    /// returns no pins (connect as usual). Never opens a connection.
    pub async fn check(&self, config: &tokio_postgres::Config) -> Result<Vec<IpAddr>, Refused> {
        if !self.is_configured() {
            return Ok(Vec::new());
        }
        let ports = config.get_ports();
        let mut pinned = Vec::new();
        for (i, host) in config.get_hosts().iter().enumerate() {
            let host = match host {
                tokio_postgres::config::Host::Tcp(h) => h.to_ascii_lowercase(),
                tokio_postgres::config::Host::Unix(_) => {
                    return Err(Refused("Unix-socket targets are not allowed here".into()))
                }
            };
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            let refused = || {
                Refused(format!(
                    "target host {host:?} on port {port} is not on this service's allowlist (TARGET_ALLOWED_HOSTS)"
                ))
            };
            let listed = self.host_listed(&host, port);
            let addrs: Vec<IpAddr> = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
                Ok(ip) => vec![ip],
                // A name no entry lists and no range could admit: refused unresolved.
                Err(_) if !listed && !self.has_ranges() => return Err(refused()),
                Err(_) => match tokio::net::lookup_host((host.as_str(), port)).await {
                    Ok(a) => a.map(|a| a.ip()).collect(),
                    Err(e) if listed => {
                        tracing::warn!(host = %host, error = %e, "allowed target host does not resolve");
                        return Err(Refused(format!("target host {host:?} does not resolve")));
                    }
                    Err(_) => return Err(refused()),
                },
            };
            if addrs.is_empty() {
                return Err(refused());
            }
            for ip in &addrs {
                if !self.address_allowed(*ip, port, listed) {
                    // The address goes to the log only: the caller learns nothing about
                    // what a name resolves to.
                    tracing::warn!(host = %host, address = %ip, port, "target address refused by the allowlist");
                    return Err(refused());
                }
            }
            pinned.push(addrs[0]);
        }
        Ok(pinned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn cfg(url: &str) -> tokio_postgres::Config {
        tokio_postgres::Config::from_str(url).unwrap()
    }

    async fn check(policy: &str, url: &str) -> Result<Vec<IpAddr>, Refused> {
        TargetPolicy::parse(policy).unwrap().check(&cfg(url)).await
    }

    #[tokio::test]
    async fn no_allowlist_allows_everything_without_pinning() {
        assert_eq!(check("", "postgres://u@127.0.0.1/db").await, Ok(vec![]));
    }

    #[tokio::test]
    async fn ranges_and_hosts() {
        assert!(check("10.0.0.0/8", "postgres://u@10.1.2.3/db")
            .await
            .is_ok());
        assert!(check("10.0.0.0/8", "postgres://u@11.1.2.3/db")
            .await
            .is_err());
        assert!(
            check("db.internal, 10.0.0.0/8", "postgres://u@192.0.2.1/db")
                .await
                .is_err()
        );
        assert!(check("*.rds.amazonaws.com", "postgres://u@192.0.2.1/db")
            .await
            .is_err());
    }

    #[tokio::test]
    async fn special_addresses_need_an_explicit_entry() {
        for url in [
            "postgres://u@127.0.0.1/db",
            "postgres://u@169.254.169.254/db",
            "postgres://u@[::1]/db",
            "postgres://u@0.0.0.0/db",
            "postgres://u@localhost/db",
        ] {
            let r = check("0.0.0.0/0, ::/0, localhost", url).await;
            assert!(r.is_err(), "{url} must be refused: {r:?}");
        }
        assert!(check("127.0.0.1", "postgres://u@127.0.0.1/db")
            .await
            .is_ok());
        assert!(check("127.0.0.0/8", "postgres://u@127.0.0.1/db")
            .await
            .is_ok());
        assert!(check("127.0.0.1", "postgres://u@169.254.169.254/db")
            .await
            .is_err());
    }

    #[tokio::test]
    async fn unix_sockets_are_refused_under_an_allowlist() {
        assert!(check("10.0.0.0/8", "host=/tmp user=u dbname=d")
            .await
            .is_err());
    }

    #[test]
    fn bad_entries_are_named() {
        assert!(TargetPolicy::parse("10.0.0.0/99")
            .unwrap_err()
            .contains("10.0.0.0/99"));
        assert!(TargetPolicy::parse("*.").is_err());
    }

    #[test]
    fn special_ranges() {
        for s in [
            "127.0.0.1",
            "169.254.169.254",
            "::1",
            "fe80::1",
            "0.0.0.0",
            "::ffff:127.0.0.1",
            "fd00:ec2::254",
        ] {
            assert!(is_special(s.parse().unwrap()), "{s}");
        }
        for s in ["10.0.0.1", "192.0.2.1", "2001:db8::1", "fd00:ec2::253"] {
            assert!(!is_special(s.parse().unwrap()), "{s}");
        }
    }

    /// Issue 16, finding 7: IPv6 spellings of loopback and metadata addresses outside
    /// `::ffff:0:0/96` passed a `::/0` allowlist.
    #[tokio::test]
    async fn ipv6_spellings_of_special_ipv4_addresses_are_refused_whatever_the_allowlist() {
        let everything = "0.0.0.0/0, ::/0";
        for host in [
            "::127.0.0.1",                          // IPv4-compatible loopback
            "::a9fe:a9fe",                          // IPv4-compatible 169.254.169.254
            "::ffff:127.0.0.1",                     // mapped
            "::ffff:169.254.169.254",               // mapped metadata
            "64:ff9b::7f00:1",                      // NAT64 loopback
            "64:ff9b::169.254.169.254",             // NAT64 metadata
            "64:ff9b:1::a00:1",                     // local-use NAT64
            "2002:7f00:1::",                        // 6to4 of 127.0.0.1
            "2002:a9fe:a9fe::1",                    // 6to4 of metadata
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1
            "2001:0:a9fe:a9fe::1",                  // Teredo, server metadata
            "fd00:ec2::254",                        // AWS metadata over IPv6
            "fe80::1",
            "ff02::1",
            "::",
            "::1",
            "2001:db8::1",
            "100::1",
            "fec0::1",
        ] {
            let url = format!("postgres://u@[{host}]:5432/db");
            let r = check(everything, &url).await;
            assert!(
                r.is_err(),
                "{host} must be refused under {everything}: {r:?}"
            );
            let r = check("::/0", &url).await;
            assert!(r.is_err(), "{host} must be refused under ::/0: {r:?}");
        }
        // The metadata service is refused even by an entry that names its range.
        assert!(check("169.254.0.0/16", "postgres://u@169.254.169.254/db")
            .await
            .is_err());
        assert!(check("169.254.0.0/16", "postgres://u@169.254.1.1/db")
            .await
            .is_ok());
        // Ordinary addresses in those conventions still pass a range that covers them.
        for host in ["2002:a00:1::1", "64:ff9b::a00:1", "2600:1f18::1"] {
            let url = format!("postgres://u@[{host}]/db");
            assert!(check("::/0", &url).await.is_ok(), "{host}");
        }
    }

    /// Issue 16, finding 8: any port of an allowed host was tried, and the refusal named
    /// the address a refused host resolved to.
    #[tokio::test]
    async fn entries_can_name_ports_and_refusals_never_echo_addresses() {
        let policy =
            "10.0.0.0/8:5432, db.internal:6432, [2001:db8:1::/48]:5432, *.rds.amazonaws.com:5432";
        assert!(TargetPolicy::parse("[2600::/16]:5432").is_ok());
        assert!(check(policy, "postgres://u@10.1.2.3:5432/db").await.is_ok());
        assert!(
            check(policy, "postgres://u@10.1.2.3/db").await.is_ok(),
            "5432 is the default"
        );
        let r = check(policy, "postgres://u@10.1.2.3:22/db").await;
        assert!(r.as_ref().is_err_and(|e| e.0.contains("port 22")), "{r:?}");
        assert!(check("10.0.0.0/8", "postgres://u@10.1.2.3:22/db")
            .await
            .is_ok());
        // A name resolving to a refused address: the refusal names the host, not the
        // address (`localhost` resolves to loopback here).
        let r = check("10.0.0.0/8", "postgres://u@localhost:5432/db").await;
        let e = r.expect_err("loopback is refused");
        assert!(e.0.contains("\"localhost\""), "{e}");
        assert!(!e.0.contains("127.0.0.1") && !e.0.contains("::1"), "{e}");
        // A name that does not resolve gets the same answer as one that is refused.
        let r = check("10.0.0.0/8", "postgres://u@no-such-host.invalid:5432/db").await;
        let e2 = r.expect_err("refused");
        assert_eq!(
            e.0.replace("localhost", "H"),
            e2.0.replace("no-such-host.invalid", "H")
        );
        // With no range entries, an unlisted name is refused without a DNS lookup.
        let r = check("db.internal", "postgres://u@no-such-host.invalid/db").await;
        assert!(r.is_err());
        for bad in [
            "db.internal:0",
            "db.internal:99999",
            "[::1",
            "[::1]x",
            "a/b:5432",
        ] {
            assert!(TargetPolicy::parse(bad).is_err(), "{bad}");
        }
    }
}
