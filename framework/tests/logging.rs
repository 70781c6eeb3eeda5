//! Every log line of a request carries its APS ids, at any level; each request ends with one
//! info line.
//!
//! One test in this binary on purpose (see `aps_test_support::logs`).
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use aps_test_support::logs::capture;
use axum::body::Body;
use axum::http::{HeaderValue, Request};
use tower::ServiceExt;
use tracing::Level;
use uuid::Uuid;

#[tokio::test]
async fn every_line_of_a_request_carries_the_transaction_instance_service_and_phase() {
    let logs = capture(Level::TRACE);

    let instance = Uuid::new_v4();
    let request = Request::post("/mailbox/")
        .header("APS-Instance-ID", instance.to_string())
        .header("APS-Controller-URI", "http://127.0.0.1:1")
        .header(
            "APS-Transaction-ID",
            HeaderValue::from_bytes(b"txn-7\tx\xff").unwrap(),
        )
        .body(Body::from(r#"{"quota": 3}"#))
        .unwrap();
    let response = support::app().router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 202);

    let text = logs.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for line in &lines {
        assert!(line.contains("txn=txn-7 x\u{fffd}"), "{line}");
        assert!(line.contains(&format!("instance={instance}")), "{line}");
        assert!(line.contains("service=mailbox"), "{line}");
        assert!(line.contains("phase=\"sync\""), "{line}");
    }
    assert!(lines[0].contains("creating the mailbox"));
    assert!(
        lines[1].contains(" INFO ")
            && lines[1].contains("status=202")
            && lines[1].contains("POST /mailbox/")
    );
    drop(logs);

    // With only warnings on (as under `RUST_LOG=warn`), a warning still carries the ids.
    let logs = capture(Level::WARN);
    let request = Request::post("/mailbox/")
        .header("APS-Instance-ID", instance.to_string())
        .header("APS-Controller-URI", "http://127.0.0.1:1")
        .header("APS-Transaction-ID", "txn-8")
        .body(Body::from(r#"{"quota": 2048}"#))
        .unwrap();
    let response = support::app().router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 202);
    let text = logs.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains(" WARN ") && lines[0].contains("a mailbox of 2048 MiB"));
    assert!(lines[0].contains("txn=txn-8"), "{text}");
    assert!(lines[0].contains(&format!("instance={instance}")), "{text}");
    assert!(
        lines[0].contains("service=mailbox phase=\"sync\""),
        "{text}"
    );
    drop(logs);

    // A custom operation, here in the async phase, is logged like the others.
    let controller = support::FakeController::default();
    let id = uuid::Uuid::new_v4().to_string();
    controller.store(
        &id,
        serde_json::json!({"aps": {"id": id}, "quota": 5, "usage": 2}),
    );
    let controller_uri = controller.clone().start().await;
    let logs = capture(Level::INFO);
    let request = Request::get(format!("/mailbox/{id}/usage?days=3"))
        .header("APS-Instance-ID", instance.to_string())
        .header("APS-Controller-URI", controller_uri)
        .header("APS-Transaction-ID", "txn-9")
        .header("APS-Request-Phase", "async")
        .body(Body::empty())
        .unwrap();
    let response = support::app().router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let text = logs.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for line in &lines {
        assert!(line.contains("txn=txn-9"), "{line}");
        assert!(line.contains("service=mailbox phase=\"async\""), "{line}");
    }
    assert!(lines[0].contains("counting 3 days"), "{text}");
    assert!(
        lines[1].contains("status=200") && lines[1].contains(&format!("GET /mailbox/{id}/usage")),
        "{text}"
    );
}
