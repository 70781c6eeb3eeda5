//! Serving an application over HTTP or HTTPS until the process is told to stop.
//!
//! Both go through the hyper server of `aps-server` (the controller runs the same) with the
//! protections a public endpoint needs: a client has
//! [`App::header_read_timeout`] to finish the TLS handshake and to send its request head, a
//! connection with no request in flight is closed once nothing has crossed it for that long
//! (HTTP/1 or HTTP/2 alike), the bytes read for a head are bounded (the router answers heads over
//! 32 KiB with an APS-shaped 431). Limits on bodies, request time and concurrency are the
//! router's (see [`App::body_limit`], [`App::request_timeout`], [`App::max_concurrency`]).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use aps_server::Limits;
use axum::Router;

use crate::App;

/// How long requests in flight may take to finish once the process is told to stop.
const GRACE: Duration = Duration::from_secs(10);
/// The head limit given to `aps-server` (which buffers twice as much); heads over the router's
/// limit but under this one get the router's APS-shaped 431, heads over it the server's.
const MAX_HEAD_BUFFER: usize = 128 * 1024;
/// The most headers hyper parses in one request: a little over the router's limit, so most
/// requests over it still get an APS-shaped 431. hyper sizes a per-request table by this, so it
/// stays small (4096 here cost 12% of the endpoint's CPU time).
const MAX_HEADERS_READ: usize = 128;

impl App {
    /// The application's router: services at `/{service}/…`, every answer in the APS shape.
    ///
    /// Use it to serve the application yourself, to mount it beside other routes, or to test it
    /// without a socket through `tower::ServiceExt::oneshot`.
    pub fn router(&self) -> Router {
        crate::router::router(self.clone())
    }

    /// The router mounted under `base_path` (`""` or `/` for the root), with every other path
    /// answering 404 in the APS shape.
    ///
    /// # Panics
    ///
    /// If `base_path` is not made of plain path segments (letters, digits, `-`, `.`, `_`, `~`);
    /// [`serve`](Self::serve) and the command line check it and answer an error instead.
    pub fn router_at(&self, base_path: &str) -> Router {
        let base = base_path.trim_end_matches('/');
        if base.is_empty() {
            return self.router();
        }
        let base = if base.starts_with('/') {
            base.to_owned()
        } else {
            format!("/{base}")
        };
        Router::new()
            .nest(&base, self.router())
            .fallback(crate::router::unknown_path)
    }

    /// Serves the application over plain HTTP on `listener` under `base_path` until Ctrl-C or
    /// SIGTERM, then finishes the requests in flight.
    pub async fn serve(&self, listener: TcpListener, base_path: &str) -> std::io::Result<()> {
        self.serve_on(listener, base_path, None).await
    }

    /// Serves the application over HTTPS on `listener` under `base_path` until Ctrl-C or
    /// SIGTERM, then finishes the requests in flight.
    #[cfg(feature = "tls")]
    pub async fn serve_tls(
        &self,
        listener: TcpListener,
        base_path: &str,
        tls: crate::Tls,
    ) -> std::io::Result<()> {
        self.serve_on(listener, base_path, Some(tls.config)).await
    }

    /// Serves over HTTPS with `tls`, or plain HTTP without.
    pub(crate) async fn serve_on(
        &self,
        listener: TcpListener,
        base_path: &str,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> std::io::Result<()> {
        let mut problems = self.problems();
        problems.extend(base_path_problem(base_path));
        if !problems.is_empty() {
            return Err(std::io::Error::other(problems.join("; ")));
        }
        let handle = axum_server::Handle::new();
        let stopping = handle.clone();
        tokio::spawn(async move {
            aps_server::shutdown_signal().await;
            stopping.graceful_shutdown(Some(GRACE));
        });
        let limits = Limits {
            header_read_timeout: self.server.header_read_timeout,
            max_head: MAX_HEAD_BUFFER,
            max_headers: MAX_HEADERS_READ,
            max_connections: self.server.max_connections,
            max_connections_per_client: self.server.max_connections_per_client,
        };
        let router = self.router_at(base_path);
        aps_server::serve(listener, router, tls, limits, handle).await
    }
}

/// Why `base_path` cannot mount an application, if it cannot: it must be plain path segments,
/// so it never reads as a route pattern (`{id}`, `*rest`) or needs escaping.
pub(crate) fn base_path_problem(base_path: &str) -> Option<String> {
    let plain = base_path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/-._~".contains(c));
    let inner = base_path.trim_matches('/');
    let odd = !inner.is_empty()
        && inner
            .split('/')
            .any(|segment| matches!(segment, "" | "." | ".."));
    (!plain || odd).then(|| {
        format!(
            "the base path `{}` must be plain path segments (letters, digits, `-`, `.`, `_`, `~`)",
            crate::trace::clean(base_path)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::base_path_problem;

    #[test]
    fn base_paths_are_plain_segments() {
        for good in ["", "/", "/async-prov", "async-prov/", "/a/b.c_d~e/"] {
            assert_eq!(base_path_problem(good), None, "{good}");
        }
        for bad in [
            "/{x}", "/a{b", "/{*x}", "/a//b", "/../x", "/a b", "/é", "/a?b", "/%41",
        ] {
            assert!(base_path_problem(bad).is_some(), "{bad}");
        }
    }
}
