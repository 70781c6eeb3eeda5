//! What the endpoint refuses, and how: bad resources, headers, paths, limits, failures.

use super::*;

#[tokio::test]
async fn a_resource_from_the_controller_that_does_not_fit_its_type_is_502() {
    let rig = Rig::start().await;
    rig.controller.store(
        "00000000-0000-4000-8000-00000000a001",
        json!({"aps": {"id": "00000000-0000-4000-8000-00000000a001"}, "quota": "plenty"}),
    );
    let r = rig
        .send(
            Method::GET,
            "/mailbox/00000000-0000-4000-8000-00000000a001",
            None,
            None,
        )
        .await;
    let body = error(r, StatusCode::BAD_GATEWAY, "InvalidControllerResponse").await;
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("controller sent") && message.contains("quota"),
        "{body}"
    );
    rig.controller.store(
        "00000000-0000-4000-8000-00000000a002",
        json!(["not", "a", "resource"]),
    );
    let r = rig
        .send(
            Method::DELETE,
            "/mailbox/00000000-0000-4000-8000-00000000a002",
            None,
            None,
        )
        .await;
    error(r, StatusCode::BAD_GATEWAY, "InvalidControllerResponse").await;
}

#[tokio::test]
async fn a_resource_the_controller_does_not_know_is_404() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::GET,
            "/mailbox/00000000-0000-4000-8000-00000000dead",
            None,
            None,
        )
        .await;
    let body = error(r, StatusCode::NOT_FOUND, "ResourceNotFound").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("00000000-0000-4000-8000-00000000dead")
    );
}

#[tokio::test]
async fn an_unreachable_controller_is_502() {
    let rig = Rig::start().await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    for method in [Method::DELETE, Method::GET] {
        let r = rig
            .http
            .request(
                method,
                format!(
                    "{}/mailbox/00000000-0000-4000-8000-00000000a001",
                    rig.endpoint
                ),
            )
            .header("APS-Instance-ID", rig.instance.to_string())
            .header("APS-Controller-URI", format!("http://{closed}"))
            .send()
            .await
            .unwrap();
        error(r, StatusCode::BAD_GATEWAY, "ControllerUnreachable").await;
    }
}

#[tokio::test]
async fn malformed_json_and_non_objects_are_400() {
    let rig = Rig::start().await;
    let r = rig
        .request(Method::POST, "/mailbox/")
        .body("{\"quota\": ")
        .send()
        .await
        .unwrap();
    error(r, StatusCode::BAD_REQUEST, "InvalidJson").await;
    let r = rig
        .request(Method::POST, "/mailbox/")
        .body("[1, 2]")
        .send()
        .await
        .unwrap();
    error(r, StatusCode::BAD_REQUEST, "InvalidResource").await;
    let deep = format!(
        "{{\"quota\": 1, \"deep\": {}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let r = rig
        .request(Method::POST, "/mailbox/")
        .body(deep)
        .send()
        .await
        .unwrap();
    error(r, StatusCode::BAD_REQUEST, "InvalidJson").await;
    let r = rig
        .request(Method::POST, "/mailbox/")
        .body(vec![0xff, 0xfe, b'{'])
        .send()
        .await
        .unwrap();
    error(r, StatusCode::BAD_REQUEST, "InvalidJson").await;
}

#[tokio::test]
async fn a_body_that_does_not_fit_the_type_is_400_naming_the_field() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::POST,
            "/mailbox/",
            None,
            Some(json!({"quota": "lots"})),
        )
        .await;
    let body = error(r, StatusCode::BAD_REQUEST, "InvalidResource").await;
    assert!(
        body["message"].as_str().unwrap().contains("quota"),
        "{body}"
    );
    let r = rig
        .send(
            Method::POST,
            "/mailbox/",
            None,
            Some(json!({"aps": "nope", "quota": 1})),
        )
        .await;
    let body = error(r, StatusCode::BAD_REQUEST, "InvalidResource").await;
    assert!(body["message"].as_str().unwrap().contains("aps"), "{body}");
}

#[tokio::test]
async fn missing_or_invalid_aps_headers_are_400() {
    let rig = Rig::start().await;
    let url = format!("{}/mailbox/", rig.endpoint);
    let body = mailbox("00000000-0000-4000-8000-00000000a001", 1).to_string();
    let uri = rig.controller_uri.as_str();
    let instance = rig.instance.to_string();
    type Headers<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Headers, &str, &str); 6] = [
        (
            &[("APS-Controller-URI", uri)],
            "MissingHeader",
            "APS-Instance-ID",
        ),
        (
            &[("APS-Instance-ID", &instance)],
            "MissingHeader",
            "APS-Controller-URI",
        ),
        (
            &[
                ("APS-Instance-ID", "not-a-uuid"),
                ("APS-Controller-URI", uri),
            ],
            "InvalidHeader",
            "not-a-uuid",
        ),
        (
            &[
                ("APS-Instance-ID", &instance),
                ("APS-Controller-URI", "ftp://x"),
            ],
            "InvalidHeader",
            "ftp://x",
        ),
        (
            &[
                ("APS-Instance-ID", &instance),
                ("APS-Controller-URI", "nonsense"),
            ],
            "InvalidHeader",
            "nonsense",
        ),
        (
            &[
                ("APS-Instance-ID", &instance),
                ("APS-Controller-URI", uri),
                ("APS-Request-Phase", "later"),
            ],
            "InvalidHeader",
            "later",
        ),
    ];
    for (headers, name, mentioned) in cases {
        let mut request = rig.http.post(&url).body(body.clone());
        for (header, value) in headers {
            request = request.header(*header, *value);
        }
        let answer = error(request.send().await.unwrap(), StatusCode::BAD_REQUEST, name).await;
        assert!(
            answer["message"].as_str().unwrap().contains(mentioned),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn unknown_services_and_paths_are_404_and_wrong_methods_405() {
    let rig = Rig::start().await;
    let r = rig
        .send(Method::POST, "/nothing/", None, Some(json!({})))
        .await;
    let body = error(r, StatusCode::NOT_FOUND, "NotFound").await;
    assert!(body["message"].as_str().unwrap().contains("nothing"));
    let r = rig
        .send(
            Method::GET,
            "/mailbox/00000000-0000-4000-8000-00000000a001/extra/path",
            None,
            None,
        )
        .await;
    error(r, StatusCode::NOT_FOUND, "NotFound").await;
    let r = rig.send(Method::GET, "/", None, None).await;
    error(r, StatusCode::NOT_FOUND, "NotFound").await;
    for path in ["/nothing/", "/nothing/x"] {
        let r = rig.send(Method::PATCH, path, None, None).await;
        error(r, StatusCode::NOT_FOUND, "NotFound").await;
    }
    let r = rig
        .send(
            Method::PATCH,
            "/mailbox/00000000-0000-4000-8000-00000000a001",
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(header(&r, "allow"), "GET, HEAD, PUT, DELETE");
    error(r, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed").await;
    let r = rig.send(Method::GET, "/mailbox/", None, None).await;
    assert_eq!(header(&r, "allow"), "POST");
    error(r, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed").await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_declared_or_streamed() {
    let rig = Rig::with(app().body_limit(1024)).await;
    let big = json!({"quota": 1, "padding": "x".repeat(4096)}).to_string();
    let r = rig
        .request(Method::POST, "/mailbox/")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    error(r, StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge").await;
    // Chunked, so no Content-Length warns the server in advance.
    let addr = rig.endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /mailbox/ HTTP/1.1\r\nHost: x\r\nAPS-Instance-ID: {}\r\nAPS-Controller-URI: {}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        rig.instance, rig.controller_uri
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in big.as_bytes().chunks(600) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if stream.write_all(&framed).await.is_err() {
            break; // the server may answer and close before the whole body is sent
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"error\":\"PayloadTooLarge\""), "{answer}");
}

#[tokio::test]
async fn bodies_over_the_default_limit_of_10_mib_are_413() {
    assert_eq!(aps::DEFAULT_BODY_LIMIT, 10 * 1024 * 1024);
    let rig = Rig::start().await;
    let addr = rig.endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /mailbox/ HTTP/1.1\r\nHost: x\r\nAPS-Instance-ID: {}\r\nAPS-Controller-URI: {}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        rig.instance,
        rig.controller_uri,
        aps::DEFAULT_BODY_LIMIT + 1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"error\":\"PayloadTooLarge\""), "{answer}");
}

#[tokio::test]
async fn json_nested_deeper_than_64_levels_is_400_from_a_client_and_502_from_the_controller() {
    let rig = Rig::start().await;
    let nested = |levels: usize| {
        let padding = format!("{}{}", "[".repeat(levels), "]".repeat(levels));
        format!(r#"{{"quota": 1, "padding": {padding}}}"#)
    };
    let post = |body: String| rig.request(Method::POST, "/mailbox/").body(body).send();
    assert_eq!(
        post(nested(63)).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let body = error(
        post(nested(64)).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "InvalidJson",
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("deeper than 64"),
        "{body}"
    );
    rig.controller.store(
        "00000000-0000-4000-8000-00000000a001",
        serde_json::from_str(&nested(64)).unwrap(),
    );
    let r = rig
        .send(
            Method::GET,
            "/mailbox/00000000-0000-4000-8000-00000000a001",
            None,
            None,
        )
        .await;
    error(r, StatusCode::BAD_GATEWAY, "InvalidControllerResponse").await;
}

#[tokio::test]
async fn a_panicking_operation_answers_500_and_the_endpoint_keeps_serving() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::POST,
            "/mailbox/",
            None,
            Some(mailbox("00000000-0000-4000-8000-00000000a001", 99)),
        )
        .await;
    let body = error(r, StatusCode::INTERNAL_SERVER_ERROR, "InternalError").await;
    assert!(
        !body["message"].as_str().unwrap().contains("quota table"),
        "{body}"
    );
    let r = rig
        .send(
            Method::POST,
            "/mailbox/",
            None,
            Some(mailbox("00000000-0000-4000-8000-00000000a002", 1)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn handler_errors_answer_their_status_and_others_500() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::POST,
            "/mailbox/",
            None,
            Some(mailbox("00000000-0000-4000-8000-00000000a001", 0)),
        )
        .await;
    let body = error(r, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert_eq!(body["message"], "quota must be positive");
    let r = rig
        .send(
            Method::POST,
            "/mailbox/",
            None,
            Some(mailbox("00000000-0000-4000-8000-00000000a001", 13)),
        )
        .await;
    let body = error(r, StatusCode::INTERNAL_SERVER_ERROR, "InternalError").await;
    assert!(
        body["message"].as_str().unwrap().contains("invalid digit"),
        "{body}"
    );
}

#[tokio::test]
async fn hostile_messages_become_clean_bounded_headers() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::POST,
            "/mailbox/",
            None,
            Some(mailbox("00000000-0000-4000-8000-00000000a001", 666)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(r.headers().get("x-injected").is_none());
    let info = r.headers()["aps-info"].as_bytes();
    assert!(info.len() <= 4096 && info.len() > 4000, "{}", info.len());
    assert!(!info.iter().any(|b| *b < 0x20 || *b == 0x7f));
}

#[tokio::test]
async fn a_base_path_mounts_the_services_and_nothing_else() {
    let endpoint = format!("http://{}", serve(app().router_at("/mail-prod")).await);
    let controller_uri = FakeController::default().start().await;
    let http = reqwest::Client::new();
    let post = |path: &str| {
        http.post(format!("{endpoint}{path}"))
            .header("APS-Instance-ID", Uuid::new_v4().to_string())
            .header("APS-Controller-URI", &controller_uri)
            .json(&mailbox("00000000-0000-4000-8000-00000000a001", 1))
    };
    assert_eq!(
        post("/mail-prod/mailbox/").send().await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let r = post("/mailbox/").send().await.unwrap();
    error(r, StatusCode::NOT_FOUND, "NotFound").await;
}

#[tokio::test]
async fn ids_that_are_not_uuids_are_400_and_never_reach_the_controller() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rig = Rig::start().await;
    // Sent as is: an HTTP client would resolve `%2e%2e` before sending.
    for path in ["/mailbox/%2e%2e", "/mailbox/..%2f..%2fetc", "/mailbox/m1"] {
        for method in ["GET", "DELETE"] {
            let address = rig.endpoint.trim_start_matches("http://");
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            let head = format!(
                "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAPS-Instance-ID: {}\r\n\
                 APS-Controller-URI: {}\r\nConnection: close\r\n\r\n",
                rig.instance, rig.controller_uri
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            assert!(
                answer.starts_with("HTTP/1.1 400"),
                "{method} {path}: {answer}"
            );
            assert!(answer.contains(r#""error":"InvalidId""#), "{answer}");
        }
    }
    assert!(rig.controller.callers.lock().unwrap().is_empty());
    let r = rig
        .send(
            Method::POST,
            "/mailbox/",
            None,
            Some(mailbox("../../etc/passwd", 1)),
        )
        .await;
    let body = error(r, StatusCode::BAD_REQUEST, "InvalidId").await;
    assert!(
        !body["message"].as_str().unwrap().contains("passwd"),
        "{body}"
    );
    let r = rig
        .send(
            Method::POST,
            "/mailbox/",
            None,
            Some(json!({"aps": {"id": 7}, "quota": 1})),
        )
        .await;
    error(r, StatusCode::BAD_REQUEST, "InvalidId").await;
}

#[tokio::test]
async fn over_plain_http_only_allowed_controllers_are_called() {
    let rig = Rig::start().await;
    let id = "00000000-0000-4000-8000-00000000a001";
    rig.controller.store(id, mailbox(id, 4));
    for elsewhere in ["http://10.255.255.1:6308", "http://controller.example/"] {
        let r = naming(&rig, elsewhere, &format!("/mailbox/{id}")).await;
        error(r, StatusCode::FORBIDDEN, "UntrustedController").await;
    }
    assert!(rig.controller.callers.lock().unwrap().is_empty());
    // The default list is loopback, where the rig's controller listens; a list replaces it.
    let r = rig
        .send(Method::GET, &format!("/mailbox/{id}"), None, None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let listed = url::Url::parse("http://controller.example:6308").unwrap();
    let strict = Rig::with(app().allow_controller(listed)).await;
    let r = strict
        .send(Method::GET, &format!("/mailbox/{id}"), None, None)
        .await;
    error(r, StatusCode::FORBIDDEN, "UntrustedController").await;
}

#[tokio::test]
async fn a_controller_that_does_not_answer_frees_the_slot_after_the_controller_timeout() {
    // A controller that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_uri = format!("http://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let app = app()
        .max_concurrency(1)
        .controller_timeout(std::time::Duration::from_millis(300));
    let rig = Rig::with(app).await;
    let id = "00000000-0000-4000-8000-00000000a001";
    rig.controller.store(id, mailbox(id, 4));
    let r = naming(&rig, &silent_uri, &format!("/mailbox/{id}")).await;
    let body = error(r, StatusCode::BAD_GATEWAY, "ControllerUnreachable").await;
    assert!(
        body["message"].as_str().unwrap().contains("did not answer"),
        "{body}"
    );
    // The only slot is free again.
    let r = rig
        .send(Method::GET, &format!("/mailbox/{id}"), None, None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// A GET whose `APS-Controller-URI` names `controller`.
async fn naming(rig: &Rig, controller: &str, path: &str) -> Response {
    rig.http
        .get(format!("{}{path}", rig.endpoint))
        .header("APS-Instance-ID", rig.instance.to_string())
        .header("APS-Controller-URI", controller)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn healthz_answers_a_probe_without_aps_headers_or_credentials() {
    let rig = Rig::start().await;
    let r = rig
        .http
        .get(format!("{}/healthz", rig.endpoint))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    // Any other method on it is not an APS operation.
    let r = rig
        .http
        .post(format!("{}/healthz", rig.endpoint))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
}
