//! Load shedding and time limits.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use aps::{App, Context, Outcome, Provisionable, Resource, Result};
use axum::body::{Body, Bytes, HttpBody};
use axum::http::{Request, StatusCode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Notify;
use tower::ServiceExt;

/// Provisioning waits until the test lets it go.
#[derive(Serialize, Deserialize, JsonSchema)]
struct Slow {
    #[serde(flatten)]
    resource: Resource,
}

#[aps::async_trait]
impl Provisionable for Slow {
    async fn provision(&mut self, ctx: &Context) -> Result<Outcome> {
        ctx.state::<Arc<Notify>>()?.notified().await;
        Ok(Outcome::done())
    }
}

fn app(gate: &Arc<Notify>) -> App {
    App::new("slow")
        .root_service::<Slow>("slow", "slow/1.0")
        .with_state(gate.clone())
}

fn provision(body: Body) -> Request<Body> {
    Request::post("/slow/")
        .header("APS-Instance-ID", "5bb7e1a0-7f8c-4e0a-9d3f-2a9c0b1d4e55")
        .header("APS-Controller-URI", "http://127.0.0.1:1")
        .body(body)
        .unwrap()
}

async fn error_name(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    body["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn requests_over_the_concurrency_limit_are_shed_with_503_and_retry_after() {
    let gate = Arc::new(Notify::new());
    let router = app(&gate).max_concurrency(1).router();
    let first = tokio::spawn(router.clone().oneshot(provision(Body::from("{}"))));
    // On this single-threaded runtime, yielding lets the first request run until it waits.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    let shed = router
        .clone()
        .oneshot(provision(Body::from("{}")))
        .await
        .unwrap();
    assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(shed.headers()["retry-after"], "1");
    assert_eq!(error_name(shed).await, "Busy");

    gate.notify_one();
    assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::CREATED);
    gate.notify_one();
    let again = router.oneshot(provision(Body::from("{}"))).await.unwrap();
    assert_eq!(
        again.status(),
        StatusCode::CREATED,
        "the slot is free again"
    );
}

#[tokio::test(start_paused = true)]
async fn an_operation_over_the_request_timeout_is_504_naming_the_async_phase() {
    let gate = Arc::new(Notify::new());
    let router = app(&gate).request_timeout(Duration::from_secs(5)).router();
    let response = router.oneshot(provision(Body::from("{}"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("Outcome::accepted"));
}

/// A body whose bytes never come.
struct Silent;

impl HttpBody for Silent {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut TaskContext<'_>,
    ) -> Poll<Option<std::result::Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Pending
    }
}

#[tokio::test(start_paused = true)]
async fn a_body_that_never_arrives_is_408() {
    let gate = Arc::new(Notify::new());
    let router = app(&gate).router();
    let response = router.oneshot(provision(Body::new(Silent))).await.unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(error_name(response).await, "RequestTimeout");
}
