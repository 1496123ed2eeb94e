-- Serves PostgreSQL 13 to 18 (no version-specific catalog column).
--
-- $1 oid[]: the visible relations (from tables.sql).
--
-- Returns one row per commented index or constraint (any kind, foreign keys included)
-- of those relations:
--   relid (the table), name (quote_ident of the index or constraint), kind ('i' index,
--   'c' constraint), comment.
SELECT i.indrelid AS relid,
       quote_ident(ic.relname) AS name,
       'i'::text AS kind,
       d.description AS comment
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_index i ON i.indrelid = r.oid
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_description d
  ON d.objoid = i.indexrelid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
 AND d.objsubid = 0
UNION ALL
SELECT con.conrelid,
       quote_ident(con.conname),
       'c'::text,
       d.description
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_constraint con ON con.conrelid = r.oid
JOIN pg_catalog.pg_description d
  ON d.objoid = con.oid AND d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
 AND d.objsubid = 0
