//! Opening a connection to a target database.
//!
//! Owns parsing the URL, the TCP connect (to the addresses the target policy pinned), TLS
//! as `sslmode` asks (the SSLRequest is sent here, so the driver only ever sees a stream
//! that [`wire::Guarded`] watches), the connect timeout, `application_name`, the
//! per-process bound on concurrent target connections, spawning the connection task,
//! cancelling a query left running when its client is dropped, and turning connection
//! errors into [`IntrospectError`]s. It must never put the URL or its password into an
//! error or a log line: messages are built from the driver's error text and then scrubbed
//! of both; under an allowlist a failed connection gives the caller one uniform message
//! (the detail goes to the log).

use super::wire::{self, Guarded, WireState};
use super::{millis, IntrospectError, TargetOptions};
use std::error::Error as _;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_postgres::config::{Host, SslMode, SslNegotiation};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

/// What the caller is told when a connection under an allowlist fails before the server
/// identified itself as PostgreSQL: the same for a closed port, a filtered one, a server
/// that is not PostgreSQL or a failed TLS handshake, so the service is no port scanner.
pub const UNIFORM_CONNECT_FAILURE: &str =
    "the target database did not accept a PostgreSQL connection at the host and port given (the service log has the detail)";

/// A client of a target database, holding one of the process's connection slots. When
/// dropped while a query is still running on the target (a read that timed out or whose
/// request went away), it sends the server a cancel request for it.
pub struct TargetClient {
    client: tokio_postgres::Client,
    wire: Arc<WireState>,
    peer: Peer,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

#[derive(Clone)]
enum Peer {
    Tcp(SocketAddr),
    Unix(std::path::PathBuf),
}

impl std::ops::Deref for TargetClient {
    type Target = tokio_postgres::Client;
    fn deref(&self) -> &tokio_postgres::Client {
        &self.client
    }
}

impl std::ops::DerefMut for TargetClient {
    fn deref_mut(&mut self) -> &mut tokio_postgres::Client {
        &mut self.client
    }
}

impl TargetClient {
    /// Bytes received from the target on this connection so far.
    pub fn bytes_received(&self) -> u64 {
        self.wire.received()
    }
}

impl Drop for TargetClient {
    fn drop(&mut self) {
        if !self.wire.in_flight() {
            return;
        }
        let (Some((pid, secret)), Ok(rt)) = (
            self.wire.cancel_key(),
            tokio::runtime::Handle::try_current(),
        ) else {
            return;
        };
        let peer = self.peer.clone();
        rt.spawn(async move {
            let mut msg = Vec::with_capacity(16);
            msg.extend_from_slice(&16u32.to_be_bytes());
            msg.extend_from_slice(&80_877_102u32.to_be_bytes());
            msg.extend_from_slice(&pid.to_be_bytes());
            msg.extend_from_slice(&secret.to_be_bytes());
            let sent = tokio::time::timeout(std::time::Duration::from_secs(5), async {
                match peer {
                    Peer::Tcp(addr) => TcpStream::connect(addr).await?.write_all(&msg).await,
                    Peer::Unix(path) => {
                        tokio::net::UnixStream::connect(path)
                            .await?
                            .write_all(&msg)
                            .await
                    }
                }
            })
            .await;
            match sent {
                Ok(Ok(())) => {
                    tracing::info!("cancelled a catalog query left running on the target")
                }
                _ => tracing::warn!("could not send a cancel request to the target"),
            }
        });
    }
}

/// The process's bound on concurrent target connections (`TARGET_MAX_CONCURRENT_READS`),
/// sized by the first connection's options.
fn slots(opts: &TargetOptions) -> Arc<tokio::sync::Semaphore> {
    static SLOTS: std::sync::OnceLock<Arc<tokio::sync::Semaphore>> = std::sync::OnceLock::new();
    SLOTS
        .get_or_init(|| {
            Arc::new(tokio::sync::Semaphore::new(
                opts.max_concurrent_reads.max(1),
            ))
        })
        .clone()
}

/// Connects to `url` (a `postgres://` URL or a key=value connection string) with the
/// default trusted roots and no pinning: see [`connect_pinned`].
pub async fn connect(url: &str, opts: &TargetOptions) -> Result<TargetClient, IntrospectError> {
    static DEFAULT_TLS: std::sync::OnceLock<Result<crate::tls::TlsPolicy, String>> =
        std::sync::OnceLock::new();
    let tls = DEFAULT_TLS
        .get_or_init(|| crate::tls::TlsPolicy::new(None))
        .as_ref()
        .map_err(|e| IntrospectError::Connect(e.clone()))?;
    connect_pinned(url, opts, &[], tls).await
}

/// Connects with TLS as the URL's `sslmode` asks under `tls`'s trusted roots, within
/// `opts.connect_timeout` (for waiting for a connection slot, the TCP connect and the
/// whole startup and authentication), with `opts.application_name`, each host pinned to
/// the given address so the connection goes where the target policy checked and no
/// second DNS answer can redirect it. `pinned` is non-empty exactly when an allowlist is
/// configured: then a failed connection gets [`UNIFORM_CONNECT_FAILURE`].
///
/// Errors: [`IntrospectError::Timeout`] when the server does not answer in time,
/// [`IntrospectError::AuthFailed`] for a wrong password, unknown role or database or a
/// missing CONNECT privilege, [`IntrospectError::InsecurePassword`] when an unverified
/// server asks for a cleartext or md5 password, [`IntrospectError::Protocol`] for a
/// server breaking the protocol's bounds, [`IntrospectError::Busy`] when every slot stayed
/// taken, [`IntrospectError::Connect`] otherwise (never with the URL or the password).
pub async fn connect_pinned(
    url: &str,
    opts: &TargetOptions,
    pinned: &[IpAddr],
    tls: &crate::tls::TlsPolicy,
) -> Result<TargetClient, IntrospectError> {
    let (stripped, mode) = crate::tls::split_sslmode(url)
        .map_err(|e| IntrospectError::Connect(format!("the target URL {e}")))?;
    let mut config = tokio_postgres::Config::from_str(&stripped)
        .map_err(|e| IntrospectError::Connect(scrub(describe(&e), url, None)))?;
    config.connect_timeout(opts.connect_timeout);
    config.application_name(&opts.application_name);
    let password = config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    let uniform = !pinned.is_empty();
    let deadline = tokio::time::Instant::now() + opts.connect_timeout;
    let timeout = IntrospectError::Timeout(millis(opts.connect_timeout));

    let slot = match tokio::time::timeout_at(deadline, slots(opts).acquire_owned()).await {
        Ok(Ok(slot)) => slot,
        _ => return Err(IntrospectError::Busy(opts.max_concurrent_reads)),
    };
    let work = async {
        let (stream, peer, tls_used) = open(&config, pinned, mode, tls).await?;
        let verified = tls_used
            && matches!(
                mode,
                crate::tls::TlsMode::VerifyCa | crate::tls::TlsMode::VerifyFull
            );
        let guarded = Guarded::new(stream, opts.wire, verified || tls.allow_unverified_password);
        let state = guarded.state();
        if tls_used {
            config.ssl_mode(SslMode::Require);
            config.ssl_negotiation(SslNegotiation::Direct);
        } else {
            config.ssl_mode(SslMode::Disable);
        }
        let (client, connection) = config
            .connect_raw(guarded, Preconnected)
            .await
            .map_err(Failure::Driver)?;
        Ok::<_, Failure>((client, connection, state, peer))
    };
    match tokio::time::timeout_at(deadline, work).await {
        Err(_) => Err(timeout),
        Ok(Err(Failure::Driver(e))) if is_timeout(&e) => Err(timeout),
        Ok(Err(failure)) => {
            let (mapped, detail) = match failure {
                Failure::Driver(e) => (
                    classify(&e, opts),
                    scrub(describe(&e), url, password.as_deref()),
                ),
                Failure::Open(detail) => (None, detail),
            };
            Err(match mapped {
                Some(known) => known,
                None if uniform => {
                    tracing::warn!(detail = %detail, "target connection failed");
                    IntrospectError::Connect(UNIFORM_CONNECT_FAILURE.into())
                }
                None => IntrospectError::Connect(detail),
            })
        }
        Ok(Ok((client, connection, wire, peer))) => {
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "target connection ended with an error");
                }
            });
            Ok(TargetClient {
                client,
                wire,
                peer,
                _slot: slot,
            })
        }
    }
}

enum Failure {
    /// Before the driver ran: no address answered, TLS failed... (scrubbed detail).
    Open(String),
    Driver(tokio_postgres::Error),
}

/// Opens a transport to the first host that answers: TCP (or a Unix socket), then the
/// SSLRequest and TLS handshake as `mode` asks. Returns whether TLS is in use.
async fn open(
    config: &tokio_postgres::Config,
    pinned: &[IpAddr],
    mode: crate::tls::TlsMode,
    tls: &crate::tls::TlsPolicy,
) -> Result<(Transport, Peer, bool), Failure> {
    let ports = config.get_ports();
    let mut last = String::from("the target URL names no host");
    for (i, host) in config.get_hosts().iter().enumerate() {
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        let (name, stream, peer) = match host {
            Host::Unix(dir) => {
                let path = dir.join(format!(".s.PGSQL.{port}"));
                match tokio::net::UnixStream::connect(&path).await {
                    Ok(s) => {
                        return Ok((Transport::Unix(s), Peer::Unix(path), false));
                    }
                    Err(e) => {
                        last = format!("Unix socket: {e}");
                        continue;
                    }
                }
            }
            Host::Tcp(name) => {
                let addrs: Vec<SocketAddr> = match pinned.get(i) {
                    Some(ip) => vec![SocketAddr::new(*ip, port)],
                    None => match name.trim_matches(['[', ']']).parse::<IpAddr>() {
                        Ok(ip) => vec![SocketAddr::new(ip, port)],
                        Err(_) => match tokio::net::lookup_host((name.as_str(), port)).await {
                            Ok(a) => a.collect(),
                            Err(e) => {
                                last = format!("host {name:?} does not resolve: {e}");
                                continue;
                            }
                        },
                    },
                };
                let mut opened = None;
                for addr in addrs {
                    match TcpStream::connect(addr).await {
                        Ok(s) => {
                            let _ = s.set_nodelay(true);
                            opened = Some((s, addr));
                            break;
                        }
                        Err(e) => last = format!("{e}"),
                    }
                }
                let Some((s, addr)) = opened else { continue };
                (name.clone(), s, Peer::Tcp(addr))
            }
        };
        match negotiate(stream, &name, mode, tls).await {
            Ok((transport, tls_used)) => return Ok((transport, peer, tls_used)),
            Err(e) => last = e,
        }
    }
    Err(Failure::Open(last))
}

/// Sends the SSLRequest and runs the TLS handshake when `mode` asks for TLS.
async fn negotiate(
    mut stream: TcpStream,
    host: &str,
    mode: crate::tls::TlsMode,
    tls: &crate::tls::TlsPolicy,
) -> Result<(Transport, bool), String> {
    use crate::tls::TlsMode;
    let Some(rustls) = tls.client_config(mode) else {
        return Ok((Transport::Plain(stream), false));
    };
    stream
        .write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = [0u8; 1];
    stream
        .read_exact(&mut answer)
        .await
        .map_err(|e| format!("no answer to the TLS request: {e}"))?;
    match answer[0] {
        b'S' => {}
        b'N' if mode == TlsMode::Prefer => return Ok((Transport::Plain(stream), false)),
        b'N' => return Err("the server does not support TLS (sslmode asks for it)".into()),
        _ => return Err("the server did not answer as PostgreSQL does".into()),
    }
    let mut make = tokio_postgres_rustls::MakeRustlsConnect::new(rustls);
    let connect = MakeTlsConnect::<TcpStream>::make_tls_connect(&mut make, host)
        .map_err(|e| e.to_string())?;
    let stream = connect
        .connect(stream)
        .await
        .map_err(|e| format!("TLS handshake failed: {e}"))?;
    Ok((Transport::Tls(Box::new(stream)), true))
}

type RustlsStream = <tokio_postgres_rustls::MakeRustlsConnect as MakeTlsConnect<TcpStream>>::Stream;

/// The transport under the guard.
enum Transport {
    Plain(TcpStream),
    Tls(Box<RustlsStream>),
    Unix(tokio::net::UnixStream),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Transport::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Transport::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Transport::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Transport::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

impl tokio_postgres::tls::TlsStream for Guarded<Transport> {
    fn channel_binding(&self) -> ChannelBinding {
        match self.get_ref() {
            Transport::Tls(s) => s.channel_binding(),
            _ => ChannelBinding::none(),
        }
    }
}

/// The "TLS connector" the driver is handed: TLS, when in use, is already established
/// under the guard, so this passes the guarded stream through (with its channel binding).
struct Preconnected;

impl TlsConnect<Guarded<Transport>> for Preconnected {
    type Stream = Guarded<Transport>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Guarded<Transport>, std::io::Error>>;

    fn connect(self, stream: Guarded<Transport>) -> Self::Future {
        std::future::ready(Ok(stream))
    }
}

/// What a driver error means for the caller, when it is more than a failed query: the
/// guard's refusals (`CS00x`), authentication and privilege failures, a lock wait that
/// ran out. Used for connecting and for the catalog queries.
pub(super) fn classify(e: &tokio_postgres::Error, opts: &TargetOptions) -> Option<IntrospectError> {
    let db = e.as_db_error()?;
    let message = db.message().to_string();
    Some(match db.code().code() {
        wire::SQLSTATE_MESSAGE => IntrospectError::Protocol(message),
        wire::SQLSTATE_READ => IntrospectError::ReadTooLarge(opts.wire.max_read_bytes),
        wire::SQLSTATE_PASSWORD => IntrospectError::InsecurePassword(message),
        // invalid_password, invalid_authorization_specification (no pg_hba entry, no
        // such role), insufficient_privilege, invalid_catalog_name (no such database).
        "28P01" | "28000" | "42501" | "3D000" => IntrospectError::AuthFailed(message),
        // lock_not_available: lock_timeout ran out.
        "55P03" => IntrospectError::LockTimeout(millis(opts.lock_timeout)),
        _ => return None,
    })
}

/// The driver's message with its causes, `outer: inner: innermost`.
pub(super) fn describe(e: &tokio_postgres::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !s.ends_with(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = cause.source();
    }
    s
}

/// True when the driver gave up waiting (its own connect timeout).
fn is_timeout(e: &tokio_postgres::Error) -> bool {
    let mut source = e.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return true;
            }
        }
        source = cause.source();
    }
    false
}

/// Removes anything secret from an error message: the whole URL, the password, and the
/// character a URL parse error quotes (which could be one of the password's).
fn scrub(mut msg: String, url: &str, password: Option<&str>) -> String {
    if let Some(at) = msg.find(" but got `") {
        msg.truncate(at);
    }
    if !url.is_empty() {
        msg = msg.replace(url, "[url]");
    }
    if let Some(p) = password.filter(|p| !p.is_empty()) {
        msg = msg.replace(p, "[password]");
        // A URL carries the password percent-encoded; scrub that spelling too.
        if let Some(encoded) = url
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('@'))
            .and_then(|(userinfo, _)| userinfo.split_once(':'))
            .map(|(_, pw)| pw)
            .filter(|pw| !pw.is_empty())
        {
            msg = msg.replace(encoded, "[password]");
        }
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn opts(ms: u64) -> TargetOptions {
        TargetOptions {
            connect_timeout: Duration::from_millis(ms),
            statement_timeout: Duration::from_secs(5),
            application_name: "test".into(),
            budget: crate::introspect::ReadBudget::UNLIMITED,
            lock_timeout: Duration::from_secs(5),
            wire: crate::introspect::WireLimits::DEFAULT,
            max_concurrent_reads: 64,
        }
    }

    #[test]
    fn scrub_removes_url_and_password() {
        let url = "postgres://u:s%40cret@h/db";
        let m = scrub(
            format!("bad {url} s@cret s%40cret at byte 3: expected `x` but got `s`"),
            url,
            Some("s@cret"),
        );
        assert!(!m.contains("cret"), "{m}");
        assert!(!m.contains("but got"), "{m}");
    }

    #[tokio::test]
    async fn refused_connection_is_connect_error_without_password() {
        // Port 1 on loopback: nothing listens there.
        let url = "postgres://someone:Very-Secret-9@127.0.0.1:1/db";
        match connect(url, &opts(2_000)).await {
            Err(IntrospectError::Connect(m)) => {
                assert!(!m.contains("Very-Secret-9"), "{m}");
                assert!(!m.contains(url), "{m}");
            }
            other => panic!("expected a connect error, got {:?}", other.map(|_| ())),
        }
    }

    #[tokio::test]
    async fn malformed_url_is_connect_error_without_password() {
        let url = "postgres://someone:Very-Secret-9@127.0.0.1:notaport/db";
        match connect(url, &opts(2_000)).await {
            Err(IntrospectError::Connect(m)) => assert!(!m.contains("Very-Secret-9"), "{m}"),
            other => panic!("expected a connect error, got {:?}", other.map(|_| ())),
        }
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        // A listener that accepts and never answers the startup message.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        let url = format!("postgres://u:pw@127.0.0.1:{port}/db");
        let r = connect(&url, &opts(300)).await;
        hold.abort();
        assert!(
            matches!(r, Err(IntrospectError::Timeout(300))),
            "{:?}",
            r.map(|_| ())
        );
    }
}
