-- Serves PostgreSQL 13 to 18; no catalog column differs across them. One meaning differs:
-- a relation never analyzed has reltuples = -1 on 14+, but 0 (with relpages = 0) on 13,
-- so the row estimate is NULL in both cases (a truly empty table on 13 reads as "never
-- analyzed" too).
--
-- $1 text[]: schema names; $2 text[], $3 text[]: the schema and table names (unquoted,
-- pairwise) of the tables of a visible-tables read, or NULL for a full read;
-- $4 int8: at most this many rows, or NULL for all (the relation budget plus one: the
-- exact count comes from probe.sql, this only bounds what an over-budget read fetches).
--
-- Returns one row per relation the snapshot may describe: ordinary, partitioned, view,
-- materialized view and foreign tables (relkind r, p, v, m, f) in the schemas $1, leaving
-- out extension-owned ones (pg_depend deptype 'e'). `visible` is true for all of them when
-- $2 is NULL, else only for those whose (schema, name) pair is in ($2, $3); the other columns are filled for visible relations only
-- (the rest are returned so the foreign-key query knows every relation of the schemas).
-- Names are quoted with the server's quote_ident; the caller re-quotes them by the
-- version-independent key rule (model::keys).
-- Read by column name (the aliases below are the contract with raw.rs):
--   oid, schema, name (quote_ident), visible, relkind ("char"), comment,
--   row_estimate (float4, NULL when never analyzed, always NULL for views),
--   partition_of (parent's key), partition_bound, partition_key (of a partitioned table),
--   partitions (keys of its direct partitions, unsorted), view_definition.
-- Expressions are deparsed under the caller's empty search_path, so names in them are
-- schema-qualified.
SELECT c.oid AS oid,
       quote_ident(n.nspname) AS schema,
       quote_ident(c.relname) AS name,
       v.visible AS visible,
       c.relkind AS relkind,
       CASE WHEN v.visible THEN d.description END AS comment,
       CASE
         WHEN NOT v.visible OR c.relkind = 'v' OR c.reltuples < 0 THEN NULL
         WHEN c.reltuples = 0 AND c.relpages = 0
              AND pg_catalog.current_setting('server_version_num')::int4 < 140000 THEN NULL
         ELSE c.reltuples
       END AS row_estimate,
       CASE WHEN v.visible AND c.relispartition THEN (
         SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname)
         FROM pg_catalog.pg_inherits i
         JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
         JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE i.inhrelid = c.oid) END AS partition_of,
       CASE WHEN v.visible AND c.relispartition
         THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       CASE WHEN v.visible AND c.relkind = 'p'
         THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN v.visible AND c.relkind = 'p' THEN ARRAY(
         SELECT quote_ident(kn.nspname) || '.' || quote_ident(kc.relname)
         FROM pg_catalog.pg_inherits i
         JOIN pg_catalog.pg_class kc ON kc.oid = i.inhrelid
         JOIN pg_catalog.pg_namespace kn ON kn.oid = kc.relnamespace
         WHERE i.inhparent = c.oid) END AS partitions,
       CASE WHEN v.visible AND c.relkind IN ('v', 'm')
         THEN pg_catalog.pg_get_viewdef(c.oid) END AS view_definition
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
  SELECT $2::text[] IS NULL
      OR EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS w(s, r)
                 WHERE w.s = n.nspname AND w.r = c.relname)
) AS v(visible)
LEFT JOIN pg_catalog.pg_description d
  ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
 AND d.objsubid = 0
WHERE n.nspname = ANY ($1::text[])
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend e
    WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND e.objid = c.oid AND e.objsubid = 0 AND e.deptype = 'e')
LIMIT $4::int8
