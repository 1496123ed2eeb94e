-- Serves PostgreSQL 13 to 18 (no version-specific catalog column; acldefault's
-- defaults differ, MAINTAIN from 17, which is why grants are reported relative to
-- them).
--
-- $1 oid[]: the visible relations (from tables.sql).
--
-- Returns one row per visible relation, with the attributes of a table beyond its
-- shape:
--   relid, rls_enabled, rls_forced, persistence (relpersistence "char": p, u, t),
--   reloptions (text[], sorted), replica_identity (relreplident "char": d, n, f, i),
--   replica_index (quote_ident of the index, for i), access_method (amname, NULL when
--   none), owner (role name), inherits (keys of the INHERITS parents, in order; a
--   partition's parent is not listed: tables.sql has it), grants and revoked (jsonb
--   arrays of {grantee, privilege, grantable}, NULL when empty: the privileges of the
--   ACL beyond the owner's defaults, acldefault('r'), and the defaults it lacks;
--   grantor left out, role 0 is PUBLIC).
SELECT c.oid AS relid,
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced,
       c.relpersistence AS persistence,
       ARRAY(SELECT o FROM unnest(c.reloptions) AS o ORDER BY o) AS reloptions,
       c.relreplident AS replica_identity,
       CASE WHEN c.relreplident = 'i' THEN (
         SELECT quote_ident(ic.relname)
         FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = c.oid AND i.indisreplident) END AS replica_index,
       am.amname::text AS access_method,
       pg_catalog.pg_get_userbyid(c.relowner)::text AS owner,
       ARRAY(
         SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname)
         FROM pg_catalog.pg_inherits i
         JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
         JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE i.inhrelid = c.oid AND NOT c.relispartition
         ORDER BY i.inhseqno) AS inherits,
       acl.grants,
       acl.revoked
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_class c ON c.oid = r.oid
LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
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
           FROM pg_catalog.aclexplode(pg_catalog.acldefault('r', c.relowner)) AS x)
          AS g(grantee, privilege, grantable)
     WHERE c.relacl IS NOT NULL) AS grants,
    (SELECT jsonb_agg(jsonb_build_object(
              'grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC'
                              ELSE pg_catalog.pg_get_userbyid(g.grantee)::text END,
              'privilege', g.privilege, 'grantable', g.grantable))
     FROM (SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(pg_catalog.acldefault('r', c.relowner)) AS x
           EXCEPT
           SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(c.relacl) AS x)
          AS g(grantee, privilege, grantable)
     WHERE c.relacl IS NOT NULL) AS revoked
) AS acl
