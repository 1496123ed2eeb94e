//! The customer's catalog as the request path reads it: the one seam between the
//! service and a target database, so the path can be unit-tested in process.
//!
//! Owns connecting (to the addresses the target policy pinned) and running one read;
//! [`PostgresCatalog`] is the only implementation outside tests. It must never be
//! handed a target the policy has not checked, and never keep the [`Target`] (the URL
//! holder) past the connection.

use crate::config::Config;
use crate::connkey::Target;
use crate::error::ApiError;
use crate::introspect;
use async_trait::async_trait;
use model::Snapshot;
use std::net::IpAddr;
use std::sync::Arc;

/// Reads a target's catalog.
#[async_trait]
pub(crate) trait CatalogReader: Send + Sync {
    /// Every table of `schemas`: the sealed snapshot and its JSON (made in one pass).
    async fn read_all(
        &self,
        target: Target,
        pinned: &[IpAddr],
        schemas: &[String],
        captured_at: String,
    ) -> Result<(Snapshot, Vec<u8>), ApiError>;

    /// [`CatalogReader::read_all`], except that requested schemas that do not exist are
    /// read as empty and listed in `meta.missingSchemas` (for a connection with an
    /// earlier snapshot of them: they were removed) instead of failing the read.
    async fn read_all_removing_missing(
        &self,
        target: Target,
        pinned: &[IpAddr],
        schemas: &[String],
        captured_at: String,
    ) -> Result<(Snapshot, Vec<u8>), ApiError> {
        self.read_all(target, pinned, schemas, captured_at).await
    }

    /// Only `tables` (keys): the partial snapshot, and the keys that name no table.
    async fn read_tables(
        &self,
        target: Target,
        pinned: &[IpAddr],
        schemas: &[String],
        tables: &[String],
        captured_at: String,
    ) -> Result<(Snapshot, Vec<String>), ApiError>;

    /// Opens a connection and closes it: the target's credentials still work (raw-URL
    /// mode proves them before serving anything cached or stored).
    async fn prove(&self, target: &Target, pinned: &[IpAddr]) -> Result<(), ApiError>;
}

/// The real reader: [`introspect`] over a pinned, TLS-configured connection.
pub(crate) struct PostgresCatalog {
    pub(crate) cfg: Arc<Config>,
}

#[async_trait]
impl CatalogReader for PostgresCatalog {
    async fn read_all(
        &self,
        target: Target,
        pinned: &[IpAddr],
        schemas: &[String],
        captured_at: String,
    ) -> Result<(Snapshot, Vec<u8>), ApiError> {
        let opts = &self.cfg.target;
        let mut client =
            introspect::connect_pinned(&target.url, opts, pinned, &self.cfg.tls).await?;
        drop(target);
        Ok(introspect::read_snapshot_json(&mut client, schemas, opts, captured_at).await?)
    }

    async fn read_all_removing_missing(
        &self,
        target: Target,
        pinned: &[IpAddr],
        schemas: &[String],
        captured_at: String,
    ) -> Result<(Snapshot, Vec<u8>), ApiError> {
        let opts = &self.cfg.target;
        let mut client =
            introspect::connect_pinned(&target.url, opts, pinned, &self.cfg.tls).await?;
        drop(target);
        Ok(
            introspect::read_snapshot_json_removing_missing(
                &mut client,
                schemas,
                opts,
                captured_at,
            )
            .await?,
        )
    }

    async fn read_tables(
        &self,
        target: Target,
        pinned: &[IpAddr],
        schemas: &[String],
        tables: &[String],
        captured_at: String,
    ) -> Result<(Snapshot, Vec<String>), ApiError> {
        let opts = &self.cfg.target;
        let mut client =
            introspect::connect_pinned(&target.url, opts, pinned, &self.cfg.tls).await?;
        drop(target);
        Ok(introspect::read_tables(&mut client, schemas, tables, opts, captured_at).await?)
    }

    async fn prove(&self, target: &Target, pinned: &[IpAddr]) -> Result<(), ApiError> {
        let client =
            introspect::connect_pinned(&target.url, &self.cfg.target, pinned, &self.cfg.tls)
                .await?;
        drop(client);
        Ok(())
    }
}
