//! Which target databases a deployed function may connect to (ARCHITECTURE.md,
//! "Decisions so far"; issue 6).
//!
//! Owns the allowlist (`TARGET_ALLOWED_HOSTS`: host names, `*.suffix` wildcards, IP
//! addresses and CIDR ranges) and the rule that loopback, link-local (which holds the
//! cloud metadata service), unspecified and other special addresses are refused unless
//! an entry names them explicitly. Host names are resolved here, every address is
//! checked, and the connection is then pinned to the checked addresses so a second DNS
//! answer cannot point it elsewhere. It must never connect to anything itself, and
//! never let a target through when an allowlist is configured and any check fails.

use std::net::IpAddr;

/// One allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
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
    ("255.255.255.255", 32),
    ("::1", 128),
    ("::", 128),
    ("fe80::", 10),
    ("ff00::", 8),
    ("fd00:ec2::254", 128),
];

fn special_blocks() -> impl Iterator<Item = (IpAddr, u8)> {
    SPECIAL_BLOCKS
        .iter()
        .filter_map(|(a, bits)| Some((a.parse::<IpAddr>().ok()?, *bits)))
}

/// True for an address in one of the special blocks (IPv4-mapped IPv6 included).
pub fn is_special(ip: IpAddr) -> bool {
    special_blocks().any(|(net, bits)| in_net(ip, net, bits))
}

/// True when the whole range `net/bits` lies inside one special block, i.e. an entry
/// that names special addresses on purpose (`127.0.0.1`, `127.0.0.0/8`), unlike
/// `0.0.0.0/0`.
fn range_is_special(net: IpAddr, bits: u8) -> bool {
    special_blocks()
        .any(|(b, bbits)| bits >= bbits && net.is_ipv4() == b.is_ipv4() && in_net(net, b, bbits))
}

impl TargetPolicy {
    /// Parses `TARGET_ALLOWED_HOSTS`: comma- or space-separated entries.
    pub fn parse(spec: &str) -> Result<TargetPolicy, String> {
        let mut entries = Vec::new();
        for raw in spec
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let e = raw.to_ascii_lowercase();
            if let Some((ip, bits)) = parse_net(&e) {
                entries.push(Entry::Net(ip, bits));
            } else if let Some(suffix) = e.strip_prefix("*.") {
                if suffix.is_empty() || suffix.contains('*') {
                    return Err(format!("TARGET_ALLOWED_HOSTS: bad wildcard {raw:?}"));
                }
                entries.push(Entry::Suffix(format!(".{suffix}")));
            } else if e.contains('/') || e.contains('*') || e.contains(':') {
                return Err(format!(
                    "TARGET_ALLOWED_HOSTS: not a host, address or CIDR: {raw:?}"
                ));
            } else {
                entries.push(Entry::Host(e));
            }
        }
        Ok(TargetPolicy { entries })
    }

    pub fn is_configured(&self) -> bool {
        !self.entries.is_empty()
    }

    fn host_listed(&self, host: &str) -> bool {
        self.entries.iter().any(|e| match e {
            Entry::Host(h) => h == host,
            Entry::Suffix(s) => host.ends_with(s.as_str()),
            Entry::Net(..) => false,
        })
    }

    /// An address passes when a range covers it, or when its host name is listed; a
    /// special address only when a range lying inside the special ranges covers it
    /// (so `0.0.0.0/0` never admits loopback or the metadata service).
    fn address_allowed(&self, ip: IpAddr, host_listed: bool) -> bool {
        let explicit = self.entries.iter().any(|e| match e {
            Entry::Net(net, bits) => {
                in_net(ip, *net, *bits) && (!is_special(ip) || range_is_special(*net, *bits))
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
            let listed = self.host_listed(&host);
            let addrs: Vec<IpAddr> = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => tokio::net::lookup_host((host.as_str(), port))
                    .await
                    .map_err(|_| Refused(format!("target host {host:?} does not resolve")))?
                    .map(|a| a.ip())
                    .collect(),
            };
            if addrs.is_empty() {
                return Err(Refused(format!("target host {host:?} does not resolve")));
            }
            for ip in &addrs {
                if !self.address_allowed(*ip, listed) {
                    return Err(Refused(format!(
                        "target host {host:?} ({ip}) is not on this service's allowlist (TARGET_ALLOWED_HOSTS)"
                    )));
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
}
