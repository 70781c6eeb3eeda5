//! Hostile input against a running controller, over raw TCP on loopback: malformed and deeply
//! nested JSON, wrong types, huge bodies and heads, invalid UTF-8, path tricks, unknown ids,
//! wrong methods, forged callers, bad callback URLs, broken framing and slow clients; a silent
//! client closed after the controller's header-read time-out, a long poll kept.
//!
//! Every request the router sees is answered with an APS error (`{"code","error","message"}`,
//! `code` equal to the HTTP status) in the 4xx range or 503. Requests so broken that the HTTP
//! layer refuses them before routing (bad framing, oversized heads, bytes that are no URI) get
//! a bare 4xx from hyper or a closed connection: nothing of ours runs for them. After every
//! request the controller still answers, and at the end the database holds exactly what it held
//! before.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

#[path = "../common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use aps_controller::{Controller, State};
use common::{Scripted, load_reaches};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

mod corpus;
mod load;

const IN_PROCESS: &str = "http://endpoint.in-process";

/// What a raw request got back.
#[derive(Debug)]
enum Got {
    /// A status and a body.
    Answer(u16, Vec<u8>),
    /// The connection closed without an answer.
    Closed,
}

/// Sends raw bytes on a new connection and reads the answer until the server closes it. The
/// bytes are written while reading, as a server may answer before it has read everything.
async fn raw(addr: SocketAddr, request: &[u8]) -> Got {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let request = request.to_vec();
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        writer
    });
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.expect("the server answers or closes in time");
    writing.abort();
    let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Got::Closed;
    };
    let head = String::from_utf8_lossy(&received[..end]).to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .map(|v| v.parse::<usize>().unwrap());
    let body = received[end + 4..].to_vec();
    let body = length.map_or(body.clone(), |n| body[..n.min(body.len())].to_vec());
    Got::Answer(status, body)
}

/// A request's bytes: `Connection: close`, `Content-Length` when there is a body.
fn request(method: &str, path: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
    let mut bytes =
        format!("{method} {path} HTTP/1.1\r\nHost: controller\r\nConnection: close\r\n")
            .into_bytes();
    for (name, value) in headers {
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(value);
        bytes.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT") {
        bytes.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(body);
    bytes
}

fn json_request(method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    request(method, path, &[("Content-Type", b"application/json")], body)
}

/// Whether the answer is one of ours: an APS error, 4xx or 503, `code` equal to the status.
fn aps_shaped(status: u16, body: &[u8]) -> bool {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    ((400..500).contains(&status) || status == 503)
        && body["code"] == json!(status)
        && body["error"].is_string()
        && body["message"].is_string()
}

/// Every row of every table, as text: what "the database is unchanged" compares.
async fn dump(db: &Path) -> Vec<(String, Vec<String>)> {
    let url = format!("sqlite://{}?mode=ro", db.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name != '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut dump = Vec::new();
    for (table,) in tables {
        let columns: Vec<(String,)> =
            sqlx::query_as(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .fetch_all(&pool)
                .await
                .unwrap();
        let row = columns
            .iter()
            .map(|(c,)| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows: Vec<(String,)> =
            sqlx::query_as(&format!("SELECT {row} FROM \"{table}\" ORDER BY 1"))
                .fetch_all(&pool)
                .await
                .unwrap();
        dump.push((table, rows.into_iter().map(|(r,)| r).collect()));
    }
    pool.close().await;
    dump
}

/// A controller with one installed instance of the scripted application.
async fn controller(dir: &Path, max_requests: usize) -> (Controller, Uuid, Uuid, Uuid) {
    controller_with(dir, max_requests, Duration::from_secs(2)).await
}

/// [`controller`], with its header-read time-out (also its idle limit) given.
async fn controller_with(
    dir: &Path,
    max_requests: usize,
    header_read_timeout: Duration,
) -> (Controller, Uuid, Uuid, Uuid) {
    let endpoint = Scripted::default();
    let c = Controller::builder()
        .database(dir.join("controller.db").display().to_string())
        .listen("127.0.0.1:0".parse().unwrap())
        .endpoint_router(IN_PROCESS, endpoint.router())
        .callback_hosts(vec!["hooks.example".into()])
        .max_requests(max_requests)
        .header_read_timeout(header_read_timeout)
        .time_scale(1000.0)
        .start()
        .await
        .unwrap();
    let package = c.import(&Scripted::model()).await.unwrap().id;
    let client = c.client();
    let task = client
        .install(package, IN_PROCESS, json!({}))
        .await
        .unwrap();
    let task = client.wait(task.id, |_| {}).await.unwrap();
    assert_eq!(task.state, State::Success);
    (c, task.application, task.resource.id, task.id)
}
