//! Serving an application over HTTP until the process is told to stop.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use tokio::net::TcpListener;

use crate::{App, Tls};

/// How long requests in flight may take to finish once the process is told to stop.
const GRACE: Duration = Duration::from_secs(10);

impl App {
    /// The application's router: services at `/{service}/…`, every answer in the APS shape.
    ///
    /// Use it to serve the application yourself, to mount it beside other routes, or to test it
    /// without a socket through `tower::ServiceExt::oneshot`.
    pub fn router(&self) -> Router {
        crate::routes::router(self.clone())
    }

    /// The router mounted under `base_path` (`""` or `/` for the root), with every other path
    /// answering 404 in the APS shape.
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
            .fallback(crate::routes::unknown_path)
    }

    /// Serves the application on `listener` under `base_path` until Ctrl-C or SIGTERM, then
    /// finishes the requests in flight.
    pub async fn serve(&self, listener: TcpListener, base_path: &str) -> std::io::Result<()> {
        self.check()?;
        axum::serve(
            listener,
            self.router_at(base_path)
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown())
        .await
    }

    /// Serves the application over HTTPS on `listener` under `base_path` until Ctrl-C or
    /// SIGTERM, then finishes the requests in flight.
    pub async fn serve_tls(
        &self,
        listener: std::net::TcpListener,
        base_path: &str,
        tls: Tls,
    ) -> std::io::Result<()> {
        self.check()?;
        listener.set_nonblocking(true)?;
        let handle = axum_server::Handle::new();
        let stopping = handle.clone();
        tokio::spawn(async move {
            shutdown().await;
            stopping.graceful_shutdown(Some(GRACE));
        });
        axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(tls.config))
            .handle(handle)
            .serve(
                self.router_at(base_path)
                    .into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
    }

    fn check(&self) -> std::io::Result<()> {
        let problems = self.problems();
        if problems.is_empty() {
            return Ok(());
        }
        Err(std::io::Error::other(problems.join("; ")))
    }
}

async fn shutdown() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
