//! `/metrics` names every metric and each moves with the work it counts; `/healthz` and
//! `/readyz` answer without credentials, `/metrics` only with `read`.

use std::collections::HashMap;
use std::time::Duration;

use aps_controller::Controller;
use aps_controller::auth::Scope;
use aps_test_support::scripted::{BASE_URL, Scripted, THING};
use serde_json::json;

/// The samples of a scrape: each line's name with labels, and its value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The sum of the samples whose name starts with `prefix`.
fn total(samples: &HashMap<String, f64>, prefix: &str) -> f64 {
    samples
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(_, value)| value)
        .sum()
}

const MOVING: [&str; 7] = [
    "aps_controller_tasks_total",
    "aps_controller_recheck_lateness_seconds_count",
    "aps_controller_endpoint_call_seconds_count",
    "aps_controller_callback_failures_total",
    "aps_controller_store_commit_seconds_count",
    "aps_controller_authentication_failures_total",
    "aps_controller_outbox_depth",
];

#[tokio::test]
async fn every_metric_is_scraped_and_moves() {
    let dir = tempfile::tempdir().expect("dir");
    let c = Controller::builder()
        .database(dir.path().join("c.db").display().to_string())
        .listen("127.0.0.1:0".parse().expect("address"))
        .tls(true)
        .time_scale(1000.0)
        .endpoint_router(BASE_URL, Scripted::default().router())
        .metrics_listen("127.0.0.1:0".parse().expect("address"))
        .start()
        .await
        .expect("controller");
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(c.ca_pem().as_bytes()).expect("ca"))
        .build()
        .expect("client");
    let get = |path: &'static str, token: Option<String>| {
        let mut request = http.get(format!("{}{path}", c.url()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    for path in ["/healthz", "/readyz"] {
        assert_eq!(get(path, None).await.expect(path).status(), 200, "{path}");
    }
    assert_eq!(get("/metrics", None).await.expect("metrics").status(), 401);
    // On its own address, /metrics asks nothing.
    let apart = c.metrics_addr().expect("metrics address");
    let text = reqwest::get(format!("http://{apart}/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains("# TYPE aps_controller_tasks counter"),
        "{text}"
    );
    let read = c
        .tokens()
        .create("prometheus", Scope::Read, None)
        .await
        .expect("token");
    let scrape = || async {
        let answer = get("/metrics", Some(read.token.clone()))
            .await
            .expect("scrape");
        assert_eq!(answer.status(), 200);
        samples(&answer.text().await.expect("text"))
    };
    let before = scrape().await;

    // Work that moves each metric: a task with a recheck and a busy answer, a callback that
    // cannot be delivered, a refused token, and a long poll waiting.
    let client = c.client();
    let package = c.import(&Scripted::model()).await.expect("import").id;
    let install = client
        .install(package, BASE_URL, json!({}))
        .await
        .expect("install");
    let app = client
        .wait(install.id, |_| {})
        .await
        .expect("installed")
        .application;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let nowhere = format!("http://{}/hook", closed.local_addr().expect("addr"));
    drop(closed);
    let body = json!({
        "application": app,
        "resource": {"aps": {"type": THING}, "plan": ["accept", "503:1", "done"]},
        "callbackURL": nowhere,
        "timeout": 0,
    });
    let task = client
        .send(reqwest::Method::POST, "/api/v1/resources", Some(&body))
        .await
        .expect("provision");
    let id = task.body["id"].as_str().expect("id").parse().expect("uuid");
    client.wait(id, |_| {}).await.expect("done");
    let refused = get("/api/v1/tasks", Some("apsc_0123456789abcdef_wrong".into())).await;
    assert_eq!(refused.expect("answer").status(), 401);
    // A task that waits an hour (3.6 s here) for its next call, and a long poll on it.
    let slow = client
        .provision(app, THING, json!({"plan": ["503:3600"]}))
        .await
        .expect("provision");
    let seen = client
        .poll(slow.id, slow.revision, 5)
        .await
        .expect("first change");
    let seen = client.poll(slow.id, seen.revision, 5).await.expect("busy");
    let poll = tokio::spawn({
        let client = c.client();
        async move { client.poll(slow.id, seen.revision, 30).await }
    });

    // Polled: the outbox and the long poll are states, and the scrape must catch them.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let after = loop {
        let after = scrape().await;
        let moved = MOVING
            .iter()
            .all(|name| total(&after, name) > total(&before, name));
        if moved && total(&after, "aps_controller_long_polls_waiting") >= 1.0 {
            break after;
        }
        let stuck: Vec<_> = MOVING
            .iter()
            .filter(|name| total(&after, name) <= total(&before, name))
            .collect();
        assert!(
            std::time::Instant::now() < deadline,
            "not moving: {stuck:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    for name in MOVING
        .iter()
        .chain(["aps_controller_long_polls_waiting"].iter())
    {
        assert!(
            before.keys().any(|k| k.starts_with(name)) || after.keys().any(|k| k.starts_with(name)),
            "{name}"
        );
    }
    assert!(
        after.contains_key(r#"aps_controller_tasks_total{operation="provision",state="success"}"#),
        "{after:?}"
    );
    assert!(
        after.contains_key(r#"aps_controller_endpoint_call_seconds_count{status="503"}"#),
        "{after:?}"
    );
    client
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/tasks/{}/cancel", slow.id),
            None,
        )
        .await
        .expect("cancel");
    poll.await.expect("poll").expect("answer");
}
