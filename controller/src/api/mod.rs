//! The HTTP API: the client API under `/api/v1` and the endpoint-facing API under `/aps/2`.
//!
//! Handlers are thin: they read the request (with the APS-shaped extractors of [`error`]), ask
//! the engine, and shape the answer ([`answer`]). Every error is an APS error body.

mod answer;
mod aps;
mod error;
mod operations;
mod packages;
mod tasks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::engine::Engine;

/// The largest package upload.
const MAX_PACKAGE: usize = 256 * 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct Api {
    pub engine: Arc<Engine>,
    /// What `timeout: -1` waits.
    pub sync_timeout: Duration,
}

/// The controller's routes.
pub(crate) fn router(api: Api) -> Router {
    Router::new()
        .route(
            "/api/v1/packages",
            post(packages::import).layer(DefaultBodyLimit::max(MAX_PACKAGE)),
        )
        .route(
            "/api/v1/applications",
            post(operations::install).get(operations::applications),
        )
        .route("/api/v1/applications/{id}", get(operations::application))
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
        .route("/api/v1/tasks", get(tasks::list))
        .route("/api/v1/tasks/{id}", get(tasks::get))
        .route("/api/v1/tasks/{id}/status", get(tasks::status))
        .route("/api/v1/tasks/{id}/result", get(tasks::result))
        .route("/api/v1/tasks/{id}/cancel", post(tasks::cancel))
        .route("/aps/2/resources/{id}", get(aps::get).put(aps::put))
        .fallback(error::no_route)
        .method_not_allowed_fallback(error::wrong_method)
        .with_state(api)
}
