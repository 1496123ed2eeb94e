-- Serves PostgreSQL 13 to 18 (tgparentid exists since 13; no other version-specific
-- column).
--
-- $1 oid[]: the visible relations (from tables.sql).
--
-- Returns one row per user trigger on those relations, leaving out internal triggers
-- (the foreign-key machinery: tgisinternal) and the clones a partitioned table's
-- trigger makes on its partitions (tgparentid <> 0), as foreign-key clones are:
--   relid, name (quote_ident), tgtype (int2 bit mask: 1 row, 2 before, 4 insert,
--   8 delete, 16 update, 32 truncate, 64 instead), enabled (tgenabled "char": O, A, R,
--   D), update_attnums (tgattr, the UPDATE OF columns; the caller resolves names from
--   columns.sql), nargs, args (tgargs bytea, NUL-separated), function (the function's
--   key: quote_ident(schema) || '.' || quote_ident(name) || '(' || argument types ||
--   ')'), is_constraint, deferrable, initially_deferred, comment, definition
--   (pg_get_triggerdef, schema-qualified under the read's empty search_path).
SELECT t.tgrelid AS relid,
       quote_ident(t.tgname) AS name,
       t.tgtype::int2 AS tgtype,
       t.tgenabled AS enabled,
       t.tgattr::int2[] AS update_attnums,
       t.tgnargs AS nargs,
       t.tgargs AS args,
       quote_ident(pn.nspname) || '.' || quote_ident(p.proname)
         || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')' AS function,
       t.tgconstraint <> 0 AS is_constraint,
       t.tgdeferrable AS deferrable,
       t.tginitdeferred AS initially_deferred,
       d.description AS comment,
       pg_catalog.pg_get_triggerdef(t.oid) AS definition
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_trigger t ON t.tgrelid = r.oid
JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
LEFT JOIN pg_catalog.pg_description d
  ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_trigger'::pg_catalog.regclass
 AND d.objsubid = 0
WHERE NOT t.tgisinternal
  AND t.tgparentid = 0
