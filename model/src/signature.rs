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

/// Version tag hashed in front of the deep payload, so the format can evolve.
pub const DEEP_VERSION_TAG: &str = "deep-v1\n";

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
        } = self.0;
        let mut st = serializer.serialize_struct("Table", 10)?;
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

/// What the deep signature covers: every definition map, tables without volatile
/// fields, and nothing from `meta`.
#[derive(Serialize)]
struct DeepView<'a> {
    tables: StableTables<'a>,
    columns: &'a BTreeMap<String, crate::Column>,
    relationships: &'a BTreeMap<String, crate::Relationship>,
    indexes: &'a BTreeMap<String, crate::Index>,
    constraints: &'a BTreeMap<String, crate::Constraint>,
    enums: &'a BTreeMap<String, crate::EnumType>,
}

/// The deep signature: sha256 hex over [`DEEP_VERSION_TAG`] followed by the compact JSON
/// of all tables (without `rowEstimate` and `refreshedAt`), columns, relationships,
/// indexes, constraints and enums. `meta` (capture time, server version, counts,
/// signatures) is not covered. Deterministic: the maps are ordered and struct fields
/// serialize in declaration order.
pub fn deep_signature(s: &Snapshot) -> String {
    let view = DeepView {
        tables: StableTables(&s.tables),
        columns: &s.columns,
        relationships: &s.relationships,
        indexes: &s.indexes,
        constraints: &s.constraints,
        enums: &s.enums,
    };
    let mut out = HashSink::new();
    out.put(DEEP_VERSION_TAG.as_bytes());
    // Cannot fail: the sink never fails, every map key is a string, and no type in the
    // model has a fallible `Serialize`. Should that ever change, the error is hashed in
    // rather than panicking, so the signature still differs from any valid one.
    if let Err(e) = serde_json::to_writer(&mut out, &view) {
        out.put(b"\nerror: ");
        out.put(e.to_string().as_bytes());
    }
    out.finish_hex()
}

/// Stamps `meta.signature`, `meta.deep_signature` and the table, column and
/// relationship counts from the snapshot's current contents.
pub fn seal(s: &mut Snapshot) {
    s.meta.signature = light_signature_of(s);
    s.meta.deep_signature = deep_signature(s);
    s.meta.table_count = s.tables.len();
    s.meta.column_count = s.columns.len();
    s.meta.relationship_count = s.relationships.len();
}

/// [`seal`] and `serde_json::to_vec` in one pass: the definition maps are serialized
/// once and the deep signature is hashed over those same bytes, so a fresh read pays for
/// one serialization, not two. The result equals `seal(s); serde_json::to_vec(s)`.
pub fn seal_to_json(s: &mut Snapshot) -> Vec<u8> {
    fn put<T: Serialize + ?Sized>(out: &mut Vec<u8>, key: &str, value: &T) {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        // Cannot fail: see `deep_signature`.
        let _ = serde_json::to_writer(&mut *out, value);
    }
    // `,"columns":{...},"relationships":{...},...` exactly as the derive writes them. The
    // column map (about half the bytes) is written on a second thread where there is one.
    let columns = |out: &mut Vec<u8>| put(out, "columns", &s.columns);
    let rest = |out: &mut Vec<u8>| {
        put(out, "relationships", &s.relationships);
        put(out, "indexes", &s.indexes);
        put(out, "constraints", &s.constraints);
        put(out, "enums", &s.enums);
    };
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

    let mut deep = HashSink::new();
    deep.put(DEEP_VERSION_TAG.as_bytes());
    deep.put(b"{\"tables\":");
    if let Err(e) = serde_json::to_writer(&mut deep, &StableTables(&s.tables)) {
        deep.put(b"\nerror: ");
        deep.put(e.to_string().as_bytes());
    }
    deep.put(&maps);
    deep.put(b"}");

    s.meta.signature = light_signature_of(s);
    s.meta.deep_signature = deep.finish_hex();
    s.meta.table_count = s.tables.len();
    s.meta.column_count = s.columns.len();
    s.meta.relationship_count = s.relationships.len();

    let mut out = Vec::with_capacity(maps.len() + s.tables.len() * 200 + 1024);
    out.extend_from_slice(b"{\"meta\":");
    let _ = serde_json::to_writer(&mut out, &s.meta);
    put(&mut out, "tables", &s.tables);
    out.extend_from_slice(&maps);
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests;
