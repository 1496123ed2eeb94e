-- Serves PostgreSQL 13 to 18 (no version-specific catalog column).
--
-- $1 text[]: schema names.
--
-- Returns one row per enum type in the schemas $1 that no extension owns (pg_depend
-- deptype 'e' on the type), read by column name: schema, name (quote_ident each), labels ordered by
-- enumsortorder. A visible-tables read returns every enum of the schemas too.
SELECT quote_ident(n.nspname) AS schema,
       quote_ident(t.typname) AS name,
       ARRAY(
         SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
         WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'e'
  AND n.nspname = ANY ($1::text[])
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend e
    WHERE e.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
      AND e.objid = t.oid AND e.objsubid = 0 AND e.deptype = 'e')
