//! The wire contract: every path, request body, response body and shared limit of the
//! HTTP API, once, for the server, the web app and the tests.
//!
//! Owns the JSON shapes (field names, enum spellings) and the limits both sides must
//! agree on. It must never hold behaviour (validation with field-named errors is the
//! server's, sentences are the web app's) and never a server-only dependency: it
//! compiles to wasm32 with the rest of this crate. See ARCHITECTURE.md, "The wire
//! contract".

use crate::diff::SnapshotDiff;
use crate::Snapshot;
use serde::{Deserialize, Serialize};

/// `POST`: a snapshot of a connection's schemas ([`SnapshotRequest`] -> [`SnapshotResponse`]).
pub const SNAPSHOT_PATH: &str = "/api/v1/introspect/postgres/snapshot";
/// `POST`: what changed between two snapshots ([`DiffRequest`] -> [`DiffResponse`]).
pub const DIFF_PATH: &str = "/api/v1/introspect/postgres/diff";
/// `POST`: the stored snapshots, newest first ([`HistoryRequest`] -> [`HistoryResponse`]).
pub const HISTORY_PATH: &str = "/api/v1/introspect/postgres/history";
/// `GET`: liveness and tier usage ([`Health`]).
pub const HEALTH_PATH: &str = "/healthz";
/// `POST`: the snapshot as Mermaid, DBML or Markdown text ([`ExportRequest`]).
pub const EXPORT_PATH: &str = "/api/v1/introspect/postgres/export";

/// The default cap on `visibleTables` in one request (the server's `MAX_VISIBLE_TABLES`
/// setting starts here; the web app never sends more).
pub const MAX_VISIBLE_TABLES: usize = 2_000;
/// The default cap on `schemas` in one request (the server's `MAX_SCHEMAS` setting).
pub const MAX_SCHEMAS: usize = 100;
/// History page size when `limit` is absent.
pub const HISTORY_DEFAULT_LIMIT: usize = 20;
/// The largest history page size a request may ask for.
pub const HISTORY_MAX_LIMIT: usize = 200;

/// How a snapshot request may be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Refresh {
    /// Memory tier, then the store if young enough, then a fresh read.
    #[default]
    Cache,
    /// Always a fresh full read.
    Force,
    /// Re-read only `visibleTables` and merge them into the latest snapshot.
    Visible,
}

impl Refresh {
    /// Every mode, in the order the API documents them.
    pub const ALL: [Refresh; 3] = [Refresh::Cache, Refresh::Force, Refresh::Visible];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Refresh::Cache => "cache",
            Refresh::Force => "force",
            Refresh::Visible => "visible",
        }
    }

    /// The mode a wire spelling names, if any.
    pub fn parse(s: &str) -> Option<Refresh> {
        Refresh::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Where a served snapshot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The memory tier of the process that answered.
    Mem,
    /// The persistent store (this process's read, or another process's under the lease).
    Db,
    /// A catalog read made for this request.
    Fresh,
}

/// What a snapshot request actually did, which may differ from what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PerformedRefresh {
    /// Served from a tier without reading the catalog.
    Cache,
    /// A full catalog read.
    Full,
    /// Only the visible tables were re-read and merged.
    Visible,
}

/// The persistent store a deployment runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// PostgreSQL (`APP_DATABASE_URL`).
    Postgres,
    /// DynamoDB.
    Dynamodb,
    /// No store: memory-only.
    None,
}

impl StoreKind {
    /// The wire spelling (also used in log lines).
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Postgres => "postgres",
            StoreKind::Dynamodb => "dynamodb",
            StoreKind::None => "none",
        }
    }
}

impl std::fmt::Display for StoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One side of a diff: a position in the history or a stored snapshot id. On the wire a
/// string: `"latest"`, `"previous"`, `"fresh"` or an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum SnapshotRef {
    /// The newest stored snapshot.
    Latest,
    /// The one before the newest.
    Previous,
    /// A catalog read made for this request (then stored, so it becomes the latest).
    Fresh,
    /// A stored snapshot by id.
    Id(String),
}

impl SnapshotRef {
    /// The reference a wire string names (anything not a keyword is an id).
    pub fn parse(s: &str) -> SnapshotRef {
        match s {
            "latest" => SnapshotRef::Latest,
            "previous" => SnapshotRef::Previous,
            "fresh" => SnapshotRef::Fresh,
            id => SnapshotRef::Id(id.to_string()),
        }
    }

    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            SnapshotRef::Latest => "latest",
            SnapshotRef::Previous => "previous",
            SnapshotRef::Fresh => "fresh",
            SnapshotRef::Id(id) => id,
        }
    }
}

impl From<String> for SnapshotRef {
    fn from(s: String) -> SnapshotRef {
        SnapshotRef::parse(&s)
    }
}

impl From<SnapshotRef> for String {
    fn from(r: SnapshotRef) -> String {
        r.as_str().to_string()
    }
}

/// Which connection and schemas a request is about; the part every endpoint shares.
/// Deliberately no `Debug`: it may hold a raw database URL.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// Scopes the connection key (overridden by the caller's workspace claim when set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
    /// A connection configured on the server (`TARGET_CONNECTIONS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// A raw target URL (when the server allows them). Never logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_database_url: Option<String>,
    /// The schemas to read; at least one.
    pub schemas: Vec<String>,
}

/// The body of `POST` [`SNAPSHOT_PATH`].
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotRequest {
    /// Which connection and schemas.
    #[serde(flatten)]
    pub connection: Connection,
    /// How it may be served; `cache` when absent.
    #[serde(default)]
    pub refresh: Refresh,
    /// Table keys to re-read for [`Refresh::Visible`] (e.g. `public.users`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub visible_tables: Vec<String>,
}

/// The body of `POST` [`DIFF_PATH`].
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffRequest {
    /// Which connection and schemas.
    #[serde(flatten)]
    pub connection: Connection,
    /// The older side; `previous` when absent.
    #[serde(default = "previous")]
    pub from: SnapshotRef,
    /// The newer side; `latest` when absent.
    #[serde(default = "latest")]
    pub to: SnapshotRef,
}

fn previous() -> SnapshotRef {
    SnapshotRef::Previous
}

fn latest() -> SnapshotRef {
    SnapshotRef::Latest
}

/// The body of `POST` [`HISTORY_PATH`].
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRequest {
    /// Which connection and schemas.
    #[serde(flatten)]
    pub connection: Connection,
    /// Page size, 1 to [`HISTORY_MAX_LIMIT`]; [`HISTORY_DEFAULT_LIMIT`] when absent.
    #[serde(default = "history_default_limit")]
    pub limit: usize,
    /// A `nextBefore` from the previous page (exclusive `capturedAt` cursor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
}

fn history_default_limit() -> usize {
    HISTORY_DEFAULT_LIMIT
}

/// A text format `POST` [`EXPORT_PATH`] writes the snapshot in ([`crate::export`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Mermaid `erDiagram`.
    Mermaid,
    /// DBML (dbdiagram.io, dbdocs).
    Dbml,
    /// Markdown documentation.
    Markdown,
}

impl ExportFormat {
    /// Every format, in the order the API documents them.
    pub const ALL: [ExportFormat; 3] = [
        ExportFormat::Mermaid,
        ExportFormat::Dbml,
        ExportFormat::Markdown,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Mermaid => "mermaid",
            ExportFormat::Dbml => "dbml",
            ExportFormat::Markdown => "markdown",
        }
    }

    /// The format a wire spelling names, if any.
    pub fn parse(s: &str) -> Option<ExportFormat> {
        ExportFormat::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The response's `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Mermaid | ExportFormat::Dbml => "text/plain; charset=utf-8",
            ExportFormat::Markdown => "text/markdown; charset=utf-8",
        }
    }

    /// The file name a download gets.
    pub fn file_name(self) -> &'static str {
        match self {
            ExportFormat::Mermaid => "schema.mmd",
            ExportFormat::Dbml => "schema.dbml",
            ExportFormat::Markdown => "schema.md",
        }
    }

    /// The snapshot written in this format.
    pub fn write(self, snapshot: &Snapshot) -> String {
        match self {
            ExportFormat::Mermaid => crate::export::mermaid(snapshot),
            ExportFormat::Dbml => crate::export::dbml(snapshot),
            ExportFormat::Markdown => crate::export::markdown(snapshot),
        }
    }
}

/// The body of `POST` [`EXPORT_PATH`].
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportRequest {
    /// Which connection and schemas.
    #[serde(flatten)]
    pub connection: Connection,
    /// The text format.
    pub format: ExportFormat,
    /// How the snapshot may be served: `cache` (the default) or `force`.
    #[serde(default)]
    pub refresh: Refresh,
}

/// How the snapshot was found in the tiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheInfo {
    /// True when no catalog read was made for this request.
    pub hit: bool,
    /// Which tier served it.
    pub source: Source,
    /// The cache key (a keyed hash: never a credential).
    pub key: String,
    /// The memory tier's TTL.
    pub ttl_ms: u64,
    /// How old a stored snapshot may be and still be served; absent when memory-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_ms: Option<u64>,
    /// How old the served snapshot is, by its capture time.
    pub age_ms: u64,
}

/// Drift: how the served snapshot compares with the one before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// True when either signature differs from the previous snapshot's.
    pub changed_since_last: bool,
    /// The previous snapshot's signature, when there is one.
    #[serde(default)]
    pub previous_signature: Option<String>,
    /// The served snapshot's signature.
    pub current_signature: String,
    /// The previous snapshot's deep signature, when there is one.
    #[serde(default)]
    pub previous_deep_signature: Option<String>,
    /// The served snapshot's deep signature.
    pub current_deep_signature: String,
    /// When the snapshot compared against was captured.
    #[serde(default)]
    pub previous_captured_at: Option<String>,
    /// Set when the previous snapshot's deep signature was made by an older format
    /// version: the two were compared like with like (the current snapshot signed the
    /// old way), nothing that format covered changed, and the current deep signature is
    /// the new baseline. Says so in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_reestablished: Option<String>,
    /// `server_version_num` of the server the served snapshot was read from (on a fresh
    /// read, and wherever the drift was settled by definitions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_server_version_num: Option<i32>,
    /// `server_version_num` of the server the previous snapshot was read from: present
    /// when the signatures differed and the previous snapshot was loaded to compare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_server_version_num: Option<i32>,
    /// True when the two were read from different PostgreSQL majors: a diff of them marks
    /// the changes the upgrade itself explains (`upgrade` on each change).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub server_upgraded: bool,
    /// True when the previous snapshot was stored under older key-quoting or definition
    /// rules and was brought to the current ones before comparing; `previousSignature`
    /// and `previousDeepSignature` are then those of the normalized snapshot.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub previous_normalized: bool,
}

/// Whether the served snapshot is persisted, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Persistence {
    /// The store this deployment runs with.
    pub store: StoreKind,
    /// True when the snapshot is in the store.
    pub saved: bool,
    /// Its store id, when saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    /// Why it is not saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How the request was served, when it differs from what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshInfo {
    /// The mode asked for.
    pub requested: Refresh,
    /// What was done.
    pub performed: PerformedRefresh,
    /// For a visible refresh: the tables re-read, by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshed_tables: Option<Vec<String>>,
    /// For a visible refresh: the tables found gone, by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_tables: Option<Vec<String>>,
    /// Why `performed` differs from `requested`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl RefreshInfo {
    /// Asked `requested`, did `performed`, nothing more to say.
    pub fn plain(requested: Refresh, performed: PerformedRefresh) -> RefreshInfo {
        RefreshInfo {
            requested,
            performed,
            refreshed_tables: None,
            removed_tables: None,
            note: None,
        }
    }

    /// The same, with a note saying why.
    pub fn with_note(mut self, note: impl Into<String>) -> RefreshInfo {
        self.note = Some(note.into());
        self
    }
}

/// Everything a snapshot response carries besides the snapshot: how it was served.
/// The server writes it after the snapshot's stored JSON, field order as here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Served {
    /// How the tiers served it.
    pub cache: CacheInfo,
    /// When the served snapshot was captured (ISO-8601).
    pub last_refreshed_at: String,
    /// How it compares with the snapshot before it.
    pub drift: Drift,
    /// Whether it is persisted.
    pub persistence: Persistence,
    /// What was done.
    pub refresh: RefreshInfo,
}

/// The answer of `POST` [`SNAPSHOT_PATH`]: `{"snapshot": ..., "cache": ..., ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotResponse {
    /// The snapshot.
    pub snapshot: Snapshot,
    /// How it was served.
    #[serde(flatten)]
    pub served: Served,
}

/// A stored snapshot as history and drift name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotSummary {
    /// Store id (empty for a memory-only snapshot).
    pub id: String,
    /// Capture time (ISO-8601).
    pub captured_at: String,
    /// Signature (what the drift pill compares).
    pub signature: String,
    /// Deep signature (every object kind).
    pub deep_signature: String,
    /// Tables in the snapshot.
    pub table_count: usize,
}

/// A snapshot as a diff names one of its sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotRefInfo {
    /// Store id, when stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Capture time (ISO-8601).
    pub captured_at: String,
    /// Signature.
    pub signature: String,
    /// Deep signature.
    pub deep_signature: String,
}

/// The answer of `POST` [`DIFF_PATH`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffResponse {
    /// The older side.
    pub from: SnapshotRefInfo,
    /// The newer side.
    pub to: SnapshotRefInfo,
    /// What changed from `from` to `to`.
    pub diff: SnapshotDiff,
}

/// The answer of `POST` [`HISTORY_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryResponse {
    /// The store listed (memory-only lists the memory tier's one entry).
    pub store: StoreKind,
    /// Summaries, newest first.
    pub items: Vec<SnapshotSummary>,
    /// Pass as `before` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<String>,
}

/// The answer of `GET` [`HEALTH_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Always `ok` when it answers.
    pub status: String,
    /// The store configured.
    pub store: StoreKind,
    /// True when no store is configured.
    pub memory_only: bool,
    /// Catalog reads this process has made (only with `HEALTH_COUNTERS`: the route
    /// answers anyone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_reads: Option<u64>,
    /// Bytes the memory tier accounts for (only with `HEALTH_COUNTERS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<usize>,
    /// Entries in the memory tier (only with `HEALTH_COUNTERS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_entries: Option<usize>,
}

/// Every error answer: `{"error": {"code": ..., "message": ..., "field": ...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The error itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `bad_request`, `store_unavailable`.
    pub code: String,
    /// What is wrong, in words (never a URL or credential).
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_and_refs_spell_as_the_api_documents() {
        for r in Refresh::ALL {
            let json = serde_json::to_value(r).unwrap();
            assert_eq!(json, r.as_str());
            assert_eq!(Refresh::parse(r.as_str()), Some(r));
        }
        assert_eq!(Refresh::parse("Force"), None);
        for (s, r) in [
            ("latest", SnapshotRef::Latest),
            ("previous", SnapshotRef::Previous),
            ("fresh", SnapshotRef::Fresh),
            ("01HX", SnapshotRef::Id("01HX".into())),
        ] {
            assert_eq!(serde_json::to_value(&r).unwrap(), s);
            assert_eq!(serde_json::from_value::<SnapshotRef>(s.into()).unwrap(), r);
        }
        assert_eq!(
            serde_json::to_value(PerformedRefresh::Full).unwrap(),
            "full"
        );
        assert_eq!(serde_json::to_value(Source::Mem).unwrap(), "mem");
        assert_eq!(serde_json::to_value(StoreKind::None).unwrap(), "none");
    }

    #[test]
    fn request_bodies_use_the_documented_field_names() {
        let req = SnapshotRequest {
            connection: Connection {
                connection_id: Some("demo".into()),
                schemas: vec!["public".into()],
                ..Connection::default()
            },
            refresh: Refresh::Visible,
            visible_tables: vec!["public.users".into()],
        };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            serde_json::json!({"connectionId": "demo", "schemas": ["public"],
                "refresh": "visible", "visibleTables": ["public.users"]})
        );
        let diff: DiffRequest =
            serde_json::from_value(serde_json::json!({"schemas": ["public"]})).unwrap();
        assert_eq!(
            (diff.from, diff.to),
            (SnapshotRef::Previous, SnapshotRef::Latest)
        );
        let history: HistoryRequest =
            serde_json::from_value(serde_json::json!({"schemas": ["public"]})).unwrap();
        assert_eq!(history.limit, HISTORY_DEFAULT_LIMIT);
    }
}
