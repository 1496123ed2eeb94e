//! Configuration from the environment (ARCHITECTURE.md, "Decisions so far"; every
//! variable is in the README), read once at start.
//!
//! Owns parsing, validation and defaults: a value that cannot work (a configured target
//! that is not a PostgreSQL URL, a number that is not one) stops the start with a message
//! naming the variable. It must never log a secret value (the connection-key secret, the
//! app database URL or a configured target URL); [`Config::describe`] says what is
//! configured without them.

use crate::introspect::{ReadBudget, TargetOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The connection-key secret local deployments used before the service generated its
/// own. It is public (it is in this file), so it keys nothing new: the service only
/// uses it to find snapshots stored under it before (see `Service` key adoption).
pub const LEGACY_DEV_CONNECTION_KEY_SECRET: &str = "catalog-snapshot-development-secret";

/// Which workspaces may use a configured connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Workspaces {
    /// Every caller (`"*"`, or a plain URL: single-tenant deployments).
    Any,
    /// Only callers acting in one of these workspaces.
    Only(BTreeSet<String>),
}

/// One `TARGET_CONNECTIONS` entry. Deliberately not `Debug`: it holds a URL with a
/// password.
#[derive(Clone)]
pub struct Connection {
    pub url: String,
    pub workspaces: Workspaces,
}

impl Connection {
    /// Whether a caller acting in `workspace` (none: no workspace) may use it.
    pub fn allows(&self, workspace: Option<&str>) -> bool {
        match &self.workspaces {
            Workspaces::Any => true,
            Workspaces::Only(set) => workspace.is_some_and(|w| set.contains(w)),
        }
    }
}

/// Parses `TARGET_CONNECTIONS`: a JSON object of `connectionId` -> either a URL string
/// (any workspace) or `{"url": "...", "workspaces": ["ws-a", ...]}` (`["*"]`: any).
/// Every URL is validated here, so a typo stops the start instead of failing requests.
/// Messages name the connection id, never the URL.
pub fn parse_connections(json: &str) -> Result<BTreeMap<String, Connection>, String> {
    const SHAPE: &str = "TARGET_CONNECTIONS must be a JSON object of connectionId -> database URL, or -> {\"url\": URL, \"workspaces\": [workspace ids, or \"*\"]}";
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|_| SHAPE.to_string())?;
    let mut out = BTreeMap::new();
    for (id, value) in map {
        let name = format!("TARGET_CONNECTIONS[{id:?}]");
        if id.trim().is_empty() || id.chars().any(char::is_control) {
            return Err(
                "TARGET_CONNECTIONS has an empty connectionId or one with control characters"
                    .into(),
            );
        }
        let (url, workspaces) = match value {
            serde_json::Value::String(url) => (url, Workspaces::Any),
            serde_json::Value::Object(mut fields) => {
                let url = match fields.remove("url") {
                    Some(serde_json::Value::String(u)) => u,
                    _ => return Err(format!("{name} needs \"url\": a database URL string")),
                };
                let list = match fields.remove("workspaces") {
                    Some(serde_json::Value::Array(list)) => list,
                    _ => {
                        return Err(format!(
                            "{name} needs \"workspaces\": the workspace ids that may use it, or [\"*\"] for any"
                        ))
                    }
                };
                if let Some(extra) = fields.keys().next() {
                    return Err(format!(
                        "{name} has an unknown field {extra:?} (only \"url\" and \"workspaces\")"
                    ));
                }
                let mut set = BTreeSet::new();
                for w in list {
                    match w {
                        serde_json::Value::String(w) if !w.trim().is_empty() => {
                            set.insert(w.trim().to_string());
                        }
                        _ => {
                            return Err(format!(
                                "{name}: \"workspaces\" must hold non-empty strings"
                            ))
                        }
                    }
                }
                if set.is_empty() {
                    return Err(format!(
                        "{name}: \"workspaces\" is empty, so no caller could use it (use [\"*\"] for any)"
                    ));
                }
                if set.contains("*") {
                    (url, Workspaces::Any)
                } else {
                    (url, Workspaces::Only(set))
                }
            }
            _ => return Err(format!("{name}: {SHAPE}")),
        };
        crate::input::check_target_url(&url)
            .and_then(|()| crate::connkey::parse_target(&url).map(drop))
            .map_err(|m| format!("{name}: the URL {m}"))?;
        out.insert(id, Connection { url, workspaces });
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    None,
    Postgres {
        url: String,
    },
    DynamoDb {
        table: String,
        endpoint_url: Option<String>,
    },
}

#[derive(Clone)]
pub struct Config {
    pub lambda: bool,
    pub port: u16,
    pub store: StoreChoice,
    /// `CONNECTION_KEY_SECRET`; `None`: the service generates one and keeps it in the
    /// persistent tier (per process when memory-only).
    pub connection_key_secret: Option<Vec<u8>>,
    pub allow_raw_database_url: bool,
    /// `REQUIRE_AUTH`: every request must carry an authorizer identity with a workspace
    /// claim (API Gateway's JWT or Lambda authorizer context). On by default under the
    /// Lambda runtime, off locally.
    pub require_auth: bool,
    /// `WORKSPACE_CLAIM`: the claim naming the caller's workspace.
    pub workspace_claim: String,
    /// Trusted roots for target TLS: Mozilla's plus `TARGET_TLS_CA_FILE`.
    pub tls: std::sync::Arc<crate::tls::TlsPolicy>,
    /// `TARGET_ALLOWED_HOSTS`: the hosts and ranges targets may be on (empty: any).
    pub target_policy: crate::target_policy::TargetPolicy,
    /// `connectionId` -> target URL and the workspaces allowed to use it, from
    /// `TARGET_CONNECTIONS` (validated at start).
    pub connections: BTreeMap<String, Connection>,
    pub mem_ttl: Duration,
    pub mem_max_bytes: usize,
    pub db_max_age: Duration,
    pub target: TargetOptions,
    pub request_timeout: Duration,
    pub store_timeout: Duration,
    pub history_keep: usize,
    pub dynamodb_ttl_days: u32,
    pub max_body_bytes: usize,
    pub max_schemas: usize,
    pub max_visible_tables: usize,
    /// A visible refresh of more than this share of the catalog's tables is done as a
    /// full read instead.
    pub visible_full_read_share: f64,
    /// The built web app served at `/` (local mode): `WEB_DIST_DIR`, else `web/dist`
    /// found beside the working directory or the binary; `None` serves no pages.
    pub web_dist_dir: Option<std::path::PathBuf>,
    /// `LAMBDA_RESPONSE_LIMIT_BYTES`: under the Lambda runtime, the largest response
    /// payload (as the runtime sends it: base64 or JSON-escaped body plus its envelope)
    /// the function returns; a larger one becomes a clear error instead.
    pub lambda_response_limit: usize,
    /// Local server: `HTTP_HEADER_TIMEOUT_MS`, how long a connection may take to send a
    /// request's headers (also how long an idle keep-alive connection is kept).
    pub header_timeout: Duration,
    /// Local server: `HTTP_BODY_TIMEOUT_MS`, how long a request may take to send its body.
    pub body_timeout: Duration,
    /// Local server: `HTTP_MAX_CONNECTIONS`, connections served at once; more wait in
    /// the listen queue.
    pub max_http_connections: usize,
    /// `HEALTH_COUNTERS`: show read and memory counters on `/healthz` (local only).
    pub health_counters: bool,
}

/// `MAX_CATALOG_TABLES` default: relations (tables, views...) one read may return.
pub const DEFAULT_MAX_TABLES: u64 = 10_000;
/// `MAX_CATALOG_COLUMNS` default: columns one read may return. About 270 bytes of
/// snapshot JSON per column, so a catalog at the limit is about 40 MB of JSON, about
/// 3 MB gzip'd: it still fits a synchronous Lambda response when the client accepts gzip.
pub const DEFAULT_MAX_COLUMNS: u64 = 150_000;
/// The payload limit of a synchronous AWS Lambda invocation's response: 6 MB
/// (6,291,456 bytes), counted on the payload the runtime posts.
pub const LAMBDA_RESPONSE_LIMIT: usize = 6_291_456;

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn ms(
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
) -> Result<Duration, String> {
    Ok(Duration::from_millis(num(lookup, name, default)?))
}

fn num<T: std::str::FromStr>(
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, String> {
    match lookup(name) {
        None => Ok(default),
        Some(v) if v.trim().is_empty() => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name} must be a non-negative number, got {v:?}")),
    }
}

/// A whole number of at least 1 (a limit of 0 would refuse everything).
fn positive(
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
) -> Result<u64, String> {
    match num(lookup, name, default) {
        Ok(0) | Err(_) => Err(format!(
            "{name} must be a whole number of at least 1, got {:?}",
            lookup(name).unwrap_or_default()
        )),
        Ok(n) => Ok(n),
    }
}

fn flag(
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &str,
    default: bool,
) -> Result<bool, String> {
    match lookup(name).as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(v) => Err(format!("{name} must be true or false, got {v:?}")),
    }
}

impl Config {
    /// Builds the configuration from any variable lookup (the environment, or a map in
    /// unit tests).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Config, String> {
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let lambda = get("AWS_LAMBDA_RUNTIME_API").is_some();
        let app_url = get("APP_DATABASE_URL");
        let store = match get("SNAPSHOT_STORE").as_deref().map(str::trim) {
            None => match app_url {
                Some(url) => StoreChoice::Postgres { url },
                None => StoreChoice::None,
            },
            Some("none") => StoreChoice::None,
            Some("postgres") => StoreChoice::Postgres {
                url: app_url.ok_or("SNAPSHOT_STORE=postgres needs APP_DATABASE_URL")?,
            },
            Some("dynamodb") => StoreChoice::DynamoDb {
                table: get("SNAPSHOT_TABLE").unwrap_or_else(|| "catalog_snapshots".into()),
                endpoint_url: get("DYNAMODB_ENDPOINT_URL").or_else(|| get("AWS_ENDPOINT_URL")),
            },
            Some(other) => {
                return Err(format!(
                    "SNAPSHOT_STORE must be postgres, dynamodb or none, got {other:?}"
                ))
            }
        };
        let secret =
            match get("CONNECTION_KEY_SECRET") {
                Some(s) if s.len() < 16 => {
                    return Err("CONNECTION_KEY_SECRET must be at least 16 characters".into())
                }
                Some(s) if s == LEGACY_DEV_CONNECTION_KEY_SECRET => return Err(
                    "CONNECTION_KEY_SECRET is the old public development default: unset it (the \
                     service then generates and keeps its own) or set a secret of your own"
                        .into(),
                ),
                Some(s) => Some(s.into_bytes()),
                None => None,
            };
        let connections = match get("TARGET_CONNECTIONS") {
            None => BTreeMap::new(),
            Some(json) => parse_connections(&json)?,
        };
        let cfg = Config {
            lambda,
            port: num(lookup, "PORT", 3000)?,
            store,
            connection_key_secret: secret,
            allow_raw_database_url: flag(lookup, "ALLOW_RAW_DATABASE_URL", !lambda)?,
            tls: std::sync::Arc::new({
                let mut tls = match get("TARGET_TLS_CA_FILE") {
                    None => crate::tls::TlsPolicy::new(None)?,
                    Some(path) => {
                        let pem = std::fs::read(&path)
                            .map_err(|e| format!("TARGET_TLS_CA_FILE {path:?}: {e}"))?;
                        crate::tls::TlsPolicy::new(Some(&pem))?
                    }
                };
                tls.allow_unverified_password =
                    flag(lookup, crate::introspect::ALLOW_UNVERIFIED_PASSWORD, false)?;
                tls
            }),
            require_auth: flag(lookup, "REQUIRE_AUTH", lambda)?,
            workspace_claim: get("WORKSPACE_CLAIM").unwrap_or_else(|| "workspace_id".into()),
            target_policy: crate::target_policy::TargetPolicy::parse(
                &get("TARGET_ALLOWED_HOSTS").unwrap_or_default(),
            )?,
            connections,
            mem_ttl: ms(lookup, "MEM_TTL_MS", 60_000)?,
            mem_max_bytes: num(lookup, "MEM_MAX_BYTES", 48 * 1024 * 1024)?,
            db_max_age: ms(lookup, "DB_MAX_AGE_MS", 600_000)?,
            target: TargetOptions {
                connect_timeout: ms(lookup, "TARGET_CONNECT_TIMEOUT_MS", 5_000)?,
                statement_timeout: ms(lookup, "TARGET_STATEMENT_TIMEOUT_MS", 20_000)?,
                application_name: "catalog-snapshot".into(),
                budget: ReadBudget {
                    max_relations: positive(lookup, "MAX_CATALOG_TABLES", DEFAULT_MAX_TABLES)?,
                    max_columns: positive(lookup, "MAX_CATALOG_COLUMNS", DEFAULT_MAX_COLUMNS)?,
                },
                lock_timeout: Duration::from_millis(positive(
                    lookup,
                    "TARGET_LOCK_TIMEOUT_MS",
                    5_000,
                )?),
                wire: crate::introspect::WireLimits {
                    max_message_bytes: positive(
                        lookup,
                        "TARGET_MAX_MESSAGE_BYTES",
                        crate::introspect::WireLimits::DEFAULT.max_message_bytes,
                    )?,
                    max_read_bytes: positive(
                        lookup,
                        "TARGET_MAX_READ_BYTES",
                        crate::introspect::WireLimits::DEFAULT.max_read_bytes,
                    )?,
                },
                max_concurrent_reads: positive(lookup, "TARGET_MAX_CONCURRENT_READS", 8)?
                    .try_into()
                    .unwrap_or(usize::MAX),
            },
            request_timeout: ms(lookup, "REQUEST_TIMEOUT_MS", 28_000)?,
            store_timeout: ms(lookup, "STORE_TIMEOUT_MS", 5_000)?,
            history_keep: num(lookup, "HISTORY_KEEP", 50)?,
            dynamodb_ttl_days: num(lookup, "SNAPSHOT_TTL_DAYS", 30)?,
            max_body_bytes: num(lookup, "MAX_BODY_BYTES", 256 * 1024)?,
            max_schemas: num(lookup, "MAX_SCHEMAS", model::api::MAX_SCHEMAS)?,
            max_visible_tables: num(lookup, "MAX_VISIBLE_TABLES", model::api::MAX_VISIBLE_TABLES)?,
            lambda_response_limit: positive(
                lookup,
                "LAMBDA_RESPONSE_LIMIT_BYTES",
                LAMBDA_RESPONSE_LIMIT as u64,
            )?
            .try_into()
            .unwrap_or(usize::MAX),
            web_dist_dir: crate::web_assets::locate(get("WEB_DIST_DIR"), lambda),
            visible_full_read_share: match num(lookup, "VISIBLE_FULL_READ_SHARE", 0.25f64)? {
                s if s > 0.0 && s <= 1.0 => s,
                s => {
                    return Err(format!(
                        "VISIBLE_FULL_READ_SHARE must be in (0, 1], got {s}"
                    ))
                }
            },
            header_timeout: ms(lookup, "HTTP_HEADER_TIMEOUT_MS", 5_000)?,
            body_timeout: ms(lookup, "HTTP_BODY_TIMEOUT_MS", 10_000)?,
            max_http_connections: positive(lookup, "HTTP_MAX_CONNECTIONS", 256)?
                .try_into()
                .unwrap_or(usize::MAX),
            health_counters: match flag(lookup, "HEALTH_COUNTERS", false)? {
                true if lambda => {
                    return Err("HEALTH_COUNTERS is for local development: /healthz answers anyone under API Gateway".into())
                }
                on => on,
            },
        };
        cfg.check_timeouts()?;
        Ok(cfg)
    }

    /// The configured timeouts must nest: a catalog read (connect, then statements)
    /// ends before its request's budget does, so the read is cancelled on the target
    /// rather than left running; a lock wait ends before its statement's timeout; a store
    /// call ends within the request's budget.
    fn check_timeouts(&self) -> Result<(), String> {
        let t = &self.target;
        let ms = |d: Duration| d.as_millis();
        if t.connect_timeout.is_zero() || t.statement_timeout.is_zero() {
            return Err(
                "TARGET_CONNECT_TIMEOUT_MS and TARGET_STATEMENT_TIMEOUT_MS must be at least 1"
                    .into(),
            );
        }
        if self.request_timeout < t.connect_timeout + t.statement_timeout {
            return Err(format!(
                "REQUEST_TIMEOUT_MS ({}) must be at least TARGET_CONNECT_TIMEOUT_MS + TARGET_STATEMENT_TIMEOUT_MS ({} + {}): a request that ends first leaves its catalog query running on the target",
                ms(self.request_timeout),
                ms(t.connect_timeout),
                ms(t.statement_timeout)
            ));
        }
        if t.lock_timeout > t.statement_timeout {
            return Err(format!(
                "TARGET_LOCK_TIMEOUT_MS ({}) must not exceed TARGET_STATEMENT_TIMEOUT_MS ({})",
                ms(t.lock_timeout),
                ms(t.statement_timeout)
            ));
        }
        if self.store_timeout.is_zero() || self.store_timeout >= self.request_timeout {
            return Err(format!(
                "STORE_TIMEOUT_MS ({}) must be at least 1 and below REQUEST_TIMEOUT_MS ({})",
                ms(self.store_timeout),
                ms(self.request_timeout)
            ));
        }
        Ok(())
    }

    /// What is configured, without secrets: for the startup log.
    pub fn describe(&self) -> String {
        let store = match &self.store {
            StoreChoice::None => {
                "none (memory-only: snapshots are lost when the process ends)".to_string()
            }
            StoreChoice::Postgres { .. } => "postgres (APP_DATABASE_URL)".to_string(),
            StoreChoice::DynamoDb {
                table,
                endpoint_url,
            } => format!(
                "dynamodb table {table}{}",
                if endpoint_url.is_some() {
                    " at a custom endpoint"
                } else {
                    ""
                }
            ),
        };
        format!(
            "mode={} store={} memTtlMs={} memMaxBytes={} dbMaxAgeMs={} rawUrls={} requireAuth={} connections={} targetAllowlist={} maxCatalogTables={} maxCatalogColumns={} secret={}",
            if self.lambda { "lambda" } else { "local" },
            store,
            self.mem_ttl.as_millis(),
            self.mem_max_bytes,
            self.db_max_age.as_millis(),
            self.allow_raw_database_url,
            self.require_auth,
            self.connections.len(),
            self.target_policy.is_configured(),
            self.target.budget.max_relations,
            self.target.budget.max_columns,
            match (&self.connection_key_secret, &self.store) {
                (Some(_), _) => "configured",
                (None, StoreChoice::None) => "generated per process",
                (None, _) => "generated, kept in the store",
            },
        )
    }

    /// What an operator should know at start: settings that weaken isolation.
    pub fn startup_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.lambda && !self.require_auth {
            out.push(
                "REQUIRE_AUTH=false under the Lambda runtime: requests need no authorizer identity \
                 and the body's workspaceId is trusted, so any caller can act as any workspace"
                    .to_string(),
            );
        }
        let open: Vec<&str> = self
            .connections
            .iter()
            .filter(|(_, c)| c.workspaces == Workspaces::Any)
            .map(|(id, _)| id.as_str())
            .collect();
        if self.require_auth && !open.is_empty() {
            out.push(format!(
                "TARGET_CONNECTIONS open to every workspace (a plain URL or [\"*\"]): {}; bind each to its workspaces with {{\"url\": ..., \"workspaces\": [...]}}",
                open.join(", ")
            ));
        }
        if self.connection_key_secret.is_none() {
            out.push(match self.store {
                StoreChoice::None => "CONNECTION_KEY_SECRET is not set and there is no persistent store: connection keys use a secret generated for this process".to_string(),
                _ => "CONNECTION_KEY_SECRET is not set: connection keys use the secret this deployment generated and keeps in its snapshot store".to_string(),
            });
        }
        out
    }

    pub fn store_name(&self) -> &'static str {
        match self.store {
            StoreChoice::None => "none",
            StoreChoice::Postgres { .. } => "postgres",
            StoreChoice::DynamoDb { .. } => "dynamodb",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_connections_are_validated_at_start() {
        let ok = cfg(&[(
            "TARGET_CONNECTIONS",
            r#"{"demo": "postgres://u:pw@127.0.0.1:5432/db"}"#,
        )]);
        assert_eq!(ok.unwrap().connections.len(), 1);
        for bad in [
            r#"{"demo": "not a url"}"#,
            r#"{"demo": "mysql://u:pw@h/db"}"#,
            r#"{"demo": "postgres://u:se@cret@h/db"}"#,
            r#"{"": "postgres://u:pw@h/db"}"#,
        ] {
            let e = cfg(&[("TARGET_CONNECTIONS", bad)])
                .err()
                .unwrap_or_default();
            assert!(e.starts_with("TARGET_CONNECTIONS"), "{bad}: {e}");
            assert!(!e.contains("se@cret") && !e.contains("pw@"), "{e}");
        }
    }

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, String> {
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(&|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_memory_only_and_local() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.store, StoreChoice::None);
        assert_eq!(c.port, 3000);
        assert_eq!(c.mem_ttl, Duration::from_secs(60));
        assert_eq!(c.db_max_age, Duration::from_secs(600));
        assert!(c.allow_raw_database_url);
        assert!(c.connection_key_secret.is_none());
        assert!(!c.require_auth);
    }

    #[test]
    fn app_database_url_selects_postgres_and_is_not_described() {
        let c = cfg(&[("APP_DATABASE_URL", "postgres://u:hunter2pass@h/db")]).unwrap();
        assert!(matches!(c.store, StoreChoice::Postgres { .. }));
        assert!(!c.describe().contains("hunter2pass"));
        assert!(!format!("{c:?}").contains("hunter2pass"));
    }

    #[test]
    fn lambda_requires_auth_and_disables_raw_urls_by_default() {
        let c = cfg(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")]).unwrap();
        assert!(c.lambda && !c.allow_raw_database_url);
        assert!(c.require_auth, "authorization is on unless turned off");
        assert!(c.connection_key_secret.is_none(), "a secret is generated");
        let c = cfg(&[
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("REQUIRE_AUTH", "false"),
            ("CONNECTION_KEY_SECRET", "0123456789abcdef0123"),
        ])
        .unwrap();
        assert!(!c.require_auth);
        assert_eq!(
            c.connection_key_secret.as_deref(),
            Some(&b"0123456789abcdef0123"[..])
        );
        assert!(c.describe().contains("requireAuth=false"));
        let e = cfg(&[("CONNECTION_KEY_SECRET", LEGACY_DEV_CONNECTION_KEY_SECRET)]).unwrap_err();
        assert!(e.contains("public"), "{e}");
    }

    #[test]
    fn target_connections_bind_ids_to_workspaces_and_are_validated() {
        let c = cfg(&[(
            "TARGET_CONNECTIONS",
            r#"{"single": "postgres://u:pw@h/db",
                "tenant-a": {"url": "postgres://u:pw@a/db", "workspaces": ["ws-a", "ws-c"]},
                "shared": {"url": "postgresql://u:pw@s/db", "workspaces": ["*"]}}"#,
        )])
        .unwrap();
        assert!(c.connections["single"].allows(None));
        assert!(c.connections["single"].allows(Some("ws-b")));
        let a = &c.connections["tenant-a"];
        assert!(a.allows(Some("ws-a")) && a.allows(Some("ws-c")));
        assert!(!a.allows(Some("ws-b")) && !a.allows(None));
        assert_eq!(c.connections["shared"].workspaces, Workspaces::Any);
        for (bad, want) in [
            (
                r#"{"x": "not a url at all"}"#,
                r#"TARGET_CONNECTIONS["x"]: the URL must be a postgres://"#,
            ),
            (
                r#"{"x": "mysql://u:secretpw@h/db"}"#,
                r#"TARGET_CONNECTIONS["x"]"#,
            ),
            (r#"{"x": {"url": "postgres://u:pw@h/db"}}"#, "workspaces"),
            (
                r#"{"x": {"url": "postgres://u:pw@h/db", "workspaces": []}}"#,
                "empty",
            ),
            (
                r#"{"x": {"url": "postgres://u:pw@h/db", "workspaces": ["a"], "role": 1}}"#,
                "unknown field",
            ),
            (r#"{"x": {"workspaces": ["a"]}}"#, "url"),
            (r#"{"x": 5}"#, "TARGET_CONNECTIONS"),
            (r#"["postgres://u:pw@h/db"]"#, "JSON object"),
        ] {
            let e = cfg(&[("TARGET_CONNECTIONS", bad)])
                .err()
                .unwrap_or_default();
            assert!(e.contains(want), "{bad}: {e}");
            assert!(!e.contains("secretpw") && !e.contains("pw@"), "{e}");
        }
    }

    #[test]
    fn read_budget_and_response_limit_have_defaults_and_parse() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.target.budget.max_relations, DEFAULT_MAX_TABLES);
        assert_eq!(c.target.budget.max_columns, DEFAULT_MAX_COLUMNS);
        assert_eq!(c.lambda_response_limit, 6_291_456);
        let c = cfg(&[
            ("MAX_CATALOG_TABLES", " 25 "),
            ("MAX_CATALOG_COLUMNS", "400"),
            ("LAMBDA_RESPONSE_LIMIT_BYTES", "100000"),
        ])
        .unwrap();
        assert_eq!(c.target.budget.max_relations, 25);
        assert_eq!(c.target.budget.max_columns, 400);
        assert_eq!(c.lambda_response_limit, 100_000);
        assert!(c.describe().contains("maxCatalogTables=25"));
        // Empty means the default, as for every variable.
        let c = cfg(&[("MAX_CATALOG_TABLES", "")]).unwrap();
        assert_eq!(c.target.budget.max_relations, DEFAULT_MAX_TABLES);
        for (name, bad) in [
            ("MAX_CATALOG_TABLES", "0"),
            ("MAX_CATALOG_TABLES", "-5"),
            ("MAX_CATALOG_COLUMNS", "lots"),
            ("MAX_CATALOG_COLUMNS", "1.5"),
            ("LAMBDA_RESPONSE_LIMIT_BYTES", "0"),
            ("LAMBDA_RESPONSE_LIMIT_BYTES", "6MB"),
        ] {
            let e = cfg(&[(name, bad)]).unwrap_err();
            assert!(
                e.contains(name) && e.contains("at least 1"),
                "{name}={bad}: {e}"
            );
        }
    }

    #[test]
    fn timeouts_must_nest() {
        // Issue 16, finding 10: a 3 s request budget over a 20 s statement timeout left
        // catalog queries running on the target after their requests gave up.
        let e = cfg(&[("REQUEST_TIMEOUT_MS", "3000")]).unwrap_err();
        assert!(
            e.contains("REQUEST_TIMEOUT_MS (3000)") && e.contains("TARGET_STATEMENT_TIMEOUT_MS"),
            "{e}"
        );
        let e = cfg(&[("TARGET_LOCK_TIMEOUT_MS", "30000")]).unwrap_err();
        assert!(e.contains("TARGET_LOCK_TIMEOUT_MS"), "{e}");
        let e = cfg(&[("STORE_TIMEOUT_MS", "28000")]).unwrap_err();
        assert!(e.contains("STORE_TIMEOUT_MS"), "{e}");
        let c = cfg(&[
            ("REQUEST_TIMEOUT_MS", "3000"),
            ("TARGET_CONNECT_TIMEOUT_MS", "1000"),
            ("TARGET_STATEMENT_TIMEOUT_MS", "2000"),
            ("TARGET_LOCK_TIMEOUT_MS", "500"),
            ("STORE_TIMEOUT_MS", "1000"),
        ])
        .unwrap();
        assert_eq!(c.target.lock_timeout, Duration::from_millis(500));
        assert_eq!(
            cfg(&[]).unwrap().target.lock_timeout,
            Duration::from_secs(5)
        );
    }

    #[test]
    fn unverified_passwords_are_refused_unless_allowed() {
        assert!(!cfg(&[]).unwrap().tls.allow_unverified_password);
        assert!(
            cfg(&[("TARGET_ALLOW_UNVERIFIED_PASSWORD", "true")])
                .unwrap()
                .tls
                .allow_unverified_password
        );
    }

    #[test]
    fn bad_values_are_named() {
        let e = cfg(&[("MEM_TTL_MS", "soon")]).unwrap_err();
        assert!(e.contains("MEM_TTL_MS"), "{e}");
        let e = cfg(&[("SNAPSHOT_STORE", "redis")]).unwrap_err();
        assert!(e.contains("SNAPSHOT_STORE"), "{e}");
    }
}
