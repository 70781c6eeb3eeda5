//! The endpoint-facing API: what an endpoint calls back with its `APS-Controller-URI`.
//!
//! An endpoint reads a resource (to load state for GET and DELETE) and changes the properties
//! of its own resources. Only the owning instance may: on plain HTTP it names itself with
//! `APS-Instance-ID` (with TLS, issue #5, its certificate will).

use aps_protocol::Status;
use aps_protocol::headers::{self, text_of};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use super::Api;
use super::error::{ApiError, Id, JsonBody};
use crate::engine::outcome::stamp;
use crate::store::ResourceRow;

async fn owned(api: &Api, id: uuid::Uuid, headers: &HeaderMap) -> Result<ResourceRow, ApiError> {
    let row = api.engine.store().resource(id).await?;
    let row = row.ok_or_else(|| ApiError::not_found(format!("There is no resource {id}")))?;
    let caller = headers.get(headers::INSTANCE_ID).map(text_of);
    if caller.as_deref().map(str::trim) != Some(row.application_id.to_string().as_str()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Only the application instance that owns a resource may use it (APS-Instance-ID)",
        ));
    }
    Ok(row)
}

pub(crate) async fn get(
    State(api): State<Api>,
    Id(id): Id,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(owned(&api, id, &headers).await?.body))
}

pub(crate) async fn put(
    State(api): State<Api>,
    Id(id): Id,
    headers: HeaderMap,
    JsonBody(changes): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let mut row = owned(&api, id, &headers).await?;
    let Value::Object(mut changes) = changes else {
        return Err(ApiError::bad_request(
            "The body must be a JSON object of properties",
        ));
    };
    changes.remove("aps");
    let status = row
        .body
        .pointer("/aps/status")
        .and_then(Value::as_str)
        .unwrap_or("aps:ready");
    let status = Status::Other(status.to_owned());
    if let Value::Object(body) = &mut row.body {
        body.extend(changes);
    }
    stamp(&mut row.body, &status);
    api.engine.store().put_resource(id, &row.body).await?;
    Ok(Json(row.body))
}
