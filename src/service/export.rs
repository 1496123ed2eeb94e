//! `POST .../export`: the snapshot of one key written as Mermaid, DBML or Markdown.
//!
//! Owns getting the snapshot the way `snapshot` would (the same tiers, so an export is
//! as cheap as a cached read and publishes a fresh read it made) and writing it with
//! [`model::api::ExportFormat::write`]. It must never write anything of the connection
//! into the text: the formats see only the snapshot.

use super::Service;
use crate::error::ApiError;
use model::api::{ExportFormat, ExportRequest, SnapshotRequest};
use std::sync::Arc;

/// An export as the service answers it; `http` sends `text` with the format's type.
pub struct Exported {
    pub format: ExportFormat,
    pub text: String,
    /// When the exported snapshot was read (`meta.capturedAt`).
    pub captured_at: String,
}

impl Service {
    /// POST /api/v1/introspect/postgres/export
    pub async fn export(self: &Arc<Self>, req: ExportRequest) -> Result<Exported, ApiError> {
        let outcome = self
            .snapshot(SnapshotRequest {
                connection: req.connection,
                refresh: req.refresh,
                visible_tables: Vec::new(),
            })
            .await?;
        let snapshot = outcome
            .cached
            .snapshot()
            .map_err(|e| ApiError::Internal(format!("snapshot does not parse: {e}")))?;
        Ok(Exported {
            format: req.format,
            text: req.format.write(&snapshot),
            captured_at: snapshot.meta.captured_at.clone(),
        })
    }
}
