//! Write APS provisioning endpoints in a few lines.
//!
//! An APS controller creates, changes and removes resources by calling an application's
//! *endpoint*. Operations that cannot finish inside one HTTP call answer **202 Accepted** with a
//! message and a time to check back; the controller then calls again, in the *async phase*,
//! until the endpoint says done. This crate is the endpoint side: you write a resource type and
//! implement [`Provisionable`]; the framework serves the protocol (routing, headers, phases,
//! status codes, the error shape, logs), generates the type schemas and `APP-META.xml`, and gives
//! the program its command line.
//!
//! ```no_run
//! use aps::{Context, Outcome, Provisionable, Resource, Result};
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! /// A resource that provisions itself in the background.
//! #[derive(Serialize, Deserialize, JsonSchema)]
//! pub struct Dummy {
//!     #[serde(flatten)]
//!     resource: Resource,
//! }
//!
//! aps::register!(Dummy, service = "provisionable", type = "provisionable/1.0");
//!
//! #[aps::async_trait]
//! impl Provisionable for Dummy {
//!     async fn provision(&mut self, _ctx: &Context) -> Result<Outcome> {
//!         Ok(Outcome::accepted("Provisioning the resource", 30))
//!     }
//!
//!     async fn provision_async(&mut self, _ctx: &Context) -> Result<Outcome> {
//!         Ok(Outcome::done())
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     aps::run(aps::app!())
//! }
//! ```
//!
//! The repository's `docs/aps-protocol.md` describes the wire protocol this crate serves, and
//! `docs/controller-api.md` the API of the controller that `dev` and the test kit embed.
//!
//! The pieces:
//! * [`Provisionable`]: the operations of a resource type, each answering an [`Outcome`] or an
//!   [`Error`], with the request's [`Context`].
//! * [`Resource`]: the `aps` meta object and every property a type does not declare; flatten it
//!   into your type so unknown properties are echoed back, never dropped.
//! * [`register!`] and [`app!`]: register types and build the [`App`] from Cargo's metadata; or
//!   list them with [`App::service`].
//! * `run` / `run_with`: the command line (`serve`, `meta`, and with the `dev` feature
//!   `dev`: the endpoint plus an embedded controller); or `App::router` to serve it yourself.
//! * `testkit` (with the `dev` feature): a real controller inside your tests.
//!
//! What a resource type is written against lives in [`aps_core`], re-exported here: a library
//! of resource types can depend on it alone.
//!
//! # Features
//!
//! Each names what it pulls in; the default (`server`, `tls`, `cli`) is what an endpoint
//! program needs.
//!
//! * `server`: the axum router with its limits and request logs, serving through `aps-server`,
//!   instance credentials, and calling the controller back through `reqwest`
//!   (`App::router`, `App::serve`).
//! * `tls`: HTTPS with certificates from PEM files or a self-signed one made with `rcgen`
//!   (`Tls`, `App::serve_tls`, the command line's TLS options).
//! * `cli`: the command line on `clap`, with logs to stderr (`run`, `run_with`).
//! * `dev`: the `dev` command and the `testkit` module, through `aps-controller` (its engine
//!   and SQLite store): for development and tests, not for the production build.
//!
//! Without any, `aps` is the author's API plus [`App`]: `APP-META.xml` and the type schemas.
#![warn(missing_docs)]

#[cfg(feature = "server")]
mod answer;
mod app;
#[cfg(feature = "server")]
mod body;
#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "server")]
mod controllers;
#[cfg(feature = "server")]
mod credentials;
#[cfg(feature = "dev")]
mod dev;
#[cfg(feature = "server")]
mod headers;
#[cfg(feature = "server")]
mod ids;
#[cfg(feature = "server")]
mod limits;
#[cfg(feature = "server")]
mod router;
mod schema;
#[cfg(feature = "server")]
mod serve;
#[cfg(feature = "dev")]
pub mod testkit;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "server")]
mod trace;
#[cfg(feature = "server")]
mod transport;

pub use app::App;
#[cfg(feature = "server")]
pub use app::DEFAULT_BODY_LIMIT;
pub use aps_core::{
    Aps, BoxError, Context, ControllerClient, Error, Outcome, Phase, Provisionable, Resource,
    Result, Status, StatusCode, Transport, async_trait, protocol, register,
};
#[cfg(feature = "server")]
pub use aps_server::TlsError;
#[cfg(feature = "cli")]
pub use cli::{NoArgs, run, run_with};
#[cfg(feature = "server")]
pub use limits::{DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONCURRENCY, DEFAULT_REQUEST_TIMEOUT};
#[cfg(feature = "tls")]
pub use tls::Tls;

/// The [`App`] of the calling crate: name, version (`major.minor`), release (`patch`) and
/// summary from its Cargo metadata, and every type registered with [`register!`].
///
/// ```no_run
/// let app = aps::app!().id("http://example.com/mail").vendor("Example");
/// ```
#[macro_export]
macro_rules! app {
    () => {
        $crate::App::from_cargo(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION_MAJOR"),
            env!("CARGO_PKG_VERSION_MINOR"),
            env!("CARGO_PKG_VERSION_PATCH"),
            env!("CARGO_PKG_DESCRIPTION"),
        )
    };
}

/// The README's examples, compiled as doctests so they stay true.
#[cfg(all(doctest, feature = "dev"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;
