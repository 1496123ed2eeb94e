//! Connection keys (ARCHITECTURE.md, "Decisions so far"): how a target connection and
//! schema set are named in cache keys, stored rows, logs and responses.
//!
//! Owns target URL validation and normalization and the keyed hashes (HMAC-SHA256 with
//! the connection-key secret: `CONNECTION_KEY_SECRET`, or the one the service generated):
//!
//! - a raw URL is keyed over its normalized form *including its credentials*, so a
//!   caller with a wrong password never shares a key with the right one, and over every
//!   parameter that selects a server (hosts, ports, `hostaddr`, `target_session_attrs`,
//!   `load_balance_hosts`, database, user, options, TLS mode);
//! - a configured `connectionId` is a logical connection, keyed over the id (and the
//!   workspace): its history, drift and caches survive a rotated password, a new host or
//!   a new major version (the configured URL is the operator's, never the caller's);
//! - what responses and logs carry is a separately keyed short id ([`public_id`]), never
//!   the key rows are stored under.
//!
//! It must never return, log or format a URL or any part of its credentials.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::str::FromStr;

/// A validated target connection. Deliberately not `Debug`/`Display`: it holds a password.
pub struct Target {
    /// The URL to connect with (as given).
    pub url: String,
    /// Canonical form used only as HMAC input.
    normalized: String,
    /// The parsed connection settings (hosts and ports, for the target policy).
    config: tokio_postgres::Config,
}

/// Validates a `targetDatabaseUrl`: a `postgres://` or `postgresql://` URL that
/// tokio-postgres accepts. The error message never repeats the URL.
pub fn parse_target(raw: &str) -> Result<Target, String> {
    let raw = raw.trim();
    let lower = raw.get(..13).unwrap_or(raw).to_ascii_lowercase();
    if !(lower.starts_with("postgres://") || lower.starts_with("postgresql://")) {
        return Err("must be a postgres:// or postgresql:// URL".into());
    }
    let (stripped, tls_mode) = crate::tls::split_sslmode(raw)?;
    let cfg = tokio_postgres::Config::from_str(&stripped)
        .map_err(|_| "is not a valid PostgreSQL connection URL".to_string())?;
    if cfg.get_hosts().is_empty() {
        return Err("must name a host".into());
    }
    let hosts: Vec<String> = cfg
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(s) => s.to_ascii_lowercase(),
            tokio_postgres::config::Host::Unix(p) => format!("unix:{}", p.display()),
        })
        .collect();
    let ports: Vec<u16> = if cfg.get_ports().is_empty() {
        vec![5432]
    } else {
        cfg.get_ports().to_vec()
    };
    let user = cfg.get_user().unwrap_or("");
    let dbname = cfg.get_dbname().unwrap_or(user);
    let mut normalized = serde_json::json!({
        "hosts": hosts,
        "ports": ports,
        "user": user,
        "password": cfg.get_password().map(hex::encode),
        "dbname": dbname,
        "options": cfg.get_options(),
        "sslmode": format!("{tls_mode:?}"),
    });
    // The other parameters that choose which server answers. Added only when set, so the
    // keys of URLs without them are what they were before these were covered.
    let selects = [
        (
            "hostaddrs",
            (!cfg.get_hostaddrs().is_empty()).then(|| {
                serde_json::json!(cfg
                    .get_hostaddrs()
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>())
            }),
        ),
        (
            "targetSessionAttrs",
            match cfg.get_target_session_attrs() {
                tokio_postgres::config::TargetSessionAttrs::Any => None,
                other => Some(serde_json::json!(format!("{other:?}"))),
            },
        ),
        (
            "loadBalanceHosts",
            match cfg.get_load_balance_hosts() {
                tokio_postgres::config::LoadBalanceHosts::Disable => None,
                other => Some(serde_json::json!(format!("{other:?}"))),
            },
        ),
    ];
    for (name, value) in selects {
        if let (Some(v), Some(map)) = (value, normalized.as_object_mut()) {
            map.insert(name.to_string(), v);
        }
    }
    let normalized = normalized.to_string();
    Ok(Target {
        url: raw.to_string(),
        normalized,
        config: cfg,
    })
}

impl Target {
    /// The parsed connection settings.
    pub fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// `ck_` + 32 hex chars of HMAC-SHA256(secret, workspace + normalized URL).
    pub fn connection_key(&self, secret: &[u8], workspace_id: Option<&str>) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(b"catalog-snapshot/connection/v1\n");
        mac.update(workspace_id.unwrap_or("").as_bytes());
        mac.update(b"\n");
        mac.update(self.normalized.as_bytes());
        let tag = mac.finalize().into_bytes();
        format!("ck_{}", hex::encode(&tag[..16]))
    }
}

/// The key of a configured connection id: `ck_` + 32 hex chars of
/// HMAC-SHA256(secret, workspace + id). Independent of the URL the id resolves to.
pub fn connection_id_key(secret: &[u8], workspace_id: Option<&str>, connection_id: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(b"catalog-snapshot/connection-id/v1\n");
    mac.update(workspace_id.unwrap_or("").as_bytes());
    mac.update(b"\n");
    mac.update(connection_id.as_bytes());
    let tag = mac.finalize().into_bytes();
    format!("ck_{}", hex::encode(&tag[..16]))
}

/// What responses (`cache.key`) and logs call a (connection, schemas) pair: `cs_` + 16
/// hex chars of an HMAC keyed separately from the store key, so it names the pair
/// stably without revealing the key rows are stored under (or anything to guess a
/// password against).
pub fn public_id(secret: &[u8], cache_key: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(b"catalog-snapshot/public-id/v1\n");
    mac.update(cache_key.as_bytes());
    let tag = mac.finalize().into_bytes();
    format!("cs_{}", hex::encode(&tag[..8]))
}

/// Normalizes a schema list: trimmed, sorted, deduplicated.
pub fn normalize_schemas(schemas: &[String]) -> Vec<String> {
    let mut s: Vec<String> = schemas.iter().map(|s| s.trim().to_string()).collect();
    s.sort();
    s.dedup();
    s
}

/// The normalized schema list as stored (a JSON array).
pub fn schemas_key(normalized: &[String]) -> String {
    serde_json::to_string(normalized).unwrap_or_else(|_| unreachable!("strings serialize"))
}

/// The memory-tier key reported as `cache.key`: connection key + a short hash of the
/// schema list.
pub fn cache_key(connection_key: &str, schemas_key: &str) -> String {
    let h = Sha256::digest(schemas_key.as_bytes());
    format!("{connection_key}:{}", &hex::encode(h)[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret-test-secret";

    fn key(url: &str) -> String {
        parse_target(url).unwrap().connection_key(SECRET, None)
    }

    #[test]
    fn rejects_non_postgres_urls_without_echoing_them() {
        for bad in ["mysql://u:pw@h/db", "hello", "", "http://x"] {
            let e = parse_target(bad).err().unwrap();
            assert!(!e.contains("pw@"), "{e}");
        }
    }

    #[test]
    fn key_has_no_credentials_and_depends_on_password() {
        let k1 = key("postgres://alice:s3cretpw@db.example.com:5432/app");
        let k2 = key("postgres://alice:other@db.example.com:5432/app");
        assert!(!k1.contains("s3cretpw") && !k1.contains("alice"));
        assert_ne!(k1, k2);
        assert!(k1.starts_with("ck_") && k1.len() == 35);
    }

    #[test]
    fn equivalent_urls_share_a_key() {
        assert_eq!(
            key("postgres://alice:pw@DB.example.com/app"),
            key("postgresql://alice:pw@db.example.com:5432/app")
        );
        assert_ne!(
            key("postgres://alice:pw@db.example.com/app"),
            key("postgres://alice:pw@db.example.com/other")
        );
    }

    #[test]
    fn key_depends_on_secret_and_workspace() {
        let t = parse_target("postgres://a:b@h/d").unwrap();
        assert_ne!(
            t.connection_key(SECRET, None),
            t.connection_key(b"another-secret-x", None)
        );
        assert_ne!(
            t.connection_key(SECRET, Some("w1")),
            t.connection_key(SECRET, Some("w2"))
        );
    }

    #[test]
    fn every_server_selecting_parameter_is_in_the_key() {
        let base = "postgres://alice:pw@db.example.com:5432/app";
        let plain = key(base);
        for extra in [
            "hostaddr=10.0.0.7",
            "target_session_attrs=read-write",
            "load_balance_hosts=random",
            "options=-c%20search_path%3Dother",
            "sslmode=require",
        ] {
            assert_ne!(key(&format!("{base}?{extra}")), plain, "{extra}");
        }
        assert_ne!(
            key(&format!("{base}?hostaddr=10.0.0.7")),
            key(&format!("{base}?hostaddr=10.0.0.8"))
        );
        // Parameters that do not choose a server leave the key alone.
        assert_eq!(key(&format!("{base}?connect_timeout=3")), plain);
        assert_eq!(key(&format!("{base}?application_name=x")), plain);
    }

    #[test]
    fn url_keys_without_new_parameters_are_unchanged() {
        // The key scheme stored rows were written with; it must not move.
        assert_eq!(
            key("postgres://alice:pw@db.example.com:5432/app"),
            "ck_b2aba021f75af20fb8f7722286bceb6c"
        );
    }

    #[test]
    fn connection_id_keys_ignore_the_url_and_public_ids_hide_the_key() {
        let a = connection_id_key(SECRET, Some("ws-a"), "prod");
        assert_eq!(a, connection_id_key(SECRET, Some("ws-a"), "prod"));
        assert_ne!(a, connection_id_key(SECRET, Some("ws-b"), "prod"));
        assert_ne!(a, connection_id_key(SECRET, Some("ws-a"), "prod2"));
        assert_ne!(
            a,
            connection_id_key(b"another-secret-x", Some("ws-a"), "prod")
        );
        let cache = cache_key(&a, r#"["public"]"#);
        let p = public_id(SECRET, &cache);
        assert!(p.starts_with("cs_") && p.len() == 19, "{p}");
        assert!(!p.contains(&a[3..19]) && !cache.contains(&p[3..]));
        assert_ne!(p, public_id(b"another-secret-x", &cache));
    }

    #[test]
    fn schemas_normalize() {
        let n = normalize_schemas(&["public".into(), " b".into(), "public".into()]);
        assert_eq!(n, vec!["b", "public"]);
        assert_eq!(schemas_key(&n), r#"["b","public"]"#);
    }
}
