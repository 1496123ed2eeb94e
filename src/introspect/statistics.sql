-- Serves PostgreSQL 13 to 18. stxstattarget is int4 with -1 for the default up to 16,
-- and a nullable int2 (NULL for the default) from 17: NULLIF(x::int4, -1) reads both
-- the same.
--
-- $1 oid[]: the visible relations (from tables.sql).
--
-- Returns one row per extended statistics object on those relations:
--   relid, schema, name (quote_ident each; a statistics object lives in a schema of its
--   own), kinds (stxkind as text[]: d ndistinct, f dependencies, m mcv, e expressions),
--   target (NULL for the default), definition (pg_get_statisticsobjdef), comment.
SELECT s.stxrelid AS relid,
       quote_ident(n.nspname) AS schema,
       quote_ident(s.stxname) AS name,
       s.stxkind::text[] AS kinds,
       NULLIF(s.stxstattarget::int4, -1) AS target,
       pg_catalog.pg_get_statisticsobjdef(s.oid) AS definition,
       d.description AS comment
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_statistic_ext s ON s.stxrelid = r.oid
JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
LEFT JOIN pg_catalog.pg_description d
  ON d.objoid = s.oid AND d.classoid = 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass
 AND d.objsubid = 0
