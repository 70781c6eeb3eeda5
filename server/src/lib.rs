//! The network edge both the APS endpoint (`aps`) and the controller (`aps-controller`) run:
//! connection limits, client certificates, graceful shutdown, TLS and key files.
//!
//! A server facing the network has to bound what a connection may cost before a request reaches
//! the router, and hyper alone does not. [`serve`] runs an axum [`Router`](axum::Router) on one
//! hyper server, HTTP/1 and HTTP/2, plain or over TLS, where:
//!
//! * a client has [`Limits::header_read_timeout`] to finish the TLS handshake and to send a
//!   request head;
//! * a connection with no request in flight is closed once nothing has crossed it for as long,
//!   which hyper does not do by itself (a long request is not idleness; HTTP/2 pings are talk);
//! * a request head is at most [`Limits::max_head`] bytes and [`Limits::max_headers`] headers,
//!   else an APS-shaped 431 (hyper reads up to twice that, and answers a bare 431 beyond);
//! * an HTTP/1.1 request names exactly one `Host`, else an APS-shaped 400;
//! * at most [`Limits::max_connections`] connections are held, and
//!   [`Limits::max_connections_per_client`] from one peer address, below the descriptor limit
//!   (raised to the hard limit at start): more are answered 503 `Busy` or 429
//!   `TooManyConnections` (plain HTTP) or closed (TLS), with a rate-limited warning;
//! * over TLS, every request carries the connection's client certificate as a
//!   [`PeerCertificate`] extension. The server configuration's verifier decides which
//!   certificates the handshake accepts ([`AnyClientCertificate`] takes any whose key the client
//!   holds); whose certificate it is stays the application's question.
//!
//! Stopping is the caller's, through the [`Handle`](axum_server::Handle) it passes: the endpoint
//! waits for [`shutdown_signal`] and lets requests in flight finish, the controller closes at
//! once when dropped. Limits on bodies, request time and concurrency belong to the router.
//!
//! Around the server: [`TlsError`] says why certificates could not be made, read or used, and
//! [`files`] writes keys, certificates and secrets whole or not at all.
//!
//! It is a building block of this workspace, not a general server: its surface is what the two
//! crates share, and each keeps its own defaults (the endpoint's roomier heads, so that the
//! router can answer oversized ones in the APS shape; the controller's stricter ones).
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use aps_server::Limits;
//! use axum::{Router, routing::get};
//!
//! # async fn run() -> std::io::Result<()> {
//! let listener = std::net::TcpListener::bind("127.0.0.1:8080")?;
//! let router = Router::new().route("/", get(|| async { "hello" }));
//! let limits = Limits {
//!     header_read_timeout: Duration::from_secs(10),
//!     max_head: 64 * 1024,
//!     max_headers: 100,
//!     max_connections: None,
//!     max_connections_per_client: None,
//! };
//! let handle = axum_server::Handle::new();
//! let stopping = handle.clone();
//! tokio::spawn(async move {
//!     aps_server::shutdown_signal().await;
//!     stopping.graceful_shutdown(Some(Duration::from_secs(10)));
//! });
//! aps_server::serve(listener, router, None, limits, handle).await
//! # }
//! ```
#![warn(missing_docs)]

mod checks;
mod connections;
mod descriptors;
pub mod files;
mod idle;
mod limits;
mod peer;
mod serve;
mod shutdown;
mod tls;

pub use connections::Admitted;
pub use descriptors::descriptor_limit;
pub use limits::Limits;
pub use peer::{AnyClientCertificate, PeerCertificate};
pub use serve::serve;
pub use shutdown::shutdown_signal;
pub use tls::TlsError;
