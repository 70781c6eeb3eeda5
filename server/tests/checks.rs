//! What `aps_server::serve` refuses before the router sees a request, always in the APS error
//! shape: HTTP/1.1 without exactly one `Host`, and heads over the limits (431).
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::net::SocketAddr;
use std::time::Duration;

use aps_server::Limits;
use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn serve() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits {
        header_read_timeout: Duration::from_secs(10),
        max_head: 64 * 1024,
        max_headers: 100,
        max_connections: None,
        max_connections_per_client: None,
    };
    let router = Router::new().route("/", get(|| async { "hello" }));
    let handle = axum_server::Handle::new();
    tokio::spawn(aps_server::serve(listener, router, None, limits, handle));
    addr
}

/// Sends `head` (plus the closing blank line) and reads the whole answer.
async fn send(addr: SocketAddr, head: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("{head}Connection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

fn assert_aps(answer: &str, status: u16, error: &str) {
    assert!(
        answer.starts_with(&format!("HTTP/1.1 {status}")),
        "{answer}"
    );
    assert!(
        answer.contains("content-type: application/json"),
        "{answer}"
    );
    assert!(answer.contains(&format!(r#""code":{status}"#)), "{answer}");
    assert!(
        answer.contains(&format!(r#""error":"{error}""#)),
        "{answer}"
    );
}

#[tokio::test]
async fn http_1_1_needs_exactly_one_host() {
    let addr = serve();
    let answer = send(addr, "GET / HTTP/1.1\r\n").await;
    assert_aps(&answer, 400, "InvalidHost");
    let answer = send(addr, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n").await;
    assert_aps(&answer, 400, "InvalidHost");
    let answer = send(addr, "GET / HTTP/1.1\r\nHost: a\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // HTTP/1.0 has no Host rule.
    let answer = send(addr, "GET / HTTP/1.0\r\n").await;
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
}

#[tokio::test]
async fn heads_over_the_limits_get_an_aps_shaped_431() {
    let addr = serve();
    let big = "x".repeat(64 * 1024);
    let answer = send(
        addr,
        &format!("GET / HTTP/1.1\r\nHost: a\r\nX-Big: {big}\r\n"),
    )
    .await;
    assert_aps(&answer, 431, "HeadersTooLarge");
    let many: String = (0..120).map(|i| format!("X-H{i}: v\r\n")).collect();
    let answer = send(addr, &format!("GET / HTTP/1.1\r\nHost: a\r\n{many}")).await;
    assert_aps(&answer, 431, "HeadersTooLarge");
}
