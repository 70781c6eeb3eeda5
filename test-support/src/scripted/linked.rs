//! The scripted endpoint's second package, with relations and custom operations (issue #11):
//! `app` (the root) has the collection `things`; a `thing` has `app` (single, required: the
//! root, which the controller fills in) and the collection `parts`, and the operations
//! `restart` (`POST /restart`: 202, then done at the first recheck with `{"restarted": true}`),
//! `stats` (`GET /stats`, the query parameter `days`, an integer, required: 200
//! `{"days": …}`) and `note` (`PUT /note`, the body parameter `note`, an object, required:
//! 204); a `part` has `serial` (a string, required) and the single relation `thing`; a
//! `spare` must be linked to a `part` (`part`, single, required; no relation back).
//!
//! The endpoint answers a link notification of `thing.parts` by the part's `serial`:
//! `refuse` is a 400, `missing` a 404, `unimplemented` a 501; any other is accepted (204).

use aps_controller::PackageModel;
use aps_protocol::schema::{APPLICATION_TYPE, RESOURCE_TYPE};
use aps_protocol::{AppMeta, ServiceMeta, TypeSchema};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::package::{APP, THING};
use super::{Scripted, Seen, lock};

/// The type id of `part`.
pub const PART: &str = "http://example.com/scripted/part/1.0";
/// The type id of `spare`.
pub const SPARE: &str = "http://example.com/scripted/spare/1.0";

impl Scripted {
    /// The package with relations and operations.
    pub fn linked_model() -> PackageModel {
        let services = [
            ("app", APP, APPLICATION_TYPE, app()),
            ("thing", THING, RESOURCE_TYPE, thing()),
            ("part", PART, RESOURCE_TYPE, part()),
            ("spare", SPARE, RESOURCE_TYPE, spare()),
        ];
        let meta = AppMeta {
            id: "http://example.com/scripted".into(),
            name: "scripted".into(),
            version: "1.0".into(),
            release: "1".into(),
            services: services
                .iter()
                .map(|(service, ..)| ServiceMeta {
                    id: (*service).into(),
                    schema: Some(format!("schemas/{service}.schema")),
                    code: None,
                })
                .collect(),
            ..AppMeta::default()
        };
        let schemas = services
            .into_iter()
            .map(|(service, id, implements, mut members)| {
                members["apsVersion"] = json!("2.0");
                members["id"] = json!(id);
                members["name"] = json!(service);
                members["implements"] = json!([implements]);
                let schema: TypeSchema =
                    serde_json::from_value(members).expect("the linked schemas are well-formed");
                (service.to_owned(), schema)
            })
            .collect();
        PackageModel::new(meta, schemas).expect("the linked package names a schema per service")
    }
}

fn app() -> Value {
    json!({"relations": {"things": {"type": THING, "collection": true}}})
}

fn thing() -> Value {
    json!({
        "properties": {
            "plan": {"type": "array"},
            "size": {"type": "integer", "default": 1},
            "label": {"type": "string"},
            "color": {"type": "string", "enum": ["red", "green"]}
        },
        "relations": {
            "app": {"type": APP, "required": true},
            "parts": {"type": PART, "collection": true}
        },
        "operations": {
            "restart": {"verb": "POST", "path": "/restart"},
            "stats": {
                "verb": "GET", "path": "/stats",
                "parameters": {"days": {"kind": "query", "type": "integer", "required": true}},
                "response": {"contentType": "application/json", "type": "object"}
            },
            "note": {
                "verb": "PUT", "path": "/note",
                "parameters": {"note": {"kind": "body", "type": "object", "required": true}}
            }
        }
    })
}

fn part() -> Value {
    json!({
        "properties": {"serial": {"type": "string", "required": true}},
        "relations": {"thing": {"type": THING}}
    })
}

fn spare() -> Value {
    json!({"relations": {"part": {"type": PART, "required": true}}})
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// Answers what is called below a resource: the operations and link notifications of the
/// linked package.
pub(super) async fn below(
    State(endpoint): State<Scripted>,
    Path((service, id, rest)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let query = query.unwrap_or_default();
    if endpoint.0.script.record {
        let mut path = format!("/{service}/{id}/{rest}");
        if !query.is_empty() {
            path = format!("{path}?{query}");
        }
        lock(&endpoint.0.calls).push(Seen {
            method: method.clone(),
            path,
            headers: headers.clone(),
            body: body.clone(),
            at: Instant::now(),
        });
    }
    let phase = headers
        .get("aps-request-phase")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("sync");
    let segments: Vec<&str> = rest.split('/').collect();
    match (service.as_str(), &method, segments.as_slice()) {
        ("thing", &Method::POST, ["restart"]) if phase == "async" => {
            answer(StatusCode::OK, json!({"restarted": true}))
        }
        ("thing", &Method::POST, ["restart"]) => {
            let mut r = answer(StatusCode::ACCEPTED, json!({}));
            r.headers_mut().insert(
                "aps-info",
                axum::http::HeaderValue::from_static("Restarting"),
            );
            let retry = endpoint.0.script.retry_secs.to_string();
            if let Ok(retry) = axum::http::HeaderValue::from_str(&retry) {
                r.headers_mut().insert("aps-retry-timeout", retry);
            }
            r
        }
        ("thing", &Method::GET, ["stats"]) => {
            let days = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("days="))
                .and_then(|v| v.parse::<i64>().ok());
            answer(StatusCode::OK, json!({"days": days, "requests": 42}))
        }
        ("thing", &Method::PUT, ["note"]) => StatusCode::NO_CONTENT.into_response(),
        ("thing", &Method::POST, ["parts"]) => match body.get("serial").and_then(Value::as_str) {
            Some("refuse") => answer(
                StatusCode::BAD_REQUEST,
                json!({"code": 400, "error": "Refused", "message": "this part does not fit"}),
            ),
            Some("missing") => StatusCode::NOT_FOUND.into_response(),
            Some("unimplemented") => StatusCode::NOT_IMPLEMENTED.into_response(),
            _ => StatusCode::NO_CONTENT.into_response(),
        },
        ("thing", &Method::DELETE, ["parts", _]) => StatusCode::NO_CONTENT.into_response(),
        _ => answer(
            StatusCode::NOT_FOUND,
            json!({"code": 404, "error": "NotFound", "message": "nothing here"}),
        ),
    }
}
