//! The APS protocol on axum: routes, request parsing, phase dispatch and answers.
//!
//! | request | operation |
//! |---|---|
//! | `POST /{service}/` | provision (install, on the root service) |
//! | `GET /{service}/{id}` | retrieve |
//! | `PUT /{service}/{id}` | configure |
//! | `DELETE /{service}/{id}` | unprovision (uninstall, on the root service) |
//!
//! `GET` and `DELETE` carry no body, so the resource is loaded from the controller first.
//! Every failure answers in the APS error shape.

use std::sync::Arc;

use aps_protocol::Phase;
use aps_protocol::headers::{self, header_text, text_of};
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::Value;
use url::Url;
use uuid::Uuid;

use crate::app::Service;
use crate::limits::{self, BODY_READ_TIMEOUT, Limits};
use crate::registry::Operation;
use crate::{App, Context, ControllerClient, Error, Outcome, Result};

/// What every request shares.
pub(crate) struct Shared {
    app: App,
    http: reqwest::Client,
}

/// The router of an application, with the services at `/{service}/…`.
pub(crate) fn router(app: App) -> Router {
    let limits = Limits::new(app.max_concurrency, app.request_timeout);
    let shared = Arc::new(Shared {
        app,
        http: ControllerClient::http(),
    });
    Router::new()
        .route("/{service}", post(collection).fallback(wrong_method))
        .route("/{service}/", post(collection).fallback(wrong_method))
        .route("/{service}/{id}", any(item))
        .fallback(unknown_path)
        .with_state(shared)
        .layer(axum::middleware::from_fn_with_state(limits, limits::guard))
        .layer(axum::middleware::from_fn(crate::trace::request))
}

async fn collection(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<String>, PathRejection>,
    request_headers: HeaderMap,
    body: Body,
) -> Response {
    let answer = async {
        let Path(service) = path.map_err(bad_path)?;
        handle(
            &shared,
            Operation::Provision,
            &service,
            None,
            &request_headers,
            body,
        )
        .await
    };
    with_transaction(answer.await, &request_headers)
}

async fn item(
    State(shared): State<Arc<Shared>>,
    method: Method,
    path: Result<Path<(String, String)>, PathRejection>,
    request_headers: HeaderMap,
    body: Body,
) -> Response {
    let answer = async {
        let Path((service, id)) = path.map_err(bad_path)?;
        let op = match method {
            Method::GET | Method::HEAD => Operation::Retrieve,
            Method::PUT => Operation::Configure,
            Method::DELETE => Operation::Unprovision,
            _ => return Err(method_error(&method)),
        };
        handle(&shared, op, &service, Some(&id), &request_headers, body).await
    };
    with_transaction(answer.await, &request_headers)
}

async fn handle(
    shared: &Shared,
    op: Operation,
    service: &str,
    id: Option<&str>,
    request_headers: &HeaderMap,
    body: Body,
) -> Result<Response> {
    let service: &Service = shared.app.find(service).ok_or_else(|| {
        Error::not_found(format!("this endpoint has no service `{}`", clean(service)))
    })?;
    let ctx = context(shared, request_headers)?;
    let resource = match (op, id) {
        (Operation::Provision | Operation::Configure, _) => {
            let mut resource = read_json(request_headers, body, shared.app.body_limit).await?;
            if let Some(id) = id {
                check_id(&mut resource, id)?;
            }
            resource
        }
        (_, Some(id)) => ctx.controller().resource(id).await?,
        (_, None) => return Err(Error::bad_request("the operation needs a resource id")),
    };
    let (outcome, resource) = service.handler.call(op, resource, &ctx).await?;
    Ok(answer(op, &outcome, resource))
}

/// The request's context, from its headers.
fn context(shared: &Shared, request_headers: &HeaderMap) -> Result<Context> {
    let text = |name: &str| request_headers.get(name).map(text_of);
    let instance = text(headers::INSTANCE_ID).ok_or_else(|| missing_header("APS-Instance-ID"))?;
    let instance_id = Uuid::parse_str(instance.trim()).map_err(|_| {
        Error::with(
            StatusCode::BAD_REQUEST,
            "InvalidHeader",
            format!("APS-Instance-ID must be a UUID, not `{}`", clean(&instance)),
        )
    })?;
    let controller =
        text(headers::CONTROLLER_URI).ok_or_else(|| missing_header("APS-Controller-URI"))?;
    let controller = Url::parse(controller.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            Error::with(
                StatusCode::BAD_REQUEST,
                "InvalidHeader",
                format!(
                    "APS-Controller-URI must be an http(s) URL, not `{}`",
                    clean(&controller)
                ),
            )
        })?;
    let phase = Phase::parse(text(headers::REQUEST_PHASE).as_deref())
        .map_err(|e| Error::with(StatusCode::BAD_REQUEST, "InvalidHeader", e.to_string()))?;
    Ok(Context {
        instance_id,
        transaction_id: text(headers::TRANSACTION_ID).unwrap_or_else(|| Uuid::new_v4().to_string()),
        phase,
        controller: ControllerClient::new(shared.http.clone(), controller, instance_id),
        state: shared.app.state.clone(),
    })
}

/// Reads a JSON object body of at most `limit` bytes.
async fn read_json(request_headers: &HeaderMap, body: Body, limit: usize) -> Result<Value> {
    let too_large = || {
        Error::with(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLarge",
            format!("the body is larger than the limit of {limit} bytes"),
        )
    };
    let declared = request_headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let read = tokio::time::timeout(BODY_READ_TIMEOUT, Limited::new(body, limit).collect());
    let bytes = match read.await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
        Ok(Err(e)) => return Err(Error::bad_request(format!("cannot read the body: {e}"))),
        Err(_) => {
            return Err(Error::with(
                StatusCode::REQUEST_TIMEOUT,
                "RequestTimeout",
                format!(
                    "the body did not arrive within {} s",
                    BODY_READ_TIMEOUT.as_secs()
                ),
            ));
        }
    };
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        Error::with(
            StatusCode::BAD_REQUEST,
            "InvalidJson",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(Error::with(
            StatusCode::BAD_REQUEST,
            "InvalidResource",
            "the body must be a JSON object (a resource)",
        ));
    }
    Ok(value)
}

/// A configure body names the resource of its URL, or no resource at all.
fn check_id(resource: &mut Value, id: &str) -> Result<()> {
    let Some(aps) = resource.as_object_mut().map(|r| {
        r.entry("aps")
            .or_insert_with(|| Value::Object(Default::default()))
    }) else {
        return Ok(());
    };
    let Some(aps) = aps.as_object_mut() else {
        return Err(Error::with(
            StatusCode::BAD_REQUEST,
            "InvalidResource",
            "`aps` must be an object",
        ));
    };
    match aps.get("id") {
        Some(Value::String(body_id)) if body_id != id => Err(Error::bad_request(format!(
            "the body is resource `{}` but the URL names `{}`",
            clean(body_id),
            clean(id)
        ))),
        _ => {
            aps.insert("id".into(), Value::String(id.to_owned()));
            Ok(())
        }
    }
}

/// The HTTP answer for an outcome.
fn answer(op: Operation, outcome: &Outcome, resource: Value) -> Response {
    if let (Some(message), Some(secs)) = (outcome.message(), outcome.recheck_secs()) {
        let mut response = (StatusCode::ACCEPTED, axum::Json(resource)).into_response();
        let h = response.headers_mut();
        h.insert(headers::INFO, header_text(message));
        h.insert(headers::RETRY_TIMEOUT, HeaderValue::from(secs));
        return response;
    }
    match op {
        Operation::Unprovision => StatusCode::NO_CONTENT.into_response(),
        Operation::Provision => (StatusCode::CREATED, axum::Json(resource)).into_response(),
        Operation::Retrieve | Operation::Configure => {
            (StatusCode::OK, axum::Json(resource)).into_response()
        }
    }
}

/// Echoes the transaction id, so a client can correlate the answer.
fn with_transaction(answer: Result<Response>, request_headers: &HeaderMap) -> Response {
    let mut response = answer.unwrap_or_else(IntoResponse::into_response);
    if let Some(txn) = request_headers.get(headers::TRANSACTION_ID) {
        response
            .headers_mut()
            .insert(headers::TRANSACTION_ID, header_text(&text_of(txn)));
    }
    response
}

async fn wrong_method(method: Method) -> Response {
    method_error(&method).into_response()
}

pub(crate) async fn unknown_path() -> Response {
    Error::not_found("no such path on this endpoint: use /{service}/ or /{service}/{id}")
        .into_response()
}

fn method_error(method: &Method) -> Error {
    Error::with(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!(
            "{} is not an APS operation on this URL",
            clean(method.as_str())
        ),
    )
}

fn bad_path(rejection: PathRejection) -> Error {
    Error::with(
        StatusCode::BAD_REQUEST,
        "InvalidPath",
        rejection.body_text(),
    )
}

fn missing_header(name: &str) -> Error {
    Error::with(
        StatusCode::BAD_REQUEST,
        "MissingHeader",
        format!("the {name} header is required"),
    )
}

/// Text from a request, cut and cleaned for an error message or a log line.
pub(crate) fn clean(text: &str) -> String {
    let cut: String = text
        .chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > 200 {
        cut + "…"
    } else {
        cut
    }
}
