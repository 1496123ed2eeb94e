-- 009_catalog_snapshots.sql: the PostgreSQL persistent tier (ARCHITECTURE.md, "Tiers and stores").
-- Idempotent: the service applies it at start (see src/store/postgres.rs); it can also be
-- applied by hand with `psql "$APP_DATABASE_URL" -v ON_ERROR_STOP=1 -f migrations/009_catalog_snapshots.sql`.
-- Serves PostgreSQL 13 and later.

CREATE TABLE IF NOT EXISTS catalog_snapshots (
    id              bigserial PRIMARY KEY,
    -- Keyed hash (HMAC) of the normalized target connection: never a URL or password.
    connection_key  text        NOT NULL,
    -- Normalized schema list as a JSON array, e.g. ["inventory","public"].
    schemas_key     text        NOT NULL,
    workspace_id    text,
    captured_at     timestamptz NOT NULL,
    signature       text        NOT NULL,   -- light v1 signature
    deep_signature  text        NOT NULL,   -- definition signature
    table_count     integer     NOT NULL,
    -- The snapshot JSON exactly as served (json keeps the text byte for byte).
    snapshot        json        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Latest for a key, and history newest first.
CREATE INDEX IF NOT EXISTS catalog_snapshots_key_captured_idx
    ON catalog_snapshots (connection_key, schemas_key, captured_at DESC, id DESC);

-- Workspace-scoped listings.
CREATE INDEX IF NOT EXISTS catalog_snapshots_workspace_idx
    ON catalog_snapshots (workspace_id, captured_at DESC)
    WHERE workspace_id IS NOT NULL;
