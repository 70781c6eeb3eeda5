//! The HTTP API: the client API under `/api/v1` and the endpoint-facing API under `/aps/2`.
//!
//! Handlers are thin: they read the request (with the APS-shaped extractors of [`error`]), ask
//! the engine, and shape the answer ([`answer`]). Every error is an APS error body.

mod answer;
mod aps;
mod calls;
mod doc;
mod error;
mod limits;
mod links;
mod operations;
mod packages;
mod subscriptions;
mod tasks;
mod upgrade;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get};
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::auth::Auth;
use crate::engine::Engine;
use crate::observe::{self, Metrics};
use crate::tls::Authority;

pub use limits::ApiLoad;
pub(crate) use limits::{DEFAULT_MAX_REQUESTS, DEFAULT_MAX_WAITING, Limits, Slot, busy};

/// The largest package upload.
const MAX_PACKAGE: usize = 256 * 1024 * 1024;
/// The largest other request body.
const MAX_BODY: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct Api {
    pub engine: Arc<Engine>,
    /// What `timeout: -1` waits.
    pub sync_timeout: Duration,
    /// The certificates issued to instances, which `/aps/2` checks callers against.
    pub authority: Arc<Authority>,
    /// The only hosts a `callbackURL` may name; `None` allows any.
    pub callback_hosts: Option<Arc<Vec<String>>>,
    /// Who may call what.
    pub auth: Arc<Auth>,
    /// What `/metrics` shows.
    pub metrics: Arc<Metrics>,
}

/// The routes of `/api/v1`, each with its description.
///
/// A route is added with `.routes(routes!(module::handler))`, the handler annotated with
/// `#[utoipa::path(…)]` (see any handler here): that is how the route gets into
/// `/api/v1/openapi.json`, so never with a plain `.route`.
fn client_api() -> OpenApiRouter<Api> {
    // The package upload streams its body to a file, a few at a time (see `packages`).
    let upload = routes!(packages::import).layer(axum::Extension(packages::Uploads::default()));
    OpenApiRouter::with_openapi(doc::Head::openapi())
        .routes(upload)
        .routes(routes!(packages::list))
        .routes(routes!(packages::get))
        .routes(routes!(operations::install, operations::applications))
        .routes(routes!(operations::application, operations::uninstall))
        .routes(routes!(upgrade::upgrade))
        .routes(routes!(operations::provision, operations::resources))
        .routes(routes!(
            operations::resource,
            operations::configure,
            operations::unprovision
        ))
        .routes(routes!(operations::refresh))
        .routes(routes!(calls::dispatch))
        .routes(routes!(tasks::list))
        .routes(routes!(tasks::get))
        .routes(routes!(tasks::status))
        .routes(routes!(tasks::result))
        .routes(routes!(tasks::cancel))
        .routes(routes!(subscriptions::client_list))
        .routes(routes!(subscriptions::client_get))
        .routes(routes!(subscriptions::deliveries))
        .routes(routes!(doc::openapi))
}

/// The OpenAPI 3.1 description of `/api/v1`, as `GET /api/v1/openapi.json` serves it.
pub(crate) fn document() -> utoipa::openapi::OpenApi {
    let mut document = client_api().into_openapi();
    // axum's catch-all `{*path}` is OpenAPI's plain `{path}` (described as taking slashes).
    document.paths.paths = std::mem::take(&mut document.paths.paths)
        .into_iter()
        .map(|(path, item)| (path.replace("{*", "{"), item))
        .collect();
    doc::with_authentication(&mut document);
    document
}

/// The OpenAPI 3.1 description of `/api/v1` as pretty JSON: what `GET /api/v1/openapi.json`
/// serves, and `aps-controller openapi` writes.
pub fn openapi_json() -> Result<String, serde_json::Error> {
    document().to_pretty_json()
}

/// The controller's routes, serving and keeping waiting at most as many requests as `limits`
/// allow.
pub(crate) fn router(api: Api, limits: Limits) -> Router {
    let auth = api.auth.clone();
    let (client, _) = client_api().split_for_parts();
    Router::new()
        .merge(client)
        .route("/aps/2/resources/{id}", get(aps::get).put(aps::put))
        .route(
            "/aps/2/resources/{id}/aps/subscriptions",
            get(subscriptions::list).post(subscriptions::create),
        )
        .route(
            "/aps/2/resources/{id}/aps/subscriptions/{sid}",
            get(subscriptions::get).delete(subscriptions::delete),
        )
        .route(
            "/aps/2/resources/{id}/{relation}",
            get(links::aps_list).post(links::aps_link),
        )
        .route(
            "/aps/2/resources/{id}/{relation}/{other}",
            delete(links::aps_unlink),
        )
        .route("/healthz", get(observe::healthz))
        .route("/readyz", get(observe::readyz))
        .route("/metrics", get(observe::metrics))
        .merge(crate::ui::router())
        .fallback(error::no_route)
        .method_not_allowed_fallback(error::wrong_method)
        .with_state(api)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            auth,
            crate::auth::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(limits, limits::guard))
}
