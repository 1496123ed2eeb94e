//! Gzip for snapshot responses without recompressing the snapshot on every hit.
//!
//! Owns one trick: a snapshot's JSON is deflated once, ending in a sync flush (byte
//! aligned, not final), and kept beside it; a response is then a gzip member made of a
//! freshly deflated prefix (also sync-flushed), those cached bytes, and a freshly
//! deflated, final tail, with the CRC-32 of the whole combined from the parts. Raw
//! deflate segments joined this way form one valid stream (each segment refers only to
//! its own data). It must never emit a stream whose CRC or length does not match what
//! it encodes.

use bytes::Bytes;
use flate2::{Compress, Compression, FlushCompress};

/// A deflated piece of a response and what a gzip trailer needs to know of it.
#[derive(Debug, Clone)]
pub struct Segment {
    pub deflated: Bytes,
    pub crc: crc32fast::Hasher,
    pub len: u64,
}

/// Deflates `data` as a raw deflate segment; `last` ends the stream, otherwise it ends
/// with a sync flush so more segments can follow.
pub fn segment(data: &[u8], level: Compression, last: bool) -> Segment {
    let mut c = Compress::new(level, false);
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        let consumed = c.total_in() as usize;
        out.reserve(64 * 1024);
        // Errors are impossible for in-memory deflate with a growing buffer; stop if one
        // is ever reported rather than loop.
        let Ok(status) = c.compress_vec(&data[consumed..], &mut out, flush) else {
            break;
        };
        let done_input = c.total_in() as usize == data.len();
        let room_left = out.len() < out.capacity();
        if done_input && room_left {
            if last && status != flate2::Status::StreamEnd {
                continue;
            }
            break;
        }
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(data);
    Segment {
        deflated: Bytes::from(out),
        crc,
        len: data.len() as u64,
    }
}

/// The gzip member for `pieces` in order: header, segments, CRC-32 and length. The last
/// segment must have been made with `last = true`.
pub fn member(pieces: &[&Segment]) -> Vec<Bytes> {
    let mut crc = crc32fast::Hasher::new();
    let mut len: u64 = 0;
    for p in pieces {
        crc.combine(&p.crc);
        len += p.len;
    }
    let header = Bytes::from_static(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    let mut trailer = Vec::with_capacity(8);
    trailer.extend_from_slice(&crc.finalize().to_le_bytes());
    trailer.extend_from_slice(&(len as u32).to_le_bytes());
    let mut out = Vec::with_capacity(pieces.len() + 2);
    out.push(header);
    out.extend(pieces.iter().map(|p| p.deflated.clone()));
    out.push(Bytes::from(trailer));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(chunks: &[Bytes]) -> Vec<u8> {
        let all: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&all[..])
            .read_to_end(&mut out)
            .expect("valid gzip");
        out
    }

    #[test]
    fn spliced_segments_decode_to_the_concatenation() {
        let body: Vec<u8> = (0..300_000u32)
            .flat_map(|i| format!("{{\"k{i}\":{}}},", i % 97).into_bytes())
            .collect();
        let cached = segment(&body, Compression::fast(), false);
        let head = segment(b"{\"snapshot\":", Compression::fast(), false);
        let tail = segment(b",\"cache\":{\"hit\":true}}", Compression::fast(), true);
        let out = gunzip(&member(&[&head, &cached, &tail]));
        let mut expected = b"{\"snapshot\":".to_vec();
        expected.extend_from_slice(&body);
        expected.extend_from_slice(b",\"cache\":{\"hit\":true}}");
        assert_eq!(out, expected);
        let compressed: usize = [&head, &cached, &tail]
            .iter()
            .map(|s| s.deflated.len())
            .sum();
        assert!(compressed < body.len() / 2, "{compressed}");
    }

    #[test]
    fn empty_and_tiny_segments_work() {
        let a = segment(b"", Compression::default(), false);
        let b = segment(b"x", Compression::default(), true);
        assert_eq!(gunzip(&member(&[&a, &b])), b"x");
    }
}
