-- Serves PostgreSQL 13 to 18. prokind exists since 11. pg_get_functiondef prints a
-- SQL-standard body (BEGIN ATOMIC, 14+) deparsed; it refuses aggregates, whose
-- definition is built here from pg_aggregate instead.
--
-- $1 text[]: schema names.
--
-- Returns one row per function, procedure, aggregate and window function in the
-- schemas $1 that no extension owns (pg_depend deptype 'e') and that were not made by
-- the system for another object (deptype 'i': a range type's constructors):
--   schema, name (quote_ident each), identity_arguments (oidvectortypes(proargtypes):
--   the input types that tell overloads apart), kind (prokind "char": f, p, a, w),
--   language, arguments (pg_get_function_arguments), result (pg_get_function_result,
--   NULL for a procedure), volatility (provolatile "char": i, s, v), strict,
--   security_definer, parallel (proparallel "char": s, r, u), leakproof, config
--   (proconfig text[]), comment, definition, owner (role name), grants and revoked
--   (jsonb arrays of {grantee, privilege, grantable}, NULL when empty: relative to
--   acldefault('f'), which grants EXECUTE to PUBLIC).
SELECT quote_ident(n.nspname) AS schema,
       quote_ident(p.proname) AS name,
       pg_catalog.oidvectortypes(p.proargtypes) AS identity_arguments,
       p.prokind AS kind,
       l.lanname::text AS language,
       pg_catalog.pg_get_function_arguments(p.oid) AS arguments,
       CASE WHEN p.prokind <> 'p' THEN pg_catalog.pg_get_function_result(p.oid) END AS result,
       p.provolatile AS volatility,
       p.proisstrict AS strict,
       p.prosecdef AS security_definer,
       p.proparallel AS parallel,
       p.proleakproof AS leakproof,
       p.proconfig AS config,
       d.description AS comment,
       CASE WHEN p.prokind = 'a' THEN (
         SELECT concat_ws(', ',
                  'SFUNC = ' || a.aggtransfn::pg_catalog.regproc::text,
                  'STYPE = ' || pg_catalog.format_type(a.aggtranstype, NULL),
                  CASE WHEN a.aggfinalfn <> 0
                    THEN 'FINALFUNC = ' || a.aggfinalfn::pg_catalog.regproc::text END,
                  CASE WHEN a.aggcombinefn <> 0
                    THEN 'COMBINEFUNC = ' || a.aggcombinefn::pg_catalog.regproc::text END,
                  CASE WHEN a.aggmtransfn <> 0
                    THEN 'MSFUNC = ' || a.aggmtransfn::pg_catalog.regproc::text END,
                  CASE WHEN a.agginitval IS NOT NULL
                    THEN 'INITCOND = ' || pg_catalog.quote_literal(a.agginitval) END,
                  CASE WHEN a.aggsortop <> 0
                    THEN 'SORTOP = ' || a.aggsortop::pg_catalog.regoperator::text END,
                  CASE WHEN a.aggkind <> 'n' THEN 'KIND = ' || a.aggkind::text END)
         FROM pg_catalog.pg_aggregate a WHERE a.aggfnoid = p.oid)
       ELSE pg_catalog.pg_get_functiondef(p.oid) END AS definition,
       pg_catalog.pg_get_userbyid(p.proowner)::text AS owner,
       acl.grants,
       acl.revoked
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
LEFT JOIN pg_catalog.pg_description d
  ON d.objoid = p.oid AND d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass
 AND d.objsubid = 0
CROSS JOIN LATERAL (
  SELECT
    (SELECT jsonb_agg(jsonb_build_object(
              'grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC'
                              ELSE pg_catalog.pg_get_userbyid(g.grantee)::text END,
              'privilege', g.privilege, 'grantable', g.grantable))
     FROM (SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(p.proacl) AS x
           EXCEPT
           SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(pg_catalog.acldefault('f', p.proowner)) AS x)
          AS g(grantee, privilege, grantable)
     WHERE p.proacl IS NOT NULL) AS grants,
    (SELECT jsonb_agg(jsonb_build_object(
              'grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC'
                              ELSE pg_catalog.pg_get_userbyid(g.grantee)::text END,
              'privilege', g.privilege, 'grantable', g.grantable))
     FROM (SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(pg_catalog.acldefault('f', p.proowner)) AS x
           EXCEPT
           SELECT x.grantee, x.privilege_type, x.is_grantable
           FROM pg_catalog.aclexplode(p.proacl) AS x)
          AS g(grantee, privilege, grantable)
     WHERE p.proacl IS NOT NULL) AS revoked
) AS acl
WHERE n.nspname = ANY ($1::text[])
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend e
    WHERE e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
      AND e.objid = p.oid AND e.objsubid = 0 AND e.deptype IN ('e', 'i'))
