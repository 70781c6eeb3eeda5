//! Who is on the other end of a TLS connection: the client certificate, handed to the router.
//!
//! The TLS layer asks every client for a certificate and checks that the client holds its key,
//! but accepts any certificate (or none): whether it is *the* controller of the instance named
//! in the request is an APS question, answered per request by [`credentials`](crate::credentials).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum_server::accept::{Accept, DefaultAcceptor};
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tower_http::add_extension::AddExtension;

/// The client certificate of the connection a request came on, when it came over TLS.
#[derive(Clone, Debug)]
pub(crate) struct PeerCertificate(pub(crate) Option<CertificateDer<'static>>);

/// Asks for a client certificate and verifies the client's proof of its key, whatever the
/// certificate.
#[derive(Debug)]
pub(crate) struct AnyClientCertificate(pub(crate) Arc<CryptoProvider>);

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
    pub(crate) fn new(config: RustlsConfig) -> Self {
        Self(RustlsAcceptor::new(config))
    }
}

type Accepted<S> = std::io::Result<(TlsStream<TcpStream>, AddExtension<S, PeerCertificate>)>;

impl<S: Send + 'static> Accept<TcpStream, S> for PeerAcceptor {
    type Stream = TlsStream<TcpStream>;
    type Service = AddExtension<S, PeerCertificate>;
    type Future = Pin<Box<dyn Future<Output = Accepted<S>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let tls = self.0.clone();
        Box::pin(async move {
            let (stream, service) = tls.accept(stream, service).await?;
            let certificate = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|c| c.clone().into_owned());
            Ok((
                stream,
                AddExtension::new(service, PeerCertificate(certificate)),
            ))
        })
    }
}
