-- Serves PostgreSQL 13 to 18. The locale of an ICU collation is in collcollate up to
-- 14, in colliculocale in 15 and 16, in colllocale from 17 (which also has the builtin
-- provider); collicurules exists from 16. Those columns are read through
-- to_jsonb(row) so one query parses on every version.
--
-- $1 text[]: schema names.
--
-- Returns one row per collation in the schemas $1 that no extension owns:
--   schema, name (quote_ident each), provider (collprovider "char": c libc, i icu,
--   b builtin, d default), collate, ctype (collcollate, collctype), locale (the ICU or
--   builtin locale, NULL for libc and for ICU up to 14), deterministic, rules, comment.
SELECT quote_ident(n.nspname) AS schema,
       quote_ident(c.collname) AS name,
       c.collprovider AS provider,
       j.row ->> 'collcollate' AS collate,
       j.row ->> 'collctype' AS ctype,
       coalesce(j.row ->> 'colllocale', j.row ->> 'colliculocale') AS locale,
       c.collisdeterministic AS deterministic,
       j.row ->> 'collicurules' AS rules,
       d.description AS comment
FROM pg_catalog.pg_collation c
JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
CROSS JOIN LATERAL (SELECT pg_catalog.to_jsonb(c)) AS j(row)
LEFT JOIN pg_catalog.pg_description d
  ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_collation'::pg_catalog.regclass
 AND d.objsubid = 0
WHERE n.nspname = ANY ($1::text[])
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend e
    WHERE e.classid = 'pg_catalog.pg_collation'::pg_catalog.regclass
      AND e.objid = c.oid AND e.objsubid = 0 AND e.deptype = 'e')
