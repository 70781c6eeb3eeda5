//! The APS 2 wire formats, defined once for the endpoint framework, the controller and the
//! package tools.
//!
//! Nothing here does I/O: these are the shapes that cross the wire and the rules for building
//! and reading them safely, so both sides of a call apply the same ones. The repository's
//! `docs/aps-protocol.md` describes the protocol as a whole, in prose.
//!
//! * [`headers`]: the `APS-*` header names, the request [`Phase`], and
//!   [`header_text`](headers::header_text), which turns any message into a valid header value.
//! * [`retry`]: `APS-Retry-Timeout` as a [`RetryTimeout`], with its default and its bounds.
//! * [`accepted`]: the 202 of an operation that goes on, with `APS-Info` ([`Accepted`]).
//! * [`busy`]: the 503 of a server at its request limit, with `Retry-After`.
//! * [`resource`]: the resource JSON (`aps` meta object plus properties) and resource statuses.
//! * [`error`]: the APS error body `{"code", "error", "message"}`, as an answer and as read
//!   from a peer.
//! * [`json`]: how deep JSON from a peer may nest, checked before parsing.
//! * [`body`]: how long a request body may take to arrive.
//! * [`schema`]: APS type schemas (`schemas/{service}.schema`), with their declared
//!   [`operation`]s and [`relation`]s (and links as resources carry them).
//! * [`typecheck`]: whether a value (a property, an operation's parameter) is of its declared
//!   type, and how a query parameter's text is read as that type.
//! * [`event`]: event types, subscriptions and the notifications a controller delivers.
//! * [`meta`]: `APP-META.xml`, written by endpoints and read by controllers and package tools.
#![warn(missing_docs)]

pub mod accepted;
pub mod body;
pub mod busy;
pub mod error;
pub mod event;
pub mod headers;
pub mod json;
pub mod meta;
pub mod operation;
pub mod relation;
pub mod resource;
pub mod retry;
pub mod schema;
pub mod typecheck;

pub use accepted::Accepted;
pub use error::ErrorBody;
pub use headers::Phase;
pub use meta::{AppMeta, ServiceMeta};
pub use resource::{Aps, Resource, Status};
pub use retry::RetryTimeout;
pub use schema::TypeSchema;
