//! What a connection may cost before a request reaches the router: hyper's own limits.

use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder;

use crate::idle::LONGEST_IDLE;

/// The limits [`serve`](crate::serve) holds every connection to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a client may take to finish the TLS handshake and to send a request head, and
    /// how long a connection with no request in flight may stay silent before it is closed.
    pub header_read_timeout: Duration,
    /// The most bytes of one request head (HTTP/1), or one header list (HTTP/2); a head over it
    /// is answered an APS-shaped 431.
    pub max_head: usize,
    /// The most headers in one request; more is answered an APS-shaped 431. hyper parses up to
    /// twice as many and sizes a per-request table by that, so keep it small (hyper's own
    /// default is 100).
    pub max_headers: usize,
    /// The most connections held at once; `None`: three quarters of the process's descriptor
    /// limit (see [`descriptor_limit`](crate::descriptor_limit)).
    pub max_connections: Option<usize>,
    /// The most connections held at once from one peer address; `None`: a quarter of
    /// `max_connections`.
    pub max_connections_per_client: Option<usize>,
}

impl Limits {
    /// How long a connection may sit idle: the header-read time-out, clamped so that deadlines
    /// counted from now cannot overflow.
    pub(crate) fn idle(&self) -> Duration {
        self.header_read_timeout.min(LONGEST_IDLE)
    }

    /// The connection limits in force: the given ones, else derived from the descriptor limit
    /// (raised to the hard limit first); never above what the descriptors allow.
    pub(crate) fn connections(&self) -> (usize, usize) {
        let descriptors = crate::descriptors::descriptor_limit();
        let most = crate::descriptors::default_max_connections(descriptors);
        let max = self
            .max_connections
            .map_or(most, |given| given.clamp(1, most));
        let per_client = self
            .max_connections_per_client
            .unwrap_or(max / 4)
            .clamp(1, max);
        tracing::info!(max, per_client, descriptors, "connection limits");
        (max, per_client)
    }

    /// Sets the limits on hyper's builder.
    pub(crate) fn protect(&self, builder: &mut Builder<TokioExecutor>) {
        let idle = self.idle();
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(idle)
            // Twice the limits, so that heads over them reach `checks` for an APS-shaped 431.
            .max_buf_size(self.max_head.saturating_mul(2).max(8192))
            .max_headers(self.max_headers.saturating_mul(2));
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(
                u32::try_from(self.max_head.saturating_mul(2)).unwrap_or(u32::MAX),
            )
            .max_concurrent_streams(256)
            // Pings find dead peers behind long requests. Only after twice the idle limit without
            // a frame from the client, so the answers never keep an idle connection open.
            .keep_alive_interval(idle.saturating_mul(2));
    }
}
