//! Refresh "visible": re-read only the tables in view and merge them into the latest
//! snapshot.
//!
//! Owns validating `visibleTables`, choosing the base to merge into and when a full read
//! is the better answer (no base, or more than `VISIBLE_FULL_READ_SHARE` of the
//! catalog). It must never merge into a base it cannot parse, and never silently drop a
//! requested table: unknown ones are a 400, gone ones are reported.

use super::time::now_iso;
use super::{Resolved, Service, SnapshotOutcome};
use crate::error::ApiError;
use model::api::{PerformedRefresh, Refresh, RefreshInfo, Source};
use std::sync::Arc;

impl Service {
    /// Re-reads only the named tables and merges them into the latest snapshot. Falls
    /// back to a full read (and says why) when there is no earlier snapshot or the
    /// tables are more than `VISIBLE_FULL_READ_SHARE` of the catalog.
    pub(super) async fn visible_read(
        self: &Arc<Self>,
        resolved: Resolved,
        visible: Vec<String>,
    ) -> Result<SnapshotOutcome, ApiError> {
        let mut tables: Vec<String> = visible.iter().map(|t| t.trim().to_string()).collect();
        tables.sort();
        tables.dedup();
        let malformed: Vec<&str> = tables
            .iter()
            .filter(|t| model::keys::split_key(t).is_none_or(|parts| parts.len() != 2))
            .map(String::as_str)
            .collect();
        if !malformed.is_empty() {
            return Err(ApiError::bad(
                "visibleTables",
                format!(
                    "visibleTables must be table keys like public.users or public.\"Order Items\"; malformed: {}",
                    malformed.join(", ")
                ),
            ));
        }
        let full = |note: String| {
            RefreshInfo::plain(Refresh::Visible, PerformedRefresh::Full).with_note(note)
        };
        let keys = &resolved.keys;

        // The base: the memory tier's entry while it is fresh; otherwise the newer of the
        // store's latest (another container may have read since) and the stale entry.
        let base = match self.memory.get(&keys.cache) {
            Some(hit) => Some(hit.value),
            None => {
                let stored = self.stored_latest_without_drift(keys).await;
                let remembered = self.memory.get_any(&keys.cache).map(|h| h.value);
                match (stored, remembered) {
                    (Some(s), Some(m)) if m.captured_at > s.captured_at => Some(m),
                    (Some(s), _) => Some(s),
                    (None, m) => m,
                }
            }
        };
        let Some(base) = base else {
            let note = "no earlier snapshot to merge into: did a full read".to_string();
            return self.full_read(resolved, full(note)).await;
        };
        let base_snapshot = base
            .snapshot()
            .map_err(|e| ApiError::Internal(format!("latest snapshot does not parse: {e}")))?;
        let share = self.cfg.visible_full_read_share;
        let limit = ((base_snapshot.tables.len() as f64) * share)
            .floor()
            .max(1.0) as usize;
        if tables.len() > limit {
            let note = format!(
                "{} visible tables are more than {:.0}% of the {} in the catalog: did a full read",
                tables.len(),
                share * 100.0,
                base_snapshot.tables.len()
            );
            return self.full_read(resolved, full(note)).await;
        }

        let Resolved {
            keys,
            target,
            schemas,
            workspace,
            ..
        } = resolved;
        let pinned = self.check_target(&target).await?;
        let now = now_iso();
        let (partial, missing) = self
            .catalog
            .read_tables(target, &pinned, &schemas, &tables, now.clone())
            .await?;
        self.credentials_worked(&keys);
        let (gone, unknown): (Vec<String>, Vec<String>) = missing
            .into_iter()
            .partition(|t| base_snapshot.tables.contains_key(t));
        if !unknown.is_empty() {
            return Err(ApiError::bad(
                "visibleTables",
                format!(
                    "these tables exist neither in the latest snapshot nor in the database: {}",
                    unknown.join(", ")
                ),
            ));
        }
        let reread: Vec<String> = partial.tables.keys().cloned().collect();
        let mut merged = model::merge::merge_visible_unsealed(
            current_rules(&base_snapshot),
            partial,
            &gone,
            &now,
        );
        let json = model::signature::seal_to_json(&mut merged);
        let previous = Some(base.summary());
        let published = self
            .publish(&keys, merged, json, previous, workspace)
            .await?;
        Ok(SnapshotOutcome {
            cache: self.cache_info(&keys, false, Source::Fresh, &published.cached),
            cached: published.cached,
            persistence: published.persistence,
            refresh: RefreshInfo {
                requested: Refresh::Visible,
                performed: PerformedRefresh::Visible,
                refreshed_tables: Some(reread),
                removed_tables: Some(gone),
                note: None,
            },
        })
    }
}

/// The base in the current key and definition rules: a snapshot stored under older ones
/// is migrated first, so the re-read tables' keys meet the base's.
fn current_rules(base: &model::Snapshot) -> model::Snapshot {
    let mut base = base.clone();
    model::normalize::migrate(&mut base);
    base
}
