//! `GET /api/v1/openapi.json`: an OpenAPI 3.1 document that describes every route and method
//! the controller serves under `/api/v1`, and nothing it does not serve; `aps-controller
//! openapi` writes the same document.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::collections::BTreeSet;

use common::{get, http, scripted};
use reqwest::Method;
use serde_json::Value;

/// Every route of `/api/v1` with its methods, as the router serves them. A new route goes here
/// too: the test then checks that the document has it.
const ROUTES: &[(&str, &[&str])] = &[
    ("/api/v1/packages", &["get", "post"]),
    ("/api/v1/packages/{id}", &["get"]),
    ("/api/v1/applications", &["get", "post"]),
    ("/api/v1/applications/{id}", &["get", "delete"]),
    ("/api/v1/applications/{id}/upgrade", &["post"]),
    ("/api/v1/resources", &["get", "post"]),
    ("/api/v1/resources/{id}", &["get", "put", "delete"]),
    (
        "/api/v1/resources/{id}/{path}",
        &["get", "post", "put", "delete", "patch"],
    ),
    ("/api/v1/resources/{id}/refresh", &["post"]),
    ("/api/v1/tasks", &["get"]),
    ("/api/v1/tasks/{id}", &["get"]),
    ("/api/v1/tasks/{id}/status", &["get"]),
    ("/api/v1/tasks/{id}/result", &["get"]),
    ("/api/v1/tasks/{id}/cancel", &["post"]),
    ("/api/v1/subscriptions", &["get"]),
    ("/api/v1/subscriptions/{id}", &["get"]),
    ("/api/v1/subscriptions/{id}/deliveries", &["get"]),
    ("/api/v1/openapi.json", &["get"]),
];

const METHODS: &[&str] = &["get", "post", "put", "delete", "patch"];

/// The operations of a document: (path, method).
fn operations(document: &Value) -> BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (path.clone(), m.to_string()))
        })
        .collect()
}

/// A path of the document with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "6f1c0e0a-3b7e-4d1c-9a57-0c4d2a6f9e11")
        .replace("{path}", "nothing/here")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_describes_every_route_and_nothing_else() {
    let (c, _) = scripted().await;
    let (status, headers, document) = get(&c, "/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        document["openapi"]
    );

    let documented = operations(&document);
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .flat_map(|(path, methods)| methods.iter().map(|m| (path.to_string(), m.to_string())))
        .collect();
    assert_eq!(documented, served);

    // The router agrees: a documented operation reaches a handler, any other method on a
    // documented path is the router's own 405.
    for path in documented.iter().map(|(p, _)| p).collect::<BTreeSet<_>>() {
        for method in METHODS {
            let verb = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, _, body) = http(&c, verb, &concrete(path), None, &[]).await;
            let fallback = body["message"] == "This method is not allowed here"
                || body["message"] == "There is no such resource in this API";
            let is_documented = documented.contains(&(path.clone(), method.to_string()));
            assert_eq!(
                !fallback, is_documented,
                "{method} {path}: {status} {body} (documented: {is_documented})"
            );
        }
    }

    // Every operation answers errors in the APS shape.
    for (path, method) in &documented {
        let operation = &document["paths"][path][method];
        let responses = operation["responses"].as_object().unwrap();
        assert!(responses.contains_key("503"), "{method} {path}: no 503");
        for (code, response) in responses {
            if code.starts_with('4') || code.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {code}"
                );
            }
        }
    }
    let error = &document["components"]["schemas"]["ErrorBody"];
    let required: BTreeSet<&str> = error["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, BTreeSet::from(["code", "error", "message"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_writes_the_served_document() {
    let (c, _) = scripted().await;
    let (_, _, served) = get(&c, "/api/v1/openapi.json").await;

    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_aps-controller"))
        .arg("openapi")
        .output()
        .unwrap();
    assert!(printed.status.success());
    let printed: Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(printed, served);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    let written = std::process::Command::new(env!("CARGO_BIN_EXE_aps-controller"))
        .args(["openapi", "--output"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(written.status.success());
    assert!(written.stdout.is_empty());
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written, served);
}
