-- Serves PostgreSQL 13 to 18 (no version-specific catalog column).
--
-- $1 text[]: schema names.
--
-- Returns one row: server_version, server_version_num, and missing_schemas, the names of
-- $1 that no schema has, in the order given.
SELECT pg_catalog.current_setting('server_version') AS server_version,
       pg_catalog.current_setting('server_version_num')::int4 AS server_version_num,
       ARRAY(
         SELECT s.name FROM unnest($1::text[]) WITH ORDINALITY AS s(name, ord)
         WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = s.name)
         ORDER BY s.ord) AS missing_schemas
