-- 010_catalog_snapshot_leases.sql: the read lease (one catalog read per connection and
-- schema set at a time across all containers sharing the app database).
-- Idempotent; applied by the service at start. Serves PostgreSQL 13 and later.

CREATE TABLE IF NOT EXISTS catalog_snapshot_leases (
    connection_key text        NOT NULL,   -- keyed hash (HMAC); never a URL
    schemas_key    text        NOT NULL,
    holder         text        NOT NULL,   -- random id of the process holding it
    expires_at     timestamptz NOT NULL,
    PRIMARY KEY (connection_key, schemas_key)
);
