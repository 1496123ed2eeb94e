-- Serves PostgreSQL 13 to 18 (indnkeyatts exists since 11).
--
-- $1 oid[]: the visible relations (from tables.sql).
--
-- Returns one row per index of those relations, read by column name (the aliases below
-- are the contract with raw.rs):
--   relid, name (quote_ident), definition (pg_get_indexdef), unique, primary, valid (false for one a failed CREATE INDEX CONCURRENTLY
--   left behind: the planner does not use it), ready (indisready: false while writes do
--   not maintain it yet),
--   method (access method name), nkeyatts, attnums (indkey: key columns then INCLUDE
--   columns; 0 for an expression element; the caller resolves names from columns.sql),
--   predicate (pg_get_expr(indpred)), has_expressions.
SELECT i.indrelid AS relid,
       quote_ident(ic.relname) AS name,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
       i.indisunique AS "unique",
       i.indisprimary AS "primary",
       i.indisvalid AS valid,
       i.indisready AS ready,
       am.amname::text AS method,
       i.indnkeyatts AS nkeyatts,
       i.indkey::int2[] AS attnums,
       pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS predicate,
       i.indexprs IS NOT NULL AS has_expressions
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_index i ON i.indrelid = r.oid
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
