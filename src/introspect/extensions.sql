-- Serves PostgreSQL 13 to 18 (no version-specific catalog column).
--
-- Takes no parameter: extensions belong to the database, whatever schemas are read.
--
-- Returns one row per installed extension: name, version, schema (quote_ident each
-- but the version).
SELECT quote_ident(x.extname) AS name,
       x.extversion AS version,
       quote_ident(n.nspname) AS schema
FROM pg_catalog.pg_extension x
JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace
