//! Client certificates as API credentials: signed by a CA the operator names (`--client-ca`),
//! they grant one scope (`--client-ca-scope`). The controller's own CA never counts here: the
//! certificates it issues are instances' identities towards `/aps/2`, not API credentials.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;

use super::Scope;
use crate::tls::TlsError;

/// The operator's client CA and the scope its certificates grant.
#[derive(Debug, Clone)]
pub(crate) struct ClientCa {
    certificates: Vec<CertificateDer<'static>>,
    verifier: Arc<dyn ClientCertVerifier>,
    pub scope: Scope,
}

impl ClientCa {
    /// Reads the CA certificates (PEM) of `path`.
    pub(crate) fn load(path: &Path, scope: Scope) -> Result<Self, TlsError> {
        let text = std::fs::read(path).map_err(|e| TlsError::file(path, e))?;
        let certificates = CertificateDer::pem_slice_iter(&text)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::pem(path, e))?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in &certificates {
            roots.add(cert.clone())?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // Fails for want of a CA certificate (an empty or non-certificate file).
        let verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
            .build()
            .map_err(|e| TlsError::pem(path, e))?;
        Ok(Self {
            certificates,
            verifier,
            scope,
        })
    }

    /// The CA certificates, which the TLS layer must also accept client certificates from.
    pub(crate) fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certificates
    }

    /// Whether this CA signed `certificate` (and it is valid now).
    pub(crate) fn signed(&self, certificate: &CertificateDer<'_>) -> bool {
        self.verifier
            .verify_client_cert(certificate, &[], UnixTime::now())
            .is_ok()
    }
}
