//! `{verb} /api/v1/resources/{id}/{path}`: a custom operation, or a relation's links.
//!
//! A path whose first segment is a declared relation is about links (`GET` lists, `POST`
//! links, `DELETE …/{other}` unlinks, see [`super::links`]); any other is a custom operation
//! call. A call answers as the endpoint did (200 with its body, or 204) when its task ends
//! within the wait the client asked for with `Prefer` (`wait=N`, `respond-async`; the
//! controller's sync timeout by default), else 202 with the task, whose result is then the
//! final answer.

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

/// 405 with `Allow`.
fn not_allowed(message: String, allow: &str) -> Response {
    let mut response =
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", message).into_response();
    if let Ok(allow) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

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
