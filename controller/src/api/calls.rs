//! `{verb} /api/v1/resources/{id}/{path}`: a custom operation, or a relation's links.
//!
//! A path whose first segment is a declared relation is about links (`GET` lists, `POST`
//! links, `DELETE …/{other}` unlinks, see [`super::links`]); any other is a custom operation
//! call. A call answers as the endpoint did (200 with its body, or 204) when its task ends
//! within the wait the client asked for with `Prefer` (`wait=N`, `respond-async`; the
//! controller's sync timeout by default), else 202 with the task, whose result is then the
//! final answer.

use aps_protocol::ErrorBody;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::{ApiError, Params, RawBody, parse_json};
use super::limits::Slot;
use super::links::id_of;
use super::operations::{Wait, run};
use super::{Api, links};
use crate::engine::OperationError;
use crate::task::Task;

/// 405 with `Allow`.
fn not_allowed(message: String, allow: &str) -> Response {
    let mut response =
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", message).into_response();
    if let Ok(allow) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

/// Serves a custom operation call or a relation's links, by the path's first segment.
#[utoipa::path(
    method(get, post, put, delete, patch),
    path = "/api/v1/resources/{id}/{*path}",
    tag = "resources",
    params(
        ("id" = Uuid, Path, description = "The resource id"),
        ("path" = String, Path, description = "A relation (`{relation}`, or `{relation}/{other}` to unlink), or a custom operation's path with its own query; may hold slashes"),
        ("Prefer" = Option<String>, Header, description = "For a call: `respond-async` answers 202 at once, `wait=N` waits up to N seconds"),
    ),
    request_body(content = Option<Value>, description = "A call's body parameter, or the `{\"id\": …}` of the resource to link"),
    responses(
        (status = 200, description = "What the custom operation answered, or the linked resources (`{\"items\": […]}`)", body = Value),
        (status = 201, description = "Linked", body = Value),
        (status = 202, description = "The call's task has not ended yet", body = Task,
            headers(("Location" = String, description = "The task"), ("Retry-After" = u64, description = "Seconds to wait before asking again"))),
        (status = 204, description = "Unlinked, or the operation answered nothing"),
        (status = 400, description = "The request is invalid", body = ErrorBody),
        (status = 404, description = "No such resource, relation or operation", body = ErrorBody),
        (status = 405, description = "The operation or relation is not served with this method (see `Allow`)", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 409, description = "The link conflicts with the relation", body = ErrorBody),
        (status = 413, description = "The body is larger than 1 MiB", body = ErrorBody),
        (status = "4XX", description = "The endpoint refused the call: its error, with `task` beside it", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 502, description = "The endpoint failed or could not be reached", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn dispatch(
    State(api): State<Api>,
    method: Method,
    params: Result<Path<(String, String)>, PathRejection>,
    Params(query): Params,
    slot: Slot,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let Path((id, rest)) = params.map_err(|_| ApiError::not_found("Malformed path"))?;
    let id = id_of(&id)?;
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(first) = segments.first() {
        if api.engine.is_relation(id, first).await? {
            return match (segments.as_slice(), &method) {
                ([relation], &Method::GET) => links::list(&api, id, relation).await,
                ([relation], &Method::POST) => {
                    let body = parse_json(&body)?;
                    links::link(&api, id, relation, body, true).await
                }
                ([relation, other], &Method::DELETE) => {
                    links::unlink(&api, id, relation, other, true).await
                }
                ([relation], _) => Ok(not_allowed(
                    format!("The relation `{relation}` is listed with GET and linked with POST"),
                    "GET, POST",
                )),
                ([relation, _], _) => Ok(not_allowed(
                    format!("A link of `{relation}` is removed with DELETE"),
                    "DELETE",
                )),
                _ => Err(ApiError::not_found("There is no such resource in this API")),
            };
        }
    }
    let wait = Wait::of(None, &headers, api.sync_timeout)?;
    let body: Option<Value> = parse_json(&body)?;
    match api.engine.call(id, &method, &rest, &query, body).await {
        Ok(task) => run(&api, task, wait, &slot).await,
        Err(OperationError::WrongVerb { message, allow }) => Ok(not_allowed(message, &allow)),
        Err(error) => Err(error.into()),
    }
}
