//! Idle connections on `aps_server::serve`, plain and over TLS: a client that sends nothing,
//! stops inside a request head or a TLS handshake, or goes silent after a handshake or an
//! HTTP/2 preface is closed within the idle limit (plus a margin); a long request, silent for
//! several idle limits, is answered in full over HTTP/1 and HTTP/2.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aps_server::Limits;
use axum::Router;
use axum::body::Bytes;
use axum::http::Request;
use axum::routing::get;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::client::TlsStream;

/// How long the idle tests give the server: a short header-read time-out, and a generous
/// margin over it before a connection left open counts as held.
const IDLE_LIMIT: Duration = Duration::from_millis(500);
const MARGIN: Duration = Duration::from_secs(5);
/// How long the slow route takes to answer, silent all the while: three idle limits, so that
/// its end falls with the idle timer but not with the server's HTTP/2 pings (every two).
const LONG: Duration = Duration::from_millis(1500);

/// `/` answers at once; `/slow` after [`LONG`], several idle limits.
fn router() -> Router {
    Router::new().route("/", get(|| async { "hello" })).route(
        "/slow",
        get(|| async {
            tokio::time::sleep(LONG).await;
            "slowly"
        }),
    )
}

/// Serves [`router`] in the background, held to [`IDLE_LIMIT`], over TLS when `tls` is given.
fn serve(tls: Option<Arc<rustls::ServerConfig>>) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits {
        header_read_timeout: IDLE_LIMIT,
        max_head: 64 * 1024,
        max_headers: 100,
        max_connections: None,
        max_connections_per_client: None,
    };
    let handle = axum_server::Handle::new();
    tokio::spawn(aps_server::serve(listener, router(), tls, limits, handle));
    addr
}

/// Serves over TLS with a self-signed certificate for `localhost`, offering HTTP/2 and
/// HTTP/1.1; answers the address and roots that trust the certificate.
fn serve_tls() -> (SocketAddr, rustls::RootCertStore) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let key = PrivatePkcs8KeyDer::from(made.signing_key.serialize_der());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key.into())
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(made.cert)).unwrap();
    (serve(Some(Arc::new(config))), roots)
}

/// Connects over TLS, asking for the protocol `alpn`, and finishes the handshake.
async fn connect_tls(
    addr: SocketAddr,
    roots: &rustls::RootCertStore,
    alpn: &[u8],
) -> TlsStream<TcpStream> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    connector.connect(name, tcp).await.unwrap()
}

/// Reads until the server closes the connection, which it must within the idle limit and the
/// margin; `what` says which connection it is.
async fn closes<S: AsyncRead + Unpin>(mut stream: S, what: &str) {
    let mut buf = [0u8; 4096];
    let closing = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    let closed = tokio::time::timeout(IDLE_LIMIT + MARGIN, closing).await;
    assert!(closed.is_ok(), "{what} is closed");
}

/// Opens HTTP/2 with prior knowledge: the preface and empty SETTINGS, then the ACK of the
/// server's SETTINGS, leaving a healthy connection with no stream.
async fn http2_preface<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) {
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    let mut head = [0u8; 9];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(head[3], 4, "the server opens with its SETTINGS");
    let length = u32::from_be_bytes([0, head[0], head[1], head[2]]);
    let mut payload = vec![0u8; usize::try_from(length).unwrap()];
    stream.read_exact(&mut payload).await.unwrap();
    stream.write_all(b"\0\0\0\x04\x01\0\0\0\0").await.unwrap();
}

#[tokio::test]
async fn a_client_that_sends_nothing_is_closed() {
    let silent = TcpStream::connect(serve(None)).await.unwrap();
    closes(silent, "a connection with no byte sent").await;
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_is_closed() {
    let mut stream = TcpStream::connect(serve(None)).await.unwrap();
    stream
        .write_all(b"POST /mailbox/ HTTP/1.1\r\nHost: x\r\nAPS-Inst")
        .await
        .unwrap();
    closes(stream, "a connection stopped inside its request head").await;
}

#[tokio::test]
async fn a_kept_alive_http1_connection_is_closed_once_idle() {
    let mut stream = TcpStream::connect(serve(None)).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    closes(stream, "a connection idle after its answer").await;
}

#[tokio::test]
async fn an_http2_connection_with_no_stream_is_closed() {
    let mut h2c = TcpStream::connect(serve(None)).await.unwrap();
    http2_preface(&mut h2c).await;
    closes(h2c, "an HTTP/2 connection idle after its preface").await;
}

#[tokio::test]
async fn a_tls_client_that_never_starts_its_handshake_is_closed() {
    let (addr, _) = serve_tls();
    let silent = TcpStream::connect(addr).await.unwrap();
    closes(silent, "a client that never starts the handshake").await;
}

#[tokio::test]
async fn a_tls_client_that_never_finishes_its_handshake_is_closed() {
    let (addr, _) = serve_tls();
    // Half a ClientHello: a record header promising 512 bytes, then 4 of them.
    let mut halfway = TcpStream::connect(addr).await.unwrap();
    halfway
        .write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc")
        .await
        .unwrap();
    closes(halfway, "a client that never finishes the handshake").await;
}

#[tokio::test]
async fn a_tls_client_silent_after_its_handshake_is_closed() {
    let (addr, roots) = serve_tls();
    let http1 = connect_tls(addr, &roots, b"http/1.1").await;
    closes(http1, "a client silent after its handshake").await;
}

#[tokio::test]
async fn an_http2_connection_over_tls_with_no_stream_is_closed() {
    let (addr, roots) = serve_tls();
    let mut h2 = connect_tls(addr, &roots, b"h2").await;
    assert_eq!(h2.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    http2_preface(&mut h2).await;
    closes(h2, "an HTTP/2 connection over TLS idle after its preface").await;
}

/// Connections opened at once, and long requests sent one after the other on each. The end of
/// a request and the idle timer often fall together, and an answer ready but not yet written
/// must not be taken for idleness; over HTTP/2, where the handler runs apart from the
/// connection's task, that window is real (`src/idle/tests.rs` checks it on a paused clock).
const CONNECTIONS: usize = 8;
const REQUESTS: usize = 2;

/// Runs `client` on [`CONNECTIONS`] connections to `addr` at once, to its end.
async fn at_once<F, Fut>(addr: SocketAddr, client: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let tcp = TcpStream::connect(addr).await.unwrap();
        clients.spawn(client(tcp));
    }
    while let Some(client) = clients.join_next().await {
        client.unwrap();
    }
}

/// Awaits a long request's answer: 200, and the slow route's body in full.
async fn answered_in_full(
    sent: impl Future<Output = hyper::Result<hyper::Response<hyper::body::Incoming>>>,
) {
    let answer = sent.await.expect("the long request is answered");
    assert_eq!(answer.status(), 200);
    let body = answer.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "slowly");
}

/// Waits for a client connection's task to end: once its requests are answered the connection
/// is idle, and the server closes it.
async fn closed_once_idle(connection: JoinHandle<hyper::Result<()>>) {
    let closed = tokio::time::timeout(IDLE_LIMIT + MARGIN, connection).await;
    assert!(closed.is_ok(), "the idle connection is closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_requests_over_http1_are_not_taken_for_idle_connections() {
    at_once(serve(None), |tcp| async move {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .unwrap();
        let connection = tokio::spawn(connection);
        for _ in 0..REQUESTS {
            sender.ready().await.unwrap();
            let request = Request::get("/slow").header("host", "localhost");
            let request = request.body(Empty::<Bytes>::new()).unwrap();
            answered_in_full(sender.send_request(request)).await;
        }
        closed_once_idle(connection).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_requests_over_http2_are_not_taken_for_idle_connections() {
    at_once(serve(None), |tcp| async move {
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
                .await
                .unwrap();
        let connection = tokio::spawn(connection);
        for _ in 0..REQUESTS {
            sender.ready().await.unwrap();
            let request = Request::get("http://localhost/slow");
            let request = request.body(Empty::<Bytes>::new()).unwrap();
            answered_in_full(sender.send_request(request)).await;
        }
        closed_once_idle(connection).await;
    })
    .await;
}
