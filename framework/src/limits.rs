//! Load shedding and time limits: an endpoint under load answers 503 with `Retry-After` instead
//! of queueing without bound, and no request runs forever.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;

use crate::Error;
use crate::answer::ErrorResponse;

/// Requests served at once unless [`App::max_concurrency`](crate::App::max_concurrency) says
/// otherwise.
pub const DEFAULT_MAX_CONCURRENCY: usize = 512;
/// How long a request may run unless [`App::request_timeout`](crate::App::request_timeout)
/// says otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a client may take to send a request head unless
/// [`App::header_read_timeout`](crate::App::header_read_timeout) says otherwise.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request body.
pub(crate) const BODY_READ_TIMEOUT: Duration = aps_protocol::body::READ_TIMEOUT;
/// The largest request head (request line and headers) the router serves.
const MAX_HEAD: usize = 32 * 1024;
/// The most headers a request may have.
const MAX_HEADERS: usize = 100;

/// The limits of one router.
#[derive(Clone)]
pub(crate) struct Limits {
    slots: Arc<Semaphore>,
    timeout: Duration,
}

impl Limits {
    pub(crate) fn new(max_concurrency: usize, timeout: Duration) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max_concurrency.max(1))),
            timeout,
        }
    }
}

/// Runs a request if its head is within bounds, a slot is free, and within the time limit.
pub(crate) async fn guard(limits: &Limits, request: Request, next: Next) -> Response {
    let uri = request.uri();
    let target = uri.path_and_query().map_or(0, |p| p.as_str().len())
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.scheme().map_or(0, |s| s.as_str().len() + 3);
    let head = target
        + request
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    if head > MAX_HEAD || request.headers().len() > MAX_HEADERS {
        return Error::with(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "HeadersTooLarge",
            format!(
                "a request may have {MAX_HEADERS} headers and {MAX_HEAD} bytes of request line \
                 and headers"
            ),
        )
        .into_response();
    }
    let Ok(_slot) = limits.slots.clone().try_acquire_owned() else {
        let mut busy = Error::with(
            StatusCode::SERVICE_UNAVAILABLE,
            "Busy",
            "the endpoint is serving as many requests as it allows; try again shortly",
        )
        .into_response();
        busy.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return busy;
    };
    match tokio::time::timeout(limits.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Error::with(
            StatusCode::GATEWAY_TIMEOUT,
            "Timeout",
            format!(
                "the operation ran longer than {} s: answer Outcome::accepted and finish it in \
                 the async phase",
                limits.timeout.as_secs()
            ),
        )
        .into_response(),
    }
}
