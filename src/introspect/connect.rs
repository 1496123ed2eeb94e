//! Opening a connection to a target database.
//!
//! Owns parsing the URL, the connect timeout, `application_name`, spawning the connection
//! task, and turning connection errors into [`IntrospectError`]s. It must never put the
//! URL or its password into an error or a log line: messages are built from the driver's
//! error text and then scrubbed of both.

use super::{millis, IntrospectError, TargetOptions};
use std::error::Error as _;
use std::str::FromStr;

/// Connects to `url` (a `postgres://` URL or a key=value connection string) without TLS,
/// within `opts.connect_timeout` (for the TCP connect and the whole startup and
/// authentication), with `opts.application_name`. The connection runs on a spawned task
/// that ends when the returned client is dropped.
///
/// Errors: [`IntrospectError::Timeout`] when the server does not answer in time,
/// [`IntrospectError::Connect`] for a malformed URL, a refused connection or failed
/// authentication (the message never contains the URL or the password).
pub async fn connect(
    url: &str,
    opts: &TargetOptions,
) -> Result<tokio_postgres::Client, IntrospectError> {
    static DEFAULT_TLS: std::sync::OnceLock<Result<crate::tls::TlsPolicy, String>> =
        std::sync::OnceLock::new();
    let tls = DEFAULT_TLS
        .get_or_init(|| crate::tls::TlsPolicy::new(None))
        .as_ref()
        .map_err(|e| IntrospectError::Connect(e.clone()))?;
    connect_pinned(url, opts, &[], tls).await
}

/// [`connect`], with TLS as the URL's `sslmode` asks under `tls`'s trusted roots, and
/// each host pinned to the given address (`hostaddr`) so the connection goes where the
/// target policy checked and no second DNS answer can redirect it (an empty `pinned`
/// connects as usual).
pub async fn connect_pinned(
    url: &str,
    opts: &TargetOptions,
    pinned: &[std::net::IpAddr],
    tls: &crate::tls::TlsPolicy,
) -> Result<tokio_postgres::Client, IntrospectError> {
    use crate::tls::TlsMode;
    let (stripped, mode) = crate::tls::split_sslmode(url)
        .map_err(|e| IntrospectError::Connect(format!("the target URL {e}")))?;
    let mut config = tokio_postgres::Config::from_str(&stripped)
        .map_err(|e| IntrospectError::Connect(scrub(describe(&e), url, None)))?;
    for ip in pinned {
        config.hostaddr(*ip);
    }
    config.connect_timeout(opts.connect_timeout);
    config.application_name(&opts.application_name);
    config.ssl_mode(match mode {
        TlsMode::Disable => tokio_postgres::config::SslMode::Disable,
        TlsMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => {
            tokio_postgres::config::SslMode::Require
        }
    });
    let password = config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    match tls.client_config(mode) {
        None => finish(config, tokio_postgres::NoTls, opts, url, password).await,
        Some(rustls) => {
            let connector = tokio_postgres_rustls::MakeRustlsConnect::new(rustls);
            finish(config, connector, opts, url, password).await
        }
    }
}

/// Connects within the timeout, spawns the connection task, and maps errors.
async fn finish<T>(
    config: tokio_postgres::Config,
    tls: T,
    opts: &TargetOptions,
    url: &str,
    password: Option<String>,
) -> Result<tokio_postgres::Client, IntrospectError>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket> + Send + 'static,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as tokio_postgres::tls::TlsConnect<tokio_postgres::Socket>>::Future: Send,
{
    let timeout = IntrospectError::Timeout(millis(opts.connect_timeout));
    match tokio::time::timeout(opts.connect_timeout, config.connect(tls)).await {
        Err(_) => Err(timeout),
        Ok(Err(e)) if is_timeout(&e) => Err(timeout),
        Ok(Err(e)) => Err(IntrospectError::Connect(scrub(
            describe(&e),
            url,
            password.as_deref(),
        ))),
        Ok(Ok((client, connection))) => {
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "target connection ended with an error");
                }
            });
            Ok(client)
        }
    }
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
