-- Serves PostgreSQL 13 to 18 (no version-specific catalog column).
--
-- $1 oid[]: the visible relations (from tables.sql).
--
-- Returns one row per live column of those relations that has column privileges
-- (attacl; a column has no default privileges, so all of them are grants):
--   relid, attnum, grants (jsonb array of {grantee, privilege, grantable}, unsorted: the caller sorts;
--   grantor left out, role 0 is PUBLIC).
SELECT a.attrelid AS relid,
       a.attnum,
       (SELECT jsonb_agg(jsonb_build_object(
                 'grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC'
                                 ELSE pg_catalog.pg_get_userbyid(g.grantee)::text END,
                 'privilege', g.privilege, 'grantable', g.grantable))
        FROM (SELECT DISTINCT x.grantee, x.privilege_type, x.is_grantable
              FROM pg_catalog.aclexplode(a.attacl) AS x)
             AS g(grantee, privilege, grantable)) AS grants
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid
WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
