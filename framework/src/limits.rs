//! Load shedding and time limits: an endpoint under load answers 503 with `Retry-After` instead
//! of queueing without bound, and no request runs forever.
//!
//! tower's concurrency limit, load shed and timeout do the work; this module turns their errors
//! into APS answers and bounds the request head, for which tower has no layer.

use std::sync::Arc;
use std::time::Duration;

use aps_protocol::busy::busy;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::error::Overloaded;
use tower::timeout::error::Elapsed;
use tower::{BoxError, ServiceBuilder, ServiceExt};

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

    /// The APS answer for what tower's layers refused.
    fn answer(&self, error: &BoxError) -> Response {
        if error.is::<Overloaded>() {
            busy("endpoint").map(Body::from)
        } else if error.is::<Elapsed>() {
            Error::with(
                StatusCode::GATEWAY_TIMEOUT,
                "Timeout",
                format!(
                    "the operation ran longer than {}: answer Outcome::accepted and finish it in \
                     the async phase",
                    humantime::format_duration(self.timeout)
                ),
            )
            .into_response()
        } else {
            Error::new(error.to_string()).into_response()
        }
    }
}

/// Runs a request if its head is within bounds, a slot is free, and within the time limit.
pub(crate) async fn guard(limits: &Limits, request: Request, next: Next) -> Response {
    if let Some(refused) = head_too_large(&request) {
        return refused;
    }
    // The layers wrap `next` here rather than the router, so the request's span and its limits
    // stay one middleware (one boxed future per request); building them costs an `Arc` clone.
    let limited = ServiceBuilder::new()
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::with_semaphore(
            limits.slots.clone(),
        ))
        .timeout(limits.timeout)
        .service(next);
    match limited.oneshot(request).await {
        Ok(response) => response,
        Err(error) => limits.answer(&error),
    }
}

/// The 431 for a head over [`MAX_HEAD`] bytes or [`MAX_HEADERS`] headers. Counted here, as tower
/// has no such layer and hyper's own bound answers no APS error (nor applies when the router is
/// served some other way).
fn head_too_large(request: &Request) -> Option<Response> {
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
    (head > MAX_HEAD || request.headers().len() > MAX_HEADERS).then(|| {
        Error::with(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "HeadersTooLarge",
            format!(
                "a request may have {MAX_HEADERS} headers and {MAX_HEAD} bytes of request line \
                 and headers"
            ),
        )
        .into_response()
    })
}
