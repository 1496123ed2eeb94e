-- Serves PostgreSQL 13 to 18 (no version-specific catalog column).
--
-- $1 text[]: schema names; $2 text[], $3 text[]: the schema and table names (unquoted,
-- pairwise) of the tables of a visible-tables read, or NULL for a full read;
-- $4 int8, $5 int8: the read budget (most relations, most columns).
--
-- Returns one row, read by column name (the aliases are the contract with raw.rs):
-- server_version, server_version_num, missing_schemas (the names of $1
-- that no schema has, in the order given), and the read's size before it is read, to be
-- checked against the budget before the column, index and constraint queries are sent:
--   relation_count: the relations tables.sql returns (relkind r, p, v, m, f in the
--     schemas $1, not extension-owned);
--   column_count: the live columns (attnum > 0, not dropped) of those read in full (all
--     of them when $2 is NULL, else those named in ($2, $3)).
-- Each count is exact when it is over its limit; within the limit it may be a cheaper
-- upper bound (extension-owned relations and dropped columns included: pg_class.relnatts
-- instead of a pg_attribute scan, which costs about 15 ms on 20,000 columns).
-- Counted in the read's transaction snapshot, so they match what the read sees.
WITH rel AS (
  SELECT c.oid,
         c.relnatts,
         $2::text[] IS NULL
           OR EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS w(s, r)
                      WHERE w.s = n.nspname AND w.r = c.relname)
           AS visible
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY ($1::text[])
    AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
),
own AS (
  SELECT rel.* FROM rel
  WHERE NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend e
    WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND e.objid = rel.oid AND e.objsubid = 0 AND e.deptype = 'e')
),
rough AS (
  SELECT count(*) AS relations,
         coalesce(sum(relnatts) FILTER (WHERE visible), 0) AS columns
  FROM rel
)
SELECT pg_catalog.current_setting('server_version') AS server_version,
       pg_catalog.current_setting('server_version_num')::int4 AS server_version_num,
       ARRAY(
         SELECT s.name FROM unnest($1::text[]) WITH ORDINALITY AS s(name, ord)
         WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = s.name)
         ORDER BY s.ord) AS missing_schemas,
       CASE WHEN rough.relations <= $4::int8 THEN rough.relations
            ELSE (SELECT count(*) FROM own) END AS relation_count,
       CASE WHEN rough.columns <= $5::int8 THEN rough.columns
            ELSE (SELECT count(*)
                  FROM own
                  JOIN pg_catalog.pg_attribute a ON a.attrelid = own.oid
                  WHERE own.visible AND a.attnum > 0 AND NOT a.attisdropped) END
         AS column_count
FROM rough
