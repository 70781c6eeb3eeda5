//! The demo endpoint (async-provisioning) driven by the test kit and by the `dev` flow.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::time::Instant;

use aps_controller::State;
use aps_controller::dev::{DevOptions, start};
use aps_controller::testkit::TestController;
use serde_json::json;

#[tokio::test]
async fn the_test_kit_provisions_the_demo_through_its_coin_flips() {
    let (router, package) = common::demo(7);
    let started = Instant::now();
    let c = TestController::start(router, package).await.unwrap();
    let task = c.provision("provisionable", json!({})).await.unwrap();
    let task = c.wait(&task).await.unwrap();
    assert_eq!(task.state, State::Success);
    assert_eq!(
        task.name,
        "Provisioning \"provisionable\" for APS application async-provisioning"
    );
    assert_eq!(
        task.description.as_deref(),
        Some("Provisioning the resource")
    );
    assert!(
        matches!(
            task.output.as_deref(),
            Some("Provisioning the resource" | "Still provisioning")
        ),
        "{:?}",
        task.output
    );
    assert_eq!(task.retry_after, Some(30));
    assert!(started.elapsed().as_secs() < 5, "30 s rechecks take 30 ms");
    let resource = c
        .client()
        .send(reqwest::Method::GET, &task.resource.href, None)
        .await
        .unwrap();
    assert_eq!(resource.body["aps"]["status"], "aps:ready");
}

#[tokio::test]
async fn the_dev_flow_installs_and_provisions_on_a_running_endpoint() {
    let (router, package) = common::demo(3);
    let endpoint = common::serve(router).await;
    let dir = tempfile::tempdir().unwrap();
    let session = start(DevOptions {
        endpoint_url: endpoint,
        package,
        data_dir: dir.path().join("dev"),
        time_scale: 1000.0,
        service: "provisionable".into(),
        listen: None,
    })
    .await
    .unwrap();
    assert_eq!(session.task.state, State::Success);
    assert_eq!(
        session.task.description.as_deref(),
        Some("Provisioning the resource")
    );
    assert!(dir.path().join("dev/controller.db").exists());
    let apps = session
        .controller
        .client()
        .send(reqwest::Method::GET, "/api/v1/applications", None)
        .await
        .unwrap();
    assert_eq!(apps.body["items"][0]["id"], json!(session.application));
}
