//! Load shedding and time limits: under load the API answers 503 with `Retry-After` instead of
//! queueing without bound, and no request runs forever.
//!
//! A request takes a slot for as long as it runs (long polls and waiting requests included);
//! when none is free it is answered at once. The time limit is above the longest wait a
//! request may ask for (`timeout` up to an hour), so it only ends requests that are stuck.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::error::ApiError;

/// Requests served at once unless the builder says otherwise.
pub(crate) const DEFAULT_MAX_REQUESTS: usize = 1024;
/// How long a request may run: the longest wait plus a minute.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3600 + 60);
/// How long a client may take to send a request body.
pub(crate) const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The slots of one router.
#[derive(Clone)]
pub(crate) struct Limits {
    slots: Arc<Semaphore>,
}

impl Limits {
    pub(crate) fn new(max_requests: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max_requests.max(1))),
        }
    }
}

/// Runs a request if a slot is free, within the time limit.
pub(crate) async fn guard(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let Ok(_slot) = limits.slots.clone().try_acquire_owned() else {
        let mut busy = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Busy",
            "The controller is serving as many requests as it allows; try again shortly",
        )
        .into_response();
        busy.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return busy;
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Timeout",
            "The request ran longer than the controller allows",
        )
        .into_response(),
    }
}
