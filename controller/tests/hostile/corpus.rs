//! Malformed, oversized and lying requests: each gets an APS error, and the database stays
//! as it was.

use super::*;

/// The hostile corpus: (what it is, the request, whether the HTTP layer may refuse it itself).
fn corpus(app: Uuid, root: Uuid, task: Uuid) -> Vec<(&'static str, Vec<u8>, bool)> {
    let unknown = Uuid::new_v4();
    let apps = "/api/v1/applications";
    let resources = "/api/v1/resources";
    let configure = format!("/api/v1/resources/{root}");
    let aps2 = format!("/aps/2/resources/{root}");
    let thing = |extra: &str| {
        format!(r#"{{"application":"{app}","resource":{{"aps":{{"type":"thing"}}}}{extra}}}"#)
    };
    let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let deep_resource = format!(
        r#"{{"application":"{app}","resource":{{"aps":{{"type":"thing"}},"x":{}}}}}"#,
        nested(70)
    );
    let mut invalid_utf8 = br#"{"package":""#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    invalid_utf8.extend_from_slice(br#"","endpoint":"http://x"}"#);
    let mut utf8_path = b"GET /api/v1/tasks/".to_vec();
    utf8_path.extend_from_slice(&[0xff, 0xfe]);
    utf8_path.extend_from_slice(b" HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n");
    let many_headers: Vec<(String, Vec<u8>)> = (0..600)
        .map(|i| (format!("X-Filler-{i}"), vec![b'a'; 200]))
        .collect();
    let many_headers: Vec<(&str, &[u8])> = many_headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    let j = |method: &str, path: &str, body: &str| json_request(method, path, body.as_bytes());
    let get = |path: &str| request("GET", path, &[], b"");
    vec![
        // Malformed JSON.
        ("unclosed object", j("POST", apps, "{"), false),
        ("cut after a key", j("POST", apps, r#"{"package":"#), false),
        ("unclosed array", j("POST", resources, "[1,2"), false),
        ("bare word", j("POST", resources, "nul"), false),
        ("trailing comma", j("POST", apps, r#"{"a":1,}"#), false),
        ("single quotes", j("POST", apps, "{'package':'x'}"), false),
        ("trailing garbage", j("POST", apps, r#"{"package":"x"} tail"#), false),
        ("byte order mark", j("POST", apps, "\u{feff}{}"), false),
        ("NaN", j("PUT", &configure, r#"{"resource":{"n":NaN}}"#), false),
        ("malformed on /aps/2", request("PUT", &aps2, &[("APS-Instance-ID", app.to_string().as_bytes())], b"{oops"), false),
        // Deeply nested JSON.
        ("100000 open brackets", j("POST", resources, &"[".repeat(100_000)), false),
        ("1000 nested objects", j("POST", apps, &format!("{}1{}", r#"{"a":"#.repeat(1000), "}".repeat(1000))), false),
        ("nesting 70 deep in a resource", j("POST", resources, &deep_resource), false),
        ("nesting 70 deep in a configure", j("PUT", &configure, &format!(r#"{{"resource":{{"x":{}}}}}"#, nested(70))), false),
        // Wrong types.
        ("package is a number", j("POST", apps, r#"{"package":5,"endpoint":"http://x"}"#), false),
        ("endpoint is an array", j("POST", apps, &format!(r#"{{"package":"{unknown}","endpoint":[]}}"#)), false),
        ("timeout is text", j("POST", resources, &thing(r#","timeout":"soon""#)), false),
        ("timeout is negative", j("POST", resources, &thing(r#","timeout":-5"#)), false),
        ("timeout overflows", j("POST", resources, &thing(r#","timeout":99999999999999999999"#)), false),
        ("timeout is a float", j("POST", resources, &thing(r#","timeout":1e400"#)), false),
        ("application is no uuid", j("POST", resources, r#"{"application":"nope","resource":{}}"#), false),
        ("resource is a string", j("POST", resources, &format!(r#"{{"application":"{app}","resource":"x"}}"#)), false),
        ("resource without a type", j("POST", resources, &format!(r#"{{"application":"{app}","resource":{{}}}}"#)), false),
        ("type is a number", j("POST", resources, &format!(r#"{{"application":"{app}","resource":{{"aps":{{"type":7}}}}}}"#)), false),
        ("unknown type", j("POST", resources, &format!(r#"{{"application":"{app}","resource":{{"aps":{{"type":"nope"}}}}}}"#)), false),
        ("root service as a resource", j("POST", resources, &format!(r#"{{"application":"{app}","resource":{{"aps":{{"type":"app"}}}}}}"#)), false),
        ("configure with an array", j("PUT", &configure, r#"{"resource":[1]}"#), false),
        ("body is a string", j("POST", apps, r#""hello""#), false),
        ("body is a number", j("POST", resources, "42"), false),
        ("unprovision timeout is text", j("DELETE", &configure, r#"{"timeout":"x"}"#), false),
        ("unprovision query timeout", get_like("DELETE", &format!("{configure}?timeout=abc")), false),
        ("limit is negative", get("/api/v1/tasks?limit=-1"), false),
        ("limit is text", get("/api/v1/tasks?limit=abc"), false),
        ("limit is huge", get("/api/v1/tasks?limit=100000"), false),
        ("unknown state", get("/api/v1/tasks?state=bogus"), false),
        ("resource filter no uuid", get("/api/v1/tasks?resource=nope"), false),
        ("poll_timeout zero", get(&format!("/api/v1/tasks/{task}?poll_timeout=0")), false),
        ("poll_timeout too long", get(&format!("/api/v1/tasks/{task}?poll_timeout=121")), false),
        ("last_modified garbage", get(&format!("/api/v1/tasks/{task}?poll_timeout=1&last_modified=yesterday")), false),
        ("resources filter no uuid", get("/api/v1/resources?application=nope"), false),
        ("text/plain garbage", request("POST", apps, &[("Content-Type", b"text/plain")], b"hello there"), false),
        // Huge bodies and heads.
        ("2 MiB body", j("POST", resources, &format!(r#"{{"x":"{}"}}"#, "a".repeat(2 << 20))), false),
        ("not a package", request("POST", "/api/v1/packages", &[], b"PK\x03\x04 not really a zip"), false),
        ("empty package", request("POST", "/api/v1/packages", &[], b""), false),
        ("100 KiB header", request("GET", "/api/v1/tasks", &[("X-Big", &vec![b'a'; 100 * 1024])], b""), true),
        ("600 headers", request("GET", "/api/v1/tasks", &many_headers, b""), true),
        ("100 KiB URI", get(&format!("/api/v1/tasks?x={}", "a".repeat(100 * 1024))), true),
        // Invalid UTF-8.
        ("invalid UTF-8 in JSON", json_request("POST", apps, &invalid_utf8), false),
        ("raw bytes in the path", utf8_path, true),
        ("percent-encoded invalid UTF-8 id", get("/api/v1/tasks/%FF%FE"), false),
        ("invalid UTF-8 in a query", get("/api/v1/tasks?state=%FF"), false),
        ("invalid UTF-8 in Prefer", request("POST", resources, &[("Prefer", b"wait=\xff"), ("Content-Type", b"application/json")], thing("").replace(&app.to_string(), &unknown.to_string()).as_bytes()), false),
        ("invalid UTF-8 instance id", request("GET", &aps2, &[("APS-Instance-ID", b"\xff\xfe")], b""), false),
        // Path tricks.
        ("dot segments", get("/api/v1/../api/v1/tasks"), false),
        ("encoded dot segments", get("/api/v1/tasks/%2e%2e/"), false),
        ("double slash", get("//api/v1/tasks"), false),
        ("climbing out of a resource", get(&format!("/api/v1/resources/{root}/../../applications")), false),
        ("encoded slashes on /aps/2", get("/aps/2/resources/..%2f..%2fapi%2fv1%2ftasks"), false),
        ("NUL in the path", get("/api/v1/tasks%00"), false),
        ("id with a suffix", get(&format!("/api/v1/tasks/{task}.json")), false),
        // Unknown ids.
        ("unknown task", get(&format!("/api/v1/tasks/{unknown}")), false),
        ("unknown task status", get(&format!("/api/v1/tasks/{unknown}/status")), false),
        ("unknown task result", get(&format!("/api/v1/tasks/{unknown}/result")), false),
        ("cancel an unknown task", request("POST", &format!("/api/v1/tasks/{unknown}/cancel"), &[], b""), false),
        ("cancel an ended task", request("POST", &format!("/api/v1/tasks/{task}/cancel"), &[], b""), false),
        ("unknown resource", get(&format!("/api/v1/resources/{unknown}")), false),
        ("configure an unknown resource", j("PUT", &format!("/api/v1/resources/{unknown}"), r#"{"resource":{}}"#), false),
        ("unprovision an unknown resource", request("DELETE", &format!("/api/v1/resources/{unknown}"), &[], b""), false),
        ("unknown application", get(&format!("/api/v1/applications/{unknown}")), false),
        ("provision on an unknown application", j("POST", resources, &thing("").replace(&app.to_string(), &unknown.to_string())), false),
        ("install an unknown package", j("POST", apps, &format!(r#"{{"package":"{unknown}","endpoint":"http://x"}}"#)), false),
        ("unknown resource on /aps/2", request("GET", &format!("/aps/2/resources/{unknown}"), &[("APS-Instance-ID", app.to_string().as_bytes())], b""), false),
        // Wrong methods.
        ("DELETE the task list", request("DELETE", "/api/v1/tasks", &[], b""), false),
        ("PATCH a resource", j("PATCH", &configure, "{}"), false),
        ("PUT packages", request("PUT", "/api/v1/packages", &[], b""), false),
        ("POST on /aps/2", j("POST", &aps2, "{}"), false),
        ("DELETE on /aps/2", request("DELETE", &aps2, &[("APS-Instance-ID", app.to_string().as_bytes())], b""), false),
        ("GET cancel", get(&format!("/api/v1/tasks/{task}/cancel")), false),
        ("an invented method", request("BREW", "/api/v1/tasks", &[], b""), false),
        // Callers that are not the owner.
        ("/aps/2 without an instance id", get(&aps2), false),
        ("/aps/2 read by another instance", request("GET", &aps2, &[("APS-Instance-ID", unknown.to_string().as_bytes())], b""), false),
        ("/aps/2 change by another instance", request("PUT", &aps2, &[("APS-Instance-ID", unknown.to_string().as_bytes()), ("Content-Type", b"application/json")], br#"{"size":5}"#), false),
        ("/aps/2 change that is no object", request("PUT", &aps2, &[("APS-Instance-ID", app.to_string().as_bytes())], b"[1]"), false),
        // Callback URLs.
        ("ftp callback", j("POST", resources, &thing(r#","callbackURL":"ftp://hooks.example/x""#)), false),
        ("javascript callback", j("POST", resources, &thing(r#","callbackURL":"javascript:alert(1)""#)), false),
        ("callback host not allowed", j("POST", resources, &thing(r#","callbackURL":"http://evil.example/hook?token=s3cret""#)), false),
        ("callback that is no URL", j("PUT", &configure, r#"{"resource":{},"callbackURL":"not a url"}"#), false),
        ("callback to a file", j("POST", apps, &format!(r#"{{"package":"{unknown}","endpoint":"http://x","callbackURL":"file:///etc/passwd"}}"#)), false),
        ("endpoint is not http", j("POST", apps, r#"{"package":"00000000-0000-0000-0000-000000000000","endpoint":"gopher://x"}"#), false),
        // Broken framing.
        ("bad chunk size", b"POST /api/v1/applications HTTP/1.1\r\nHost: c\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n".to_vec(), true),
        ("length and chunked", b"POST /api/v1/applications HTTP/1.1\r\nHost: c\r\nConnection: close\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(), true),
        ("length is text", b"POST /api/v1/applications HTTP/1.1\r\nHost: c\r\nConnection: close\r\nContent-Length: abc\r\n\r\n{}".to_vec(), true),
        ("HTTP/0.9", b"GET /\r\n\r\n".to_vec(), true),
        ("a TLS hello on the plain port", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n".to_vec(), true),
        ("header without a colon", b"GET /api/v1/tasks HTTP/1.1\r\nHost: c\r\nConnection: close\r\nbroken header\r\n\r\n".to_vec(), true),
    ]
}

fn get_like(method: &str, path: &str) -> Vec<u8> {
    request(method, path, &[], b"")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_aps_errors_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (c, app, root, task) = controller(dir.path(), 1024).await;
    let addr = c.addr();
    let db = dir.path().join("controller.db");
    let before = dump(&db).await;

    // A slow client sends half a head and then nothing: it holds its connection only until the
    // header-read timeout closes it, and holds up no one meanwhile.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /api/v1/tasks HTTP/1.1\r\nHost: c\r\nX-Slow: ")
        .await
        .unwrap();
    // A slow body (the head promises 100 bytes, 10 arrive) holds up no one either.
    let mut slow_body = TcpStream::connect(addr).await.unwrap();
    slow_body
        .write_all(
            b"POST /api/v1/resources HTTP/1.1\r\nHost: c\r\nContent-Length: 100\r\n\r\n{\"applic",
        )
        .await
        .unwrap();

    let cases = corpus(app, root, task);
    assert!(cases.len() >= 60, "{} cases", cases.len());
    for (what, bytes, transport) in &cases {
        match raw(addr, bytes).await {
            Got::Answer(status, body) if aps_shaped(status, &body) => {}
            Got::Answer(status, body)
                if *transport && (400..500).contains(&status) && body.is_empty() => {}
            Got::Closed if *transport => {}
            got => panic!(
                "{what}: {got:?} ({})",
                match &got {
                    Got::Answer(_, b) => String::from_utf8_lossy(b).to_string(),
                    Got::Closed => String::new(),
                }
            ),
        }
        match raw(addr, &request("GET", "/api/v1/tasks?limit=1", &[], b"")).await {
            Got::Answer(200, _) => {}
            got => panic!("after {what} the controller answered {got:?}"),
        }
    }

    // The slow head is cut off by the header-read timeout (2 s here, well within this wait).
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(30), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the slow head was not cut off");
    drop(slow_body);

    assert_eq!(dump(&db).await, before, "the database changed");
}
