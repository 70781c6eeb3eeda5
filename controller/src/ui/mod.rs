//! The web panel and task manager at `/ui/`: server-rendered pages over the same engine the API
//! handlers call, with a little plain JavaScript for live task updates.
//!
//! * [`pages`]: applications, an application's resources by type, a resource.
//! * [`forms`]: the Create and Edit forms made from a type's schema, and reading them back.
//! * [`actions`]: the forms' `POST`s (provision, configure, unprovision, cancel).
//! * [`tasks`]: the task manager (list and task page) and its server-sent events.
//! * [`csrf`], [`headers`]: every form carries a token; every answer carries a strict policy.
//! * [`assets`]: the stylesheet and script, compiled into the binary.
//! * [`sign_in`]: on a controller that asks credentials (`crate::auth`), an API token exchanged
//!   for a session cookie; the authentication layer sends browsers without one there.

mod actions;
mod assets;
mod csrf;
mod forms;
mod headers;
mod pages;
mod sign_in;
mod tasks;
mod view;

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::api::Api;

/// The panel's routes, to be merged into the API's router (which adds its state and limits).
pub(crate) fn router() -> Router<Api> {
    Router::new()
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(pages::applications))
        .route("/ui/applications/{id}", get(pages::application))
        .route(
            "/ui/applications/{id}/create/{service}",
            get(actions::create_form).post(actions::provision),
        )
        .route("/ui/resources/{id}", get(pages::resource))
        .route(
            "/ui/resources/{id}/edit",
            get(actions::edit_form).post(actions::configure),
        )
        .route("/ui/resources/{id}/unprovision", post(actions::unprovision))
        .route("/ui/resources/{id}/call/{operation}", post(actions::call))
        .route("/ui/tasks", get(tasks::list))
        .route("/ui/tasks/{id}", get(tasks::page))
        .route("/ui/tasks/{id}/cancel", post(actions::cancel))
        .route("/ui/events", get(tasks::events))
        .route("/ui/assets/{name}", get(assets::serve))
        .route("/ui/sign-in", get(sign_in::form).post(sign_in::sign_in))
        .route("/ui/{*rest}", get(view::not_found))
        .layer(axum::middleware::from_fn_with_state(
            csrf::Key::random(),
            csrf::issue,
        ))
        .layer(axum::middleware::from_fn(headers::secure))
}
