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
use aps_protocol::json::{MAX_DEPTH, nests_deeper_than};
use aps_server::PeerCertificate;
use axum::Router;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Map, Value};
use tower_http::catch_panic::CatchPanicLayer;
use url::Url;
use uuid::Uuid;

use crate::app::Service;
use crate::client::ControllerUrls;
use crate::credentials::Instances;
use crate::limits::{BODY_READ_TIMEOUT, Limits};
use crate::registry::{Operation, Origin};
use crate::trace::Shown;
use crate::{App, Context, ControllerClient, Error, Outcome, Result};

/// What every request shares.
pub(crate) struct Shared {
    app: App,
    http: reqwest::Client,
    instances: Instances,
    urls: ControllerUrls,
}

/// The router of an application, with the services at `/{service}/…`.
pub(crate) fn router(app: App) -> Router {
    let limits = Limits::new(app.max_concurrency, app.request_timeout);
    let shared = Arc::new(Shared {
        instances: Instances::new(app.data_dir.as_deref()),
        app,
        http: ControllerClient::http(),
        urls: ControllerUrls::default(),
    });
    Router::new()
        .route("/{service}", post(collection).fallback(not_on_collection))
        .route("/{service}/", post(collection).fallback(not_on_collection))
        .route("/{service}/{id}", any(item))
        .fallback(unknown_path)
        .with_state(shared)
        // A panicking operation answers an APS 500 instead of dropping the connection.
        .layer(CatchPanicLayer::custom(panicked))
        // One layer: the request's span and log line around its limits.
        .layer(axum::middleware::from_fn_with_state(
            limits,
            crate::trace::request,
        ))
}

async fn collection(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let answer = async {
        let Path(service) = path.map_err(bad_path)?;
        handle(&shared, Operation::Provision, &service, None, &parts, body).await
    };
    with_transaction(answer.await, &parts.headers)
}

async fn item(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<(String, String)>, PathRejection>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let answer = async {
        let Path((service, id)) = path.map_err(bad_path)?;
        let op = match parts.method {
            Method::GET | Method::HEAD => Operation::Retrieve,
            Method::PUT => Operation::Configure,
            Method::DELETE => Operation::Unprovision,
            _ => {
                find(&shared, &service)?;
                return Ok(wrong_method(&parts.method, "GET, HEAD, PUT, DELETE"));
            }
        };
        handle(&shared, op, &service, Some(&id), &parts, body).await
    };
    with_transaction(answer.await, &parts.headers)
}

async fn handle(
    shared: &Shared,
    op: Operation,
    service: &str,
    id: Option<&str>,
    request: &Parts,
    body: Body,
) -> Result<Response> {
    let service = find(shared, service)?;
    let (instance_id, controller, phase) = aps_headers(&request.headers, &shared.urls)?;
    let peer = request.extensions.get::<PeerCertificate>();
    let limit = shared.app.body_limit;
    let installing = op == Operation::Provision && service.root && phase == Phase::Sync;
    // An install's body is read first: the credentials it brings decide who may send it. Other
    // requests are admitted (or not) before their body is read.
    let (credentials, body) = if installing {
        let sent = read_body(&request.headers, body, limit).await?;
        let (credentials, kept) = shared.instances.install(instance_id, &sent, peer)?;
        (credentials, Ok(Bytes::from(kept)))
    } else {
        (shared.instances.admit(instance_id, peer)?, Err(body))
    };
    let http = credentials.map_or_else(|| shared.http.clone(), |c| c.http.clone());
    let ctx = Context {
        instance_id,
        transaction_id: request
            .headers
            .get(headers::TRANSACTION_ID)
            .map_or_else(|| Uuid::new_v4().to_string(), |v| text_of(v).into_owned()),
        phase,
        controller: ControllerClient::new(http, controller, instance_id),
        state: shared.app.state.clone(),
    };
    let (resource, origin) = match (body, op, id) {
        (Ok(read), _, _) => (read, Origin::Request),
        (Err(body), Operation::Provision, _) => (
            read_body(&request.headers, body, limit).await?,
            Origin::Request,
        ),
        (Err(body), Operation::Configure, Some(id)) => {
            let body = read_body(&request.headers, body, limit).await?;
            (Bytes::from(with_id(&body, id)?), Origin::Request)
        }
        (Err(_), _, Some(id)) => (ctx.controller().fetch(id).await?, Origin::Controller),
        (Err(_), _, None) => return Err(Error::bad_request("the operation needs a resource id")),
    };
    let (outcome, resource) = service.handler.call(op, &resource, origin, &ctx).await?;
    if op == Operation::Unprovision && service.root && outcome.is_done() {
        shared.instances.forget(instance_id)?;
    }
    Ok(answer(op, &outcome, resource))
}

/// The instance, the controller's URL and the phase, from the APS headers.
fn aps_headers(request_headers: &HeaderMap, urls: &ControllerUrls) -> Result<(Uuid, Url, Phase)> {
    // A header given twice could be read one way here and another way by a proxy: refuse it.
    let one = |name: &str| -> Result<Option<&HeaderValue>> {
        let mut values = request_headers.get_all(name).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => Ok(Some(value)),
            (None, _) => Ok(None),
            (Some(_), Some(_)) => Err(Error::with(
                StatusCode::BAD_REQUEST,
                "InvalidHeader",
                format!("the {name} header is given more than once"),
            )),
        }
    };
    let text = |name: &str| Ok::<_, Error>(one(name)?.map(text_of));
    let instance = text(headers::INSTANCE_ID)?.ok_or_else(|| missing_header("APS-Instance-ID"))?;
    let instance_id = Uuid::parse_str(instance.trim()).map_err(|_| {
        Error::with(
            StatusCode::BAD_REQUEST,
            "InvalidHeader",
            format!("APS-Instance-ID must be a UUID, not `{}`", clean(&instance)),
        )
    })?;
    let controller =
        one(headers::CONTROLLER_URI)?.ok_or_else(|| missing_header("APS-Controller-URI"))?;
    let controller = urls.parse(controller).ok_or_else(|| {
        Error::with(
            StatusCode::BAD_REQUEST,
            "InvalidHeader",
            format!(
                "APS-Controller-URI must be an http(s) URL, not `{}`",
                clean(&text_of(controller))
            ),
        )
    })?;
    let phase = Phase::parse(text(headers::REQUEST_PHASE)?.as_deref())
        .map_err(|e| Error::with(StatusCode::BAD_REQUEST, "InvalidHeader", e.to_string()))?;
    Ok((instance_id, controller, phase))
}

/// Reads a body of at most `limit` bytes.
async fn read_body(request_headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes> {
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
    Ok(bytes)
}

/// A body as JSON, or a 400 `InvalidJson`.
pub(crate) fn json(body: &[u8]) -> Result<Value> {
    if nests_deeper_than(body, MAX_DEPTH) {
        return Err(Error::with(
            StatusCode::BAD_REQUEST,
            "InvalidJson",
            format!("the body nests deeper than {MAX_DEPTH} levels"),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        Error::with(
            StatusCode::BAD_REQUEST,
            "InvalidJson",
            format!("the body is not valid JSON: {e}"),
        )
    })
}

/// A configure body names the resource of its URL (or none, and gets that one).
fn with_id(body: &[u8], id: &str) -> Result<Vec<u8>> {
    let invalid =
        |message: String| Error::with(StatusCode::BAD_REQUEST, "InvalidResource", message);
    let mut resource = json(body)?;
    let Some(object) = resource.as_object_mut() else {
        return Err(invalid(
            "the body must be a JSON object (a resource)".into(),
        ));
    };
    let Some(aps) = object
        .entry("aps")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
    else {
        return Err(invalid("`aps` must be an object".into()));
    };
    match aps.get("id") {
        Some(Value::String(body_id)) if body_id != id => {
            return Err(Error::bad_request(format!(
                "the body is resource `{}` but the URL names `{}`",
                clean(body_id),
                clean(id)
            )));
        }
        _ => {
            aps.insert("id".into(), Value::String(id.to_owned()));
        }
    }
    Ok(serde_json::to_vec(&resource)?)
}

/// The HTTP answer for an outcome.
fn answer(op: Operation, outcome: &Outcome, resource: Vec<u8>) -> Response {
    let json = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    )];
    if let (Some(message), Some(secs)) = (outcome.message(), outcome.recheck_secs()) {
        let mut response = (StatusCode::ACCEPTED, json, resource).into_response();
        let h = response.headers_mut();
        h.insert(headers::INFO, header_text(message));
        h.insert(headers::RETRY_TIMEOUT, HeaderValue::from(secs));
        return response;
    }
    match op {
        Operation::Unprovision => StatusCode::NO_CONTENT.into_response(),
        Operation::Provision => (StatusCode::CREATED, json, resource).into_response(),
        Operation::Retrieve | Operation::Configure => {
            (StatusCode::OK, json, resource).into_response()
        }
    }
}

/// Echoes the transaction id, so a client can correlate the answer.
fn with_transaction(answer: Result<Response>, request_headers: &HeaderMap) -> Response {
    let mut response = answer.unwrap_or_else(IntoResponse::into_response);
    if let Some(txn) = request_headers.get(headers::TRANSACTION_ID) {
        // Plain text is echoed as it came (sharing its bytes); anything else is cleaned.
        let plain = txn.len() <= headers::MAX_HEADER_TEXT
            && txn
                .to_str()
                .is_ok_and(|t| t.trim().len() == t.len() && !t.contains('\t'));
        let echo = if plain {
            txn.clone()
        } else {
            header_text(&text_of(txn))
        };
        response.headers_mut().insert(headers::TRANSACTION_ID, echo);
    }
    response
}

/// The answer for an operation that panicked. The panic's text goes to the log, inside the
/// request's span, not to the caller.
fn panicked(panic: Box<dyn std::any::Any + Send>) -> Response {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    tracing::error!("the operation panicked: {text}");
    Error::new("the operation failed unexpectedly; the endpoint's log has the details")
        .into_response()
}

/// The service of a path, or a 404.
fn find<'a>(shared: &'a Shared, service: &str) -> Result<&'a Service> {
    shared.app.find(service).ok_or_else(|| {
        Error::not_found(format!("this endpoint has no service `{}`", clean(service)))
    })
}

/// Any method but `POST` on a collection: 404 for an unknown service, else 405.
async fn not_on_collection(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<String>, PathRejection>,
    method: Method,
) -> Response {
    let known = path
        .map_err(bad_path)
        .and_then(|Path(service)| find(&shared, &service).map(drop));
    match known {
        Ok(()) => wrong_method(&method, "POST"),
        Err(e) => e.into_response(),
    }
}

/// A 405 naming the methods the URL takes, in `Allow` as HTTP asks.
fn wrong_method(method: &Method, allow: &'static str) -> Response {
    let mut response = Error::with(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!(
            "{} is not an APS operation on this URL; it takes {allow}",
            clean(method.as_str())
        ),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

pub(crate) async fn unknown_path() -> Response {
    Error::not_found("no such path on this endpoint: use /{service}/ or /{service}/{id}")
        .into_response()
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
    Shown(text).to_string()
}
