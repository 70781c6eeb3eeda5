//! Links, for clients (`/api/v1/resources/{id}/{relation}`) and for endpoints
//! (`/aps/2/resources/{id}/{relation}`).
//!
//! A client's link or unlink is told to the endpoint first and stored only when it accepts;
//! an endpoint's own is stored at once (it asked for it). Both are checked the same way: the
//! relation declared, the target of its type, a single relation holding one link.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::Api;
use super::aps::owned;
use super::error::{ApiError, JsonBody};
use crate::serve::Peer;

/// The body of a link request: `{"aps": {"id": "<other>"}}`.
#[derive(Deserialize)]
struct LinkRequest {
    aps: LinkTarget,
}

#[derive(Deserialize)]
struct LinkTarget {
    id: Uuid,
}

/// An id in a path: anything that is not a UUID names nothing.
pub(super) fn id_of(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text)
        .map_err(|_| ApiError::not_found(format!("There is nothing with id `{text}`")))
}

/// The path's parameters, or 404 when they cannot be read.
pub(super) fn path<T>(path: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    path.map(|Path(p)| p)
        .map_err(|_| ApiError::not_found("Malformed path"))
}

/// The linked resources of a client's `GET`, as `{"items": […]}`.
pub(super) async fn list(api: &Api, id: Uuid, relation: &str) -> Result<Response, ApiError> {
    let items = api.engine.linked(id, relation).await?;
    Ok(Json(json!({ "items": items })).into_response())
}

/// A link, answered 201 with the link object.
pub(super) async fn link(
    api: &Api,
    id: Uuid,
    relation: &str,
    body: Value,
    notify: bool,
) -> Result<Response, ApiError> {
    let request: LinkRequest = serde_json::from_value(body).map_err(|_| {
        ApiError::bad_request(r#"The body must be {"aps": {"id": "<resource id>"}}"#)
    })?;
    let link = api
        .engine
        .link(id, relation, request.aps.id, notify)
        .await?;
    Ok((StatusCode::CREATED, Json(link)).into_response())
}

/// An unlink, answered 204.
pub(super) async fn unlink(
    api: &Api,
    id: Uuid,
    relation: &str,
    other: &str,
    notify: bool,
) -> Result<Response, ApiError> {
    let other = id_of(other)?;
    api.engine.unlink(id, relation, other, notify).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /aps/2/resources/{id}/{relation}`: the linked resources, as a JSON array.
pub(crate) async fn aps_list(
    State(api): State<Api>,
    params: Result<Path<(String, String)>, PathRejection>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let (id, relation) = path(params)?;
    let id = id_of(&id)?;
    owned(&api, id, peer.as_ref().map(|Extension(p)| p), &headers).await?;
    Ok(Json(Value::Array(api.engine.linked(id, &relation).await?)))
}

/// `POST /aps/2/resources/{id}/{relation}`: links, without telling the endpoint.
pub(crate) async fn aps_link(
    State(api): State<Api>,
    params: Result<Path<(String, String)>, PathRejection>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let (id, relation) = path(params)?;
    let id = id_of(&id)?;
    owned(&api, id, peer.as_ref().map(|Extension(p)| p), &headers).await?;
    link(&api, id, &relation, body, false).await
}

/// `DELETE /aps/2/resources/{id}/{relation}/{other}`: unlinks, without telling the endpoint.
pub(crate) async fn aps_unlink(
    State(api): State<Api>,
    params: Result<Path<(String, String, String)>, PathRejection>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (id, relation, other) = path(params)?;
    let id = id_of(&id)?;
    owned(&api, id, peer.as_ref().map(|Extension(p)| p), &headers).await?;
    unlink(&api, id, &relation, &other, false).await
}
