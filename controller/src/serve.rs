//! Serving the API over plain HTTP or TLS, with the protections a server facing the network
//! needs before a request reaches the router.
//!
//! Both go through one hyper server (`axum-server`): a client has ten seconds to send a request
//! head and to finish the TLS handshake, and a head is at most 64 KiB. Over TLS, the client
//! certificate of the connection (if the client sent one; the TLS layer already checked that the
//! controller's CA signed it) is put into every request's extensions as a [`Peer`], which is how
//! the `/aps/2` handlers learn which instance is calling. Limits on bodies, request time and
//! concurrency are the router's (`api::limits`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware::AddExtension;
use axum_server::Handle;
use axum_server::accept::{Accept, DefaultAcceptor};
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;
use tokio_rustls::server::TlsStream;

/// How long a client may take to send the head of a request (and to finish a TLS handshake)
/// unless the builder says otherwise.
pub(crate) const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head (request line and headers) read from a connection.
pub(crate) const MAX_HEAD: usize = 64 * 1024;

/// How a TLS connection's client identified itself: the end-entity certificate it presented,
/// or `None` when it presented none. Absent from requests that came over plain HTTP.
#[derive(Debug, Clone)]
pub(crate) struct Peer(pub Option<CertificateDer<'static>>);

/// The TLS acceptor that also hands each connection's [`Peer`] to the router.
#[derive(Clone)]
struct PeerAcceptor(RustlsAcceptor<DefaultAcceptor>);

type Accepted<I, S> = io::Result<(TlsStream<I>, AddExtension<S, Peer>)>;

impl<I, S> Accept<I, S> for PeerAcceptor
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Send + 'static,
{
    type Stream = TlsStream<I>;
    type Service = AddExtension<S, Peer>;
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
            let service = tower::Layer::layer(&axum::Extension(Peer(presented)), service);
            Ok((stream, service))
        })
    }
}

/// Bounds what a connection may cost before a request reaches the router.
fn protect(builder: &mut Builder<TokioExecutor>, header_read_timeout: Duration) {
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .max_buf_size(MAX_HEAD);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_HEAD as u32)
        .max_concurrent_streams(256);
}

/// A server running in the background; [`Server::stop`] closes it and every connection.
pub(crate) struct Server {
    handle: Handle,
    task: JoinHandle<()>,
}

impl Server {
    /// Serves `app` on `listener`, over TLS when `tls` is given; a client has
    /// `header_read_timeout` for each request head and for the handshake.
    pub(crate) fn spawn(
        listener: std::net::TcpListener,
        app: Router,
        tls: Option<Arc<rustls::ServerConfig>>,
        header_read_timeout: Duration,
    ) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        let handle = Handle::new();
        let service = app.into_make_service();
        let mut server = axum_server::from_tcp(listener).handle(handle.clone());
        protect(server.http_builder(), header_read_timeout);
        let task = match tls {
            Some(config) => {
                let acceptor = RustlsAcceptor::new(RustlsConfig::from_config(config))
                    .handshake_timeout(header_read_timeout);
                let server = server.acceptor(PeerAcceptor(acceptor));
                tokio::spawn(async move { report(server.serve(service).await) })
            }
            None => tokio::spawn(async move { report(server.serve(service).await) }),
        };
        Ok(Self { handle, task })
    }

    /// Stops accepting and closes open connections at once.
    pub(crate) fn stop(&self) {
        self.handle.shutdown();
        self.task.abort();
    }
}

fn report(result: io::Result<()>) {
    if let Err(error) = result {
        tracing::error!(%error, "the API server stopped");
    }
}
