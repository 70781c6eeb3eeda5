//! The baseline for the long-poll benchmark: bare axum (`axum::serve`) with a handler that
//! waits an hour and answers nothing else, so what it costs per waiting HTTP/1 connection is
//! hyper's, tokio's and axum's floor, with no controller in it.
//!
//! Usage: `bare-long-polls ADDR:PORT`. `long-polls --protocol http1-bare` starts and measures it.

use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::routing::get;

async fn wait(Path(_id): Path<String>) -> &'static str {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    "{}"
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8091".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let app = Router::new().route("/api/v1/tasks/{id}", get(wait));
    axum::serve(listener, app).await
}
