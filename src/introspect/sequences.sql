-- Serves PostgreSQL 13 to 18 (pg_sequence exists since 10; no version-specific
-- column).
--
-- $1 text[]: schema names.
--
-- Returns one row per sequence in the schemas $1 that no extension owns, with its
-- options and never its current value (so setval and nextval are not drift):
--   schema, name (quote_ident each), data_type (format_type), start, increment, min,
--   max, cache, cycle, owned_table and owned_column (the OWNED BY column, quote_ident;
--   pg_depend deptype 'a'), identity_relid and identity_attnum (for the sequence of an
--   identity column, pg_depend deptype 'i': it belongs to that column), comment, owner,
--   grants and revoked (jsonb arrays relative to acldefault('s'), NULL when empty).
SELECT quote_ident(n.nspname) AS schema,
       quote_ident(c.relname) AS name,
       pg_catalog.format_type(s.seqtypid, NULL) AS data_type,
       s.seqstart AS start,
       s.seqincrement AS increment,
       s.seqmin AS min,
       s.seqmax AS max,
       s.seqcache AS cache,
       s.seqcycle AS cycle,
       own.owned_table,
       own.owned_column,
       own.identity_relid,
       own.identity_attnum,
       d.description AS comment,
       pg_catalog.pg_get_userbyid(c.relowner)::text AS owner,
       acl.grants,
       acl.revoked
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN pg_catalog.pg_description d
  ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
 AND d.objsubid = 0
LEFT JOIN LATERAL (
  SELECT CASE WHEN dep.deptype = 'a'
           THEN quote_ident(tn.nspname) || '.' || quote_ident(t.relname) END AS owned_table,
         CASE WHEN dep.deptype = 'a' THEN quote_ident(a.attname) END AS owned_column,
         CASE WHEN dep.deptype = 'i' THEN dep.refobjid END AS identity_relid,
         CASE WHEN dep.deptype = 'i' THEN dep.refobjsubid::int2 END AS identity_attnum
  FROM pg_catalog.pg_depend dep
  JOIN pg_catalog.pg_class t ON t.oid = dep.refobjid
  JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
  WHERE dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
    AND dep.objid = c.oid AND dep.objsubid = 0
    AND dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
    AND dep.deptype IN ('a', 'i')
  LIMIT 1
) AS own ON true
CROSS JOIN LATERAL (
  SELECT
    (SELECT jsonb_agg(jsonb_build_object(
              'grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC'
                              ELSE pg_catalog.pg_get_userbyid(g.grantee)::text END,
              'privilege', g.privilege, 'grantable', g.grantable))
     FROM (SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(c.relacl) AS x
           EXCEPT
           SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(pg_catalog.acldefault('s', c.relowner)) AS x)
          AS g(grantee, privilege, grantable)
     WHERE c.relacl IS NOT NULL) AS grants,
    (SELECT jsonb_agg(jsonb_build_object(
              'grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC'
                              ELSE pg_catalog.pg_get_userbyid(g.grantee)::text END,
              'privilege', g.privilege, 'grantable', g.grantable))
     FROM (SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(pg_catalog.acldefault('s', c.relowner)) AS x
           EXCEPT
           SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(c.relacl) AS x)
          AS g(grantee, privilege, grantable)
     WHERE c.relacl IS NOT NULL) AS revoked
) AS acl
WHERE n.nspname = ANY ($1::text[])
  AND c.relkind = 'S'
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend e
    WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND e.objid = c.oid AND e.objsubid = 0 AND e.deptype = 'e')
