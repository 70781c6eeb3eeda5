//! What an APS resource author implements and returns, without the server around it.
//!
//! The `aps` crate serves the APS protocol; this crate holds the part of it a resource type is
//! written against, and that changes least: the [`Provisionable`] trait, the [`Outcome`] an
//! operation answers, the request's [`Context`], [`Error`] and [`Result`], the resource types of
//! [`aps_protocol`] and [`register!`]; custom operations ([`operations`], [`Reply`]) and
//! relations ([`Link`], [`Links`], [`ResourceType`]). It has no HTTP server, TLS, HTTP client or command line in
//! its dependencies, so a library of resource types compiles quickly and stays usable whichever
//! way the endpoint is served (the split `axum` makes with `axum-core`).
//!
//! Authors normally depend on `aps`, which re-exports everything here; depend on `aps-core`
//! directly for a library that only defines resource types.
//!
//! ```
//! use aps_core::{Context, Outcome, Provisionable, Resource, Result};
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
//! aps_core::register!(Dummy, service = "provisionable", type = "provisionable/1.0");
//!
//! #[aps_core::async_trait]
//! impl Provisionable for Dummy {
//!     async fn provision(&mut self, _ctx: &Context) -> Result<Outcome> {
//!         Ok(Outcome::accepted("Provisioning the resource", 30))
//!     }
//!
//!     async fn provision_async(&mut self, _ctx: &Context) -> Result<Outcome> {
//!         Ok(Outcome::done())
//!     }
//! }
//! ```
#![warn(missing_docs)]

mod client;
mod context;
mod custom;
mod error;
mod json_type;
mod link;
mod outcome;
mod provisionable;
mod registry;
mod reply;

pub use aps_macros::operations;
pub use aps_protocol as protocol;
pub use aps_protocol::{Aps, Phase, Resource, Status};
pub use async_trait::async_trait;
pub use client::{BoxError, ControllerClient, Transport};
pub use context::Context;
pub use error::{Error, Result};
/// The HTTP status an [`Error`] answers with (re-exported from `http`).
pub use http::StatusCode;
pub use link::{Link, Links, ResourceType};
pub use outcome::Outcome;
pub use provisionable::Provisionable;
pub use reply::Reply;

/// Registers a resource type, so the application (`aps::app!`, `App::registered`) serves it.
///
/// ```
/// # use aps_core::Resource;
/// # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
/// # struct Globals { #[serde(flatten)] resource: Resource }
/// # impl aps_core::Provisionable for Globals {}
/// # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
/// # struct Dummy { #[serde(flatten)] resource: Resource }
/// # impl aps_core::Provisionable for Dummy {}
/// // The application's root type: installing an instance provisions it.
/// aps_core::register!(Globals, service = "globals", type = "globals/1.0", root);
/// // An ordinary resource type. A type id without a scheme is relative to the application id.
/// aps_core::register!(Dummy, service = "provisionable", type = "provisionable/1.0");
/// # assert!(aps_core::__private::registered().any(|r| r.service == "globals" && r.root));
/// ```
#[macro_export]
macro_rules! register {
    ($ty:ty, service = $service:literal, type = $type_id:literal, root) => {
        $crate::__private::inventory::submit! {
            $crate::__private::Registration::new::<$ty>($service, $type_id, true)
        }
        impl $crate::ResourceType for $ty {
            const TYPE_ID: &'static str = $type_id;
        }
    };
    ($ty:ty, service = $service:literal, type = $type_id:literal) => {
        $crate::__private::inventory::submit! {
            $crate::__private::Registration::new::<$ty>($service, $type_id, false)
        }
        impl $crate::ResourceType for $ty {
            const TYPE_ID: &'static str = $type_id;
        }
    };
}

/// What the framework (`aps`) needs of this crate and authors never name: registrations, the
/// type-erased handler the router calls, and building a [`Context`]. Not a stable interface.
#[doc(hidden)]
pub mod __private {
    pub use crate::context::{State, context};
    pub use crate::custom::{
        BoxFuture, Call, Custom, LinkFn, OperationFn, UnlinkFn, linked, parameter,
    };
    pub use crate::json_type::{json_type, kind, resolve};
    pub use crate::link::RELATION_MARK;
    pub use crate::registry::{Handler, Operation, Origin, Registration, registered};
    pub use crate::reply::{Answer, Responds};
    pub use aps_protocol::operation::ParameterKind;
    pub use http::Method;
    pub use inventory;
}
