//! The APS protocol on axum: the routes, and what each request goes through.
//!
//! | request | operation |
//! |---|---|
//! | `POST /{service}/` | provision (install, on the root service) |
//! | `GET /{service}/{id}` | retrieve |
//! | `PUT /{service}/{id}` | configure |
//! | `DELETE /{service}/{id}` | unprovision (uninstall, on the root service) |
//! | `GET /healthz` | 200 `{"status": "ok"}` while the process serves (no APS headers, not logged) |
//! | `{verb} /{service}/{id}/{path}` | a custom operation (see [`custom`](crate::custom)) |
//! | `POST /{service}/{id}/{relation}` | link notification |
//! | `DELETE /{service}/{id}/{relation}/{linked-id}` | unlink notification |
//!
//! `GET` and `DELETE` carry no body, so the resource is loaded from the controller first.
//! Every failure answers in the APS error shape.

use std::collections::HashMap;
use std::sync::Arc;

use aps_core::__private::{Operation, Origin, context};
use aps_core::{Context, ControllerClient, Transport};
use aps_protocol::Phase;
use aps_protocol::TypeSchema;
use aps_protocol::headers::{self, text_of};
use aps_server::PeerCertificate;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{any, get, post};
use http::{HeaderValue, Method, StatusCode, header};
use tower_http::catch_panic::CatchPanicLayer;
use uuid::Uuid;

use crate::answer::{self, ErrorResponse, with_transaction};
use crate::app::Service;
use crate::body;
use crate::controllers::Timed;
use crate::credentials::{Credentials, Instances};
use crate::headers::{ApsHeaders, ControllerUrls};
use crate::limits::Limits;
use crate::trace::clean;
use crate::transport::Http;
use crate::{App, Error, Result};

/// What every request shares.
pub(crate) struct Shared {
    pub(crate) app: App,
    /// The type schema of each service: what its custom operations and relations are.
    pub(crate) schemas: HashMap<String, TypeSchema>,
    /// Calls controllers for instances without credentials.
    plain: Arc<dyn Transport>,
    instances: Instances,
    urls: ControllerUrls,
}

/// The router of an application, with the services at `/{service}/…`.
pub(crate) fn router(app: App) -> Router {
    let limits = Limits::new(app.server.max_concurrency, app.server.request_timeout);
    let shared = Arc::new(Shared {
        instances: Instances::new(app.server.data_dir.as_deref()),
        schemas: app.schemas().into_iter().collect(),
        app,
        plain: Http::plain(),
        urls: ControllerUrls::default(),
    });
    Router::new()
        .route("/{service}", post(collection).fallback(not_on_collection))
        .route("/{service}/", post(collection).fallback(not_on_collection))
        .route("/{service}/{id}", any(item))
        .route("/{service}/{id}/{*path}", any(crate::custom::route))
        .fallback(unknown_path)
        .with_state(shared)
        // A panicking operation answers an APS 500 instead of dropping the connection.
        .layer(CatchPanicLayer::custom(answer::panicked))
        // One layer: the request's span and log line around its limits.
        .layer(axum::middleware::from_fn_with_state(
            limits,
            crate::trace::request,
        ))
        // Outside the log line and the limits: a load balancer's probe every few seconds is not
        // traffic, and the answer must come while the endpoint sheds load.
        .route("/healthz", get(healthz))
}

/// `GET /healthz`: 200 while the process serves requests; no APS headers, no credentials.
async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok"}))
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
    let id = id.map(crate::ids::path).transpose()?;
    let aps = ApsHeaders::read(&request.headers, &shared.urls)?;
    let instance_id = aps.instance_id;
    let peer = request.extensions.get::<PeerCertificate>();
    crate::controllers::admit(
        &shared.app.server.controllers,
        &aps.controller,
        peer.is_some(),
    )?;
    let limit = shared.app.server.body_limit;
    let installing = op == Operation::Provision && service.root && aps.phase == Phase::Sync;
    // An install's body is read first: the credentials it brings decide who may send it. Other
    // requests are admitted (or not) before their body is read.
    let (credentials, body) = if installing {
        let sent = body::read(&request.headers, body, limit).await?;
        let (credentials, kept) = shared.instances.install(instance_id, &sent, peer)?;
        (credentials, Ok(Bytes::from(kept)))
    } else {
        (shared.instances.admit(instance_id, peer)?, Err(body))
    };
    let ctx = context_for(shared, aps, credentials, request);
    let (resource, origin) = match (body, op, id) {
        (Ok(read), _, _) => (read, Origin::Request),
        (Err(body), Operation::Provision, _) => (
            body::read(&request.headers, body, limit).await?,
            Origin::Request,
        ),
        (Err(body), Operation::Configure, Some(id)) => {
            let body = body::read(&request.headers, body, limit).await?;
            (Bytes::from(body::with_id(&body, id)?), Origin::Request)
        }
        (Err(_), _, Some(id)) => (ctx.controller().fetch(id).await?, Origin::Controller),
        (Err(_), _, None) => return Err(Error::bad_request("the operation needs a resource id")),
    };
    if origin == Origin::Request {
        crate::ids::body(&resource)?;
    }
    let (outcome, resource) = service.handler.call(op, &resource, origin, &ctx).await?;
    if op == Operation::Unprovision && service.root && outcome.is_done() {
        shared.instances.forget(instance_id)?;
    }
    Ok(answer::outcome(op, &outcome, resource))
}

/// The context of a request that is not an install: its APS headers read and its instance
/// admitted (or a 4xx).
pub(crate) fn admitted(shared: &Shared, request: &Parts) -> Result<Context> {
    let aps = ApsHeaders::read(&request.headers, &shared.urls)?;
    let peer = request.extensions.get::<PeerCertificate>();
    crate::controllers::admit(
        &shared.app.server.controllers,
        &aps.controller,
        peer.is_some(),
    )?;
    let credentials = shared.instances.admit(aps.instance_id, peer)?;
    Ok(context_for(shared, aps, credentials, request))
}

/// The context of a request, calling the controller with the instance's credentials.
fn context_for(
    shared: &Shared,
    aps: ApsHeaders,
    credentials: Option<Arc<Credentials>>,
    request: &Parts,
) -> Context {
    let transport = credentials.map_or_else(|| shared.plain.clone(), |c| c.transport.clone());
    let transport = Timed::wrap(transport, shared.app.server.controller_timeout);
    context(
        aps.instance_id,
        request
            .headers
            .get(headers::TRANSACTION_ID)
            .map_or_else(|| Uuid::new_v4().to_string(), |v| text_of(v).into_owned()),
        aps.phase,
        ControllerClient::shared(transport, aps.controller, aps.instance_id),
        shared.app.state.clone(),
    )
}

/// The service of a path, or a 404.
pub(crate) fn find<'a>(shared: &'a Shared, service: &str) -> Result<&'a Service> {
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
pub(crate) fn wrong_method(method: &Method, allow: &str) -> Response {
    let mut response = Error::with(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!(
            "{} is not an APS operation on this URL; it takes {allow}",
            clean(method.as_str())
        ),
    )
    .into_response();
    if let Ok(allow) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

/// Any path that is not a service's: a 404 in the APS shape.
pub(crate) async fn unknown_path() -> Response {
    Error::not_found("no such path on this endpoint: use /{service}/ or /{service}/{id}")
        .into_response()
}

pub(crate) fn bad_path(rejection: PathRejection) -> Error {
    Error::with(
        StatusCode::BAD_REQUEST,
        "InvalidPath",
        rejection.body_text(),
    )
}
