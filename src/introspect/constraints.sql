-- Serves PostgreSQL 13 to 18. contype is filtered to p, u, c, x, so PG18's NOT NULL
-- constraint rows (contype 'n') and foreign keys never appear here.
--
-- $1 oid[]: the visible relations (from tables.sql).
--
-- Returns one row per primary key, unique, check and exclusion constraint of those
-- relations, read by column name (the aliases below are the contract with raw.rs):
--   relid, name (quote_ident), contype ("char"), attnums (conkey in order, NULL or
--   empty when none, 0 for an expression element of an exclusion constraint; the caller
--   resolves names from columns.sql), definition (pg_get_constraintdef), deferrable,
--   initially_deferred, validated, no_inherit (connoinherit: a check that does not
--   apply to inheritance children).
SELECT con.conrelid AS relid,
       quote_ident(con.conname) AS name,
       con.contype AS contype,
       con.conkey AS attnums,
       pg_catalog.pg_get_constraintdef(con.oid) AS definition,
       con.condeferrable AS deferrable,
       con.condeferred AS initially_deferred,
       con.convalidated AS validated,
       con.contype = 'c' AND con.connoinherit AS no_inherit
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_constraint con ON con.conrelid = r.oid
WHERE con.contype IN ('p', 'u', 'c', 'x')
