//! Callbacks: signed the Standard Webhooks way, delivered at least once, kept across restarts.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::net::SocketAddr;

use aps_controller::{Client, Controller, State};
use common::{Binary, Receiver, Scripted, THING, eventually, serve, serve_at};
use reqwest::Method;
use serde_json::{Value, json};

async fn provision_with_callback(client: &Client, app: uuid::Uuid, callback: &str) -> Value {
    let body = json!({"application": app, "resource": {"aps": {"type": THING}, "plan": ["accept", "done"]}, "callbackURL": callback});
    let answer = client
        .send(Method::POST, "/api/v1/resources", Some(&body))
        .await
        .unwrap();
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body
}

#[tokio::test]
async fn callbacks_are_signed_and_keep_the_token_in_the_url() {
    let (c, _) = common::scripted().await;
    let receiver = Receiver::default();
    let url = serve(receiver.router()).await;
    provision_with_callback(
        c.client(),
        c.application(),
        &format!("{url}/hook?token=s3cr3t&x=1"),
    )
    .await;
    eventually(10, || receiver.deliveries().len() == 1).await;
    let (headers, query, body) = receiver.deliveries().remove(0);
    assert_eq!(query, "token=s3cr3t&x=1");
    let secret = c.controller().webhook_secret().to_string();
    let webhook = standardwebhooks::Webhook::new(&secret).unwrap();
    webhook
        .verify(body.as_bytes(), &headers)
        .expect("the signature verifies independently");
    let task: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(task["state"], "success");
    assert!(
        !body.contains("s3cr3t"),
        "the callback URL is not in the task JSON"
    );
    let (_, _, shown) = common::http(
        &c,
        Method::GET,
        &format!("/api/v1/tasks/{}", task["id"].as_str().unwrap()),
        None,
        &[],
    )
    .await;
    assert!(!shown.to_string().contains("s3cr3t"));
}

#[tokio::test]
async fn a_failing_receiver_gets_the_same_message_again() {
    let (c, _) = common::scripted().await;
    let receiver = Receiver::default();
    *receiver.failures.lock().unwrap() = 2;
    let url = serve(receiver.router()).await;
    provision_with_callback(c.client(), c.application(), &format!("{url}/hook")).await;
    eventually(20, || receiver.deliveries().len() == 3).await;
    let ids: Vec<_> = receiver
        .deliveries()
        .iter()
        .map(|(h, _, _)| h["webhook-id"].clone())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one webhook-id for every retry"
    );
    let secret = c.controller().webhook_secret().to_string();
    for (headers, _, body) in receiver.deliveries() {
        standardwebhooks::Webhook::new(&secret)
            .unwrap()
            .verify(body.as_bytes(), &headers)
            .unwrap();
    }
}

#[tokio::test]
async fn an_undelivered_callback_is_delivered_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("controller.db");
    let endpoint = serve(Scripted::default().router()).await;
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let receiver_addr: SocketAddr = free.local_addr().unwrap();
    drop(free);
    let start = || {
        Controller::builder()
            .database(db.to_string_lossy())
            .listen("127.0.0.1:0".parse().unwrap())
            .time_scale(1000.0)
            .start()
    };
    let first = start().await.unwrap();
    let package = first.import(&Scripted::model()).await.unwrap();
    let client = first.client();
    let install = client
        .install(package.id, &endpoint, json!({}))
        .await
        .unwrap();
    let install = client.wait(install.id, |_| {}).await.unwrap();
    assert_eq!(install.state, State::Success);
    let resource = provision_with_callback(
        &client,
        install.application,
        &format!("http://{receiver_addr}/hook?token=t"),
    )
    .await;
    let secret = first.webhook_secret().to_string();
    drop(first);
    let receiver = Receiver::default();
    serve_at(receiver_addr, receiver.router()).await;
    let second = start().await.unwrap();
    assert_eq!(
        second.webhook_secret().to_string(),
        secret,
        "the secret is kept in the database"
    );
    eventually(20, || !receiver.deliveries().is_empty()).await;
    let (headers, query, body) = receiver.deliveries().remove(0);
    assert_eq!(query, "token=t");
    standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .verify(body.as_bytes(), &headers)
        .unwrap();
    let task: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(task["resource"]["id"], resource["aps"]["id"]);
}

#[tokio::test]
async fn callbacks_go_only_to_allowed_hosts_and_redirects_are_not_followed() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let builder = Controller::builder()
        .time_scale(1000.0)
        .callback_hosts(vec!["127.0.0.1".into()]);
    let (c, _) = common::scripted_with(builder).await;
    let receiver = Receiver::default();
    let target = format!("{}/hook", serve(receiver.router()).await);
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let redirector = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            let target = target.clone();
            async move { axum::response::Redirect::temporary(&target) }
        }),
    );
    let redirecting = format!("{}/hook", serve(redirector).await);
    provision_with_callback(c.client(), c.application(), &redirecting).await;
    eventually(10, || hits.load(Ordering::SeqCst) >= 3).await;
    assert!(
        receiver.deliveries().is_empty(),
        "a redirect is a failed delivery, retried, never followed"
    );

    let elsewhere = redirecting.replace("127.0.0.1", "localhost");
    let body = json!({"application": c.application(), "resource": {"aps": {"type": THING}}, "callbackURL": elsewhere});
    let answer = c
        .client()
        .send(Method::POST, "/api/v1/resources", Some(&body))
        .await
        .unwrap();
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        !answer.body.to_string().contains("localhost"),
        "the URL is not echoed"
    );
}

/// The real binary with every log on: neither the webhook secret, nor a token or password in a
/// callback URL (delivered, refused once, or unreachable), nor an instance key shows in its
/// output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let secret = aps_controller::Secret::generate().to_string();
    let endpoint = serve(Scripted::default().router()).await;
    let receiver = Receiver::default();
    *receiver.failures.lock().unwrap() = 1;
    let hook = serve(receiver.router())
        .await
        .replace("http://", "http://hookuser:pa55w0rd@");
    let hook = format!("{hook}/hook?token=T0KEN-live&x=1");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!(
        "http://{}/hook?token=T0KEN-dead",
        closed.local_addr().unwrap()
    );
    drop(closed);
    let args = [
        "serve",
        "--insecure-http",
        "--listen",
        "127.0.0.1:0",
        "--time-scale",
        "1000",
    ];
    let env = [
        ("RUST_LOG", "debug,aps_controller=trace"),
        ("APS_CONTROLLER_WEBHOOK_SECRET", secret.as_str()),
    ];
    let mut serving = Binary::start(dir.path(), &args, &env);
    let url = serving.listening().await;
    let client = Client::new(&url);
    let package = common::upload(&url).await["id"].clone();

    let install = json!({"package": package, "endpoint": endpoint, "callbackURL": hook});
    let answer = client
        .send(Method::POST, "/api/v1/applications", Some(&install))
        .await
        .unwrap();
    assert!(answer.status < 300, "{}", answer.body);
    let app: uuid::Uuid = answer.body["id"].as_str().unwrap().parse().unwrap();
    provision_with_callback(&client, app, &hook).await;
    provision_with_callback(&client, app, &dead).await;
    // Two deliveries, one of them after a refusal; the dead URL failing again and again.
    eventually(30, || receiver.deliveries().len() >= 3).await;
    eventually(30, || {
        serving.stderr().matches("callback failed").count() >= 3
    })
    .await;

    for (headers, query, body) in receiver.deliveries() {
        assert_eq!(query, "token=T0KEN-live&x=1");
        standardwebhooks::Webhook::new(&secret)
            .unwrap()
            .verify(body.as_bytes(), &headers)
            .unwrap();
    }
    let logged = serving.kill().await;
    assert!(logged.contains("DEBUG"), "the debug logs were on: {logged}");
    assert!(logged.contains("callback delivered"), "{logged}");
    let key = secret.trim_start_matches("whsec_");
    for hidden in [key, "T0KEN", "pa55w0rd", "hookuser", "PRIVATE KEY"] {
        assert!(!logged.contains(hidden), "`{hidden}` was logged: {logged}");
    }
}

#[tokio::test]
async fn install_configure_and_unprovision_tasks_end_with_a_signed_callback() {
    let (c, _) = common::scripted().await;
    let receiver = Receiver::default();
    let hook = format!("{}/hook", serve(receiver.router()).await);
    let client = c.client();
    let package = common::upload(&c.controller().url()).await;
    let endpoint = serve(Scripted::default().router()).await;
    let plan = json!(["accept", "done"]);
    let mut tasks = vec![];

    let install = json!({"package": package["id"], "endpoint": endpoint, "settings": {"plan": plan},
        "timeout": 0, "callbackURL": format!("{hook}?op=install")});
    let answer = client
        .send(Method::POST, "/api/v1/applications", Some(&install))
        .await
        .unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    tasks.push(("install", answer.body["id"].clone()));
    let app = client
        .wait(answer.body["id"].as_str().unwrap().parse().unwrap(), |_| {})
        .await
        .unwrap()
        .application;

    let resource = json!({"application": app, "resource": {"aps": {"type": THING}, "plan": plan}});
    let answer = client
        .send(Method::POST, "/api/v1/resources", Some(&resource))
        .await
        .unwrap();
    assert_eq!(answer.status, 201, "{}", answer.body);
    let href = format!(
        "/api/v1/resources/{}",
        answer.body["aps"]["id"].as_str().unwrap()
    );
    for (operation, method, body) in [
        ("configure", Method::PUT, json!({"resource": {"size": 2}})),
        ("unprovision", Method::DELETE, json!({})),
    ] {
        let mut body = body;
        body["timeout"] = json!(0);
        body["callbackURL"] = json!(format!("{hook}?op={operation}"));
        let answer = client.send(method, &href, Some(&body)).await.unwrap();
        assert_eq!(answer.status, 202, "{operation}: {}", answer.body);
        let id: uuid::Uuid = answer.body["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(client.wait(id, |_| {}).await.unwrap().state, State::Success);
        tasks.push((operation, answer.body["id"].clone()));
    }

    eventually(20, || receiver.deliveries().len() >= 3).await;
    let webhook =
        standardwebhooks::Webhook::new(&c.controller().webhook_secret().to_string()).unwrap();
    let deliveries = receiver.deliveries();
    for (operation, id) in tasks {
        let query = format!("op={operation}");
        let (headers, _, body) = deliveries
            .iter()
            .find(|(_, q, _)| *q == query)
            .unwrap_or_else(|| panic!("no callback for {operation}: {deliveries:?}"));
        webhook
            .verify(body.as_bytes(), headers)
            .unwrap_or_else(|e| panic!("{operation}: the signature does not verify: {e}"));
        let task: Value = serde_json::from_str(body).unwrap();
        assert_eq!(task["id"], id, "{operation}");
        assert_eq!(task["operation"], operation);
        assert_eq!(task["state"], "success", "{operation}: {task}");
        assert!(task["completionTime"].is_string(), "the final task: {task}");
    }
}
