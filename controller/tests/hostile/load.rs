//! A full controller, and clients that go quiet: 503 with Retry-After, and timeouts that close.

use super::*;

#[tokio::test]
async fn a_full_controller_sheds_load_with_503_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let (c, ..) = controller(dir.path(), 2).await;
    let addr = c.addr();
    // Two requests whose bodies never finish hold both slots.
    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /api/v1/resources HTTP/1.1\r\nHost: c\r\nContent-Length: 50\r\n\r\n{")
            .await
            .unwrap();
        holders.push(s);
    }
    load_reaches(&c, "both holders served", |l| l.serving == 2).await;
    let shed = reqwest::get(format!("{}/api/v1/tasks", c.url()))
        .await
        .unwrap();
    assert_eq!(shed.status(), 503, "a full controller answers 503");
    assert_eq!(shed.headers()["retry-after"], "1");
    let status = shed.status().as_u16();
    let body = shed.bytes().await.unwrap();
    assert!(aps_shaped(status, &body));
    drop(holders);
    load_reaches(&c, "the holders gone", |l| l.serving == 0).await;
    let ok = reqwest::get(format!("{}/api/v1/tasks", c.url()))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "slots come back when the clients leave");
}

/// The controller's header-read time-out in the idle tests, and a generous margin over it
/// (but short of the 10 s default) before a connection left open counts as held. Idle
/// connections in full are aps-server's (`tests/idle.rs`); here, that the controller runs
/// with its own limit, and its long polls.
const IDLE_LIMIT: Duration = Duration::from_millis(500);
const MARGIN: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_client_that_sends_nothing_is_closed_after_the_header_read_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (c, ..) = controller_with(dir.path(), 1024, IDLE_LIMIT).await;
    let mut silent = TcpStream::connect(c.addr()).await.unwrap();
    let read = tokio::time::timeout(IDLE_LIMIT + MARGIN, silent.read(&mut [0u8; 64])).await;
    assert!(
        matches!(read, Ok(Ok(0) | Err(_))),
        "a connection with no byte sent is closed: {read:?}"
    );
}

#[tokio::test]
async fn a_long_poll_is_not_taken_for_an_idle_connection() {
    let dir = tempfile::tempdir().unwrap();
    let (c, _, _, task) = controller_with(dir.path(), 1024, IDLE_LIMIT).await;
    // The task has ended, so the poll waits its whole time: four idle limits, silent.
    let poll = format!("{}/api/v1/tasks/{task}?poll_timeout=2", c.url());

    let over_http1 = reqwest::get(&poll).await.unwrap();
    assert_eq!(over_http1.status(), 200);

    let tcp = TcpStream::connect(c.addr()).await.unwrap();
    let (mut h2, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    let connection = tokio::spawn(connection);
    let request = http::Request::get(&poll)
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    let answer = h2.send_request(request).await.unwrap();
    assert_eq!(answer.status(), 200);
    answer.into_body().collect().await.unwrap();
    // Once the poll is answered the connection is idle, and closed.
    let closed = tokio::time::timeout(IDLE_LIMIT + MARGIN, connection).await;
    assert!(closed.is_ok(), "the idle HTTP/2 connection was closed");
}
