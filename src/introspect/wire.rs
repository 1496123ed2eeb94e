//! The guard between a target database and the driver: a stream adapter, placed after
//! TLS, that reads the backend's message framing (1 type byte + 4 byte length) as the
//! bytes arrive.
//!
//! Owns three refusals and one piece of bookkeeping:
//! - a message whose header claims more than [`WireLimits::max_message_bytes`] (the driver
//!   would reserve what the header claims, ~2 GB for a lying server);
//! - a connection that has received more than [`WireLimits::max_read_bytes`] in all (the
//!   read budget counted by the target can be a lie; this counts what arrives);
//! - an `AuthenticationCleartextPassword` (R, 3) or `AuthenticationMD5Password` (R, 5)
//!   request from a server whose certificate was not verified, unless the deployment
//!   allows it (`TARGET_ALLOW_UNVERIFIED_PASSWORD`);
//! - the server's cancel key (`BackendKeyData`) and whether a query is in flight (queries
//!   and syncs written against `ReadyForQuery` received), so a dropped read can be
//!   cancelled on the target.
//!
//! A refusal is delivered to the driver as a synthesized `ErrorResponse` (SQLSTATE
//! `CS001`..`CS003`, see [`Violation`]) at a message boundary, followed by end of stream,
//! so the pending query or the startup fails with a precise error instead of "connection
//! closed". Nothing past the refused header is handed to the driver. It must never log
//! or keep message contents (they carry the password exchange).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bounds on what one target connection may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireLimits {
    /// The largest single backend message (`TARGET_MAX_MESSAGE_BYTES`).
    pub max_message_bytes: u64,
    /// All bytes one connection may receive (`TARGET_MAX_READ_BYTES`).
    pub max_read_bytes: u64,
}

impl WireLimits {
    /// 16 MiB per message (a row carrying a very long view or function definition fits),
    /// 256 MiB per connection (several times a catalog at the column budget's limit).
    pub const DEFAULT: WireLimits = WireLimits {
        max_message_bytes: 16 * 1024 * 1024,
        max_read_bytes: 256 * 1024 * 1024,
    };
    pub const UNLIMITED: WireLimits = WireLimits {
        max_message_bytes: u64::MAX,
        max_read_bytes: u64::MAX,
    };
}

impl Default for WireLimits {
    fn default() -> Self {
        WireLimits::DEFAULT
    }
}

/// Why the guard cut a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Violation {
    /// A message header claimed `claimed` bytes, over `limit`.
    MessageTooLarge { claimed: u64, limit: u64 },
    /// A header claimed a length below the 4 bytes of the length itself.
    Malformed,
    /// The connection would have received more than `limit` bytes.
    ReadTooLarge { limit: u64 },
    /// Cleartext (`md5: false`) or md5 password requested by an unverified server.
    InsecurePassword { md5: bool },
}

/// The SQLSTATEs the synthesized errors carry (class `CS`: this service, not PostgreSQL).
pub(super) const SQLSTATE_MESSAGE: &str = "CS001";
pub(super) const SQLSTATE_READ: &str = "CS002";
pub(super) const SQLSTATE_PASSWORD: &str = "CS003";

/// The setting that allows answering cleartext and md5 password requests anyway.
pub const ALLOW_UNVERIFIED_PASSWORD: &str = "TARGET_ALLOW_UNVERIFIED_PASSWORD";

impl Violation {
    pub(super) fn sqlstate(&self) -> &'static str {
        match self {
            Violation::MessageTooLarge { .. } | Violation::Malformed => SQLSTATE_MESSAGE,
            Violation::ReadTooLarge { .. } => SQLSTATE_READ,
            Violation::InsecurePassword { .. } => SQLSTATE_PASSWORD,
        }
    }

    pub(super) fn message(&self) -> String {
        match self {
            Violation::MessageTooLarge { claimed, limit } => format!(
                "the target sent a protocol message of {claimed} bytes, over the limit of {limit} (TARGET_MAX_MESSAGE_BYTES); the connection was closed"
            ),
            Violation::Malformed => {
                "the target sent a malformed protocol message; the connection was closed".into()
            }
            Violation::ReadTooLarge { limit } => format!(
                "the target sent more than {limit} bytes for this read (TARGET_MAX_READ_BYTES); the connection was closed"
            ),
            Violation::InsecurePassword { md5 } => format!(
                "the target asked for the password {} over a connection whose server certificate was not verified; \
                 it was not sent. Connect with sslmode=verify-full (or verify-ca) and the server's CA \
                 (TARGET_TLS_CA_FILE), use SCRAM authentication on the server, or set {ALLOW_UNVERIFIED_PASSWORD}=true",
                if *md5 { "as an md5 hash" } else { "in cleartext" }
            ),
        }
    }

    /// The backend `ErrorResponse` that carries this violation to the driver.
    fn error_response(&self) -> Vec<u8> {
        let mut body = Vec::new();
        for (field, value) in [
            (b'S', "FATAL".to_string()),
            (b'V', "FATAL".to_string()),
            (b'C', self.sqlstate().to_string()),
            (b'M', self.message()),
        ] {
            body.push(field);
            body.extend_from_slice(value.as_bytes());
            body.push(0);
        }
        body.push(0);
        let mut msg = vec![b'E'];
        msg.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        msg.extend_from_slice(&body);
        msg
    }
}

/// What the guard learned, shared with the client side.
#[derive(Debug, Default)]
pub(super) struct WireState {
    /// `BackendKeyData`: process id and secret key, for a cancel request.
    pid: AtomicU32,
    secret: AtomicU32,
    has_key: AtomicBool,
    /// Messages written that each produce one `ReadyForQuery` (startup, Query, Sync).
    expected_ready: AtomicU64,
    ready: AtomicU64,
    received: AtomicU64,
    violation: OnceLock<Violation>,
}

impl WireState {
    /// The cancel key, once the server sent it.
    pub(super) fn cancel_key(&self) -> Option<(u32, u32)> {
        self.has_key.load(Ordering::Acquire).then(|| {
            (
                self.pid.load(Ordering::Relaxed),
                self.secret.load(Ordering::Relaxed),
            )
        })
    }

    /// True while a query (or the startup) waits for its `ReadyForQuery`.
    pub(super) fn in_flight(&self) -> bool {
        self.ready.load(Ordering::Acquire) < self.expected_ready.load(Ordering::Acquire)
    }

    pub(super) fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    #[allow(dead_code)]
    pub(super) fn violation(&self) -> Option<Violation> {
        self.violation.get().copied()
    }
}

/// The guarded stream; `S` is the transport after TLS (or the plain socket).
pub(super) struct Guarded<S> {
    inner: S,
    limits: WireLimits,
    /// The server proved its identity (verified certificate), or the deployment allows
    /// passwords to unverified servers.
    password_allowed: bool,
    state: Arc<WireState>,
    // Read side.
    /// Bytes of the current message's body still to pass through unparsed.
    body_left: u64,
    /// A header being collected (held back until it is checked).
    header: Vec<u8>,
    /// Checked bytes not yet handed to the driver, and how many of them were.
    out: Vec<u8>,
    out_pos: usize,
    /// After a violation: the synthesized error is in `out`, then end of stream.
    cut: bool,
    // Write side.
    w_started: bool,
    w_header: Vec<u8>,
    w_body_left: u64,
}

impl<S> Guarded<S> {
    pub(super) fn new(inner: S, limits: WireLimits, password_allowed: bool) -> Guarded<S> {
        Guarded {
            inner,
            limits,
            password_allowed,
            state: Arc::new(WireState::default()),
            body_left: 0,
            header: Vec::with_capacity(16),
            out: Vec::new(),
            out_pos: 0,
            cut: false,
            w_started: false,
            w_header: Vec::with_capacity(8),
            w_body_left: 0,
        }
    }

    pub(super) fn state(&self) -> Arc<WireState> {
        self.state.clone()
    }

    pub(super) fn get_ref(&self) -> &S {
        &self.inner
    }

    fn violate(&mut self, v: Violation) {
        let _ = self.state.violation.set(v);
        self.cut = true;
        self.body_left = 0;
        self.header.clear();
        self.out.extend_from_slice(&v.error_response());
    }

    /// Feeds bytes received from the server: checked bytes go to `out`.
    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() && !self.cut {
            if self.body_left > 0 {
                let n = usize::try_from(self.body_left)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                self.out.extend_from_slice(&data[..n]);
                self.body_left -= n as u64;
                data = &data[n..];
                continue;
            }
            // Collect the header: 5 bytes, more for the messages whose start is read.
            let needed = match self.header.first() {
                Some(b'R') => 9,
                Some(b'K') => 13,
                _ => 5,
            };
            if self.header.len() < needed {
                let n = (needed - self.header.len()).min(data.len());
                self.header.extend_from_slice(&data[..n]);
                data = &data[n..];
                if self.header.len() < 5 || self.header.len() < needed_for(&self.header) {
                    continue;
                }
            }
            self.check_header();
        }
    }

    /// Checks a complete header; passes it on, or cuts the connection.
    fn check_header(&mut self) {
        let h = &self.header;
        let kind = h[0];
        let len = u64::from(u32::from_be_bytes([h[1], h[2], h[3], h[4]]));
        if len < 4 {
            return self.violate(Violation::Malformed);
        }
        let total = len + 1;
        if total > self.limits.max_message_bytes {
            return self.violate(Violation::MessageTooLarge {
                claimed: total,
                limit: self.limits.max_message_bytes,
            });
        }
        let received = self.state.received.load(Ordering::Relaxed);
        if received.saturating_add(total) > self.limits.max_read_bytes {
            return self.violate(Violation::ReadTooLarge {
                limit: self.limits.max_read_bytes,
            });
        }
        let seen = h.len() as u64;
        if seen > total {
            // The extra bytes read for R/K belong to the next message: a message
            // shorter than its fixed start is malformed.
            return self.violate(Violation::Malformed);
        }
        match kind {
            b'R' if h.len() >= 9 => {
                let code = u32::from_be_bytes([h[5], h[6], h[7], h[8]]);
                if (code == 3 || code == 5) && !self.password_allowed {
                    return self.violate(Violation::InsecurePassword { md5: code == 5 });
                }
            }
            b'K' if h.len() >= 13 => {
                let pid = u32::from_be_bytes([h[5], h[6], h[7], h[8]]);
                let secret = u32::from_be_bytes([h[9], h[10], h[11], h[12]]);
                self.state.pid.store(pid, Ordering::Relaxed);
                self.state.secret.store(secret, Ordering::Relaxed);
                self.state.has_key.store(true, Ordering::Release);
            }
            b'Z' => {
                self.state.ready.fetch_add(1, Ordering::AcqRel);
            }
            _ => {}
        }
        self.state.received.fetch_add(total, Ordering::Relaxed);
        self.out.extend_from_slice(&self.header);
        self.body_left = total - seen;
        self.header.clear();
    }

    /// Follows the frontend's framing over bytes the transport accepted.
    fn track_written(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.w_body_left > 0 {
                let n = usize::try_from(self.w_body_left)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                self.w_body_left -= n as u64;
                data = &data[n..];
                continue;
            }
            // The startup message has no type byte; every later one does.
            let needed = if self.w_started { 5 } else { 4 };
            let n = (needed - self.w_header.len()).min(data.len());
            self.w_header.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.w_header.len() < needed {
                continue;
            }
            let (kind, len_bytes) = if self.w_started {
                (Some(self.w_header[0]), &self.w_header[1..5])
            } else {
                (None, &self.w_header[0..4])
            };
            let len = u64::from(u32::from_be_bytes([
                len_bytes[0],
                len_bytes[1],
                len_bytes[2],
                len_bytes[3],
            ]));
            match kind {
                None | Some(b'Q') | Some(b'S') => {
                    self.state.expected_ready.fetch_add(1, Ordering::AcqRel);
                }
                _ => {}
            }
            self.w_started = true;
            self.w_body_left = len.saturating_sub(4);
            self.w_header.clear();
        }
    }
}

/// Header bytes needed once the type byte is known (see `feed`).
fn needed_for(header: &[u8]) -> usize {
    match header.first() {
        Some(b'R') => 9,
        Some(b'K') => 13,
        _ => 5,
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.out_pos < this.out.len() {
                let n = (this.out.len() - this.out_pos).min(buf.remaining());
                buf.put_slice(&this.out[this.out_pos..this.out_pos + n]);
                this.out_pos += n;
                if this.out_pos == this.out.len() {
                    this.out.clear();
                    this.out_pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.cut {
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [0u8; 8192];
            let mut rb = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut rb) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {
                    let filled = rb.filled();
                    if filled.is_empty() {
                        // End of stream (a held-back header is dropped with it).
                        return Poll::Ready(Ok(()));
                    }
                    let filled = filled.to_vec();
                    this.feed(&filled);
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.track_written(&buf[..n]);
                Poll::Ready(Ok(n))
            }
            other => other,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    fn msg(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    async fn read_all(
        input: Vec<u8>,
        limits: WireLimits,
        allowed: bool,
    ) -> (Vec<u8>, Arc<WireState>) {
        // Deliver the input one byte at a time to exercise every split.
        let (mut tx, rx) = tokio::io::duplex(1);
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for b in input {
                if tx.write_all(&[b]).await.is_err() {
                    break;
                }
            }
        });
        let mut g = Guarded::new(rx, limits, allowed);
        let state = g.state();
        let mut out = Vec::new();
        g.read_to_end(&mut out).await.unwrap();
        (out, state)
    }

    #[tokio::test]
    async fn passes_ordinary_messages_and_learns_the_cancel_key() {
        let mut input = msg(b'R', &0u32.to_be_bytes());
        let mut k = 77u32.to_be_bytes().to_vec();
        k.extend_from_slice(&99u32.to_be_bytes());
        input.extend(msg(b'K', &k));
        input.extend(msg(b'S', b"a\0b\0"));
        input.extend(msg(b'Z', b"I"));
        let (out, state) = read_all(input.clone(), WireLimits::DEFAULT, false).await;
        assert_eq!(out, input);
        assert_eq!(state.cancel_key(), Some((77, 99)));
        assert_eq!(state.received(), input.len() as u64);
        assert!(state.violation().is_none());
    }

    #[tokio::test]
    async fn refuses_oversized_and_overbudget_messages() {
        let mut input = msg(b'S', b"ok\0");
        let ok_len = input.len();
        input.extend([b'D', 0x7f, 0xff, 0xff, 0xf0, 1, 2, 3]);
        let (out, state) = read_all(input, WireLimits::DEFAULT, false).await;
        assert_eq!(&out[..ok_len], &msg(b'S', b"ok\0")[..]);
        assert_eq!(out[ok_len], b'E', "a synthesized error follows");
        assert!(String::from_utf8_lossy(&out).contains("CS001"));
        assert!(matches!(
            state.violation(),
            Some(Violation::MessageTooLarge {
                claimed: 0x7fff_fff1,
                ..
            })
        ));

        let limits = WireLimits {
            max_message_bytes: 1024,
            max_read_bytes: 100,
        };
        let input: Vec<u8> = (0..20).flat_map(|_| msg(b'D', b"0123456789")).collect();
        let (out, state) = read_all(input, limits, false).await;
        assert_eq!(
            state.violation(),
            Some(Violation::ReadTooLarge { limit: 100 })
        );
        assert!(state.received() <= 100);
        assert!(String::from_utf8_lossy(&out).contains("TARGET_MAX_READ_BYTES"));
    }

    #[tokio::test]
    async fn refuses_cleartext_and_md5_from_unverified_servers() {
        for (code, md5) in [(3u32, false), (5, true)] {
            let mut body = code.to_be_bytes().to_vec();
            if md5 {
                body.extend_from_slice(b"salt");
            }
            let (out, state) = read_all(msg(b'R', &body), WireLimits::DEFAULT, false).await;
            assert_eq!(state.violation(), Some(Violation::InsecurePassword { md5 }));
            assert_eq!(out[0], b'E', "the request itself is never passed on");
            let (out, state) = read_all(msg(b'R', &body), WireLimits::DEFAULT, true).await;
            assert!(state.violation().is_none());
            assert_eq!(out, msg(b'R', &body));
        }
    }

    #[test]
    fn follows_written_queries() {
        let mut g = Guarded::new(tokio::io::empty(), WireLimits::DEFAULT, false);
        let state = g.state();
        let mut startup = 12u32.to_be_bytes().to_vec();
        startup.extend_from_slice(&[0, 3, 0, 0, b'u', 0, 0, 0]);
        g.track_written(&startup);
        assert!(state.in_flight());
        g.feed(&msg(b'Z', b"I"));
        assert!(!state.in_flight());
        let q = msg(b'Q', b"select 1\0");
        g.track_written(&q[..3]);
        g.track_written(&q[3..]);
        assert!(state.in_flight());
        g.feed(&msg(b'Z', b"I"));
        assert!(!state.in_flight());
    }
}
