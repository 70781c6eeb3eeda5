//! The `dev` flow (the framework's `dev` command): install and provision on a running endpoint.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use aps_controller::State;
use aps_controller::dev::{DevOptions, start};
use aps_test_support::scripted::{Script, Scripted};
use serde_json::json;

#[tokio::test]
async fn the_dev_flow_installs_and_provisions_on_a_running_endpoint() {
    let scripted = Scripted::new(Script {
        accepts: 2,
        ..Script::default()
    });
    let endpoint = common::serve(scripted.router()).await;
    let dir = tempfile::tempdir().unwrap();
    let session = start(DevOptions {
        endpoint_url: endpoint,
        package: Scripted::model(),
        data_dir: dir.path().join("dev"),
        time_scale: 1000.0,
        service: "thing".into(),
        listen: None,
    })
    .await
    .unwrap();
    assert_eq!(session.task.state, State::Success);
    assert_eq!(session.task.description.as_deref(), Some("step 1"));
    assert_eq!(session.task.attempts, 3, "two 202s, then done");
    assert_eq!(session.task.retry_after, Some(30));
    assert!(dir.path().join("dev/controller.db").exists());
    let apps = session
        .controller
        .client()
        .send(reqwest::Method::GET, "/api/v1/applications", None)
        .await
        .unwrap();
    assert_eq!(apps.body["items"][0]["id"], json!(session.application));
}
