//! The baseline for the endpoint benchmark: a bare axum handler that answers what the demo
//! answers (the same status, headers and body bytes, the transaction id echoed) and does
//! nothing else: no APS headers checked, no JSON parsed, no resource type, no logging.
//!
//! Usage: `bare-endpoint ADDR:PORT`.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

async fn provision(request: HeaderMap, body: Bytes) -> Response {
    let async_phase = request
        .get("aps-request-phase")
        .is_some_and(|p| p == "async");
    let json = [(header::CONTENT_TYPE, "application/json")];
    let mut response = if async_phase && rand::random::<bool>() {
        (StatusCode::CREATED, json, body).into_response()
    } else {
        let info = if async_phase {
            "Still provisioning"
        } else {
            "Provisioning the resource"
        };
        let headers = [("aps-info", info), ("aps-retry-timeout", "30")];
        (StatusCode::ACCEPTED, json, headers, body).into_response()
    };
    if let Some(txn) = request.get("aps-transaction-id") {
        response
            .headers_mut()
            .insert("aps-transaction-id", txn.clone());
    }
    response
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let app = Router::new().route("/provisionable/", post(provision));
    axum::serve(listener, app).await
}
