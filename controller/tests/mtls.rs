//! The APS certificate model over real TLS on loopback: the controller installs instances on an
//! https endpoint that demands a client certificate from the controller's CA, sends each
//! instance its credentials in `aps.x509`, and then lets `/aps/2` be used only with the
//! certificate it issued to the instance owning the resource.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::sync::{Arc, Mutex};

use aps_controller::{Client, Controller, State};
use axum::extract::State as Shared;
use axum::routing::post;
use axum::{Json, Router};
use common::Scripted;
use reqwest::StatusCode;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};
use uuid::Uuid;

/// The install bodies an endpoint received.
type Bodies = Arc<Mutex<Vec<Value>>>;

/// An https endpoint that accepts only clients with a certificate from `ca_pem`, records install
/// bodies, and echoes them back (credentials included, which the controller must drop).
async fn tls_endpoint(ca_pem: &str) -> (String, Bodies) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider.clone())
            .build()
            .unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(
        made.signing_key.serialize_pem().as_bytes(),
    )
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![made.cert.der().clone()], key)
        .unwrap();
    let bodies = Bodies::default();
    let router = Router::new()
        .route(
            "/{service}/",
            post(
                |Shared(b): Shared<Bodies>,
                 head: axum::http::HeaderMap,
                 Json(body): Json<Value>| async move {
                    b.lock().unwrap().push(body.clone());
                    let sync = head.get("aps-request-phase").is_none_or(|p| p == "sync");
                    // An install with `plan: "slow"` goes async first (recheck in 30 s).
                    let status = if sync && body["plan"] == "slow" {
                        202
                    } else {
                        200
                    };
                    let status = axum::http::StatusCode::from_u16(status).unwrap();
                    (status, [("aps-retry-timeout", "30")], Json(body))
                },
            ),
        )
        .with_state(bodies.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
    tokio::spawn(axum_server::from_tcp_rustls(listener, tls).serve(router.into_make_service()));
    (format!("https://localhost:{}", addr.port()), bodies)
}

async fn tls_controller(dir: &std::path::Path) -> Controller {
    tls_controller_at(dir, 1000.0).await
}

async fn tls_controller_at(dir: &std::path::Path, time_scale: f64) -> Controller {
    Controller::builder()
        .database(dir.join("controller.db").display().to_string())
        .listen("127.0.0.1:0".parse().unwrap())
        .tls(true)
        .time_scale(time_scale)
        .start()
        .await
        .unwrap()
}

/// Installs an instance on `endpoint`; answers the instance id and its root resource id.
async fn install(c: &Controller, endpoint: &str) -> (Uuid, Uuid) {
    let package = c.import(&Scripted::model()).await.unwrap().id;
    let client = c.client();
    let task = client.install(package, endpoint, json!({})).await.unwrap();
    let task = client.wait(task.id, |_| {}).await.unwrap();
    assert_eq!(task.state, State::Success, "{:?}", task.output);
    (task.application, task.resource.id)
}

/// A client of the endpoint-facing API presenting `identity_pem` (certificate + key), if any.
fn caller(ca_pem: &str, identity_pem: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().tls_built_in_root_certs(false);
    for cert in reqwest::Certificate::from_pem_bundle(ca_pem.as_bytes()).unwrap() {
        builder = builder.add_root_certificate(cert);
    }
    if let Some(pem) = identity_pem {
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

fn x509(body: &Value, member: &str) -> String {
    body.pointer(&format!("/aps/x509/{member}"))
        .and_then(Value::as_str)
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn only_the_owning_instance_certificate_opens_aps_2() {
    let dir = tempfile::tempdir().unwrap();
    let c = tls_controller(dir.path()).await;
    assert!(c.url().starts_with("https://"));
    let (endpoint, bodies) = tls_endpoint(c.ca_pem()).await;
    let (first, first_root) = install(&c, &endpoint).await;
    let (second, _) = install(&c, &endpoint).await;

    // The install bodies carry each instance's credentials and the controller's chain.
    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2);
    let own = x509(&bodies[0], "self");
    let others = x509(&bodies[1], "self");
    assert!(own.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(own.contains("-----BEGIN PRIVATE KEY-----"));
    assert_ne!(own, others);
    let chain = x509(&bodies[0], "controller");
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
    assert!(chain.ends_with(c.ca_pem()), "leaf first, then the CA");
    assert_eq!(bodies[0].pointer("/aps/id"), Some(&json!(first_root)));

    // Neither the stored resource nor the tasks show the credentials.
    let client = c.client();
    let shown = client
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/resources/{first_root}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(shown.status, 200);
    assert!(shown.body.pointer("/aps/x509").is_none());
    let tasks = client.tasks("limit=10").await.unwrap();
    assert!(!serde_json::to_string(&tasks).unwrap().contains("BEGIN"));

    let url = format!("{}/aps/2/resources/{first_root}", c.url());
    let status = |r: Result<reqwest::Response, reqwest::Error>| r.map(|r| r.status());

    // No certificate, even with the right APS-Instance-ID: 403.
    let none = caller(c.ca_pem(), None);
    let answer = none
        .get(&url)
        .header("APS-Instance-ID", first.to_string())
        .send()
        .await;
    assert_eq!(status(answer).unwrap(), StatusCode::FORBIDDEN);

    // A self-made certificate: refused already by the TLS handshake.
    let made = rcgen::generate_simple_self_signed(vec!["intruder".into()]).unwrap();
    let forged = format!("{}{}", made.cert.pem(), made.signing_key.serialize_pem());
    let answer = caller(c.ca_pem(), Some(&forged)).get(&url).send().await;
    assert!(answer.is_err() || answer.unwrap().status() == StatusCode::FORBIDDEN);

    // Another instance's certificate: 403 for reading and for changing.
    let other = caller(c.ca_pem(), Some(&others));
    assert_eq!(
        status(other.get(&url).send().await).unwrap(),
        StatusCode::FORBIDDEN
    );
    let changed = other.put(&url).json(&json!({"size": 99})).send().await;
    assert_eq!(status(changed).unwrap(), StatusCode::FORBIDDEN);

    // The right one: the resource, which may be changed.
    let right = caller(c.ca_pem(), Some(&own));
    let read = right.get(&url).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let read: Value = read.json().await.unwrap();
    assert_eq!(read.pointer("/aps/id"), Some(&json!(first_root)));
    assert!(read.pointer("/aps/x509").is_none());
    assert_eq!(read["size"], json!(1), "the other instance changed nothing");
    let put = right
        .put(&url)
        .json(&json!({"size": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let put: Value = put.json().await.unwrap();
    assert_eq!(put["size"], json!(7));

    // The first instance cannot reach the second's resources.
    let theirs = client
        .send(reqwest::Method::GET, "/api/v1/applications", None)
        .await
        .unwrap();
    let second_root = theirs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == json!(second))
        .unwrap()["root"]["aps"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = format!("{}/aps/2/resources/{second_root}", c.url());
    assert_eq!(
        status(right.get(&theirs).send().await).unwrap(),
        StatusCode::FORBIDDEN
    );

    // The client API needs no client certificate.
    assert_eq!(client.tasks("limit=1").await.unwrap().len(), 1);
}

#[tokio::test]
async fn certificates_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let c = tls_controller(dir.path()).await;
    let (endpoint, bodies) = tls_endpoint(c.ca_pem()).await;
    let (_, root) = install(&c, &endpoint).await;
    let ca = c.ca_pem().to_owned();
    drop(c);
    let c = tls_controller(dir.path()).await;
    assert_eq!(c.ca_pem(), ca, "the CA is kept in the data directory");
    let own = x509(&bodies.lock().unwrap()[0], "self");
    let url = format!("{}/aps/2/resources/{root}", c.url());
    let answer = caller(&ca, Some(&own)).get(&url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_endpoint_ca_that_did_not_sign_the_endpoint_keeps_the_controller_away() {
    let dir = tempfile::tempdir().unwrap();
    let other_ca = rcgen::generate_simple_self_signed(vec!["elsewhere".into()]).unwrap();
    let ca_file = dir.path().join("endpoint-ca.pem");
    std::fs::write(&ca_file, other_ca.cert.pem()).unwrap();
    let c = Controller::builder()
        .database(dir.path().join("controller.db").display().to_string())
        .listen("127.0.0.1:0".parse().unwrap())
        .endpoint_ca(&ca_file)
        .time_scale(1000.0)
        .start()
        .await
        .unwrap();
    let (endpoint, bodies) = tls_endpoint(c.ca_pem()).await;
    let package = c.import(&Scripted::model()).await.unwrap().id;
    let client: Client = c.client();
    let task = client.install(package, &endpoint, json!({})).await.unwrap();
    let mut seen = client.task(task.id).await.unwrap();
    while seen.attempts < 2 {
        seen = client.poll(task.id, seen.revision, 5).await.unwrap();
    }
    assert_eq!(
        seen.state,
        State::Running,
        "a refused certificate is retried, not an answer"
    );
    assert!(
        bodies.lock().unwrap().is_empty(),
        "nothing reached the endpoint"
    );
}

#[tokio::test]
async fn an_install_resumed_after_a_restart_sends_the_same_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let c = tls_controller_at(dir.path(), 1.0).await;
    let (endpoint, bodies) = tls_endpoint(c.ca_pem()).await;
    let package = c.import(&Scripted::model()).await.unwrap().id;
    let client = c.client();
    let mut task = client
        .install(package, &endpoint, json!({"plan": "slow"}))
        .await
        .unwrap();
    while task.retry_after.is_none() {
        task = client.poll(task.id, task.revision, 5).await.unwrap();
    }
    // The sync phase answered 202; the controller goes away before the recheck.
    drop(c);
    let c = tls_controller(dir.path()).await;
    let done = c.client().wait(task.id, |_| {}).await.unwrap();
    assert_eq!(done.state, State::Success, "{:?}", done.output);
    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "the sync call and the recheck");
    assert_eq!(x509(&bodies[0], "self"), x509(&bodies[1], "self"));
    assert_eq!(
        x509(&bodies[0], "controller"),
        x509(&bodies[1], "controller")
    );
}

#[tokio::test]
async fn a_tls_controller_sends_no_instance_key_to_a_plain_http_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let c = tls_controller(dir.path()).await;
    let scripted = Scripted::default();
    let endpoint = common::serve(scripted.router()).await;
    let package = c.import(&Scripted::model()).await.unwrap().id;
    let client = c.client();

    // Synchronous or not, the refusal is the answer, before anything is stored: a 400 that
    // names the URL and says why.
    for timeout in [10, 0] {
        let body = json!({"package": package, "endpoint": format!("{endpoint}/app?token=t0k"),
                          "timeout": timeout});
        let answer = client
            .send(reqwest::Method::POST, "/api/v1/applications", Some(&body))
            .await
            .unwrap();
        assert_eq!(answer.status, 400, "{}", answer.body);
        assert_eq!(answer.body["error"], "InsecureEndpoint");
        let message = answer.body["message"].as_str().unwrap();
        assert!(message.contains(&format!("{endpoint}/app")), "{message}");
        assert!(message.contains("not https"), "{message}");
        assert!(
            !message.contains("t0k"),
            "the URL's query is not echoed: {message}"
        );
    }
    let tasks = client
        .send(reqwest::Method::GET, "/api/v1/tasks", None)
        .await
        .unwrap();
    assert_eq!(tasks.body["items"], json!([]), "no task was stored");

    assert!(scripted.calls().is_empty(), "nothing reached the endpoint");
    let issued = std::fs::read_dir(dir.path().join("tls/instances")).unwrap();
    assert_eq!(issued.count(), 0, "no instance key was even made");
}

#[tokio::test]
async fn a_tls_controller_still_installs_on_an_in_process_endpoint() {
    let builder = Controller::builder().tls(true).time_scale(1000.0);
    let (c, scripted) = common::scripted_with(builder).await;
    assert!(c.controller().url().starts_with("https://"));
    let install = &scripted.calls()[0];
    assert!(install.body.pointer("/aps/x509/self").is_some());
}
