-- Serves PostgreSQL 13 to 18 (attidentity exists since 10, attgenerated since 12; 's'
-- is stored, 'v' virtual appears in 18). On 18 a NOT NULL is also a pg_constraint row
-- (contype 'n', one per column) that may be NOT VALID (attnotnull is then already true
-- although NULL rows may exist) or NO INHERIT; before 18 there are no such rows.
--
-- $1 oid[]: the visible relations (from tables.sql).
--
-- Returns one row per live user column (attnum > 0, not dropped) of those relations, read
-- by column name (the aliases below are the contract with raw.rs):
--   relid, attnum (the caller numbers live columns 1.. in attnum order, since attnum
--   keeps the gaps of dropped columns), name (quote_ident), data_type (format_type),
--   nullable (false only for a NOT NULL that holds: not one that is NOT VALID), expr (the pg_attrdef expression: the default, or the generation expression
--   when attgenerated <> ''), identity and generated (attidentity, attgenerated:
--   "char", 0 when none),
--   collation (only when it differs from the type's: quote_ident(schema) || '.' ||
--   quote_ident(name), the database default collation as "default"), comment,
--   not_null_not_valid and not_null_no_inherit (18's NOT NULL constraint row; false
--   before 18).
SELECT a.attrelid AS relid,
       a.attnum AS attnum,
       quote_ident(a.attname) AS name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
       (NOT a.attnotnull OR nn.convalidated IS FALSE) AS nullable,
       pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) AS expr,
       a.attidentity AS identity,
       a.attgenerated AS generated,
       CASE
         WHEN co.oid IS NULL THEN NULL
         WHEN co.oid = 100 THEN '"default"'
         ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
       END AS collation,
       d.description AS comment,
       coalesce(NOT nn.convalidated, false) AS not_null_not_valid,
       coalesce(nn.connoinherit, false) AS not_null_no_inherit
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co
  ON co.oid = a.attcollation AND a.attcollation <> t.typcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
LEFT JOIN pg_catalog.pg_constraint nn
  ON nn.conrelid = a.attrelid AND nn.contype = 'n' AND nn.conkey[1] = a.attnum
LEFT JOIN pg_catalog.pg_description d
  ON d.objoid = a.attrelid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
 AND d.objsubid = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped
