//! Knowing when to stop: Ctrl-C at a terminal, SIGTERM from a service manager or `kill`.

/// Waits for Ctrl-C or (on Unix) SIGTERM, then logs that the server is shutting down.
///
/// Once called, Ctrl-C no longer ends the process by itself: the caller stops, typically with
/// [`Handle::graceful_shutdown`](axum_server::Handle::graceful_shutdown) so that requests in
/// flight finish.
pub async fn shutdown_signal() {
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
