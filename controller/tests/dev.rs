//! The `dev` flow (the framework's `dev` command): install and provision on a running endpoint.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use aps_controller::State;
use aps_controller::dev::{DevOptions, Step, start};
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
        walkthrough: Vec::new(),
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

#[tokio::test]
async fn a_walkthrough_provisions_links_and_calls_in_order() {
    let scripted = Scripted::default();
    let endpoint = common::serve(scripted.router()).await;
    let dir = tempfile::tempdir().unwrap();
    let provision = |service: &str, properties| Step::Provision {
        service: service.into(),
        properties,
    };
    let session = start(DevOptions {
        endpoint_url: endpoint,
        package: Scripted::linked_model(),
        data_dir: dir.path().join("dev"),
        time_scale: 1000.0,
        service: "unused".into(),
        listen: None,
        walkthrough: vec![
            provision("thing", json!({"label": "box"})),
            provision("part", json!({"serial": "a1"})),
            Step::Link {
                resource: 0,
                relation: "parts".into(),
                other: 1,
            },
            Step::Call {
                resource: 0,
                operation: "restart".into(),
                query: Vec::new(),
                body: None,
            },
            Step::Call {
                resource: 0,
                operation: "stats".into(),
                query: vec![("days".into(), "2".into())],
                body: None,
            },
        ],
    })
    .await
    .unwrap();
    assert_eq!(session.task.state, State::Success);
    let thing = session.task.resource.id;
    let client = session.controller.client();
    let parts = client.links(thing, "parts").await.unwrap();
    assert_eq!(parts[0]["serial"], "a1");
    let calls = client.tasks("limit=2").await.unwrap();
    let names: Vec<&str> = calls.iter().map(|t| t.name.as_str()).collect();
    assert!(names[0].starts_with("Calling stats"), "{names:?}");
    assert!(names[1].starts_with("Calling restart"), "{names:?}");
    assert!(calls.iter().all(|t| t.state == State::Success));
    let paths: Vec<String> = scripted.calls().into_iter().map(|s| s.path).collect();
    assert!(
        paths.contains(&format!("/thing/{thing}/stats?days=2")),
        "{paths:?}"
    );

    // A step naming a resource not provisioned before it stops the walkthrough.
    let refused = start(DevOptions {
        endpoint_url: common::serve(Scripted::default().router()).await,
        package: Scripted::linked_model(),
        data_dir: dir.path().join("dev2"),
        time_scale: 1000.0,
        service: "unused".into(),
        listen: None,
        walkthrough: vec![Step::Link {
            resource: 0,
            relation: "parts".into(),
            other: 1,
        }],
    })
    .await;
    let error = refused.err().unwrap().to_string();
    assert!(error.contains("resource #0"), "{error}");
}
