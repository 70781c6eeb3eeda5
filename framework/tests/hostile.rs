//! A corpus of hostile requests against a running endpoint, sent as raw bytes over loopback.
//! Every answer is an APS-shaped 4xx or 503, the endpoint keeps answering, and nothing is
//! written to its data directory. A client that sends nothing is closed after the endpoint's
//! header-read time-out (idle connections in full: aps-server's `tests/idle.rs`).
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const INSTANCE: &str = "5bb7e1a0-7f8c-4e0a-9d3f-2a9c0b1d4e55";

/// A request with the APS headers a controller sends, minus those named in `without`, plus
/// `extra` headers (raw bytes, so they may be anything).
fn request(
    method: &str,
    path: &[u8],
    controller: &str,
    without: &[&str],
    extra: &[&[u8]],
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(path);
    out.extend_from_slice(b" HTTP/1.1\r\nHost: endpoint\r\nConnection: close\r\n");
    for (name, value) in [
        ("APS-Instance-ID", INSTANCE),
        ("APS-Controller-URI", controller),
    ] {
        if !without.contains(&name) {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
    }
    for header in extra {
        out.extend_from_slice(header);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// Sends raw bytes and reads the answer: its status and body.
async fn send(addr: &str, raw: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before reading everything (a body over the limit).
    let _ = stream.write_all(raw).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn corpus(controller: &str) -> Vec<(String, Vec<u8>)> {
    let post = |body: &[u8]| request("POST", b"/mailbox/", controller, &[], &[], body);
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    // Malformed JSON and bodies that are not resources.
    let bodies: &[&[u8]] = &[
        b"",
        b"{",
        b"}",
        b"[",
        b"null",
        b"true",
        b"42",
        b"\"text\"",
        b"{\"quota\":}",
        b"{'quota':1}",
        b"{\"quota\":1,}",
        b"{\"quota\":NaN}",
        b"{\"quota\":1} trailing",
        b"\xff\xfe{}",
        b"\xef\xbb\xbf{\"quota\":1}",
        b"{\"quota\":1,\"s\":\"\xc3\x28\"}",
        b"{\"quota\":1,\"s\":\"\\ud800\"}",
        b"[1,2,3]",
        b"\0\0\0\0",
    ];
    for body in bodies {
        cases.push((
            format!("body {:?}", String::from_utf8_lossy(body)),
            post(body),
        ));
    }
    let deep_array = format!(
        "{{\"quota\":1,\"x\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    cases.push(("deeply nested array".into(), post(deep_array.as_bytes())));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    cases.push(("deeply nested object".into(), post(deep_object.as_bytes())));
    // Wrong types.
    let wrong: &[&str] = &[
        r#"{"quota":"lots"}"#,
        r#"{"quota":-1}"#,
        r#"{"quota":1.5}"#,
        r#"{"quota":1e400}"#,
        r#"{"quota":null}"#,
        r#"{"quota":[]}"#,
        r#"{"quota":{}}"#,
        r#"{"quota":18446744073709551616}"#,
        r#"{"aps":5,"quota":1}"#,
        r#"{"aps":{"id":5},"quota":1}"#,
        r#"{"aps":{"revision":"x"},"quota":1}"#,
        r#"{"quota":1,"job":5}"#,
        r#"{"quota":1,"usage":"none"}"#,
        r#"{}"#,
    ];
    for body in wrong {
        cases.push((format!("wrong type {body}"), post(body.as_bytes())));
    }
    // Headers: missing, malformed, hostile.
    let ok = br#"{"quota":1}"#;
    // (case, APS headers left out, headers added)
    type HeaderCase<'a> = (&'a str, &'a [&'a str], &'a [&'a [u8]]);
    let headers: &[HeaderCase] = &[
        ("no instance", &["APS-Instance-ID"], &[]),
        ("no controller", &["APS-Controller-URI"], &[]),
        (
            "no APS headers",
            &["APS-Instance-ID", "APS-Controller-URI"],
            &[],
        ),
        (
            "instance not a uuid",
            &["APS-Instance-ID"],
            &[b"APS-Instance-ID: 1 OR 1=1"],
        ),
        (
            "instance of invalid UTF-8",
            &["APS-Instance-ID"],
            &[b"APS-Instance-ID: \xff\xfe\xfd"],
        ),
        ("huge instance id", &["APS-Instance-ID"], &[]),
        (
            "controller javascript:",
            &["APS-Controller-URI"],
            &[b"APS-Controller-URI: javascript:alert(1)"],
        ),
        (
            "controller file:",
            &["APS-Controller-URI"],
            &[b"APS-Controller-URI: file:///etc/passwd"],
        ),
        (
            "controller broken IPv6",
            &["APS-Controller-URI"],
            &[b"APS-Controller-URI: http://[::1"],
        ),
        (
            "controller empty",
            &["APS-Controller-URI"],
            &[b"APS-Controller-URI: "],
        ),
        (
            "controller of invalid UTF-8",
            &["APS-Controller-URI"],
            &[b"APS-Controller-URI: http://\xff/"],
        ),
        ("phase unknown", &[], &[b"APS-Request-Phase: later"]),
        (
            "phase of invalid UTF-8",
            &[],
            &[b"APS-Request-Phase: \xffsync"],
        ),
        (
            "phase twice, second bad",
            &[],
            &[b"APS-Request-Phase: sync", b"APS-Request-Phase: nope"],
        ),
    ];
    for (name, without, extra) in headers {
        let mut extra: Vec<&[u8]> = extra.to_vec();
        let huge = format!("APS-Instance-ID: {}", "9".repeat(20_000));
        if *name == "huge instance id" {
            extra.push(huge.as_bytes());
        }
        cases.push((
            name.to_string(),
            request("POST", b"/mailbox/", controller, without, &extra, ok),
        ));
    }
    let big_header = format!("X-Padding: {}", "a".repeat(40_000));
    cases.push((
        "a 40 KB header".into(),
        request(
            "POST",
            b"/mailbox/",
            controller,
            &[],
            &[big_header.as_bytes()],
            ok,
        ),
    ));
    let many: Vec<String> = (0..110).map(|i| format!("X-H{i}: v")).collect();
    let many: Vec<&[u8]> = many.iter().map(|h| h.as_bytes()).collect();
    cases.push((
        "110 headers".into(),
        request("POST", b"/mailbox/", controller, &[], &many, ok),
    ));
    // Paths.
    let paths: &[&[u8]] = &[
        b"/../mailbox/",
        b"/mailbox/%2e%2e/%2e%2e/etc/passwd",
        b"/mailbox/..%2f..%2fetc",
        b"//mailbox/",
        b"/mailbox/%00",
        b"/mailbox/a%ZZ",
        b"/mailbox/a/b/c",
        b"/nothing/",
        b"/%ff%fe/",
        b"/mailbox/x?aps=1&&&==",
        b"/",
        b"*",
    ];
    // Bytes that cannot be in a request target, or two lengths for one body, are not HTTP:
    // hyper refuses them with a bare 400 before any router sees them (checked apart, below).
    for path in paths {
        cases.push((
            format!("path {:?}", String::from_utf8_lossy(path)),
            request("GET", path, controller, &[], &[], b""),
        ));
    }
    let long_path = format!("/mailbox/{}", "x".repeat(40_000));
    cases.push((
        "a 40 KB path".into(),
        request("GET", long_path.as_bytes(), controller, &[], &[], b""),
    ));
    // Unknown ids (the controller knows none) and wrong methods.
    cases.push((
        "unknown resource".into(),
        request(
            "GET",
            b"/mailbox/00000000-0000-4000-8000-00000000dead",
            controller,
            &[],
            &[],
            b"",
        ),
    ));
    cases.push((
        "unknown resource removed".into(),
        request(
            "DELETE",
            b"/mailbox/00000000-0000-4000-8000-00000000dead",
            controller,
            &[],
            &[],
            b"",
        ),
    ));
    for method in ["PATCH", "OPTIONS", "TRACE", "PROPFIND"] {
        cases.push((
            format!("{method} on a resource"),
            request(
                method,
                b"/mailbox/00000000-0000-4000-8000-00000000a001",
                controller,
                &[],
                &[],
                b"",
            ),
        ));
    }
    for method in ["GET", "PUT", "DELETE"] {
        cases.push((
            format!("{method} on a collection"),
            request(method, b"/mailbox/", controller, &[], &[], ok),
        ));
    }
    // Size.
    let huge = vec![b' '; 11 * 1024 * 1024];
    cases.push(("an 11 MiB body".into(), post(&huge)));
    let declared = format!(
        "POST /mailbox/ HTTP/1.1\r\nHost: e\r\nConnection: close\r\nAPS-Instance-ID: {INSTANCE}\r\n\
         APS-Controller-URI: {controller}\r\nContent-Length: 99999999999\r\n\r\n{{}}"
    );
    cases.push(("a body declared at 100 GB".into(), declared.into_bytes()));
    cases
}

#[tokio::test]
async fn every_hostile_request_gets_an_aps_shaped_4xx_and_the_endpoint_keeps_serving() {
    let data = tempfile::tempdir().unwrap();
    let controller = support::FakeController::default().start().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let app = support::app().data_dir(data.path());
    tokio::spawn(async move { app.serve(listener, "/").await });

    let cases = corpus(&controller);
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let not_http = [
        request("GET", b"/mailbox/\xff", &controller, &[], &[], b""),
        request("GET", b"/mail box/", &controller, &[], &[], b""),
        request("GET", b"/mailbox/\x01", &controller, &[], &[], b""),
        request(
            "POST",
            b"/mailbox/",
            &controller,
            &[],
            &[b"Content-Length: 5"],
            b"{}",
        ),
    ];
    for raw in &not_http {
        let (status, _) = send(&addr, raw).await;
        assert_eq!(status, 400, "{:?}", String::from_utf8_lossy(raw));
    }
    // Past 128 headers hyper stops parsing: a bare 431.
    let flood: Vec<String> = (0..2_000).map(|i| format!("X-H{i}: v")).collect();
    let flood: Vec<&[u8]> = flood.iter().map(|h| h.as_bytes()).collect();
    let (status, _) = send(
        &addr,
        &request("POST", b"/mailbox/", &controller, &[], &flood, b"{}"),
    )
    .await;
    assert_eq!(status, 431);
    for (name, raw) in &cases {
        let (status, body) = send(&addr, raw).await;
        assert!(
            (400..500).contains(&status) || status == 503,
            "{name}: status {status}, body {body}"
        );
        let answer: Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{name}: {e}: {body:?}"));
        assert_eq!(answer["code"], status, "{name}: {answer}");
        assert!(
            answer["error"].is_string() && answer["message"].is_string(),
            "{name}: {answer}"
        );
    }

    let (status, _) = send(
        &addr,
        &request(
            "POST",
            b"/mailbox/",
            &controller,
            &[],
            &[],
            br#"{"quota":1}"#,
        ),
    )
    .await;
    assert_eq!(
        status,
        202,
        "still serving after {} hostile requests",
        cases.len()
    );
    let written: Vec<_> = std::fs::read_dir(data.path()).unwrap().collect();
    assert!(written.is_empty(), "nothing written: {written:?}");
}

#[tokio::test]
async fn a_client_that_sends_nothing_is_closed_after_the_header_read_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let app = support::app().header_read_timeout(Duration::from_millis(500));
    tokio::spawn(async move { app.serve(listener, "/").await });

    // Closed well within the 10 s default: the endpoint's own time-out is the idle limit.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "a connection with no byte sent is closed");
}
