//! One hyper server for an axum router, plain or over TLS, with the edge's protections.

use std::io;
use std::net::TcpListener;
use std::sync::Arc;

use axum::Router;
use axum_server::Handle;
use axum_server::accept::DefaultAcceptor;

use crate::Limits;
use crate::connections::{Gate, Gated};
use crate::idle::IdleLimit;
use crate::peer::PeerAcceptor;

/// Serves `router` on `listener` until `handle` stops it: over TLS with `tls` (every request
/// then carries a [`PeerCertificate`](crate::PeerCertificate)), else over plain HTTP; every
/// connection held to `limits`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: Limits,
    handle: Handle,
) -> io::Result<()> {
    let idle = limits.idle();
    let router = router.layer(axum::middleware::from_fn_with_state(
        limits,
        crate::checks::request,
    ));
    // Handlers may ask for the peer's address (`ConnectInfo<SocketAddr>`).
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let (max, per_client) = limits.connections();
    let gate = Gate::new(max, per_client);
    let mut server = axum_server::from_tcp(listener).handle(handle);
    limits.protect(server.http_builder());
    match tls {
        Some(config) => {
            let acceptor = IdleLimit::new(PeerAcceptor::new(config, idle), idle);
            let acceptor = Gated::new(acceptor, gate, false);
            server.acceptor(acceptor).serve(service).await
        }
        None => {
            let acceptor = Gated::new(IdleLimit::new(DefaultAcceptor, idle), gate, true);
            server.acceptor(acceptor).serve(service).await
        }
    }
}
