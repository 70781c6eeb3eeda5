//! The HTTP API: the client API under `/api/v1` and the endpoint-facing API under `/aps/2`.
//!
//! Handlers are thin: they read the request (with the APS-shaped extractors of [`error`]), ask
//! the engine, and shape the answer ([`answer`]). Every error is an APS error body.

mod answer;
mod aps;
mod calls;
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
use axum::routing::{any, delete, get, post};

use crate::engine::Engine;
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
}

/// The controller's routes, serving and keeping waiting at most as many requests as `limits`
/// allow.
pub(crate) fn router(api: Api, limits: Limits) -> Router {
    Router::new()
        .route(
            "/api/v1/packages",
            post(packages::import)
                .layer(DefaultBodyLimit::max(MAX_PACKAGE))
                .get(packages::list),
        )
        .route("/api/v1/packages/{id}", get(packages::get))
        .route(
            "/api/v1/applications",
            post(operations::install).get(operations::applications),
        )
        .route("/api/v1/applications/{id}", get(operations::application))
        .route("/api/v1/applications/{id}/upgrade", post(upgrade::upgrade))
        .route(
            "/api/v1/resources",
            post(operations::provision).get(operations::resources),
        )
        .route(
            "/api/v1/resources/{id}",
            get(operations::resource)
                .put(operations::configure)
                .delete(operations::unprovision),
        )
        .route("/api/v1/resources/{id}/refresh", post(operations::refresh))
        .route("/api/v1/resources/{id}/{*path}", any(calls::dispatch))
        .route("/api/v1/tasks", get(tasks::list))
        .route("/api/v1/tasks/{id}", get(tasks::get))
        .route("/api/v1/tasks/{id}/status", get(tasks::status))
        .route("/api/v1/tasks/{id}/result", get(tasks::result))
        .route("/api/v1/tasks/{id}/cancel", post(tasks::cancel))
        .route("/api/v1/subscriptions", get(subscriptions::client_list))
        .route("/api/v1/subscriptions/{id}", get(subscriptions::client_get))
        .route(
            "/api/v1/subscriptions/{id}/deliveries",
            get(subscriptions::deliveries),
        )
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
        .merge(crate::ui::router())
        .fallback(error::no_route)
        .method_not_allowed_fallback(error::wrong_method)
        .with_state(api)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(limits, limits::guard))
}
