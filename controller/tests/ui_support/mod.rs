//! Shared pieces of the panel's tests: a small endpoint whose type has properties of every
//! kind (the demo's have none), and plain HTTP against the panel with its CSRF cookie.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use aps_controller::PackageModel;
use aps_controller::testkit::TestController;
use aps_protocol::schema::{APPLICATION_TYPE, RESOURCE_TYPE};
use aps_protocol::{AppMeta, ServiceMeta, TypeSchema};
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use reqwest::header::{COOKIE, HeaderMap, SET_COOKIE};
use serde_json::{Value, json};

/// The type id of a note.
pub const NOTE: &str = "http://example.com/notes/note/1.0";

/// An endpoint of notes: every operation is done at once, the resource answered as sent.
pub fn notes() -> (Router, PackageModel) {
    let router = Router::new()
        .route("/{service}/", post(answer))
        .route("/{service}/{id}", any(answer));
    let schema = |id: &str, name: &str, implements: &str, properties: Value| -> TypeSchema {
        serde_json::from_value(json!({
            "apsVersion": "2.0", "id": id, "name": name, "implements": [implements],
            "properties": properties,
        }))
        .unwrap()
    };
    let note = json!({
        "title": {"type": "string", "required": true, "description": "What the note is about"},
        "pages": {"type": "integer", "default": 1, "description": "How many pages it has"},
        "color": {"type": "string", "enum": ["yellow", "blue"], "default": "yellow"},
        "tags": {"type": "array", "description": "Words to find it by, as a JSON array"},
    });
    let meta = AppMeta {
        id: "http://example.com/notes".into(),
        name: "notes".into(),
        version: "1.0".into(),
        release: "2".into(),
        services: ["app", "note"]
            .into_iter()
            .map(|s| ServiceMeta {
                id: s.into(),
                schema: Some(format!("schemas/{s}.schema")),
                code: None,
            })
            .collect(),
        ..AppMeta::default()
    };
    let schemas = vec![
        (
            "app".into(),
            schema(
                "http://example.com/notes/app/1.0",
                "app",
                APPLICATION_TYPE,
                json!({}),
            ),
        ),
        ("note".into(), schema(NOTE, "note", RESOURCE_TYPE, note)),
    ];
    (router, PackageModel::new(meta, schemas).unwrap())
}

async fn answer(method: Method, body: Bytes) -> Response {
    let resource: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match method {
        Method::POST => (StatusCode::CREATED, Json(resource)).into_response(),
        Method::DELETE => StatusCode::NO_CONTENT.into_response(),
        _ => (StatusCode::OK, Json(resource)).into_response(),
    }
}

/// A test controller on the notes endpoint.
pub async fn notes_controller() -> TestController {
    let (router, model) = notes();
    TestController::start(router, model).await.unwrap()
}

/// Provisions a note through the API and waits for it; answers the resource id.
pub async fn note(c: &TestController, properties: Value) -> String {
    let task = c.provision(NOTE, properties).await.unwrap();
    let task = c.wait(&task).await.unwrap();
    assert_eq!(task.state, aps_controller::State::Success, "{task:?}");
    task.resource.id.to_string()
}

/// A browser without one: plain HTTP against the panel, keeping its CSRF cookie, never
/// following redirects.
pub struct Visitor {
    base: String,
    client: reqwest::Client,
    cookie: Option<String>,
}

/// What the panel answered.
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of the first form's CSRF field.
    pub fn csrf(&self) -> String {
        let start = self.body.find(r#"name="csrf" value=""#).expect("a form") + 19;
        let end = self.body[start..].find('"').unwrap();
        self.body[start..start + end].to_owned()
    }
}

impl Visitor {
    pub fn new(c: &TestController) -> Self {
        Self {
            base: c.controller().url(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        };
        let response = request.send().await.unwrap();
        if let Some(set) = response.headers().get(SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = Some(pair);
        }
        Page {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }
}
