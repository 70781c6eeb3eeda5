//! The 503 "busy" answer of a server serving as many requests as it allows: the APS error
//! body `Busy`, and `Retry-After`, so a client backs off briefly instead of giving up.
//! Answering at once keeps requests from queueing without bound.

use std::time::Duration;

use http::header::RETRY_AFTER;
use http::{HeaderValue, Response, StatusCode};

use crate::error::ErrorBody;

/// How long a busy answer asks the client to wait (`Retry-After`).
pub const RETRY_AFTER_BUSY: Duration = Duration::from_secs(1);

/// The 503 `Busy` answer; `server` names who answers (`endpoint`, `controller`).
///
/// ```
/// let answer = aps_protocol::busy::busy("endpoint");
/// assert_eq!(answer.status(), 503);
/// assert_eq!(answer.headers()["retry-after"], "1");
/// ```
pub fn busy(server: &str) -> Response<Vec<u8>> {
    let body = ErrorBody::new(
        StatusCode::SERVICE_UNAVAILABLE.as_u16(),
        "Busy",
        format!("The {server} is serving as many requests as it allows; try again shortly"),
    );
    let mut response = body.response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_BUSY.as_secs()));
    response
}
