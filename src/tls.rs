//! TLS to target databases, with `sslmode` as libpq defines it.
//!
//! Owns reading `sslmode` out of a target URL (tokio-postgres itself knows only disable,
//! prefer and require) and the rustls client configuration for each mode: `disable` (no
//! TLS), `allow`/`prefer` (TLS when the server offers it, unverified, as libpq does),
//! `require` (TLS, unverified), `verify-ca` (the chain must lead to a trusted root) and
//! `verify-full` (the chain and the host name). Trusted roots are the Mozilla set
//! (webpki-roots) plus `TARGET_TLS_CA_FILE` (e.g. the Amazon RDS bundle). It must never
//! accept a server-side file path from a caller (`sslrootcert` in a URL is refused), and
//! never weaken `verify-*` to anything less.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Splits `sslmode` (and refuses `sslrootcert`/`sslcert`/`sslkey`) out of a target URL,
/// returning the URL tokio-postgres should parse and the mode (default `prefer`).
pub fn split_sslmode(url: &str) -> Result<(String, TlsMode), String> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), TlsMode::Prefer));
    };
    let mut mode = TlsMode::Prefer;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslmode" => {
                mode = match v {
                    "disable" => TlsMode::Disable,
                    "allow" | "prefer" => TlsMode::Prefer,
                    "require" => TlsMode::Require,
                    "verify-ca" => TlsMode::VerifyCa,
                    "verify-full" => TlsMode::VerifyFull,
                    _ => return Err(format!("has an unknown sslmode {v:?}")),
                }
            }
            "sslrootcert" | "sslcert" | "sslkey" | "sslpassword" | "sslcrl" => {
                return Err(format!(
                    "may not name server-side files ({k}); the service's trusted roots are configured with TARGET_TLS_CA_FILE"
                ))
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, mode))
}

/// Trusted roots and the per-mode client configurations, built once.
pub struct TlsPolicy {
    /// `TARGET_ALLOW_UNVERIFIED_PASSWORD`: answer cleartext and md5 password requests
    /// from servers whose certificate was not verified (off: only SCRAM, which never
    /// sends the password, or a verified server gets it).
    pub allow_unverified_password: bool,
    verify_full: Arc<ClientConfig>,
    verify_ca: Arc<ClientConfig>,
    unverified: Arc<ClientConfig>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn config_with(verifier: Arc<dyn ServerCertVerifier>) -> Result<ClientConfig, String> {
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

impl TlsPolicy {
    /// Mozilla roots plus the certificates in `extra_pem` (a PEM bundle), if any.
    pub fn new(extra_pem: Option<&[u8]>) -> Result<TlsPolicy, String> {
        use rustls::pki_types::pem::PemObject;
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = extra_pem {
            let mut added = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("TARGET_TLS_CA_FILE: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("TARGET_TLS_CA_FILE: {e}"))?;
                added += 1;
            }
            if added == 0 {
                return Err("TARGET_TLS_CA_FILE holds no PEM certificate".into());
            }
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(TlsPolicy {
            allow_unverified_password: false,
            verify_full: Arc::new(config_with(webpki.clone())?),
            verify_ca: Arc::new(config_with(Arc::new(ChainOnly(webpki)))?),
            unverified: Arc::new(config_with(Arc::new(Unverified(provider())))?),
        })
    }

    /// The rustls configuration for `mode`; `None` for `disable`.
    pub fn client_config(&self, mode: TlsMode) -> Option<ClientConfig> {
        match mode {
            TlsMode::Disable => None,
            TlsMode::Prefer | TlsMode::Require => Some((*self.unverified).clone()),
            TlsMode::VerifyCa => Some((*self.verify_ca).clone()),
            TlsMode::VerifyFull => Some((*self.verify_full).clone()),
        }
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            // webpki checks the name only after the chain verified.
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer`/`require`: encrypted, certificate not verified (libpq's meaning); handshake
/// signatures are still checked.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_is_split_out() {
        assert_eq!(
            split_sslmode("postgres://u:p@h/db?sslmode=verify-full&connect_timeout=3").unwrap(),
            (
                "postgres://u:p@h/db?connect_timeout=3".into(),
                TlsMode::VerifyFull
            )
        );
        assert_eq!(split_sslmode("postgres://h/db").unwrap().1, TlsMode::Prefer);
        assert_eq!(
            split_sslmode("postgres://h/db?sslmode=disable").unwrap(),
            ("postgres://h/db".into(), TlsMode::Disable)
        );
        assert!(split_sslmode("postgres://h/db?sslmode=bogus").is_err());
        assert!(split_sslmode("postgres://h/db?sslrootcert=/etc/passwd").is_err());
    }

    #[test]
    fn policies_build() {
        let p = TlsPolicy::new(None).unwrap();
        assert!(p.client_config(TlsMode::Disable).is_none());
        assert!(p.client_config(TlsMode::VerifyFull).is_some());
        assert!(TlsPolicy::new(Some(b"not pem")).is_err());
    }
}
