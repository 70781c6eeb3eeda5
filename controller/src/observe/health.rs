//! `/healthz` (the process answers), `/readyz` (the store answers too), and `/metrics`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::Metrics;
use crate::api::Api;

/// `GET /healthz`: 200 while the process serves requests.
pub(crate) async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// `GET /readyz`: 200 when the store answers a query, else 503.
pub(crate) async fn readyz(State(api): State<Api>) -> Response {
    match api.engine.store().ping().await {
        Ok(()) => Json(json!({"status": "ready"})).into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready: the store does not answer");
            let body = aps_protocol::ErrorBody::new(503, "NotReady", "The store does not answer");
            body.response().map(axum::body::Body::from)
        }
    }
}

/// `GET /metrics`: the Prometheus text format.
pub(crate) async fn metrics(State(api): State<Api>) -> Response {
    scrape(&api.metrics)
}

/// The router of `--metrics-listen`: `/metrics` alone, without credentials.
pub(crate) fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(metrics): State<Arc<Metrics>>| async move { scrape(&metrics) }),
        )
        .with_state(metrics)
}

fn scrape(metrics: &Metrics) -> Response {
    let mut response = (StatusCode::OK, metrics.encode()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
