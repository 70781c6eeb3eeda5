//! The controller's log lines about a task carry its `APS-Transaction-ID`, at any level.
//!
//! One test in this binary on purpose (see `aps_test_support::logs`).

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::time::Duration;

use aps_controller::{Controller, State};
use common::Scripted;
use serde_json::json;

#[tokio::test]
async fn warnings_about_a_task_carry_its_transaction_id_with_only_warnings_on() {
    let logs = aps_test_support::logs::capture(tracing::Level::WARN);

    let dir = tempfile::tempdir().unwrap();
    let c = Controller::builder()
        .database(dir.path().join("controller.db").display().to_string())
        .listen("127.0.0.1:0".parse().unwrap())
        .time_scale(1000.0)
        .task_deadline(Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let package = c.import(&Scripted::model()).await.unwrap().id;
    let client = c.client();
    let task = client.install(package, &endpoint, json!({})).await.unwrap();
    let task = client.wait(task.id, |_| {}).await.unwrap();
    assert_eq!(task.state, State::Failure, "{:?}", task.output);

    let text = logs.text();
    let about_it: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("endpoint not reachable") || line.contains("deadline"))
        .collect();
    assert!(!about_it.is_empty(), "{text}");
    for line in about_it {
        assert!(line.contains(" WARN "), "{line}");
        assert!(line.contains(&format!("task={}", task.id)), "{line}");
        assert!(line.contains("transaction="), "{line}");
    }
}
