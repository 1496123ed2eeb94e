//! Snapshot signatures: the light v1 signature (over keys only, byte-identical to the
//! original Node implementation) and the deep signature (over definitions), plus
//! [`seal`], which stamps both and the counts into a snapshot's meta.
//!
//! Owns the exact byte format that is hashed. It must never do I/O, never depend on
//! volatile facts (row estimates, refresh times, capture time, server version, OIDs),
//! and never change the light v1 format: signatures stored by a Node deployment must stay
//! valid. The deep format may evolve only by bumping its version tag.

use crate::{Snapshot, Table};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The deep signature's format version, recorded in `meta.deepSignatureVersion`.
/// Version 2 added triggers, policies, rules, statistics, functions, sequences, types,
/// extensions, collations, schemas, privileges and the new table, column, index and
/// constraint attributes.
pub const DEEP_VERSION: u32 = 2;

/// Version tag hashed in front of the deep payload, so the format can evolve.
pub const DEEP_VERSION_TAG: &str = "deep-v2\n";

/// The tag version 1 hashed (see [`deep_signature_v1`]).
pub const DEEP_V1_TAG: &str = "deep-v1\n";

/// Compares two strings the way JavaScript's default `Array.prototype.sort` does: by
/// UTF-16 code units. Allocation-free.
///
/// UTF-8 byte order equals code point order, which equals UTF-16 order except when a
/// supplementary character (4-byte UTF-8, lead byte `F0..=F4`, a surrogate pair in
/// UTF-16) meets a BMP character in `U+E000..=U+FFFF` (lead byte `EE` or `EF`): UTF-16
/// puts the surrogate pair (`D800..DBFF`) first. The first differing byte of two valid
/// UTF-8 strings is either inside one character (both characters then share a lead byte,
/// so the same width, and byte order is right) or is the lead byte of both.
pub fn cmp_utf16(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let n = common_prefix_len(x, y);
    match (x.get(n), y.get(n)) {
        (Some(&p), Some(&q)) => {
            let astral = |c: u8| c >= 0xF0;
            let high_bmp = |c: u8| c == 0xEE || c == 0xEF;
            if astral(p) && high_bmp(q) {
                Ordering::Less
            } else if high_bmp(p) && astral(q) {
                Ordering::Greater
            } else {
                p.cmp(&q)
            }
        }
        _ => x.len().cmp(&y.len()),
    }
}

/// Length of the longest common prefix, compared eight bytes at a time.
#[inline]
fn common_prefix_len(x: &[u8], y: &[u8]) -> usize {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut i = 0;
    for (a, b) in x.chunks_exact(8).zip(y.chunks_exact(8)) {
        if a != b {
            break;
        }
        i += 8;
    }
    i + x[i..]
        .iter()
        .zip(&y[i..])
        .take_while(|(p, q)| p == q)
        .count()
}

/// Returns the keys sorted as JavaScript's `sort()` would sort them. Borrowed, and
/// already-sorted input (the common case: keys from a `BTreeMap` with no supplementary
/// characters) is detected in one pass and not re-sorted.
fn js_sorted<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&'a str> = keys.into_iter().collect();
    if !v
        .windows(2)
        .all(|w| cmp_utf16(w[0], w[1]) != Ordering::Greater)
    {
        v.sort_unstable_by(|a, b| cmp_utf16(a, b));
    }
    v
}

/// Feeds bytes to a hasher through a buffer, so the many tiny writes of a serializer
/// cost a small copy each instead of a hasher call each.
struct HashSink {
    hasher: Sha256,
    buf: Vec<u8>,
}

const SINK_CAPACITY: usize = 64 * 1024;

impl HashSink {
    fn new() -> Self {
        HashSink {
            hasher: Sha256::new(),
            buf: Vec::with_capacity(SINK_CAPACITY),
        }
    }

    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        if bytes.len() <= SINK_CAPACITY - self.buf.len() {
            self.buf.extend_from_slice(bytes);
        } else {
            self.put_slow(bytes);
        }
    }

    #[cold]
    #[inline(never)]
    fn put_slow(&mut self, bytes: &[u8]) {
        self.flush_buf();
        if bytes.len() >= SINK_CAPACITY {
            self.hasher.update(bytes);
        } else {
            self.buf.extend_from_slice(bytes);
        }
    }

    fn flush_buf(&mut self) {
        self.hasher.update(&self.buf);
        self.buf.clear();
    }

    fn finish_hex(mut self) -> String {
        self.flush_buf();
        hex::encode(self.hasher.finalize())
    }
}

impl std::io::Write for HashSink {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.put(bytes);
        Ok(bytes.len())
    }

    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.put(bytes);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes `s` as a JSON string literal exactly as JavaScript's `JSON.stringify` does for
/// a well-formed string: `"` and `\` backslash-escaped, `\b \f \n \r \t` by name, other
/// characters below U+0020 as `\u00xx` (lowercase hex), everything else (DEL and all
/// non-ASCII) raw UTF-8. Rust strings hold no lone surrogates, the only other case
/// `JSON.stringify` escapes.
fn put_js_string(out: &mut HashSink, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    let needs_escape = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    out.put(b"\"");
    if !bytes.iter().any(|&b| needs_escape(b)) {
        out.put(bytes);
        out.put(b"\"");
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let named: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0C => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1F => b"",
            _ => continue,
        };
        out.put(&bytes[start..i]);
        start = i + 1;
        if named.is_empty() {
            out.put(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xF) as usize],
            ]);
        } else {
            out.put(named);
        }
    }
    out.put(&bytes[start..]);
    out.put(b"\"");
}

fn put_js_array(out: &mut HashSink, keys: &[&str]) {
    out.put(b"[");
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.put(b",");
        }
        put_js_string(out, k);
    }
    out.put(b"]");
}

/// The light v1 signature over table, column and relationship keys, byte-identical to
/// the original Node code:
/// `sha256hex(JSON.stringify({t: tableKeys.sort(), c: columnKeys.sort(), r: relKeys.sort()}))`.
///
/// Input order does not matter; duplicates are kept (as `sort()` keeps them).
pub fn light_signature<'t, 'c, 'r>(
    tables: impl IntoIterator<Item = &'t str>,
    columns: impl IntoIterator<Item = &'c str>,
    relationships: impl IntoIterator<Item = &'r str>,
) -> String {
    let t = js_sorted(tables);
    let c = js_sorted(columns);
    let r = js_sorted(relationships);
    let mut out = HashSink::new();
    out.put(b"{\"t\":");
    put_js_array(&mut out, &t);
    out.put(b",\"c\":");
    put_js_array(&mut out, &c);
    out.put(b",\"r\":");
    put_js_array(&mut out, &r);
    out.put(b"}");
    out.finish_hex()
}

/// [`light_signature`] over the keys of a snapshot's `tables`, `columns` and
/// `relationships` maps.
pub fn light_signature_of(s: &Snapshot) -> String {
    light_signature(
        s.tables.keys().map(String::as_str),
        s.columns.keys().map(String::as_str),
        s.relationships.keys().map(String::as_str),
    )
}

/// A table without its volatile fields (`row_estimate`, `refreshed_at`), borrowed.
/// Serializes every other field as the table itself does, in the same order, with the
/// same omissions.
struct StableTable<'a>(&'a Table);

impl Serialize for StableTable<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Destructured so that adding a field to `Table` fails to compile here until
        // someone decides whether it belongs to the deep signature.
        let Table {
            schema,
            name,
            kind,
            comment,
            row_estimate: _,
            primary_key,
            partition_of,
            partition_bound,
            partition_key,
            partitions,
            view_definition,
            refreshed_at: _,
            inherits,
            persistence,
            reloptions,
            replica_identity,
            access_method,
            rls_enabled,
            rls_forced,
            owner,
            grants,
            revoked_defaults,
        } = self.0;
        let mut st = serializer.serialize_struct("Table", 20)?;
        st.serialize_field("schema", schema)?;
        st.serialize_field("name", name)?;
        st.serialize_field("kind", kind)?;
        if comment.is_some() {
            st.serialize_field("comment", comment)?;
        }
        if primary_key.is_some() {
            st.serialize_field("primaryKey", primary_key)?;
        }
        if partition_of.is_some() {
            st.serialize_field("partitionOf", partition_of)?;
        }
        if partition_bound.is_some() {
            st.serialize_field("partitionBound", partition_bound)?;
        }
        if partition_key.is_some() {
            st.serialize_field("partitionKey", partition_key)?;
        }
        if !partitions.is_empty() {
            st.serialize_field("partitions", partitions)?;
        }
        if view_definition.is_some() {
            st.serialize_field("viewDefinition", view_definition)?;
        }
        if !inherits.is_empty() {
            st.serialize_field("inherits", inherits)?;
        }
        if persistence.is_some() {
            st.serialize_field("persistence", persistence)?;
        }
        if !reloptions.is_empty() {
            st.serialize_field("reloptions", reloptions)?;
        }
        if replica_identity.is_some() {
            st.serialize_field("replicaIdentity", replica_identity)?;
        }
        if access_method.is_some() {
            st.serialize_field("accessMethod", access_method)?;
        }
        if *rls_enabled {
            st.serialize_field("rlsEnabled", rls_enabled)?;
        }
        if *rls_forced {
            st.serialize_field("rlsForced", rls_forced)?;
        }
        if owner.is_some() {
            st.serialize_field("owner", owner)?;
        }
        if !grants.is_empty() {
            st.serialize_field("grants", grants)?;
        }
        if !revoked_defaults.is_empty() {
            st.serialize_field("revokedDefaults", revoked_defaults)?;
        }
        st.end()
    }
}

struct StableTables<'a>(&'a BTreeMap<String, Table>);

impl Serialize for StableTables<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(self.0.len()))?;
        for (k, t) in self.0 {
            m.serialize_entry(k, &StableTable(t))?;
        }
        m.end()
    }
}

/// The definition maps after `tables`, in the snapshot's field order, written as
/// `,"name":{...}` exactly as the snapshot's derived `Serialize` writes them (the kinds
/// added with deep v2 are left out when empty, as the derive leaves them out). Both the
/// served JSON and the deep signature are made from these bytes.
fn put_definition_maps(out: &mut Vec<u8>, s: &Snapshot, with_columns: bool) {
    fn put<T: Serialize + ?Sized>(out: &mut Vec<u8>, key: &str, value: &T) {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        // Cannot fail: see `deep_signature`.
        let _ = serde_json::to_writer(&mut *out, value);
    }
    fn put_nonempty<T: Serialize>(out: &mut Vec<u8>, key: &str, value: &BTreeMap<String, T>) {
        if !value.is_empty() {
            put(out, key, value);
        }
    }
    if with_columns {
        put(out, "columns", &s.columns);
    }
    put(out, "relationships", &s.relationships);
    put(out, "indexes", &s.indexes);
    put(out, "constraints", &s.constraints);
    put(out, "enums", &s.enums);
    put_nonempty(out, "triggers", &s.triggers);
    put_nonempty(out, "policies", &s.policies);
    put_nonempty(out, "rules", &s.rules);
    put_nonempty(out, "statistics", &s.statistics);
    put_nonempty(out, "functions", &s.functions);
    put_nonempty(out, "sequences", &s.sequences);
    put_nonempty(out, "types", &s.types);
    put_nonempty(out, "extensions", &s.extensions);
    put_nonempty(out, "collations", &s.collations);
    put_nonempty(out, "schemas", &s.schemas);
}

/// The deep signature (format [`DEEP_VERSION`]): sha256 hex over [`DEEP_VERSION_TAG`]
/// followed by the compact JSON of all tables (without `rowEstimate` and `refreshedAt`)
/// and every other definition map: columns, relationships, indexes, constraints, enums,
/// triggers, policies, rules, statistics, functions, sequences, types, extensions,
/// collations and schemas (a map left out when empty). `meta` (capture time, server
/// version, counts, signatures) is not covered. Deterministic: the maps are ordered and
/// struct fields serialize in declaration order.
pub fn deep_signature(s: &Snapshot) -> String {
    let mut maps = Vec::with_capacity(s.columns.len() * 160 + 4096);
    put_definition_maps(&mut maps, s, true);
    deep_over(s, &maps)
}

/// The deep hash over the tables and the bytes of [`put_definition_maps`].
fn deep_over(s: &Snapshot, maps: &[u8]) -> String {
    let mut deep = HashSink::new();
    deep.put(DEEP_VERSION_TAG.as_bytes());
    deep.put(b"{\"tables\":");
    // Cannot fail: the sink never fails, every map key is a string, and no type in the
    // model has a fallible `Serialize`. Should that ever change, the error is hashed in
    // rather than panicking, so the signature still differs from any valid one.
    if let Err(e) = serde_json::to_writer(&mut deep, &StableTables(&s.tables)) {
        deep.put(b"\nerror: ");
        deep.put(e.to_string().as_bytes());
    }
    deep.put(maps);
    deep.put(b"}");
    deep.finish_hex()
}

/// The deep signature as version 1 computed it: over tables, columns, relationships,
/// indexes, constraints and enums, with only the attributes version 1 knew. Used to
/// compare like with like when the previous snapshot was signed by version 1 (a
/// service upgraded to v2 must not report drift only because the format changed).
pub fn deep_signature_v1(s: &Snapshot) -> String {
    let view = v1::DeepView {
        tables: v1::map(&s.tables, v1::Table::of),
        columns: v1::map(&s.columns, v1::Column::of),
        relationships: v1::map(&s.relationships, v1::Relationship::of),
        indexes: v1::map(&s.indexes, v1::Index::of),
        constraints: v1::map(&s.constraints, v1::Constraint::of),
        enums: &s.enums,
    };
    let mut out = HashSink::new();
    out.put(DEEP_V1_TAG.as_bytes());
    if let Err(e) = serde_json::to_writer(&mut out, &view) {
        out.put(b"\nerror: ");
        out.put(e.to_string().as_bytes());
    }
    out.finish_hex()
}

/// How a snapshot's deep signature compares with an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeepComparison {
    /// Same format, same signature.
    Same,
    /// Same format (or an older one that also differs): the definitions changed.
    Changed,
    /// The earlier signature is in an older format, and the current snapshot, signed the
    /// old way, gives it back: nothing the old format covered changed. The current
    /// signature is the new baseline.
    BaselineReestablished,
}

/// Compares `previous_deep` (as stored with an earlier snapshot, in whatever format
/// version signed it) with `current`, a sealed snapshot: like with like.
pub fn compare_deep(previous_deep: &str, current: &Snapshot) -> DeepComparison {
    if previous_deep == current.meta.deep_signature {
        DeepComparison::Same
    } else if previous_deep == deep_signature_v1(current) {
        DeepComparison::BaselineReestablished
    } else {
        DeepComparison::Changed
    }
}

/// The deep signature format version 1, kept to compare with snapshots it signed. Its
/// views borrow today's types and serialize exactly the fields, order and omissions
/// version 1 serialized.
mod v1 {
    use serde::{Serialize, Serializer};
    use std::collections::BTreeMap;

    pub(super) struct MapView<'a, T, V: Serialize> {
        map: &'a BTreeMap<String, T>,
        view: fn(&'a T) -> V,
    }

    pub(super) fn map<'a, T, V: Serialize>(
        map: &'a BTreeMap<String, T>,
        view: fn(&'a T) -> V,
    ) -> MapView<'a, T, V> {
        MapView { map, view }
    }

    impl<'a, T, V: Serialize> Serialize for MapView<'a, T, V> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.map.iter().map(|(k, v)| (k, (self.view)(v))))
        }
    }

    fn is_false(b: &bool) -> bool {
        !*b
    }

    #[derive(Serialize)]
    pub(super) struct DeepView<'a> {
        pub tables: MapView<'a, crate::Table, Table<'a>>,
        pub columns: MapView<'a, crate::Column, Column<'a>>,
        pub relationships: MapView<'a, crate::Relationship, Relationship<'a>>,
        pub indexes: MapView<'a, crate::Index, Index<'a>>,
        pub constraints: MapView<'a, crate::Constraint, Constraint<'a>>,
        pub enums: &'a BTreeMap<String, crate::EnumType>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Table<'a> {
        schema: &'a str,
        name: &'a str,
        kind: crate::TableKind,
        #[serde(skip_serializing_if = "Option::is_none")]
        comment: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        primary_key: Option<&'a crate::PrimaryKey>,
        #[serde(skip_serializing_if = "Option::is_none")]
        partition_of: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        partition_bound: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        partition_key: Option<&'a str>,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        partitions: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        view_definition: Option<&'a str>,
    }

    impl<'a> Table<'a> {
        pub(super) fn of(t: &'a crate::Table) -> Self {
            Table {
                schema: &t.schema,
                name: &t.name,
                kind: t.kind,
                comment: t.comment.as_deref(),
                primary_key: t.primary_key.as_ref(),
                partition_of: t.partition_of.as_deref(),
                partition_bound: t.partition_bound.as_deref(),
                partition_key: t.partition_key.as_deref(),
                partitions: &t.partitions,
                view_definition: t.view_definition.as_deref(),
            }
        }
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Column<'a> {
        table: &'a str,
        name: &'a str,
        position: i32,
        data_type: &'a str,
        nullable: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        default: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        identity: Option<crate::Identity>,
        #[serde(skip_serializing_if = "Option::is_none")]
        generated: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        generated_kind: Option<crate::Generated>,
        #[serde(skip_serializing_if = "Option::is_none")]
        collation: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        comment: Option<&'a str>,
        #[serde(skip_serializing_if = "is_false")]
        is_primary_key: bool,
        #[serde(skip_serializing_if = "is_false")]
        is_foreign_key: bool,
    }

    impl<'a> Column<'a> {
        pub(super) fn of(c: &'a crate::Column) -> Self {
            Column {
                table: &c.table,
                name: &c.name,
                position: c.position,
                data_type: &c.data_type,
                nullable: c.nullable,
                default: c.default.as_deref(),
                identity: c.identity,
                generated: c.generated.as_deref(),
                generated_kind: c.generated_kind,
                collation: c.collation.as_deref(),
                comment: c.comment.as_deref(),
                is_primary_key: c.is_primary_key,
                is_foreign_key: c.is_foreign_key,
            }
        }
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Relationship<'a> {
        name: &'a str,
        from_table: &'a str,
        from_columns: &'a [String],
        to_table: &'a str,
        to_columns: &'a [String],
        on_delete: crate::FkAction,
        on_update: crate::FkAction,
        deferrable: bool,
        initially_deferred: bool,
        match_type: &'a str,
        validated: bool,
        one_to_one: bool,
        definition: &'a str,
    }

    impl<'a> Relationship<'a> {
        pub(super) fn of(r: &'a crate::Relationship) -> Self {
            Relationship {
                name: &r.name,
                from_table: &r.from_table,
                from_columns: &r.from_columns,
                to_table: &r.to_table,
                to_columns: &r.to_columns,
                on_delete: r.on_delete,
                on_update: r.on_update,
                deferrable: r.deferrable,
                initially_deferred: r.initially_deferred,
                match_type: &r.match_type,
                validated: r.validated,
                one_to_one: r.one_to_one,
                definition: &r.definition,
            }
        }
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Index<'a> {
        table: &'a str,
        name: &'a str,
        definition: &'a str,
        unique: bool,
        primary: bool,
        method: &'a str,
        columns: &'a [Option<String>],
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        include: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        predicate: Option<&'a str>,
        #[serde(skip_serializing_if = "is_false")]
        has_expressions: bool,
    }

    impl<'a> Index<'a> {
        pub(super) fn of(i: &'a crate::Index) -> Self {
            Index {
                table: &i.table,
                name: &i.name,
                definition: &i.definition,
                unique: i.unique,
                primary: i.primary,
                method: &i.method,
                columns: &i.columns,
                include: &i.include,
                predicate: i.predicate.as_deref(),
                has_expressions: i.has_expressions,
            }
        }
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Constraint<'a> {
        table: &'a str,
        name: &'a str,
        kind: crate::ConstraintKind,
        columns: &'a [String],
        definition: &'a str,
        deferrable: bool,
        initially_deferred: bool,
        validated: bool,
    }

    impl<'a> Constraint<'a> {
        pub(super) fn of(c: &'a crate::Constraint) -> Self {
            Constraint {
                table: &c.table,
                name: &c.name,
                kind: c.kind,
                columns: &c.columns,
                definition: &c.definition,
                deferrable: c.deferrable,
                initially_deferred: c.initially_deferred,
                validated: c.validated,
            }
        }
    }
}

/// Stamps `meta.signature`, `meta.deep_signature` and the table, column and
/// relationship counts from the snapshot's current contents.
pub fn seal(s: &mut Snapshot) {
    s.meta.signature = light_signature_of(s);
    s.meta.deep_signature = deep_signature(s);
    s.meta.deep_signature_version = DEEP_VERSION;
    s.meta.table_count = s.tables.len();
    s.meta.column_count = s.columns.len();
    s.meta.relationship_count = s.relationships.len();
}

/// [`seal`] and `serde_json::to_vec` in one pass: the definition maps are serialized
/// once and the deep signature is hashed over those same bytes, so a fresh read pays for
/// one serialization, not two. The result equals `seal(s); serde_json::to_vec(s)`.
pub fn seal_to_json(s: &mut Snapshot) -> Vec<u8> {
    // `,"columns":{...}` then `,"relationships":{...},...` exactly as the derive writes
    // them. The column map (about half the bytes) is written on a second thread where
    // there is one.
    let columns = |out: &mut Vec<u8>| {
        out.extend_from_slice(b",\"columns\":");
        // Cannot fail: see `deep_signature`.
        let _ = serde_json::to_writer(&mut *out, &s.columns);
    };
    let rest = |out: &mut Vec<u8>| put_definition_maps(out, s, false);
    let mut maps = Vec::with_capacity(s.columns.len() * 160 + s.indexes.len() * 300 + 4096);
    let mut tail = Vec::with_capacity(s.indexes.len() * 300 + s.relationships.len() * 400 + 1024);
    #[cfg(not(target_arch = "wasm32"))]
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let mut out = Vec::with_capacity(s.columns.len() * 160 + 64);
            columns(&mut out);
            out
        });
        rest(&mut tail);
        match worker.join() {
            Ok(out) => maps = out,
            // The worker only serializes; should it ever panic, do its work here.
            Err(_) => columns(&mut maps),
        }
    });
    #[cfg(target_arch = "wasm32")]
    {
        columns(&mut maps);
        rest(&mut tail);
    }
    maps.extend_from_slice(&tail);
    drop(tail);

    s.meta.signature = light_signature_of(s);
    s.meta.deep_signature = deep_over(s, &maps);
    s.meta.deep_signature_version = DEEP_VERSION;
    s.meta.table_count = s.tables.len();
    s.meta.column_count = s.columns.len();
    s.meta.relationship_count = s.relationships.len();

    let mut out = Vec::with_capacity(maps.len() + s.tables.len() * 200 + 1024);
    out.extend_from_slice(b"{\"meta\":");
    let _ = serde_json::to_writer(&mut out, &s.meta);
    out.extend_from_slice(b",\"tables\":");
    let _ = serde_json::to_writer(&mut out, &s.tables);
    out.extend_from_slice(&maps);
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests;
