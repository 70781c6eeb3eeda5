//! Serving the API over plain HTTP or TLS, on the network edge the endpoint framework runs too
//! (`aps-server`): a client has the header-read time-out (ten seconds unless the builder says
//! otherwise) to finish the TLS handshake and to send a request head, a connection with no
//! request in flight is closed once nothing has crossed it for as long, and a head is at most
//! 64 KiB. Over TLS, the client certificate of the connection (if the client sent one; the TLS
//! layer already checked that the controller's CA signed it) is put into every request's
//! extensions as a [`Peer`], which is how the `/aps/2` handlers learn which instance is calling.
//! Limits on bodies, request time and concurrency are the router's (`api::limits`).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use aps_server::Limits;
use axum::Router;
use axum_server::Handle;
use tokio::task::JoinHandle;

/// How long a client may take to send the head of a request (and to finish a TLS handshake)
/// unless the builder says otherwise.
pub(crate) const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head (request line and headers) read from a connection.
const MAX_HEAD: usize = 64 * 1024;
/// The most headers read in one request head: hyper's own default.
const MAX_HEADERS: usize = 100;

/// How many connections the server holds, in all and per peer address (`None`: derived from
/// the descriptor limit by `aps-server`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Connections {
    pub(crate) max: Option<usize>,
    pub(crate) per_client: Option<usize>,
}

/// How a TLS connection's client identified itself: the end-entity certificate it presented,
/// or `None` when it presented none. Absent from requests that came over plain HTTP.
pub(crate) use aps_server::PeerCertificate as Peer;

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
        connections: Connections,
    ) -> Self {
        let handle = Handle::new();
        let limits = Limits {
            header_read_timeout,
            max_head: MAX_HEAD,
            max_headers: MAX_HEADERS,
            max_connections: connections.max,
            max_connections_per_client: connections.per_client,
        };
        let serving = aps_server::serve(listener, app, tls, limits, handle.clone());
        let task = tokio::spawn(async move { report(serving.await) });
        Self { handle, task }
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
