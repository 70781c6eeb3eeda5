//! The controller's log lines about a task carry its `APS-Transaction-ID`, at any level.
//!
//! One test in this binary on purpose: tracing caches each call site's interest process-wide,
//! and another test reaching the same call sites with no subscriber could leave them off.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aps_controller::{Controller, State};
use common::Scripted;
use serde_json::json;

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
async fn warnings_about_a_task_carry_its_transaction_id_with_only_warnings_on() {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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

    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
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
