//! What the app knows and says: the request bodies it sends (the shapes themselves are
//! the wire contract, `model::api`), the drift marks taken from a diff, and every
//! sentence the UI shows ("Last refreshed 2 minutes ago", errors in plain words, the list of changes).
//!
//! Pure: no DOM, no clock (the current time is passed in), no network. It must never
//! keep a database URL anywhere but the form it was typed into.

use model::api::{self, PerformedRefresh, Refresh, SnapshotRef, Source, StoreKind};
use model::diff::{KindDiff, SnapshotDiff};
use model::Snapshot;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The connection form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Form {
    /// API base URL; empty means the page's own origin.
    pub api_base: String,
    /// A raw database URL (local development); sent only when no connection id is given.
    pub database_url: String,
    pub connection_id: String,
    /// Comma- or space-separated schema names as typed.
    pub schemas: String,
}

impl Form {
    /// The schema list as typed: split on commas and white space, deduplicated in order.
    pub fn schema_list(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        self.schemas
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(str::trim)
            .filter(|s| !s.is_empty() && seen.insert(s.to_string()))
            .map(str::to_string)
            .collect()
    }

    /// The endpoint URL for `path` (e.g. `/api/v1/introspect/postgres/snapshot`).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.api_base.trim().trim_end_matches('/'), path)
    }

    /// The connection fields every endpoint takes, or what is missing in plain words.
    pub fn connection(&self) -> Result<api::Connection, String> {
        let schemas = self.schema_list();
        if schemas.is_empty() {
            return Err("Name at least one schema to read (for example: public).".into());
        }
        let (id, url) = (self.connection_id.trim(), self.database_url.trim());
        let mut connection = api::Connection {
            schemas,
            ..api::Connection::default()
        };
        if !id.is_empty() {
            connection.connection_id = Some(id.to_string());
        } else if !url.is_empty() {
            connection.target_database_url = Some(url.to_string());
        } else {
            return Err("Give a database URL or a connection id.".into());
        }
        Ok(connection)
    }

    /// The body of a snapshot request.
    pub fn snapshot_body(
        &self,
        refresh: Refresh,
        visible: &[String],
    ) -> Result<api::SnapshotRequest, String> {
        let connection = self.connection()?;
        if refresh == Refresh::Visible && visible.is_empty() {
            return Err("No tables are in view: pan or zoom to the tables to refresh.".into());
        }
        Ok(api::SnapshotRequest {
            connection,
            refresh,
            visible_tables: if refresh == Refresh::Visible {
                visible.to_vec()
            } else {
                Vec::new()
            },
        })
    }

    /// The body of a diff request between two snapshots of this connection.
    pub fn diff_body(
        &self,
        from: SnapshotRef,
        to: SnapshotRef,
    ) -> Result<api::DiffRequest, String> {
        Ok(api::DiffRequest {
            connection: self.connection()?,
            from,
            to,
        })
    }
}

/// Who a form points at, without credentials: for telling one connection from another
/// (the connection id, or the part of the URL after its last `@`, and the schemas).
pub fn identity(form: &Form) -> String {
    let target = if !form.connection_id.trim().is_empty() {
        format!("id:{}", form.connection_id.trim())
    } else {
        let url = form.database_url.trim();
        let host = url.rsplit('@').next().unwrap_or(url);
        format!("url:{host}")
    };
    format!("{target}|{}", form.schema_list().join(","))
}

/// The form as remembered for the next visit: everything but the database URL.
pub fn remembered_form(form: &Form) -> String {
    json!({
        "apiBase": form.api_base, "connectionId": form.connection_id, "schemas": form.schemas,
    })
    .to_string()
}

/// A remembered form read back (what [`remembered_form`] wrote); `None` when unreadable.
/// An empty remembered schema list keeps the page's default.
pub fn restore_form(saved: &str, into: &mut Form) -> Option<()> {
    let v = serde_json::from_str::<Value>(saved).ok()?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    into.api_base = text("apiBase");
    into.connection_id = text("connectionId");
    if !text("schemas").is_empty() {
        into.schemas = text("schemas");
    }
    Some(())
}

/// The API base a deployment's `config.json` names (`{"apiBase": URL}`), if any.
pub fn configured_api_base(config: &str) -> Option<String> {
    let v = serde_json::from_str::<Value>(config).ok()?;
    Some(v.get("apiBase")?.as_str()?.to_string())
}

/// What the progress line says while a request of this kind runs.
pub fn progress_text(refresh: Refresh) -> &'static str {
    match refresh {
        Refresh::Cache => "Loading the schema…",
        Refresh::Force => "Reading the catalog…",
        Refresh::Visible => "Re-reading the visible tables…",
    }
}

/// The progress line after `elapsed_ms`: the seconds appear from the second second on.
pub fn progress_line(what: &str, elapsed_ms: f64) -> String {
    let secs = (elapsed_ms / 1000.0).floor();
    if secs >= 2.0 {
        format!("{what} {secs:.0} s")
    } else {
        what.to_string()
    }
}

/// An answer that is not a snapshot, in words.
pub fn unreadable_snapshot(detail: &str) -> String {
    format!("The API's answer could not be read as a snapshot ({detail}).")
}

/// An answer that is not a diff, in words.
pub fn unreadable_diff(detail: &str) -> String {
    format!("the diff could not be read ({detail})")
}

/// The changes panel's summary while the diff is on its way (nothing when no drift).
pub fn changes_pending(drifted: bool) -> &'static str {
    if drifted {
        "Loading the changes…"
    } else {
        ""
    }
}

/// The changes panel's summary when the diff could not be loaded.
pub fn changes_failed(detail: &str) -> String {
    format!("The changes could not be loaded: {detail}")
}

/// Said after the summary when the diff was computed in the browser.
pub const COMPARED_IN_BROWSER: &str = "compared in the browser with the snapshot shown before";

/// The side list's count line: "12 tables", "3 of 12 tables match", or no match.
pub fn table_count_line(live: usize, query: &str, hits: usize) -> String {
    let q = query.trim();
    if q.is_empty() {
        format!("{live} tables")
    } else if hits == 0 {
        format!("No table matches “{q}”")
    } else {
        format!("{hits} of {live} tables match")
    }
}

/// What the diagram leaves out, in words (empty when it shows everything): "2 partitions
/// folded into their parents · 1 table hidden · keys only".
pub fn reduced_line(folded: usize, hidden: usize, keys_only: bool) -> String {
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let mut parts = Vec::new();
    if folded > 0 {
        parts.push(format!(
            "{} folded into their parents",
            plural(folded, "partition", "partitions")
        ));
    }
    if hidden > 0 {
        parts.push(format!("{} hidden", plural(hidden, "table", "tables")));
    }
    if keys_only {
        parts.push("key columns only".to_string());
    }
    parts.join(" · ")
}

/// The neighbours view in words: "5 tables within 1 hop of public.orders".
pub fn neighbours_line(shown: usize, hops: usize, center: &str) -> String {
    format!(
        "{shown} table{} within {hops} hop{} of {center}",
        if shown == 1 { "" } else { "s" },
        if hops == 1 { "" } else { "s" }
    )
}

/// Which database and schemas are on screen, without credentials: the connection id, or
/// the URL's host, port and database (never its user, password or parameters), the
/// schemas read, and the server's version: "demo · public, inventory · PostgreSQL 15.8".
pub fn on_screen_line(form: &Form, meta: &model::SnapshotMeta) -> String {
    let id = form.connection_id.trim();
    let target = if !id.is_empty() {
        id.to_string()
    } else {
        let url = form.database_url.trim();
        let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        let host_db = after_scheme.rsplit('@').next().unwrap_or(after_scheme);
        host_db
            .split(['?', '#'])
            .next()
            .unwrap_or(host_db)
            .to_string()
    };
    let version = meta
        .server_version
        .split_whitespace()
        .next()
        .unwrap_or(&meta.server_version);
    let mut line = format!("{target} · {}", meta.schemas.join(", "));
    if !version.is_empty() {
        line.push_str(&format!(" · PostgreSQL {version}"));
    }
    line
}

/// An error while an older diagram stays on screen says so.
pub fn stale_error(message: &str, last_refreshed_line: &str) -> String {
    let mut m = message.trim_end().to_string();
    if !m.ends_with('.') {
        m.push('.');
    }
    let when = last_refreshed_line
        .strip_prefix("Last refreshed ")
        .unwrap_or(last_refreshed_line);
    format!("{m} The diagram below is still the one loaded before (refreshed {when}).")
}

/// What the last snapshot answer said besides the snapshot, as the status bar shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    pub last_refreshed_at: String,
    /// When a visible refresh last re-read some tables of this snapshot.
    pub partial_at: Option<String>,
    pub source: Source,
    pub drifted: bool,
    /// The saved snapshot's id (the diff's `to`), when the store saved it.
    pub snapshot_id: Option<String>,
    /// Said after the source: not saved, or how many visible tables were re-read.
    pub note: Option<String>,
}

impl Served {
    /// The status of `response`, without its snapshot.
    pub fn of(response: &api::SnapshotResponse) -> Served {
        let served = &response.served;
        Served {
            last_refreshed_at: served.last_refreshed_at.clone(),
            partial_at: response
                .snapshot
                .meta
                .partial_refresh
                .as_ref()
                .map(|p| p.refreshed_at.clone()),
            source: served.cache.source,
            drifted: served.drift.changed_since_last,
            snapshot_id: Some(&served.persistence)
                .filter(|p| p.saved)
                .and_then(|p| p.snapshot_id.clone()),
            note: persistence_note(&served.persistence).or_else(|| refresh_note(&served.refresh)),
        }
    }

    /// "Last refreshed 2 minutes ago" at `now_ms`; after a visible refresh, "Visible
    /// tables re-read just now · whole catalog 2 minutes ago".
    pub fn last_refreshed_line(&self, now_ms: f64) -> String {
        let ago = |iso: &str| match parse_time_ms(iso) {
            Some(t) => relative_time(now_ms, t),
            None => iso.to_string(),
        };
        match &self.partial_at {
            Some(p) => format!(
                "Visible tables re-read {} · whole catalog {}",
                ago(p),
                ago(&self.last_refreshed_at)
            ),
            None => format!("Last refreshed {}", ago(&self.last_refreshed_at)),
        }
    }

    /// "from the memory cache · 3 visible tables re-read".
    pub fn source_line(&self) -> String {
        let mut line = format!("from the {}", source_label(self.source));
        if let Some(n) = &self.note {
            line.push_str(" · ");
            line.push_str(n);
        }
        line
    }
}

/// Why a snapshot was not saved, when it was not.
pub fn persistence_note(p: &api::Persistence) -> Option<String> {
    if p.store == StoreKind::None {
        return Some("not saved (the service runs memory-only)".into());
    }
    if !p.saved {
        return Some(match &p.error {
            Some(e) => format!("not saved: {e}"),
            None => "not saved".into(),
        });
    }
    None
}

/// What a refresh did, when worth saying: the service's note, or the visible tables re-read.
pub fn refresh_note(r: &api::RefreshInfo) -> Option<String> {
    if let Some(n) = &r.note {
        return Some(n.clone());
    }
    match (&r.refreshed_tables, r.performed) {
        (Some(t), PerformedRefresh::Visible) => Some(format!(
            "{} visible table{} re-read",
            t.len(),
            if t.len() == 1 { "" } else { "s" }
        )),
        _ => None,
    }
}

/// Where the data came from, in words.
pub fn source_label(source: Source) -> &'static str {
    match source {
        Source::Mem => "memory cache",
        Source::Db => "snapshot store",
        Source::Fresh => "fresh catalog read",
    }
}

/// The source's wire spelling, for the page's `data-source` attribute.
pub fn source_attr(source: Source) -> String {
    serde_json::to_value(source)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Milliseconds since the Unix epoch of an ISO-8601 / RFC 3339 time.
pub fn parse_time_ms(iso: &str) -> Option<f64> {
    let t =
        time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as f64)
}

/// `then` relative to `now` (both epoch milliseconds): "just now", "45 seconds ago",
/// "1 minute ago", "3 hours ago", "2 days ago". A time in the future (clock skew
/// between the browser and the server) reads "just now".
pub fn relative_time(now_ms: f64, then_ms: f64) -> String {
    let secs = ((now_ms - then_ms) / 1000.0).floor();
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    if secs < 10.0 {
        "just now".into()
    } else if secs < 60.0 {
        plural(secs as i64, "second")
    } else if secs < 3600.0 {
        plural((secs / 60.0) as i64, "minute")
    } else if secs < 86_400.0 {
        plural((secs / 3600.0) as i64, "hour")
    } else {
        plural((secs / 86_400.0) as i64, "day")
    }
}

/// The exact time for the hover text: `2026-11-24 09:13:44 UTC`.
pub fn exact_time(iso: &str) -> String {
    match time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339) {
        Ok(t) => {
            let t = t.to_offset(time::UtcOffset::UTC);
            let fmt = time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            );
            t.format(&fmt).unwrap_or_else(|_| iso.to_string())
        }
        Err(_) => iso.to_string(),
    }
}

/// An API failure in plain words, from the HTTP status and the body the API sent
/// (`{"error": {"code", "message", "field"}}` for every error it answers).
pub fn api_error_message(status: u16, body: &str) -> String {
    let detail = serde_json::from_str::<api::ErrorResponse>(body).ok();
    let Some(api::ErrorDetail {
        code,
        message,
        field,
    }) = detail.map(|d| d.error)
    else {
        return match status {
            502..=504 => {
                format!("The API is unavailable right now (HTTP {status}). Try again in a moment.")
            }
            _ => format!("The API answered with HTTP {status} and no explanation."),
        };
    };
    let lead = match code.as_str() {
        "bad_request" => match &field {
            Some(f) => format!("The request was not accepted ({f})"),
            None => "The request was not accepted".into(),
        },
        "unauthorized" => "You are not signed in".into(),
        "forbidden" => "Not allowed".into(),
        "not_found" => "Not found".into(),
        "payload_too_large" => "The request is too large".into(),
        "target_unavailable" => "Could not connect to the database".into(),
        "target_timeout" => "The database did not answer in time".into(),
        "target_query_failed" => "Reading the database catalog failed".into(),
        "store_unavailable" => "The snapshot store is unavailable".into(),
        "request_timeout" => "The request took too long".into(),
        "catalog_too_large" => "The catalog is too large to read".into(),
        _ => format!("The API refused the request (HTTP {status})"),
    };
    format!("{lead}: {message}")
}

/// A failure to reach the API at all, in plain words.
pub fn network_error_message(url: &str, detail: &str) -> String {
    format!(
        "Could not reach the API at {url} ({detail}). Check the API URL and that the service is running."
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    Added,
    Changed,
    Removed,
}

impl Mark {
    pub fn class(self) -> &'static str {
        match self {
            Mark::Added => "added",
            Mark::Changed => "changed",
            Mark::Removed => "removed",
        }
    }
}

/// What changed, keyed for the diagram: table marks, column marks, and the removed
/// columns of each table (drawn as struck-through rows).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marks {
    pub tables: BTreeMap<String, Mark>,
    pub columns: BTreeMap<String, Mark>,
    /// table key -> removed column keys.
    pub removed_columns: BTreeMap<String, Vec<String>>,
    /// Removed tables, drawn as ghost boxes.
    pub removed_tables: Vec<String>,
}

impl Marks {
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.columns.is_empty()
    }
}

/// The table an object key (`schema.table.name`) belongs to: the longest known table
/// key that prefixes it (keys may hold quoted dots, so splitting on dots is wrong).
pub fn owner_table<'a>(key: &str, tables: &'a BTreeSet<String>) -> Option<&'a String> {
    tables
        .iter()
        .filter(|t| {
            key.len() > t.len() + 1
                && key.starts_with(t.as_str())
                && key.as_bytes()[t.len()] == b'.'
        })
        .max_by_key(|t| t.len())
}

/// Every table key on either side of `diff`: the current tables and the removed ones
/// (what [`owner_table`] looks keys up in).
fn known_tables(diff: &SnapshotDiff, current: &Snapshot) -> BTreeSet<String> {
    let mut known: BTreeSet<String> = current.tables.keys().cloned().collect();
    known.extend(diff.tables.removed.iter().cloned());
    known
}

/// The diagram's marks for `diff` (from `previous` to `current`).
pub fn marks_from_diff(diff: &SnapshotDiff, current: &Snapshot) -> Marks {
    let mut m = Marks::default();
    let known = known_tables(diff, current);
    for k in &diff.tables.added {
        m.tables.insert(k.clone(), Mark::Added);
    }
    for k in &diff.tables.removed {
        m.tables.insert(k.clone(), Mark::Removed);
        m.removed_tables.push(k.clone());
    }
    for c in &diff.tables.changed {
        m.tables.entry(c.key.clone()).or_insert(Mark::Changed);
    }
    let touch = |m: &mut Marks, table: Option<&String>| {
        if let Some(t) = table {
            m.tables.entry(t.clone()).or_insert(Mark::Changed);
        }
    };
    for k in &diff.columns.added {
        m.columns.insert(k.clone(), Mark::Added);
        touch(&mut m, owner_table(k, &known));
    }
    for c in &diff.columns.changed {
        m.columns.insert(c.key.clone(), Mark::Changed);
        touch(&mut m, owner_table(&c.key, &known));
    }
    for k in &diff.columns.removed {
        m.columns.insert(k.clone(), Mark::Removed);
        if let Some(t) = owner_table(k, &known) {
            m.removed_columns
                .entry(t.clone())
                .or_default()
                .push(k.clone());
            let t = t.clone();
            touch(&mut m, Some(&t));
        }
    }
    for kind in [
        &diff.relationships,
        &diff.indexes,
        &diff.constraints,
        &diff.triggers,
        &diff.policies,
        &diff.rules,
    ] {
        let keys = kind
            .added
            .iter()
            .chain(&kind.removed)
            .chain(kind.changed.iter().map(|c| &c.key));
        for k in keys {
            let owner = owner_table(k, &known).cloned();
            touch(&mut m, owner.as_ref());
        }
    }
    // Statistics are keyed `schema.name`: their table is in the object itself.
    let stats = &diff.statistics;
    for k in stats
        .added
        .iter()
        .chain(&stats.removed)
        .chain(stats.changed.iter().map(|c| &c.key))
    {
        let owner = statistics_table(k, current).cloned();
        touch(&mut m, owner.as_ref());
    }
    m
}

/// The table a statistics object is on, when the current snapshot still has it (a
/// removed statistics object names no table the browser knows).
fn statistics_table<'a>(key: &str, current: &'a Snapshot) -> Option<&'a String> {
    current.statistics.get(key).map(|s| &s.table)
}

/// Every kind of the diff with the word a change line uses for it, in the order the
/// change list shows them (tables first).
fn kinds(diff: &SnapshotDiff) -> [(&'static str, &KindDiff); 16] {
    [
        ("table", &diff.tables),
        ("column", &diff.columns),
        ("relationship", &diff.relationships),
        ("index", &diff.indexes),
        ("constraint", &diff.constraints),
        ("enum", &diff.enums),
        ("trigger", &diff.triggers),
        ("policy", &diff.policies),
        ("rule", &diff.rules),
        ("statistics", &diff.statistics),
        ("function", &diff.functions),
        ("sequence", &diff.sequences),
        ("type", &diff.types),
        ("extension", &diff.extensions),
        ("collation", &diff.collations),
        ("schema", &diff.schemas),
    ]
}

/// One line of the "what changed" panel.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeLine {
    /// `added`, `removed` or `changed`.
    pub mark: Mark,
    /// "table", "column", "relationship", "index", "constraint", "enum", "trigger",
    /// "policy", "rule", "statistics", "function", "sequence", "type", "extension",
    /// "collation", "schema".
    pub kind: &'static str,
    pub key: String,
    /// The table to focus when the line is clicked.
    pub table: Option<String>,
    /// For a change: `dataType: integer → bigint; nullable: true → false`.
    pub detail: String,
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The diff as lines, kind by kind (tables first), each list in key order.
pub fn change_lines(diff: &SnapshotDiff, current: &Snapshot) -> Vec<ChangeLine> {
    let known = known_tables(diff, current);
    let mut out = Vec::new();
    for (kind, d) in kinds(diff) {
        let table_of = |k: &str| match kind {
            "table" => Some(k.to_string()),
            "column" | "relationship" | "index" | "constraint" | "trigger" | "policy" | "rule" => {
                owner_table(k, &known).cloned()
            }
            "statistics" => statistics_table(k, current).cloned(),
            _ => None,
        };
        for k in &d.added {
            out.push(ChangeLine {
                mark: Mark::Added,
                kind,
                key: k.clone(),
                table: table_of(k),
                detail: String::new(),
            });
        }
        for k in &d.removed {
            out.push(ChangeLine {
                mark: Mark::Removed,
                kind,
                key: k.clone(),
                table: table_of(k),
                detail: String::new(),
            });
        }
        for c in &d.changed {
            let mut detail: Vec<String> = c
                .attributes
                .iter()
                .map(|a| format!("{}: {} → {}", a.attribute, show(&a.before), show(&a.after)))
                .collect();
            if let Some(from) = &c.renamed_from {
                detail.insert(0, format!("renamed from {from}"));
            }
            out.push(ChangeLine {
                mark: Mark::Changed,
                kind,
                key: c.key.clone(),
                table: table_of(&c.key),
                detail: detail.join("; "),
            });
        }
    }
    out
}

/// The one-line summary of a diff: "2 tables, 3 columns changed".
pub fn diff_summary(diff: &SnapshotDiff) -> String {
    let count = |d: &KindDiff| d.added.len() + d.removed.len() + d.changed.len();
    let parts: Vec<String> = kinds(diff)
        .iter()
        .map(|(what, d)| (*what, count(d)))
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| {
            let plural = match (what, n) {
                (w, 1) => w.to_string(),
                ("index", _) => "indexes".to_string(),
                ("policy", _) => "policies".to_string(),
                ("statistics", _) => "statistics".to_string(),
                (w, _) => format!("{w}s"),
            };
            format!("{n} {plural}")
        })
        .collect();
    if parts.is_empty() {
        "no differences".into()
    } else {
        format!("{} changed", parts.join(", "))
    }
}

#[cfg(test)]
mod tests;
