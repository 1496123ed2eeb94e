-- Serves PostgreSQL 13 to 18 (no version-specific catalog column).
--
-- $1 text[]: schema names.
--
-- Returns one row per schema of $1 that exists:
--   name (quote_ident), owner (role name), comment, grants and revoked (jsonb arrays
--   relative to acldefault('n'), the owner's USAGE and CREATE; NULL when empty).
SELECT quote_ident(n.nspname) AS name,
       pg_catalog.pg_get_userbyid(n.nspowner)::text AS owner,
       d.description AS comment,
       acl.grants,
       acl.revoked
FROM pg_catalog.pg_namespace n
LEFT JOIN pg_catalog.pg_description d
  ON d.objoid = n.oid AND d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
 AND d.objsubid = 0
CROSS JOIN LATERAL (
  SELECT
    (SELECT jsonb_agg(jsonb_build_object(
              'grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC'
                              ELSE pg_catalog.pg_get_userbyid(g.grantee)::text END,
              'privilege', g.privilege, 'grantable', g.grantable))
     FROM (SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(n.nspacl) AS x
           EXCEPT
           SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(pg_catalog.acldefault('n', n.nspowner)) AS x)
          AS g(grantee, privilege, grantable)
     WHERE n.nspacl IS NOT NULL) AS grants,
    (SELECT jsonb_agg(jsonb_build_object(
              'grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC'
                              ELSE pg_catalog.pg_get_userbyid(g.grantee)::text END,
              'privilege', g.privilege, 'grantable', g.grantable))
     FROM (SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(pg_catalog.acldefault('n', n.nspowner)) AS x
           EXCEPT
           SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(n.nspacl) AS x)
          AS g(grantee, privilege, grantable)
     WHERE n.nspacl IS NOT NULL) AS revoked
) AS acl
WHERE n.nspname = ANY ($1::text[])
