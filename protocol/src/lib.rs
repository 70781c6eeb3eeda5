//! The APS 2 wire formats, defined once for the endpoint framework, the controller and the
//! package tools.
//!
//! Nothing here does I/O: these are the shapes that cross the wire and the rules for building
//! them safely.
//!
//! * [`headers`]: the `APS-*` header names, the request [`Phase`], and
//!   [`header_text`](headers::header_text), which turns any message into a valid header value.
//! * [`resource`]: the resource JSON (`aps` meta object plus properties) and resource statuses.
//! * [`error`]: the APS error body `{"code", "error", "message"}`.
//! * [`json`]: how deep JSON from a peer may nest, checked before parsing.
//! * [`schema`]: APS type schemas (`schemas/{service}.schema`).
//! * [`meta`]: `APP-META.xml`, written by endpoints and read by controllers and package tools.
#![warn(missing_docs)]

pub mod error;
pub mod headers;
pub mod json;
pub mod meta;
pub mod resource;
pub mod schema;

pub use error::ErrorBody;
pub use headers::Phase;
pub use meta::{AppMeta, ServiceMeta};
pub use resource::{Aps, Resource, Status};
pub use schema::TypeSchema;
