-- Serves PostgreSQL 13 to 18 (no version-specific catalog column).
--
-- $1 oid[]: the visible relations (from tables.sql).
--
-- Returns one row per rewrite rule on those relations, leaving out a view's own
-- _RETURN rule (that is the view's definition, already in tables.sql):
--   relid, name (quote_ident), event (ev_type "char": 1 select, 2 update, 3 insert,
--   4 delete), instead, enabled (ev_enabled "char": O, A, R, D), definition
--   (pg_get_ruledef).
SELECT rw.ev_class AS relid,
       quote_ident(rw.rulename) AS name,
       rw.ev_type AS event,
       rw.is_instead AS instead,
       rw.ev_enabled AS enabled,
       pg_catalog.pg_get_ruledef(rw.oid) AS definition
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = r.oid
WHERE rw.rulename <> '_RETURN'
