//! Who is on the other end of a TLS connection: the client certificate, handed to the router.
//!
//! The TLS layer asks every client for a certificate, and the server configuration's verifier
//! decides which it accepts: the endpoint's, [`AnyClientCertificate`], takes any certificate (or
//! none) whose key the client proves it holds; the controller's takes only those its CA signed.
//! Either way, whose certificate it is (the controller of this instance? the instance owning
//! this resource?) is an APS question, answered per request from the [`PeerCertificate`] that
//! every request carries in its extensions.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::middleware::AddExtension;
use axum_server::accept::{Accept, DefaultAcceptor};
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;

/// The end-entity certificate the client of a TLS connection presented, or `None` when it
/// presented none. Absent from requests that came over plain HTTP.
#[derive(Clone, Debug)]
pub struct PeerCertificate(pub Option<CertificateDer<'static>>);

/// A client certificate verifier that asks for a certificate and verifies the client's proof of
/// its key, whatever the certificate (and lets clients without one in).
#[derive(Debug)]
pub struct AnyClientCertificate(Arc<CryptoProvider>);

impl AnyClientCertificate {
    /// Verifies signatures with `provider`'s algorithms.
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        Self(provider)
    }
}

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
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
        verify_tls13_signature(
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

/// Accepts TLS connections and puts the client certificate into every request's extensions.
#[derive(Clone)]
pub(crate) struct PeerAcceptor(RustlsAcceptor<DefaultAcceptor>);

impl PeerAcceptor {
    /// Serves with `config`; a client has `handshake_timeout` to finish the handshake.
    pub(crate) fn new(config: Arc<rustls::ServerConfig>, handshake_timeout: Duration) -> Self {
        let tls = RustlsAcceptor::new(RustlsConfig::from_config(config));
        Self(tls.handshake_timeout(handshake_timeout))
    }
}

type Accepted<I, S> = io::Result<(TlsStream<I>, AddExtension<S, PeerCertificate>)>;

impl<I, S> Accept<I, S> for PeerAcceptor
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Send + 'static,
{
    type Stream = TlsStream<I>;
    type Service = AddExtension<S, PeerCertificate>;
    type Future = Pin<Box<dyn Future<Output = Accepted<I, S>> + Send>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let handshake = self.0.accept(stream, service);
        Box::pin(async move {
            let (stream, service) = handshake.await?;
            let presented = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|cert| cert.clone().into_owned());
            let service =
                tower::Layer::layer(&axum::Extension(PeerCertificate(presented)), service);
            Ok((stream, service))
        })
    }
}
