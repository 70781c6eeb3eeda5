//! Load shedding and time limits: under load the API answers 503 with `Retry-After` instead of
//! queueing without bound, and no request runs forever.
//!
//! A request takes a slot while it works; when none is free it is answered at once. A request
//! that goes on to wait (a long poll, an operation waiting for its task) trades its slot for
//! one of the far more numerous waiting slots ([`Slot::wait`]): waiting costs a few KiB and no
//! CPU, so thousands of waits do not keep other requests from being served. The time limit is
//! above the longest wait a request may ask for (`timeout` up to an hour), so it only ends
//! requests that are stuck.
//!
//! Written on semaphores rather than tower's `ConcurrencyLimit`/`LoadShed`: those hold their
//! permit for the whole request, and cannot hand it back halfway for a waiting slot.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::ApiError;

/// Requests served at once unless the builder says otherwise.
pub(crate) const DEFAULT_MAX_REQUESTS: usize = 1024;
/// Requests waiting at once (long polls, operations waiting for their task) unless the builder
/// says otherwise.
pub(crate) const DEFAULT_MAX_WAITING: usize = 65_536;
/// How long a request may run: the longest wait plus a minute.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3600 + 60);

/// The slots of one router.
#[derive(Clone)]
pub(crate) struct Limits {
    slots: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
    max_requests: usize,
    max_waiting: usize,
}

impl Limits {
    pub(crate) fn new(max_requests: usize, max_waiting: usize) -> Self {
        let (max_requests, max_waiting) = (max_requests.max(1), max_waiting.max(1));
        Self {
            slots: Arc::new(Semaphore::new(max_requests)),
            waiting: Arc::new(Semaphore::new(max_waiting)),
            max_requests,
            max_waiting,
        }
    }

    /// The slots taken now.
    pub(crate) fn load(&self) -> ApiLoad {
        ApiLoad {
            serving: self.max_requests - self.slots.available_permits(),
            waiting: self.max_waiting - self.waiting.available_permits(),
        }
    }
}

/// How many API requests a controller serves at this moment: read by tests (and diagnostics)
/// that must know a request has reached its wait before they go on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiLoad {
    /// Requests holding a request slot (being served, not waiting).
    pub serving: usize,
    /// Requests waiting: long polls, and operations waiting for their task. A long poll counts
    /// from the moment it watches its task, so a change made after this count includes it is
    /// one the poll sees.
    pub waiting: usize,
}

/// The slot of the request being served, for a handler that is about to wait.
#[derive(Clone)]
pub(crate) struct Slot {
    held: Arc<Mutex<Option<OwnedSemaphorePermit>>>,
    waiting: Option<Arc<Semaphore>>,
}

/// Held for as long as a request waits.
pub(crate) struct Waiting {
    _permit: Option<OwnedSemaphorePermit>,
}

impl Slot {
    /// Gives the request's slot back and takes a waiting one instead; `None` when as many
    /// requests wait as allowed (the request keeps its slot then).
    pub(crate) fn wait(&self) -> Option<Waiting> {
        let Some(waiting) = &self.waiting else {
            return Some(Waiting { _permit: None });
        };
        let permit = waiting.clone().try_acquire_owned().ok()?;
        drop(
            self.held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        Some(Waiting {
            _permit: Some(permit),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Slot {
    type Rejection = Infallible;

    /// The slot [`guard`] gave the request; outside it (a router without the guard) waiting is
    /// not limited.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts.extensions.get::<Slot>().cloned().unwrap_or(Slot {
            held: Arc::default(),
            waiting: None,
        }))
    }
}

/// The 503 for a controller serving (or keeping waiting) as many requests as it allows.
pub(crate) fn busy() -> Response {
    aps_protocol::busy::busy("controller").map(Body::from)
}

/// Runs a request if a slot is free, within the time limit.
pub(crate) async fn guard(
    State(limits): State<Limits>,
    mut request: Request,
    next: Next,
) -> Response {
    let Ok(permit) = limits.slots.clone().try_acquire_owned() else {
        return busy();
    };
    // The guard keeps the slot until the request ends, unless the handler traded it for a
    // waiting one: the request's own copy goes when its handler has read what it needs.
    let slot = Slot {
        held: Arc::new(Mutex::new(Some(permit))),
        waiting: Some(limits.waiting),
    };
    request.extensions_mut().insert(slot.clone());
    let answer = tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await;
    drop(slot);
    match answer {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Timeout",
            "The request ran longer than the controller allows",
        )
        .into_response(),
    }
}
