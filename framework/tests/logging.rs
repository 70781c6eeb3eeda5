//! Every log line of a request carries its APS ids, at any level; each request ends with one
//! info line.
//!
//! One test in this binary on purpose: tracing caches each call site's interest process-wide,
//! and another test reaching the same call sites with no subscriber at the same moment can
//! leave them cached as "never".
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderValue, Request};
use tower::ServiceExt;
use uuid::Uuid;

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn every_line_of_a_request_carries_the_transaction_instance_service_and_phase() {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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

    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
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
    drop(_guard);

    // With only warnings on (as under `RUST_LOG=warn`), a warning still carries the ids.
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let request = Request::post("/mailbox/")
        .header("APS-Instance-ID", instance.to_string())
        .header("APS-Controller-URI", "http://127.0.0.1:1")
        .header("APS-Transaction-ID", "txn-8")
        .body(Body::from(r#"{"quota": 2048}"#))
        .unwrap();
    let response = support::app().router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 202);
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains(" WARN ") && lines[0].contains("a mailbox of 2048 MiB"));
    assert!(lines[0].contains("txn=txn-8"), "{text}");
    assert!(lines[0].contains(&format!("instance={instance}")), "{text}");
    assert!(
        lines[0].contains("service=mailbox phase=\"sync\""),
        "{text}"
    );
}
