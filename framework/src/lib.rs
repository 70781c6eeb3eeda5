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
//! The pieces:
//! * [`Provisionable`]: the operations of a resource type, each answering an [`Outcome`] or an
//!   [`Error`], with the request's [`Context`].
//! * [`Resource`]: the `aps` meta object and every property a type does not declare; flatten it
//!   into your type so unknown properties are echoed back, never dropped.
//! * [`register!`] and [`app!`]: register types and build the [`App`] from Cargo's metadata; or
//!   list them with [`App::service`].
//! * [`run`] / [`run_with`]: the command line (`serve`, `meta`, and with the `dev` feature
//!   `dev`: the endpoint plus an embedded controller); or [`App::router`] to serve it yourself.
//! * `testkit` (with the `dev` feature): a real controller inside your tests.
#![warn(missing_docs)]

mod app;
mod cli;
mod client;
mod context;
mod credentials;
#[cfg(feature = "dev")]
mod dev;
mod error;
mod limits;
mod outcome;
mod provisionable;
mod registry;
mod routes;
mod schema;
mod serve;
#[cfg(feature = "dev")]
pub mod testkit;
mod tls;
mod trace;

pub use app::{App, DEFAULT_BODY_LIMIT};
pub use aps_protocol as protocol;
pub use aps_protocol::{Aps, Phase, Resource, Status};
pub use aps_server::TlsError;
pub use async_trait::async_trait;
/// The HTTP status an [`Error`] answers with (re-exported from `http`).
pub use axum::http::StatusCode;
pub use cli::{NoArgs, run, run_with};
pub use client::ControllerClient;
pub use context::Context;
pub use error::{Error, Result};
pub use limits::{DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONCURRENCY, DEFAULT_REQUEST_TIMEOUT};
pub use outcome::Outcome;
pub use provisionable::Provisionable;
pub use tls::Tls;

/// Registers a resource type, so [`app!`] and [`App::registered`] serve it.
///
/// ```
/// # use aps::Resource;
/// # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
/// # struct Globals { #[serde(flatten)] resource: Resource }
/// # impl aps::Provisionable for Globals {}
/// # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
/// # struct Dummy { #[serde(flatten)] resource: Resource }
/// # impl aps::Provisionable for Dummy {}
/// // The application's root type: installing an instance provisions it.
/// aps::register!(Globals, service = "globals", type = "globals/1.0", root);
/// // An ordinary resource type. A type id without a scheme is relative to the application id.
/// aps::register!(Dummy, service = "provisionable", type = "provisionable/1.0");
/// ```
#[macro_export]
macro_rules! register {
    ($ty:ty, service = $service:literal, type = $type_id:literal, root) => {
        $crate::__private::inventory::submit! {
            $crate::__private::Registration::new::<$ty>($service, $type_id, true)
        }
    };
    ($ty:ty, service = $service:literal, type = $type_id:literal) => {
        $crate::__private::inventory::submit! {
            $crate::__private::Registration::new::<$ty>($service, $type_id, false)
        }
    };
}

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

#[doc(hidden)]
pub mod __private {
    pub use crate::registry::Registration;
    pub use inventory;
}
