//! Upgrading an instance logs the version it came from, over real HTTP on loopback.
//!
//! One test in this binary on purpose (see `aps_test_support::logs`).
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use aps_test_support::logs::capture;
use serde_json::{Value, json};
use tracing::Level;

/// The root resource's id (the endpoint's routes take only UUIDs).
const ROOT: &str = "091b0000-0000-4000-8000-000000000001";

#[tokio::test]
async fn the_root_upgrade_logs_the_version_the_instance_came_from() {
    let logs = capture(Level::INFO);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    // The test's runtime has one thread, so the server logs into this thread's capture.
    tokio::spawn(async move { axum::serve(listener, hosting::app().router()).await });
    let globals = json!({"aps": {"id": ROOT, "type": "http://example.com/hosting/globals/1.0"},
                         "websites": []});
    let r = reqwest::Client::new()
        .post(format!("{endpoint}/globals/{ROOT}/upgrade?version=0.1-7"))
        .header("APS-Instance-ID", "5bb7e1a0-7f8c-4e0a-9d3f-2a9c0b1d4e55")
        .header("APS-Controller-URI", "http://127.0.0.1:1")
        .json(&globals)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), globals);
    let text = logs.text();
    let line = text
        .lines()
        .find(|line| line.contains("upgrading the hosting instance"))
        .unwrap_or_else(|| panic!("no upgrade line in {text}"));
    assert!(line.contains(" INFO ") && line.contains("0.1-7"), "{line}");
}
