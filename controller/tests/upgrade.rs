//! Application upgrade (controller-api.md, "Upgrade"): an instance moves to a newer package of
//! the same application through the endpoint's upgrade call; resources keep their data and get
//! the new properties' defaults; another application's package or an older version is 400, an
//! operation running on the root 409.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::sync::{Arc, Mutex};

use aps_controller::PackageModel;
use aps_controller::testkit::TestController;
use axum::Router;
use axum::extract::{Json, Path, RawQuery, State};
use axum::routing::post;
use common::{Scripted, get, http, made};
use reqwest::Method;
use serde_json::{Value, json};

/// The linked package at another version, its `thing` with the new property `tier`.
fn newer(version: &str) -> PackageModel {
    let mut model = Scripted::linked_model();
    model.meta.version = version.into();
    for (service, schema) in &mut model.schemas {
        if service == "thing" {
            schema.properties.insert(
                "tier".into(),
                serde_json::from_value(json!({"type": "string", "default": "basic"})).unwrap(),
            );
        }
    }
    model
}

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// The endpoint's upgrade: answers the root as it came.
async fn upgrade(
    State(seen): State<Seen>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    Json(body): Json<Value>,
) -> Json<Value> {
    let query = query.unwrap_or_default();
    seen.lock()
        .unwrap()
        .push((format!("{id}?{query}"), body.clone()));
    Json(body)
}

#[tokio::test]
async fn an_upgrade_keeps_resources_fills_new_defaults_and_refuses_what_it_must() {
    let seen = Seen::default();
    let router = Router::new()
        .route("/app/{id}/upgrade", post(upgrade))
        .with_state(seen.clone())
        .merge(Scripted::default().router());
    let c = TestController::start(router, Scripted::linked_model())
        .await
        .unwrap();
    let thing = made(&c, "thing", json!({"label": "keep"})).await;
    let app_path = format!("/api/v1/applications/{}", c.application());
    let (_, _, app) = get(&c, &app_path).await;
    assert_eq!(app["version"], "1.0-1");
    let old_package = app["package"].as_str().unwrap().to_owned();
    let root = app["root"]["aps"]["id"].as_str().unwrap().to_owned();
    let upgrade_path = format!("{app_path}/upgrade");

    let new_package = c.controller().import(&newer("1.1")).await.unwrap().id;
    let older = c.controller().import(&newer("0.9")).await.unwrap().id;
    let mut other = newer("2.0");
    other.meta.id = "http://example.com/other".into();
    let other = c.controller().import(&other).await.unwrap().id;
    for refused in [json!(old_package), json!(older), json!(other)] {
        let body = json!({"package": refused});
        let (status, _, answer) = http(&c, Method::POST, &upgrade_path, Some(body), &[]).await;
        assert_eq!(status, 400, "{refused}: {answer}");
    }

    // While a configure of the root runs, the upgrade waits its turn: 409.
    let plan = vec!["accept"; 20];
    let body = json!({"resource": {"plan": plan}, "timeout": 0});
    let root_path = format!("/api/v1/resources/{root}");
    let (status, _, configuring) = http(&c, Method::PUT, &root_path, Some(body), &[]).await;
    assert_eq!(status, 202, "{configuring}");
    let body = json!({"package": new_package});
    let (status, _, answer) = http(&c, Method::POST, &upgrade_path, Some(body), &[]).await;
    assert_eq!(status, 409, "{answer}");
    let configure = configuring["id"].as_str().unwrap().parse().unwrap();
    c.client().wait(configure, |_| {}).await.unwrap();

    let body = json!({"package": new_package});
    let (status, _, answer) = http(&c, Method::POST, &upgrade_path, Some(body), &[]).await;
    assert_eq!(status, 200, "{answer}");
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, format!("{root}?version=1.0-1"));
    assert_eq!(calls[0].1["aps"]["id"], root.as_str());

    let (_, _, app) = get(&c, &app_path).await;
    assert_eq!(app["version"], "1.1-1");
    assert_eq!(app["package"], new_package.to_string().as_str());
    let (_, _, stored) = get(&c, &format!("/api/v1/resources/{thing}")).await;
    assert_eq!(stored["label"], "keep");
    assert_eq!(stored["tier"], "basic");
    let (_, _, tasks) = get(&c, &format!("/api/v1/tasks?resource={root}")).await;
    assert!(
        tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"].as_str().unwrap().starts_with("Upgrading")),
        "{tasks}"
    );
    // Upgrading again to the same package is no longer newer.
    let body = json!({"package": new_package});
    let (status, _, _) = http(&c, Method::POST, &upgrade_path, Some(body), &[]).await;
    assert_eq!(status, 400);
}
