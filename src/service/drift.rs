//! Drift that survives a change of rules or of server.
//!
//! Owns settling a drift the signatures alone report: when they differ, the previous
//! snapshot is loaded; one stored under older key-quoting or definition rules
//! (`meta.normalForm` below [`model::normalize::NORMAL_FORM`]) is brought to the current
//! ones ([`model::normalize::migrate`]) and compared again, so a change of rules is no
//! drift and keeps its history; and the server versions of both sides are recorded, so
//! a drift that came with a PostgreSQL upgrade says so. It must never fail a request: a
//! previous snapshot it cannot load or parse leaves the drift as the signatures say.

use super::{Keys, Service};
use model::api::{Drift, SnapshotSummary};
use model::Snapshot;
use std::sync::Arc;

impl Service {
    /// Settles `drift` (the signatures of `current` against `previous`), as the module
    /// says. Costs a store read only when the signatures differ.
    pub(super) async fn settle_drift(
        &self,
        keys: &Keys,
        current: &Snapshot,
        previous: Option<&SnapshotSummary>,
        drift: &mut Drift,
    ) {
        drift.current_server_version_num = Some(current.meta.server_version_num);
        let Some(previous) = previous else {
            return;
        };
        if !drift.changed_since_last {
            return;
        }
        let Some(before) = self.previous_snapshot(keys, previous).await else {
            return;
        };
        drift.previous_server_version_num = Some(before.meta.server_version_num);
        drift.server_upgraded = model::upgrade::major(before.meta.server_version_num)
            != model::upgrade::major(current.meta.server_version_num);
        if before.meta.normal_form < model::normalize::NORMAL_FORM {
            let mut migrated = (*before).clone();
            model::normalize::migrate(&mut migrated);
            drift.previous_normalized = true;
            // A previous snapshot signed by an older deep format (deep-v1 knew none of
            // the issue-13 kinds) is compared like with like: both signed the old way.
            let deep_same = if before.meta.deep_signature_version < model::signature::DEEP_VERSION {
                model::signature::deep_signature_v1(&migrated)
                    == model::signature::deep_signature_v1(current)
            } else {
                migrated.meta.deep_signature == current.meta.deep_signature
            };
            drift.changed_since_last =
                migrated.meta.signature != current.meta.signature || !deep_same;
            if !drift.changed_since_last
                && before.meta.deep_signature_version < model::signature::DEEP_VERSION
            {
                drift.baseline_reestablished = Some(format!(
                    "the previous snapshot's deep signature was made by an older format; \
                     compared like with like nothing changed, and this snapshot's deep \
                     signature (format version {}) is the new baseline",
                    model::signature::DEEP_VERSION
                ));
            }
            drift.previous_signature = Some(migrated.meta.signature);
            drift.previous_deep_signature = Some(migrated.meta.deep_signature);
        }
    }

    /// The snapshot `previous` summarizes: from the store by id, else (memory-only) the
    /// memory tier's last entry when it is that snapshot.
    async fn previous_snapshot(
        &self,
        keys: &Keys,
        previous: &SnapshotSummary,
    ) -> Option<Arc<Snapshot>> {
        let cached = if previous.id.is_empty() {
            self.memory
                .get_any(&keys.cache)
                .map(|h| h.value)
                .filter(|c| c.signature == previous.signature)?
        } else {
            match self.store.at(&keys.store).load(&previous.id).await? {
                Ok(Some(stored)) => Arc::new(crate::cache::CachedSnapshot::from_stored(stored)),
                Ok(None) => return None,
                Err(e) => {
                    tracing::warn!(key = %keys.cache, error = %e,
                        "could not load the previous snapshot; drift is by signatures");
                    return None;
                }
            }
        };
        match cached.snapshot() {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(key = %keys.cache, error = %e,
                    "the previous snapshot does not parse; drift is by signatures");
                None
            }
        }
    }
}
