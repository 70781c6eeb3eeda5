//! What the client API checks at the door (issue #17): callback and endpoint URLs, ids, the
//! root resource (removed only by uninstalling), and `type` filters by service id.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use common::{THING, get, http, provision, scripted, thing, upload};
use reqwest::Method;
use serde_json::{Value, json};

async fn refused(
    c: &aps_controller::testkit::TestController,
    method: Method,
    path: &str,
    body: Value,
) -> Value {
    let (status, _, answer) = http(c, method, path, Some(body), &[]).await;
    assert_eq!(status, 400, "{path}: {answer}");
    assert_eq!(answer["code"], 400);
    answer
}

#[tokio::test]
async fn callback_urls_are_checked_and_never_echoed() {
    let (c, _) = scripted().await;
    let huge = format!("http://127.0.0.1:9/{}", "a".repeat(900 * 1024));
    let too_long = format!("http://127.0.0.1:9/{}", "a".repeat(2048));
    for url in [
        huge.as_str(),
        too_long.as_str(),
        "ftp://127.0.0.1/x",
        "http://",
        "x",
    ] {
        let body = json!({"application": c.application(), "resource": thing(&[]),
                          "callbackURL": url, "timeout": 0});
        let answer = refused(&c, Method::POST, "/api/v1/resources", body).await;
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains("callbackURL"), "{answer}");
        assert!(message.len() < 200, "the URL is not echoed: {message}");
    }
    let (status, _, _) = provision(&c, &[], json!({"callbackURL": "http://127.0.0.1:9/cb"})).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn endpoint_urls_with_a_query_fragment_or_user_are_refused_at_install() {
    let (c, _) = scripted().await;
    let package = upload(&c.controller().url()).await["id"].clone();
    for endpoint in [
        "http://127.0.0.1:19999/anything?x=1",
        "http://127.0.0.1:19999/anything#x",
        "http://user:secret@127.0.0.1:19999/anything",
        "mailto:ops@example.com",
    ] {
        let body = json!({"package": package, "endpoint": endpoint, "timeout": 0});
        let answer = refused(&c, Method::POST, "/api/v1/applications", body).await;
        assert!(
            !answer["message"].as_str().unwrap().contains("secret"),
            "{answer}"
        );
    }
    let (_, _, apps) = get(&c, "/api/v1/applications").await;
    assert_eq!(apps["items"].as_array().unwrap().len(), 1, "nothing stored");
}

#[tokio::test]
async fn ids_must_be_uuids_in_paths_and_in_bodies() {
    let (c, endpoint) = scripted().await;
    for path in [
        "/api/v1/resources/..%2f..%2fetc",
        "/api/v1/applications/x",
        "/aps/2/resources/not-an-id",
    ] {
        let (status, _, answer) = http(&c, Method::GET, path, None, &[]).await;
        assert_eq!(status, 400, "{path}: {answer}");
        assert_eq!(answer["error"], "InvalidId");
    }
    let body = json!({"application": c.application(), "timeout": 0,
                      "resource": {"aps": {"type": THING, "id": "../../etc/passwd"}}});
    let answer = refused(&c, Method::POST, "/api/v1/resources", body).await;
    assert!(!answer["message"].as_str().unwrap().contains("passwd"));
    assert!(
        endpoint
            .calls()
            .iter()
            .all(|seen| seen.method != Method::POST || seen.path != "/thing/"),
        "nothing reached the endpoint"
    );
}

#[tokio::test]
async fn type_filters_take_the_service_id_as_provisioning_does() {
    let (c, _) = scripted().await;
    let (status, _, made) = provision(&c, &[], json!({})).await;
    assert_eq!(status, 201, "{made}");
    for filter in [THING, "thing"] {
        let query = url_of_filter(filter);
        let (_, _, found) = get(&c, &format!("/api/v1/resources?type={query}")).await;
        let items = found["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{filter}: {found}");
        assert_eq!(items[0]["aps"]["id"], made["aps"]["id"]);
    }
    let (_, _, none) = get(&c, "/api/v1/resources?type=nothing").await;
    assert_eq!(none["items"], json!([]));
}

fn url_of_filter(filter: &str) -> String {
    url::form_urlencoded::byte_serialize(filter.as_bytes()).collect()
}

#[tokio::test]
async fn the_root_is_removed_only_by_uninstalling_the_instance() {
    let (c, endpoint) = scripted().await;
    let app = c.application();
    let (_, _, instance) = get(&c, &format!("/api/v1/applications/{app}")).await;
    let root = instance["root"]["aps"]["id"].as_str().unwrap().to_owned();

    let (status, _, answer) = http(
        &c,
        Method::DELETE,
        &format!("/api/v1/resources/{root}"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"], "RootResource");
    let route = format!("DELETE /api/v1/applications/{app}");
    assert!(
        answer["message"].as_str().unwrap().contains(&route),
        "{answer}"
    );

    // Its other resources go first.
    let (_, _, thing) = provision(&c, &[], json!({})).await;
    let thing = thing["aps"]["id"].as_str().unwrap().to_owned();
    let uninstall = format!("/api/v1/applications/{app}");
    let (status, _, answer) = http(&c, Method::DELETE, &uninstall, None, &[]).await;
    assert_eq!(status, 409, "{answer}");
    let (status, _, _) = http(
        &c,
        Method::DELETE,
        &format!("/api/v1/resources/{thing}"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 204);

    let (status, _, answer) = http(&c, Method::DELETE, &uninstall, None, &[]).await;
    assert_eq!(status, 204, "{answer}");
    let removed = endpoint
        .calls()
        .into_iter()
        .filter(|seen| seen.method == Method::DELETE && seen.path == format!("/app/{root}"))
        .count();
    assert_eq!(removed, 1, "the root was unprovisioned on the endpoint");
    let (status, _, _) = get(&c, &uninstall).await;
    assert_eq!(status, 404, "the instance is forgotten");
    let (status, _, _) = http(&c, Method::DELETE, &uninstall, None, &[]).await;
    assert_eq!(status, 404);
}

/// Sends a raw request head to the controller and reads the whole answer.
async fn raw(c: &aps_controller::testkit::TestController, head: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = c.controller().url();
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!("{head}Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_missing_or_second_host_and_a_64_kib_header_are_answered_in_the_aps_shape() {
    let (c, _) = scripted().await;
    let answer = raw(&c, "GET /api/v1/tasks HTTP/1.1\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains(r#""error":"InvalidHost""#), "{answer}");
    let answer = raw(&c, "GET /api/v1/tasks HTTP/1.1\r\nHost: a\r\nHost: b\r\n").await;
    assert!(answer.contains(r#""error":"InvalidHost""#), "{answer}");
    let big = "x".repeat(64 * 1024);
    let answer = raw(
        &c,
        &format!("GET /api/v1/tasks HTTP/1.1\r\nHost: a\r\nX-Big: {big}\r\n"),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert!(answer.contains(r#""code":431"#), "{answer}");
}

#[tokio::test]
async fn numbers_are_stored_and_answered_exactly() {
    let (c, _) = scripted().await;
    let big = "123456789012345678901234567890123456789012345678901234567890";
    let body = format!(
        r#"{{"application": "{}", "timeout": 30,
            "resource": {{"aps": {{"type": "{THING}"}}, "big": {big}, "ratio": 0.1}}}}"#,
        c.application()
    );
    let url = c.controller().url();
    let made = reqwest::Client::new()
        .post(format!("{url}/api/v1/resources"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let made = made.text().await.unwrap();
    assert!(made.contains(&format!(r#""big":{big}"#)), "{made}");
    let made: Value = serde_json::from_str(&made).unwrap();
    let id = made["aps"]["id"].as_str().unwrap();
    let stored = reqwest::get(format!("{url}/api/v1/resources/{id}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(stored.contains(&format!(r#""big":{big}"#)), "{stored}");
    assert!(stored.contains(r#""ratio":0.1"#), "{stored}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_polls_count_against_their_clients_share_of_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let builder = aps_controller::Controller::builder()
        .time_scale(1000.0)
        .max_connections_per_client(2);
    let (c, _) = common::scripted_with(builder).await;
    let task = c
        .client()
        .provision(
            c.application(),
            THING,
            json!({"plan": ["accept", "accept", "done"]}),
        )
        .await
        .unwrap();
    let url = c.controller().url();
    let server: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let connect = |client: [u8; 4]| async move {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(std::net::SocketAddr::from((client, 0)))
            .unwrap();
        socket.connect(server).await.unwrap()
    };
    // Two long polls of one client, each on its own connection, waiting for a revision the
    // task will not reach.
    let poll = format!(
        "GET /api/v1/tasks/{}?poll_timeout=120&since_revision=1000 HTTP/1.1\r\nHost: c\r\n\r\n",
        task.id
    );
    let mut polls = Vec::new();
    for _ in 0..2 {
        let mut stream = connect([127, 0, 0, 5]).await;
        stream.write_all(poll.as_bytes()).await.unwrap();
        polls.push(stream);
    }
    let once = |client: [u8; 4]| async move {
        let mut stream = connect(client).await;
        let head = "GET /api/v1/tasks?limit=1 HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n";
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        String::from_utf8_lossy(&answer).into_owned()
    };
    // Both polls must be in before the third connection is tried: connections are admitted
    // in their own tasks, so a probe could otherwise take a poll's place.
    let mut waiting = 0;
    for _ in 0..500 {
        let metrics = reqwest::get(format!("{url}/metrics")).await.unwrap();
        let text = metrics.text().await.unwrap();
        waiting = text
            .lines()
            .find_map(|l| l.strip_prefix("aps_controller_long_polls_waiting "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0) as u32;
        if waiting >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(waiting, 2, "both long polls wait");
    let mut refused = String::new();
    for _ in 0..100 {
        refused = once([127, 0, 0, 5]).await;
        if refused.starts_with("HTTP/1.1 429") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    assert!(
        refused.contains(r#""error":"TooManyConnections""#),
        "{refused}"
    );
    let served = once([127, 0, 0, 6]).await;
    assert!(
        served.starts_with("HTTP/1.1 200"),
        "another client is served: {served}"
    );
    drop(polls);
}
