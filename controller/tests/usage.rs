//! Usage counters (controller-api.md, "Usage"): a resource whose type has a `Counter` property
//! is synchronized from the endpoint's `retrieve` (`GET /{service}/{id}`) on demand
//! (`POST /api/v1/resources/{id}/refresh`) and every usage interval (time-scaled), each sync a
//! task; a type without counters is refused.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aps_controller::testkit::TestController;
use aps_controller::{Controller, ControllerBuilder, PackageModel};
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use common::{Scripted, eventually, get as get_json, http, made};
use reqwest::Method;
use serde_json::{Value, json};

const COUNTER: &str = "http://aps-standard.org/types/core/resource/1.0#Counter";

/// A `part` with the counter `disk`.
fn package() -> PackageModel {
    let mut model = Scripted::linked_model();
    for (service, schema) in &mut model.schemas {
        if service == "part" {
            schema.properties.insert(
                "disk".into(),
                serde_json::from_value(json!({"type": COUNTER})).unwrap(),
            );
        }
    }
    model
}

/// `retrieve` of a part: its disk usage grows by one per call.
async fn retrieve(State(calls): State<Arc<AtomicU64>>, Path(id): Path<String>) -> Json<Value> {
    let usage = calls.fetch_add(1, Ordering::SeqCst) + 1;
    Json(json!({
        "aps": {"id": id},
        "serial": "p1",
        "disk": {"usage": usage, "limit": 100, "unit": "MB"}
    }))
}

async fn start(builder: ControllerBuilder) -> (TestController, Arc<AtomicU64>) {
    let calls = Arc::new(AtomicU64::new(0));
    let router = Router::new()
        .route("/part/{id}", get(retrieve))
        .with_state(calls.clone())
        .merge(Scripted::default().router());
    let c = TestController::start_with(router, package(), builder)
        .await
        .unwrap();
    (c, calls)
}

#[tokio::test]
async fn a_refresh_stores_what_retrieve_answers_and_types_without_counters_are_refused() {
    // An interval far beyond the test, so only the refresh syncs.
    let builder = Controller::builder()
        .time_scale(1000.0)
        .usage_interval(Duration::from_secs(30 * 24 * 3600));
    let (c, calls) = start(builder).await;
    let part = made(&c, "part", json!({"serial": "p1"})).await;
    let path = format!("/api/v1/resources/{part}/refresh");
    let (status, _, body) = http(&c, Method::POST, &path, None, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["disk"]["usage"], 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let (_, _, stored) = get_json(&c, &format!("/api/v1/resources/{part}")).await;
    assert_eq!(
        stored["disk"],
        json!({"usage": 1, "limit": 100, "unit": "MB"})
    );
    assert_eq!(stored["serial"], "p1");
    assert_eq!(stored["aps"]["status"], "aps:ready");
    let (_, _, tasks) = get_json(&c, &format!("/api/v1/tasks?resource={part}")).await;
    let names: Vec<&str> = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("Synchronizing resource usage")),
        "{names:?}"
    );

    let thing = made(&c, "thing", json!({})).await;
    let path = format!("/api/v1/resources/{thing}/refresh");
    let (status, _, body) = http(&c, Method::POST, &path, None, &[]).await;
    assert_eq!(status, 400, "{body}");
    let (status, _, _) = http(
        &c,
        Method::POST,
        "/api/v1/resources/00000000-0000-0000-0000-000000000000/refresh",
        None,
        &[],
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn usage_is_synchronized_every_interval() {
    // One hour at time scale 100,000 is 36 ms.
    let builder = Controller::builder()
        .time_scale(100_000.0)
        .usage_interval(Duration::from_secs(3600));
    let (c, calls) = start(builder).await;
    let part = made(&c, "part", json!({"serial": "p1"})).await;
    eventually(30, || calls.load(Ordering::SeqCst) >= 2).await;
    let path = format!("/api/v1/resources/{part}");
    let c = &c;
    aps_test_support::wait::until("the synced usage stored", Duration::from_secs(30), || {
        let path = path.clone();
        async move {
            let (_, _, stored) = get_json(c, &path).await;
            stored["disk"]["usage"].as_u64().is_some_and(|u| u >= 2)
        }
    })
    .await;
}
