//! The APS protocol over real HTTP on loopback: every route, phase, status and error.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use support::{FakeController, app, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

/// An endpoint and a controller, both listening on loopback.
struct Rig {
    endpoint: String,
    controller: FakeController,
    controller_uri: String,
    instance: Uuid,
    http: reqwest::Client,
}

impl Rig {
    async fn start() -> Self {
        Self::with(app()).await
    }

    async fn with(app: aps::App) -> Self {
        let controller = FakeController::default();
        let controller_uri = controller.clone().start().await;
        Self {
            endpoint: format!("http://{}", serve(app.router()).await),
            controller,
            controller_uri,
            instance: Uuid::new_v4(),
            http: reqwest::Client::new(),
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.endpoint))
            .header("APS-Instance-ID", self.instance.to_string())
            .header("APS-Controller-URI", &self.controller_uri)
            .header("APS-Transaction-ID", "txn-42")
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        phase: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.request(method, path);
        if let Some(phase) = phase {
            request = request.header("APS-Request-Phase", phase);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }
}

fn mailbox(id: &str, quota: u64) -> Value {
    json!({"aps": {"id": id, "type": "http://example.com/mail/mailbox/1.0", "status": "aps:provisioning"},
           "quota": quota, "fromANewerController": {"kept": [1, 2]}})
}

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map_or("", |v| v.to_str().unwrap())
}

/// Asserts an APS error answer and returns its body.
async fn error(response: Response, status: StatusCode, name: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(header(&response, "content-type"), "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], status.as_u16());
    assert_eq!(body["error"], name, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    body
}

#[tokio::test]
async fn provision_sync_answers_202_with_info_retry_and_the_changed_resource() {
    let rig = Rig::start().await;
    let r = rig
        .send(Method::POST, "/mailbox/", None, Some(mailbox("m1", 5)))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&r, "aps-info"), "Creating the mailbox");
    assert_eq!(
        header(&r, "aps-retry-timeout"),
        "1",
        "a recheck of 0 is clamped to 1"
    );
    assert_eq!(header(&r, "aps-transaction-id"), "txn-42");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["job"], format!("job-for-{}", rig.instance));
    assert_eq!(body["fromANewerController"], json!({"kept": [1, 2]}));
    assert_eq!(body["aps"]["status"], "aps:provisioning");
}

#[tokio::test]
async fn a_request_without_a_transaction_id_gets_one_in_its_answer() {
    let rig = Rig::start().await;
    let r = rig
        .http
        .post(format!("{}/mailbox/", rig.endpoint))
        .header("APS-Instance-ID", rig.instance.to_string())
        .header("APS-Controller-URI", &rig.controller_uri)
        .json(&json!({"quota": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let txn = header(&r, "aps-transaction-id");
    assert!(Uuid::parse_str(txn).is_ok(), "{txn}");
}

#[tokio::test]
async fn provision_without_trailing_slash_and_explicit_sync_phase_is_the_same() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::POST,
            "/mailbox",
            Some("sync"),
            Some(mailbox("m1", 5)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn async_phase_reaches_the_twin_and_done_answers_201_with_the_resource() {
    let rig = Rig::start().await;
    let r = rig
        .send(
            Method::POST,
            "/mailbox/",
            Some("async"),
            Some(mailbox("m1", 5)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["quota"], 5);
    assert_eq!(body["fromANewerController"]["kept"][1], 2);
}

#[tokio::test]
async fn install_on_the_root_service_succeeds_at_once() {
    let rig = Rig::start().await;
    let globals = json!({"aps": {"id": "g1", "type": "http://example.com/mail/globals/1.0",
                                 "subscription": "s1", "fromLater": {"kept": true}}});
    let r = rig
        .send(Method::POST, "/globals/", None, Some(globals.clone()))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap(), globals);
}

#[tokio::test]
async fn an_install_with_unusable_credentials_is_400() {
    let rig = Rig::start().await;
    let globals = json!({"aps": {"id": "g1", "x509": {"self": "PEM", "controller": "PEM"}}});
    let r = rig
        .send(Method::POST, "/globals/", None, Some(globals))
        .await;
    error(r, StatusCode::BAD_REQUEST, "InvalidCredentials").await;
    let globals = json!({"aps": {"id": "g1", "x509": "not an object"}});
    let r = rig
        .send(Method::POST, "/globals/", None, Some(globals))
        .await;
    error(r, StatusCode::BAD_REQUEST, "InvalidCredentials").await;
}

#[tokio::test]
async fn configure_keeps_the_new_values_by_default() {
    let rig = Rig::start().await;
    let r = rig
        .send(Method::PUT, "/mailbox/m1", None, Some(mailbox("m1", 9)))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["quota"], 9);
    assert_eq!(body["fromANewerController"]["kept"][0], 1);
}

#[tokio::test]
async fn configure_can_go_async_and_use_the_controller_client() {
    let rig = Rig::start().await;
    rig.controller.store("m1", mailbox("m1", 4));
    let r = rig
        .send(Method::PUT, "/mailbox/m1", None, Some(mailbox("m1", 2000)))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&r, "aps-info"), "Growing the mailbox");
    assert_eq!(header(&r, "aps-retry-timeout"), "2");
    let r = rig
        .send(
            Method::PUT,
            "/mailbox/m1",
            Some("async"),
            Some(mailbox("m1", 2000)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["quota"].as_u64(), body["grownFrom"].as_u64()),
        (Some(2000), Some(4))
    );
    let stored = rig.controller.resources.lock().unwrap()["m1"].clone();
    assert_eq!(
        stored["grownFrom"], 4,
        "updated through the controller client"
    );
    assert_eq!(
        *rig.controller.callers.lock().unwrap(),
        [rig.instance.to_string(), rig.instance.to_string()]
    );
}

#[tokio::test]
async fn configure_takes_the_id_from_the_url_and_refuses_another() {
    let rig = Rig::start().await;
    let r = rig
        .send(Method::PUT, "/mailbox/m1", None, Some(json!({"quota": 3})))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["aps"]["id"], "m1");
    let r = rig
        .send(Method::PUT, "/mailbox/m1", None, Some(mailbox("m2", 3)))
        .await;
    let body = error(r, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert!(body["message"].as_str().unwrap().contains("m2"));
}

#[tokio::test]
async fn a_forgotten_async_twin_fails_naming_the_method_to_implement() {
    let rig = Rig::start().await;
    let r = rig
        .send(Method::PUT, "/forgetful/f1", Some("async"), Some(json!({})))
        .await;
    let body = error(r, StatusCode::NOT_IMPLEMENTED, "NotImplemented").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("implement `configure_async`"),
        "{body}"
    );
    rig.controller.store("f1", json!({"aps": {"id": "f1"}}));
    let r = rig
        .send(Method::DELETE, "/forgetful/f1", Some("async"), None)
        .await;
    let body = error(r, StatusCode::NOT_IMPLEMENTED, "NotImplemented").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("implement `unprovision_async`"),
        "{body}"
    );
    let r = rig
        .send(Method::POST, "/forgetful/", Some("async"), Some(json!({})))
        .await;
    let body = error(r, StatusCode::NOT_IMPLEMENTED, "NotImplemented").await;
    assert!(
        body["message"].as_str().unwrap().contains("Forgetful"),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("`provision_async`"),
        "{body}"
    );
}

#[tokio::test]
async fn retrieve_loads_the_resource_from_the_controller_as_the_instance() {
    let rig = Rig::start().await;
    rig.controller.store("m1", mailbox("m1", 4));
    let r = rig.send(Method::GET, "/mailbox/m1", None, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["quota"].as_u64(), body["usage"].as_u64()),
        (Some(4), Some(42))
    );
    assert_eq!(body["fromANewerController"]["kept"][0], 1);
    assert_eq!(
        *rig.controller.callers.lock().unwrap(),
        [rig.instance.to_string()]
    );
}

#[tokio::test]
async fn unprovision_goes_async_then_answers_204() {
    let rig = Rig::start().await;
    rig.controller.store("m1", mailbox("m1", 4));
    let r = rig.send(Method::DELETE, "/mailbox/m1", None, None).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&r, "aps-info"), "Removing the mailbox");
    assert_eq!(header(&r, "aps-retry-timeout"), "5");
    let r = rig
        .send(Method::DELETE, "/mailbox/m1", Some("async"), None)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn unprovision_that_finishes_at_once_answers_204_and_head_is_a_retrieve() {
    let rig = Rig::start().await;
    rig.controller.store("g1", json!({"aps": {"id": "g1"}}));
    let r = rig.send(Method::DELETE, "/globals/g1", None, None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    rig.controller.store("m1", mailbox("m1", 4));
    let r = rig.send(Method::HEAD, "/mailbox/m1", None, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "content-type"), "application/json");
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_resource_from_the_controller_that_does_not_fit_its_type_is_502() {
    let rig = Rig::start().await;
    rig.controller
        .store("m1", json!({"aps": {"id": "m1"}, "quota": "plenty"}));
    let r = rig.send(Method::GET, "/mailbox/m1", None, None).await;
    let body = error(r, StatusCode::BAD_GATEWAY, "InvalidControllerResponse").await;
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("controller sent") && message.contains("quota"),
        "{body}"
    );
    rig.controller.store("m2", json!(["not", "a", "resource"]));
    let r = rig.send(Method::DELETE, "/mailbox/m2", None, None).await;
    error(r, StatusCode::BAD_GATEWAY, "InvalidControllerResponse").await;
}

#[tokio::test]
async fn a_resource_the_controller_does_not_know_is_404() {
    let rig = Rig::start().await;
    let r = rig.send(Method::GET, "/mailbox/nobody", None, None).await;
    let body = error(r, StatusCode::NOT_FOUND, "ResourceNotFound").await;
    assert!(body["message"].as_str().unwrap().contains("nobody"));
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
            .request(method, format!("{}/mailbox/m1", rig.endpoint))
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
    let body = mailbox("m1", 1).to_string();
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
        .send(Method::GET, "/mailbox/m1/extra/path", None, None)
        .await;
    error(r, StatusCode::NOT_FOUND, "NotFound").await;
    let r = rig.send(Method::GET, "/", None, None).await;
    error(r, StatusCode::NOT_FOUND, "NotFound").await;
    for path in ["/nothing/", "/nothing/x"] {
        let r = rig.send(Method::PATCH, path, None, None).await;
        error(r, StatusCode::NOT_FOUND, "NotFound").await;
    }
    let r = rig
        .send(Method::PATCH, "/mailbox/m1", None, Some(json!({})))
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
    rig.controller
        .store("m1", serde_json::from_str(&nested(64)).unwrap());
    let r = rig.send(Method::GET, "/mailbox/m1", None, None).await;
    error(r, StatusCode::BAD_GATEWAY, "InvalidControllerResponse").await;
}

#[tokio::test]
async fn a_panicking_operation_answers_500_and_the_endpoint_keeps_serving() {
    let rig = Rig::start().await;
    let r = rig
        .send(Method::POST, "/mailbox/", None, Some(mailbox("m1", 99)))
        .await;
    let body = error(r, StatusCode::INTERNAL_SERVER_ERROR, "InternalError").await;
    assert!(
        !body["message"].as_str().unwrap().contains("quota table"),
        "{body}"
    );
    let r = rig
        .send(Method::POST, "/mailbox/", None, Some(mailbox("m2", 1)))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn handler_errors_answer_their_status_and_others_500() {
    let rig = Rig::start().await;
    let r = rig
        .send(Method::POST, "/mailbox/", None, Some(mailbox("m1", 0)))
        .await;
    let body = error(r, StatusCode::BAD_REQUEST, "BadRequest").await;
    assert_eq!(body["message"], "quota must be positive");
    let r = rig
        .send(Method::POST, "/mailbox/", None, Some(mailbox("m1", 13)))
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
        .send(Method::POST, "/mailbox/", None, Some(mailbox("m1", 666)))
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
            .json(&mailbox("m1", 1))
    };
    assert_eq!(
        post("/mail-prod/mailbox/").send().await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let r = post("/mailbox/").send().await.unwrap();
    error(r, StatusCode::NOT_FOUND, "NotFound").await;
}
