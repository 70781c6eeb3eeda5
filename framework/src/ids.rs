//! Resource ids in requests: UUIDs only ([`aps_protocol::id`]), in the path and in a body's
//! `aps.id`, so that no id names another path on the controller or reaches a log whole.

use aps_protocol::id::{self, InvalidId};
use http::StatusCode;

use crate::{Error, Result};

fn refused(error: InvalidId) -> Error {
    Error::with(StatusCode::BAD_REQUEST, "InvalidId", error.to_string())
}

/// The id of a `/{service}/{id}` path, or a 400.
pub(crate) fn path(text: &str) -> Result<&str> {
    id::parse(text).map(|_| text).map_err(refused)
}

/// Refuses a request body whose `aps.id` is there and not a UUID.
pub(crate) fn body(json: &[u8]) -> Result<()> {
    id::in_body(json).map(drop).map_err(refused)
}
