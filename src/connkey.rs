//! Connection keys (ARCHITECTURE.md, "Decisions so far"): how a target connection and
//! schema set are named in cache keys, stored rows, logs and responses.
//!
//! Owns target URL validation and normalization and the keyed hash (HMAC-SHA256 with
//! `CONNECTION_KEY_SECRET`) over the normalized URL *including its credentials*, so a
//! caller with a wrong password never shares a key with the right one. It must never
//! return, log or format a URL or any part of its credentials.

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
    let normalized = serde_json::json!({
        "hosts": hosts,
        "ports": ports,
        "user": user,
        "password": cfg.get_password().map(hex::encode),
        "dbname": dbname,
        "options": cfg.get_options(),
        "sslmode": format!("{tls_mode:?}"),
    })
    .to_string();
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
    fn schemas_normalize() {
        let n = normalize_schemas(&["public".into(), " b".into(), "public".into()]);
        assert_eq!(n, vec!["b", "public"]);
        assert_eq!(schemas_key(&n), r#"["b","public"]"#);
    }
}
