-- Serves PostgreSQL 13 to 18 (conparentid exists since 11).
--
-- $1 oid[]: every relation of the schemas read (tables.sql, visible or not);
-- $2 oid[]: the visible relations, whose columns columns.sql returns.
--
-- Returns one row per foreign key declared on a relation of $1 that touches a visible
-- relation on either side (so every foreign key of the schemas in a full read). Leaves out
-- the copies PostgreSQL makes of a partitioned table's foreign key for each partition, on
-- the referencing and on the referenced side (conparentid <> 0). Read by column name (the
-- aliases below are the contract with raw.rs):
--   relid, ref_relid, name (quote_ident), attnums, ref_attnums (conkey, confkey: pairwise, in constraint
--   order), from_names / to_names (the same columns as quote_ident names, resolved here
--   with unnest ... WITH ORDINALITY only for a side that is not visible; NULL for a
--   visible side, whose names the caller has from columns.sql), to_table (key of the
--   referenced table, which may lie outside the schemas read), on_delete, on_update,
--   match_type (confdeltype, confupdtype, confmatchtype: "char"), deferrable,
--   initially_deferred, validated, definition
--   (pg_get_constraintdef), and one_to_one for a referencing table that is not visible
--   (NULL otherwise; the caller computes it from indexes.sql): whether the referencing
--   columns, as a set, are exactly the key columns of a valid, non-partial,
--   non-expression unique index of the referencing table (which covers its primary key
--   and unique constraints). indkey is an int2vector, whose subscripts start at 0.
SELECT con.conrelid AS relid,
       con.confrelid AS ref_relid,
       quote_ident(con.conname) AS name,
       con.conkey AS attnums,
       con.confkey AS ref_attnums,
       CASE WHEN fv.oid IS NULL THEN ARRAY(
         SELECT quote_ident(a.attname)
         FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
         ORDER BY k.ord) END AS from_names,
       CASE WHEN tv.oid IS NULL THEN ARRAY(
         SELECT quote_ident(a.attname)
         FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
         ORDER BY k.ord) END AS to_names,
       quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) AS to_table,
       con.confdeltype AS on_delete,
       con.confupdtype AS on_update,
       con.confmatchtype AS match_type,
       con.condeferrable AS deferrable,
       con.condeferred AS initially_deferred,
       con.convalidated AS validated,
       pg_catalog.pg_get_constraintdef(con.oid) AS definition,
       CASE WHEN fv.oid IS NULL THEN EXISTS (
         SELECT 1 FROM pg_catalog.pg_index ui
         WHERE ui.indrelid = con.conrelid
           AND ui.indisunique AND ui.indisvalid
           AND ui.indpred IS NULL AND ui.indexprs IS NULL
           AND (ui.indkey::int2[])[0:ui.indnkeyatts - 1] @> con.conkey
           AND (ui.indkey::int2[])[0:ui.indnkeyatts - 1] <@ con.conkey) END AS one_to_one
FROM unnest($1::oid[]) AS fr(oid)
JOIN pg_catalog.pg_constraint con ON con.conrelid = fr.oid
JOIN pg_catalog.pg_class tc ON tc.oid = con.confrelid
JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
LEFT JOIN unnest($2::oid[]) AS fv(oid) ON fv.oid = con.conrelid
LEFT JOIN unnest($2::oid[]) AS tv(oid) ON tv.oid = con.confrelid
WHERE con.contype = 'f' AND con.conparentid = 0
  AND (fv.oid IS NOT NULL OR tv.oid IS NOT NULL)
