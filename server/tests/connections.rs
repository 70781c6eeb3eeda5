//! Connection limits on `aps_server::serve`: one client holding its share is answered 429, a
//! full server 503, both in the APS shape, while other clients are served. Clients are told
//! apart by their address: loopback has a whole /8 of them.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::net::SocketAddr;
use std::time::Duration;

use aps_server::Limits;
use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn serve() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits {
        header_read_timeout: Duration::from_secs(30),
        max_head: 64 * 1024,
        max_headers: 100,
        max_connections: Some(4),
        max_connections_per_client: Some(2),
    };
    let router = Router::new().route("/", get(|| async { "hello" }));
    let handle = axum_server::Handle::new();
    tokio::spawn(aps_server::serve(listener, router, None, limits, handle));
    addr
}

/// A connection from `client` (a loopback address) to `server`.
async fn connect(client: [u8; 4], server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((client, 0))).unwrap();
    socket.connect(server).await.unwrap()
}

/// A kept-alive connection that has been served once: the server holds it.
async fn held(client: [u8; 4], server: SocketAddr) -> TcpStream {
    let mut stream = connect(client, server).await;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 1024];
    let n = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    stream
}

/// One request on a new connection, and the whole answer.
async fn once(client: [u8; 4], server: SocketAddr) -> String {
    let mut stream = connect(client, server).await;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_client_over_its_share_gets_429_and_a_full_server_503_while_others_are_served() {
    let server = serve();
    let a = [127, 0, 0, 1];
    let b = [127, 0, 0, 2];
    let c = [127, 0, 0, 3];
    let _a1 = held(a, server).await;
    let _a2 = held(a, server).await;
    let refused = once(a, server).await;
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    assert!(
        refused.contains(r#""error":"TooManyConnections""#),
        "{refused}"
    );
    assert!(
        refused.to_ascii_lowercase().contains("retry-after: 1"),
        "{refused}"
    );
    // Another client is served meanwhile.
    let served = once(b, server).await;
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    let _b1 = held(b, server).await;
    let _b2 = held(b, server).await;
    let full = once(c, server).await;
    assert!(full.starts_with("HTTP/1.1 503"), "{full}");
    assert!(full.contains(r#""error":"Busy""#), "{full}");
    // A place given back is taken again.
    drop(_a1);
    let mut served = String::new();
    for _ in 0..100 {
        served = once(c, server).await;
        if served.starts_with("HTTP/1.1 200") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
}
