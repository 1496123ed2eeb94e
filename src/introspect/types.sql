-- Serves PostgreSQL 13 to 18 (no version-specific catalog column; multirange types,
-- 14+, come with their range type and are not listed on their own).
--
-- $1 text[]: schema names.
--
-- Returns one row per domain, standalone composite type (typrelid of relkind 'c', not
-- a table's row type) and range type in the schemas $1 that no extension owns (enums
-- are in enums.sql):
--   schema, name (quote_ident each), typtype ("char": d, c, r), base_type (a domain's
--   format_type), default (pg_get_expr of typdefaultbin), not_null, collation (a domain
--   or range collation other than its type's default, schema-qualified),
--   constraints (a domain's: jsonb array of {name, definition, validated} by name),
--   attributes (a composite's: jsonb array of {name, dataType, collation} in order),
--   subtype, subtype_opclass, canonical, subtype_diff (a range's), comment, owner.
SELECT quote_ident(n.nspname) AS schema,
       quote_ident(t.typname) AS name,
       t.typtype,
       CASE WHEN t.typtype = 'd'
         THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END AS base_type,
       pg_catalog.pg_get_expr(t.typdefaultbin, 0) AS default,
       t.typnotnull AS not_null,
       (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
        FROM pg_catalog.pg_collation co
        JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
        WHERE co.oid = coalesce(rg.rngcollation, t.typcollation)
          AND co.oid <> coalesce(
                (SELECT bt.typcollation FROM pg_catalog.pg_type bt
                 WHERE bt.oid = coalesce(rg.rngsubtype, t.typbasetype)), 0)) AS collation,
       CASE WHEN t.typtype = 'd' THEN (
         SELECT jsonb_agg(jsonb_build_object(
                  'name', quote_ident(con.conname),
                  'definition', pg_catalog.pg_get_constraintdef(con.oid),
                  'validated', con.convalidated) ORDER BY con.conname)
         FROM pg_catalog.pg_constraint con
         WHERE con.contypid = t.oid AND con.contype = 'c') END AS constraints,
       CASE WHEN t.typtype = 'c' THEN (
         SELECT jsonb_agg(jsonb_build_object(
                  'name', quote_ident(a.attname),
                  'dataType', pg_catalog.format_type(a.atttypid, a.atttypmod),
                  'collation', (
                    SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                    FROM pg_catalog.pg_collation co
                    JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                    JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
                    WHERE co.oid = a.attcollation AND a.attcollation <> at.typcollation))
                ORDER BY a.attnum)
         FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END
         AS attributes,
       pg_catalog.format_type(rg.rngsubtype, NULL) AS subtype,
       (SELECT quote_ident(on_.nspname) || '.' || quote_ident(oc.opcname)
        FROM pg_catalog.pg_opclass oc
        JOIN pg_catalog.pg_namespace on_ ON on_.oid = oc.opcnamespace
        WHERE oc.oid = rg.rngsubopc AND NOT oc.opcdefault) AS subtype_opclass,
       CASE WHEN rg.rngcanonical <> 0 THEN rg.rngcanonical::pg_catalog.regproc::text END
         AS canonical,
       CASE WHEN rg.rngsubdiff <> 0 THEN rg.rngsubdiff::pg_catalog.regproc::text END
         AS subtype_diff,
       d.description AS comment,
       pg_catalog.pg_get_userbyid(t.typowner)::text AS owner
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_range rg ON rg.rngtypid = t.oid
LEFT JOIN pg_catalog.pg_class rc ON rc.oid = t.typrelid
LEFT JOIN pg_catalog.pg_description d
  ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass
 AND d.objsubid = 0
WHERE n.nspname = ANY ($1::text[])
  AND (t.typtype IN ('d', 'r') OR (t.typtype = 'c' AND rc.relkind = 'c'))
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend e
    WHERE e.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
      AND e.objid = t.oid AND e.objsubid = 0 AND e.deptype = 'e')
