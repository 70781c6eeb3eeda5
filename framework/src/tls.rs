//! HTTPS for the endpoint: a certificate and key from PEM files, or a self-signed pair made on
//! first start and kept in the data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::files::write_private;
use crate::peer::AnyClientCertificate;

/// A server certificate and key, ready to serve HTTPS with [`App::serve_tls`](crate::App::serve_tls).
#[derive(Clone, Debug)]
pub struct Tls {
    pub(crate) config: Arc<rustls::ServerConfig>,
    cert_path: PathBuf,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A file holds no usable PEM certificate or key.
    #[error("{path}: {what}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// The certificate and key do not make a valid server configuration (e.g. they do not match).
    #[error("the certificate and key cannot be used: {0}")]
    Rustls(#[from] rustls::Error),
    /// A self-signed certificate could not be made.
    #[error("cannot make a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

impl Tls {
    /// Loads a certificate chain and its private key from PEM files.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| pem_error(cert, &e))?;
        if chain.is_empty() {
            return Err(TlsError::Pem {
                path: cert.to_owned(),
                what: "no CERTIFICATE block".into(),
            });
        }
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_error(key, &e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // Clients are asked for a certificate; which one may speak for an instance is decided
        // per request (see `credentials`).
        let config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(Arc::new(AnyClientCertificate(provider)))
            .with_single_cert(chain, key_der)?;
        Ok(Self {
            config: Arc::new(config),
            cert_path: cert.to_owned(),
        })
    }

    /// The self-signed certificate kept in `dir` (`tls/self-signed.crt` and `.key`), made on the
    /// first call for `localhost`, `127.0.0.1`, `::1` and `names`. Later calls load the same pair,
    /// so clients that pinned it keep working across restarts.
    pub fn self_signed(dir: &Path, names: &[String]) -> Result<Self, TlsError> {
        let dir = dir.join("tls");
        let cert = dir.join("self-signed.crt");
        let key = dir.join("self-signed.key");
        if !cert.exists() || !key.exists() {
            let mut subject = vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "::1".to_owned(),
            ];
            subject.extend(names.iter().cloned());
            let made = rcgen::generate_simple_self_signed(subject)?;
            write_private(&key, made.signing_key.serialize_pem().as_bytes())
                .map_err(|e| file_error(&key, e))?;
            std::fs::write(&cert, made.cert.pem()).map_err(|e| file_error(&cert, e))?;
        }
        Self::from_pem_files(&cert, &key)
    }

    /// The certificate file in use.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }
}

fn file_error(path: &Path, source: std::io::Error) -> TlsError {
    TlsError::File {
        path: path.to_owned(),
        source,
    }
}

fn pem_error(path: &Path, error: &rustls::pki_types::pem::Error) -> TlsError {
    TlsError::Pem {
        path: path.to_owned(),
        what: error.to_string(),
    }
}
