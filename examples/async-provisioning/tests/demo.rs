//! The demo as the controller sees it: over real HTTP, and as the packaging tools see it
//! (`dev` is in tests/dev.rs). The command line every application gets is the framework's (its
//! tests/cli).
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::process::Command;

use aps::protocol::{AppMeta, TypeSchema};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Serves the demo with a seeded coin on a free loopback port.
async fn endpoint(seed: u64) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = async_provisioning::app(Some(seed));
    tokio::spawn(async move { app.serve(listener, "/").await });
    url
}

async fn provision(url: &str, phase: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{url}/provisionable/"))
        .header("APS-Instance-ID", "5bb7e1a0-7f8c-4e0a-9d3f-2a9c0b1d4e55")
        .header("APS-Controller-URI", "http://127.0.0.1:6308")
        .header("APS-Transaction-ID", "demo-1")
        .header("APS-Request-Phase", phase)
        .json(body)
        .send()
        .await
        .unwrap()
}

fn dummy() -> Value {
    json!({"aps": {"id": "0f0c7b7e-1c5e-4f0e-9a55-3a3b6c1f2d10",
                   "type": "http://aps-standard.org/samples/async-prov/provisionable/1.0",
                   "status": "aps:provisioning"},
           "addedLater": {"by": "a newer controller"}})
}

/// The async-phase answers of 64 rechecks.
async fn coin_flips(seed: u64) -> Vec<StatusCode> {
    let url = endpoint(seed).await;
    let mut statuses = Vec::new();
    for _ in 0..64 {
        statuses.push(provision(&url, "async", &dummy()).await.status());
    }
    statuses
}

#[tokio::test]
async fn provision_answers_202_and_asks_for_a_recheck_in_30_seconds() {
    let url = endpoint(1).await;
    let response = provision(&url, "sync", &dummy()).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(response.headers()["aps-info"], "Provisioning the resource");
    assert_eq!(response.headers()["aps-retry-timeout"], "30");
    assert_eq!(response.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn rechecks_flip_a_coin_between_still_provisioning_and_done() {
    let flips = coin_flips(7).await;
    assert!(
        flips
            .iter()
            .all(|s| [StatusCode::ACCEPTED, StatusCode::CREATED].contains(s))
    );
    assert!(
        flips.contains(&StatusCode::ACCEPTED) && flips.contains(&StatusCode::CREATED),
        "{flips:?}"
    );

    let url = endpoint(7).await;
    let still = loop {
        let response = provision(&url, "async", &dummy()).await;
        if response.status() == StatusCode::ACCEPTED {
            break response;
        }
    };
    assert_eq!(still.headers()["aps-info"], "Still provisioning");
    assert_eq!(still.headers()["aps-retry-timeout"], "30");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_coin_flips() {
    assert_eq!(coin_flips(42).await, coin_flips(42).await);
    assert_ne!(coin_flips(42).await, coin_flips(43).await);
}

#[tokio::test]
async fn unknown_properties_survive_every_answer() {
    let url = endpoint(3).await;
    let accepted: Value = provision(&url, "sync", &dummy())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted, dummy());
    for _ in 0..8 {
        let answer: Value = provision(&url, "async", &dummy())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer, dummy());
    }
}

#[test]
fn meta_writes_app_meta_and_schemas_naming_both_services() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(DEMO)
        .args(["meta", "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());

    let meta =
        AppMeta::parse(&std::fs::read_to_string(out.path().join("APP-META.xml")).unwrap()).unwrap();
    assert_eq!(
        (
            meta.name.as_str(),
            meta.version.as_str(),
            meta.release.as_str()
        ),
        ("async-provisioning", "0.1", "1")
    );
    assert_eq!(meta.vendor.as_deref(), Some("APS samples"));
    let services: Vec<&str> = meta.services.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(services, ["globals", "provisionable"]);

    for service in &meta.services {
        let code = service.code.as_ref().unwrap();
        assert_eq!(
            (code.engine.as_str(), code.path.as_str()),
            ("rust", "bin/async-provisioning")
        );
        let path = out.path().join(service.schema.as_deref().unwrap());
        let schema = TypeSchema::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(schema.name, service.id);
        assert_eq!(schema.is_application(), service.id == "globals");
        assert_eq!(
            schema.id,
            format!(
                "http://aps-standard.org/samples/async-prov/{}/1.0",
                service.id
            )
        );
    }
}

const DEMO: &str = env!("CARGO_BIN_EXE_async-provisioning");
