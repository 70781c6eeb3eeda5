//! Faults of the endpoint, over real sockets with the time scale instead of real waiting: an
//! endpoint that goes away in the middle of a task and comes back, and an endpoint that answers
//! garbage (HTML errors, text where JSON belongs, a 202 without `APS-Retry-Timeout`, redirects,
//! bodies larger than the controller reads). Every task ends with a clear output, and the
//! controller keeps serving. (An endpoint unreachable from the start is in `operations.rs`, the
//! 202 recheck default in `tasks.rs`.)

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::net::SocketAddr;

use aps_controller::{Client, Controller, State, Task};
use common::{Scripted, THING};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

/// 17 MiB: more than the controller reads of an answer.
const HUGE: usize = 17 << 20;

async fn controller(dir: &std::path::Path, time_scale: f64) -> Controller {
    Controller::builder()
        .database(dir.join("controller.db").display().to_string())
        .listen("127.0.0.1:0".parse().unwrap())
        .time_scale(time_scale)
        .start()
        .await
        .unwrap()
}

/// Installs the scripted application on `endpoint`; answers the instance.
async fn install(c: &Controller, endpoint: &str) -> Uuid {
    let package = c.import(&Scripted::model()).await.unwrap().id;
    let client = c.client();
    let task = client.install(package, endpoint, json!({})).await.unwrap();
    let task = client.wait(task.id, |_| {}).await.unwrap();
    assert_eq!(task.state, State::Success, "{:?}", task.output);
    task.application
}

/// Serves the scripted endpoint at `addr` until the handle shuts it down.
fn serve_scripted(addr: SocketAddr, endpoint: &Scripted) -> axum_server::Handle {
    let handle = axum_server::Handle::new();
    let server = axum_server::bind(addr).handle(handle.clone());
    tokio::spawn(server.serve(endpoint.router().into_make_service()));
    handle
}

#[tokio::test]
async fn an_endpoint_down_in_the_middle_of_a_task_is_waited_for_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let c = controller(dir.path(), 100.0).await;
    let endpoint = Scripted::default();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let up = serve_scripted(addr, &endpoint);
    let app = install(&c, &format!("http://{addr}")).await;
    let client = c.client();
    let task = client
        .provision(app, THING, json!({"plan": ["accept", "done"]}))
        .await
        .unwrap();
    // The sync phase answered 202 (recheck in 30 s / 100); the endpoint then goes away.
    let mut task = task;
    while task.retry_after.is_none() {
        task = client.poll(task.id, task.revision, 5).await.unwrap();
    }
    assert_eq!(task.retry_after, Some(30));
    up.shutdown();
    while task.attempts < 4 {
        task = client.poll(task.id, task.revision, 5).await.unwrap();
    }
    assert_eq!(
        task.state,
        State::Running,
        "an absent endpoint is no answer"
    );
    let output = task.output.clone().unwrap();
    assert!(output.contains("could not be reached"), "{output}");
    assert!(output.contains("trying again in"), "{output}");
    let _back = serve_scripted(addr, &endpoint);
    let done = client.wait(task.id, |_| {}).await.unwrap();
    assert_eq!(done.state, State::Success, "{:?}", done.output);
    assert!(done.attempts > 4);
    // The endpoint's last word was the 202's APS-Info; the final 201 sent none, so the output
    // is that again, not the connection failure of before.
    assert_eq!(done.output.as_deref(), Some("step 1"));
    assert_eq!(done.description.as_deref(), Some("step 1"));
}

/// An endpoint that answers raw HTTP chosen by the resource's `mode` (every connection closed
/// after one answer). Without a mode, it echoes the body with 200.
async fn garbage_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream));
        }
    });
    format!("http://{addr}")
}

/// Reads one request: its head (lower-cased) and body.
async fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if data.len() >= end + 4 + length {
                return Some((head, data[end + 4..end + 4 + length].to_vec()));
            }
        }
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
}

fn response(status: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut bytes = format!("HTTP/1.1 {status}\r\nConnection: close\r\n").into_bytes();
    for header in headers {
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    bytes.extend_from_slice(body);
    bytes
}

async fn answer(mut stream: TcpStream) {
    let Some((head, body)) = read_request(&mut stream).await else {
        return;
    };
    let resource: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let sync = !head.contains("aps-request-phase: async");
    let echo = serde_json::to_vec(&resource).unwrap();
    let reply = match (resource["mode"].as_str().unwrap_or("echo"), sync) {
        ("html-500", _) => response(
            "500 Internal Server Error",
            &["Content-Type: text/html"],
            b"<html><body><h1>Internal Server Error</h1></body></html>",
        ),
        ("empty-500", _) => response("500 Internal Server Error", &[], b""),
        ("text-200", _) => response("200 OK", &["Content-Type: text/plain"], b"OK, done."),
        ("array-200", _) => response("200 OK", &["Content-Type: application/json"], b"[1,2]"),
        (mode @ ("aps-string" | "aps-number" | "aps-array" | "aps-null"), _) => {
            let aps = match mode {
                "aps-string" => json!("x"),
                "aps-number" => json!(9.3e18),
                "aps-array" => json!([{"id": "not-yours"}]),
                _ => Value::Null,
            };
            let body = json!({"aps": aps, "mode": mode, "echoed": true});
            response("200 OK", &[], body.to_string().as_bytes())
        }
        ("aps-string-202", true) => {
            let body = json!({"aps": "x", "mode": "aps-string-202", "echoed": true});
            response("202 Accepted", &[], body.to_string().as_bytes())
        }
        (mode @ ("huge-retry" | "huge-retry-float"), _) => {
            let retry = match mode {
                "huge-retry" => "APS-Retry-Timeout: 18446744073709551615",
                _ => "APS-Retry-Timeout: 9.3e18",
            };
            response("202 Accepted", &["APS-Info: later", retry], &echo)
        }
        ("bare-202", true) => response("202 Accepted", &["APS-Info: working on it"], &echo),
        ("garbage-202", true) => response(
            "202 Accepted",
            &["APS-Retry-Timeout: soon", "Content-Type: application/json"],
            b"{not json",
        ),
        ("redirect", _) => response(
            "302 Found",
            &["Location: http://127.0.0.1:9/elsewhere"],
            b"",
        ),
        // A 503 would be retried as busy (tests/busy.rs): a 500 fails at once.
        ("odd-error", _) => response("500 Internal Server Error", &[], br#"{"foo":[1,2]}"#),
        ("status-999", _) => response("999 Whatever", &[], b"?"),
        ("huge-length", _) => {
            format!("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {HUGE}\r\n\r\n")
                .into_bytes()
        }
        ("huge-chunked", _) => {
            let head = "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = format!("10000\r\n{}\r\n", "a".repeat(0x10000));
            for _ in 0..HUGE / 0x10000 {
                if stream.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
            }
            b"0\r\n\r\n".to_vec()
        }
        _ => response("200 OK", &["Content-Type: application/json"], &echo),
    };
    let _ = stream.write_all(&reply).await;
}

/// What the output of a task ended by a 2xx says of a body that is not a JSON object.
const NOT_JSON: &str = "The endpoint answered 200, but its body is not a JSON object, so the \
                        controller ignored it and kept the resource as it sent it";
/// … and of a resource whose `aps` is not an object.
const BAD_APS: &str = "The endpoint answered 200, but its resource's `aps` is not an object";

async fn run(client: &Client, app: Uuid, mode: &str) -> Task {
    let task = client
        .provision(app, THING, json!({"mode": mode}))
        .await
        .unwrap();
    // A step that panicked would leave the task running for ever: fail instead of hanging.
    let wait = client.wait(task.id, |_| {});
    tokio::time::timeout(std::time::Duration::from_secs(30), wait)
        .await
        .unwrap_or_else(|_| panic!("{mode}: the task never ended"))
        .unwrap()
}

#[tokio::test]
async fn garbage_answers_end_tasks_with_a_clear_output() {
    let dir = tempfile::tempdir().unwrap();
    let c = controller(dir.path(), 1000.0).await;
    let endpoint = garbage_endpoint().await;
    let app = install(&c, &endpoint).await;
    let client = c.client();
    // (mode, how the task ends, what its output says)
    let cases = [
        (
            "html-500",
            State::Failure,
            "The endpoint answered 500: <html>",
        ),
        ("empty-500", State::Failure, "The endpoint answered 500"),
        (
            "odd-error",
            State::Failure,
            r#"The endpoint answered 500: {"foo":[1,2]}"#,
        ),
        ("redirect", State::Failure, "The endpoint answered 302"),
        ("status-999", State::Failure, "The endpoint answered 999"),
        ("huge-length", State::Failure, "larger than 16777216 bytes"),
        ("huge-chunked", State::Failure, "larger than 16777216 bytes"),
        ("bare-202", State::Success, "working on it"),
        ("garbage-202", State::Success, ""),
        ("text-200", State::Success, NOT_JSON),
        ("array-200", State::Success, NOT_JSON),
        ("aps-string", State::Success, BAD_APS),
        ("aps-number", State::Success, BAD_APS),
        ("aps-array", State::Success, BAD_APS),
        ("aps-null", State::Success, BAD_APS),
        ("aps-string-202", State::Success, ""),
    ];
    for (mode, state, says) in cases {
        let task = run(&client, app, mode).await;
        assert_eq!(task.state, state, "{mode}: {:?}", task.output);
        if !says.is_empty() {
            let output = task.output.clone().unwrap_or_default();
            assert!(output.contains(says), "{mode}: {output}");
        }
        if mode.ends_with("202") {
            assert_eq!(task.retry_after, Some(30), "{mode}: the documented default");
            assert!(task.attempts >= 2);
        }
        if state == State::Success {
            let resource = client
                .send(reqwest::Method::GET, &task.resource.href, None)
                .await
                .unwrap()
                .body;
            assert_eq!(
                resource["mode"], mode,
                "{mode}: the resource keeps its properties"
            );
            assert_eq!(resource["aps"]["status"], "aps:ready");
            assert_eq!(resource["aps"]["id"], task.resource.id.to_string());
            assert_eq!(resource["aps"]["type"], THING);
            if mode.starts_with("aps-") {
                assert_eq!(resource["echoed"], true, "{mode}: the properties are taken");
            }
        }
    }
    assert_eq!(
        client.tasks("limit=100").await.unwrap().len(),
        cases.len() + 1
    );
}

#[tokio::test]
async fn a_huge_retry_timeout_is_a_day_and_the_deadline_still_comes_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let c = Controller::builder()
        .database(dir.path().join("controller.db").display().to_string())
        .listen("127.0.0.1:0".parse().unwrap())
        .task_deadline(std::time::Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let endpoint = garbage_endpoint().await;
    let app = install(&c, &endpoint).await;
    let client = c.client();
    // (mode, the retryAfter taken)
    for (mode, retry) in [("huge-retry", 86_400), ("huge-retry-float", 30)] {
        let started = std::time::Instant::now();
        let task = run(&client, app, mode).await;
        assert_eq!(task.state, State::Failure, "{mode}: {:?}", task.output);
        assert_eq!(task.error.unwrap().error, "DeadlineExceeded", "{mode}");
        assert_eq!(task.retry_after, Some(retry), "{mode}");
        assert_eq!(task.attempts, 1, "{mode}: one call, then the deadline");
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_secs(10),
            "{mode}: {took:?}"
        );
    }
    // The controller still serves.
    assert_eq!(client.tasks("limit=10").await.unwrap().len(), 3);
}
