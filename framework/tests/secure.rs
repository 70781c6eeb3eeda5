//! The whole APS certificate model end to end: the real controller installs the tests' mail
//! application over HTTPS, the endpoint keeps the credentials it is sent, answers only the controller's
//! certificate, and calls the controller back with the instance certificate.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use aps::Tls;

use aps_controller::{Controller, State};
use serde_json::json;

#[tokio::test]
async fn the_controller_installs_provisions_and_unprovisions_over_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint_dir = dir.path().join("endpoint");
    let tls = Tls::self_signed(&endpoint_dir, &[]).unwrap();
    let endpoint_cert = tls.cert_path().to_owned();
    let app = support::app().data_dir(&endpoint_dir);
    let package = aps_controller::PackageModel::new(app.meta(), app.schemas()).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!(
        "https://localhost:{}/mail",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move { app.serve_tls(listener, "/mail", tls).await });

    let controller = Controller::builder()
        .database(dir.path().join("controller.db").to_string_lossy())
        .data_dir(dir.path().join("controller"))
        .tls(true)
        .endpoint_ca(&endpoint_cert)
        .time_scale(1000.0)
        .start()
        .await
        .unwrap();
    assert!(
        controller.url().starts_with("https://"),
        "{}",
        controller.url()
    );
    let client = controller.client();
    let imported = controller.import(&package).await.unwrap();

    let install = client
        .install(imported.id, &endpoint, json!({}))
        .await
        .unwrap();
    let install = client.wait(install.id, |_| {}).await.unwrap();
    assert_eq!(install.state, State::Success, "{install:?}");
    let instance = install.application;
    let kept = endpoint_dir.join(format!("instances/{instance}/x509.json"));
    assert!(
        kept.exists(),
        "the endpoint keeps the instance's credentials"
    );

    let task = client
        .provision(instance, "mailbox", json!({"quota": 3}))
        .await
        .unwrap();
    let task = client.wait(task.id, |_| {}).await.unwrap();
    assert_eq!(task.state, State::Success, "{task:?}");
    assert_eq!(task.description.as_deref(), Some("Creating the mailbox"));

    // Unprovision carries no body: the endpoint loads the resource from the controller's
    // /aps/2 over TLS, presenting the instance certificate.
    let removed = client
        .send(
            reqwest::Method::DELETE,
            &format!("{}?timeout=0", task.resource.href),
            None,
        )
        .await
        .unwrap();
    assert_eq!(removed.status, 202, "{:?}", removed.body);
    let id = removed.body["id"].as_str().unwrap().parse().unwrap();
    let removed = client.wait(id, |_| {}).await.unwrap();
    assert_eq!(removed.state, State::Success, "{removed:?}");

    // Anyone else who reaches the endpoint is turned away.
    let stranger = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(&endpoint_cert).unwrap()).unwrap(),
        )
        .build()
        .unwrap()
        .post(format!("{endpoint}/mailbox/"))
        .header("APS-Instance-ID", instance.to_string())
        .header("APS-Controller-URI", controller.url())
        .json(&json!({"quota": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 403);
}
