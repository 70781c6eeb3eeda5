//! The APS protocol over real HTTP on loopback: every route, phase, status and error.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

#[path = "../support/mod.rs"]
mod support;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use support::{FakeController, app, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

mod custom;
mod operations;
mod refusals;
mod sites;

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
