-- Serves PostgreSQL 13 to 18 (no version-specific catalog column).
--
-- $1 oid[]: the visible relations (from tables.sql).
--
-- Returns one row per row-level security policy on those relations:
--   relid, name (quote_ident), command (polcmd "char": * all, r select, a insert,
--   w update, d delete), permissive, roles (role names sorted, PUBLIC for the public
--   pseudo-role), using (pg_get_expr(polqual)), with_check (pg_get_expr(polwithcheck)).
SELECT pol.polrelid AS relid,
       quote_ident(pol.polname) AS name,
       pol.polcmd AS command,
       pol.polpermissive AS permissive,
       ARRAY(
         SELECT CASE WHEN ro.oid = 0 THEN 'PUBLIC' ELSE a.rolname::text END
         FROM unnest(pol.polroles) AS ro(oid)
         LEFT JOIN pg_catalog.pg_roles a ON a.oid = ro.oid
         ORDER BY 1) AS roles,
       pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) AS using,
       pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) AS with_check
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_policy pol ON pol.polrelid = r.oid
