//! `POST .../diff`: what changed between two snapshots of one key.
//!
//! Owns resolving each side (stored by position or id, or a fresh read) and labelling
//! them. It must never read the catalog twice for one diff (both sides "fresh" are the
//! same read), and resolves stored sides before a fresh one, which becomes the latest.

use super::{Keys, Resolved, Service};
use crate::cache::CachedSnapshot;
use crate::error::ApiError;
use model::api::{
    DiffRequest, DiffResponse, PerformedRefresh, Refresh, RefreshInfo, SnapshotRef, SnapshotRefInfo,
};
use std::sync::Arc;

impl Service {
    /// POST /api/v1/introspect/postgres/diff
    pub async fn diff(self: &Arc<Self>, req: DiffRequest) -> Result<DiffResponse, ApiError> {
        let resolved = self.resolve(&req.connection).await?;
        if req.from != SnapshotRef::Fresh || req.to != SnapshotRef::Fresh {
            self.prove_credentials(&resolved).await?;
        }
        let Resolved {
            keys,
            target,
            schemas,
            workspace,
            raw,
        } = resolved;
        // Stored sides first: a fresh read becomes the latest once it is persisted.
        let mut target = Some(target);
        let mut sides: [Option<Arc<CachedSnapshot>>; 2] = [None, None];
        for pass in [false, true] {
            for (i, r) in [&req.from, &req.to].into_iter().enumerate() {
                if (*r == SnapshotRef::Fresh) != pass || sides[i].is_some() {
                    continue;
                }
                sides[i] = Some(match r {
                    SnapshotRef::Fresh => match target.take() {
                        Some(target) => {
                            let resolved = Resolved {
                                keys: keys.clone(),
                                target,
                                schemas: schemas.clone(),
                                workspace: workspace.clone(),
                                raw,
                            };
                            let refresh =
                                RefreshInfo::plain(Refresh::Force, PerformedRefresh::Full);
                            self.full_read(resolved, refresh).await?.cached
                        }
                        // Both sides "fresh": the same read.
                        None => sides[1 - i]
                            .clone()
                            .ok_or_else(|| ApiError::Internal("fresh side missing".into()))?,
                    },
                    other => self.stored_side(&keys, other).await?,
                });
            }
        }
        let [Some(from), Some(to)] = sides else {
            return Err(ApiError::Internal("diff sides unresolved".into()));
        };
        let parse = |c: &CachedSnapshot| {
            c.snapshot()
                .map_err(|e| ApiError::Internal(format!("stored snapshot does not parse: {e}")))
        };
        // A side stored under older key or definition rules is compared in the current
        // ones, so a change of rules is no difference.
        let current_rules = |s: Arc<model::Snapshot>| {
            if s.meta.normal_form >= model::normalize::NORMAL_FORM {
                return s;
            }
            let mut s = (*s).clone();
            model::normalize::migrate(&mut s);
            Arc::new(s)
        };
        let (a, b) = (current_rules(parse(&from)?), current_rules(parse(&to)?));
        let diff = model::diff::diff(&a, &b);
        let info = |c: &CachedSnapshot| SnapshotRefInfo {
            id: c.stored_id.clone(),
            captured_at: c.captured_at.clone(),
            signature: c.signature.clone(),
            deep_signature: c.deep_signature.clone(),
        };
        Ok(DiffResponse {
            from: info(&from),
            to: info(&to),
            diff,
        })
    }

    /// A stored side: `latest` (the memory tier's when memory-only), `previous` or an id.
    async fn stored_side(
        &self,
        keys: &Keys,
        r: &SnapshotRef,
    ) -> Result<Arc<CachedSnapshot>, ApiError> {
        let no_store = || {
            ApiError::NotFound(
                "this service runs memory-only: only \"latest\" and \"fresh\" snapshots can be compared".into(),
            )
        };
        let store = self.store.at(&keys.store);
        let loaded = match r {
            SnapshotRef::Fresh => return Err(ApiError::Internal("fresh is not stored".into())),
            SnapshotRef::Latest => match store.load_latest().await {
                Some(result) => result?,
                None => {
                    return self
                        .memory
                        .get_any(&keys.cache)
                        .map(|h| h.value)
                        .ok_or_else(|| {
                            ApiError::NotFound(
                                "no snapshot of this connection and schemas yet".into(),
                            )
                        })
                }
            },
            SnapshotRef::Previous => store
                .run(|s, key| async move {
                    let history = s.history(&key, 2, None).await?;
                    // An unchanged re-read supersedes the latest (the store keeps one
                    // snapshot per definition state), so with one state stored the
                    // previous read defined the same objects: the latest stands for it
                    // and the diff is empty, not a 404.
                    match history.get(1).or(history.first()) {
                        Some(prev) => s.load(&key, &prev.id).await,
                        None => Ok(None),
                    }
                })
                .await
                .ok_or_else(no_store)??,
            SnapshotRef::Id(id) => store.load(id).await.ok_or_else(no_store)??,
        };
        loaded
            .map(|l| Arc::new(CachedSnapshot::from_stored(l)))
            .ok_or_else(|| {
                ApiError::NotFound(match r {
                    SnapshotRef::Id(id) => {
                        format!("no snapshot {id:?} for this connection and schemas")
                    }
                    SnapshotRef::Previous => {
                        "there is no previous snapshot of this connection and schemas yet".into()
                    }
                    _ => "no snapshot of this connection and schemas yet".into(),
                })
            })
    }
}
