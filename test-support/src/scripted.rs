//! A scripted APS endpoint: its resources say what it answers, for the cases a real endpoint
//! rarely produces (errors, odd answers, configure and unprovision), and for the controller's
//! benchmarks, called in-process by the controller.
//!
//! The package ([`Scripted::model`]) has two services: `app`, the application root, and `thing`
//! ([`Scripted::linked_model`] adds relations, operations and two more services). A
//! resource's `plan` property lists the answers to successive calls of one method for it:
//! `"accept"` (202 with `APS-Retry-Timeout`), `"accept-bare"` (202 without it), `"done"`,
//! `"html"` (a 500 that is not JSON), or an HTTP status such as `"422"`, optionally with a
//! `Retry-After`: `"503:2"` (seconds) or `"429:date+2"` (a date 2 s from now). A `thing` without a
//! plan is accepted [`Script::accepts`] times, then done; anything else without a plan is done
//! at once. Unprovision carries no body, so the endpoint reads the plan from the controller's
//! `/aps/2`.
//!
//! Every 202 notes when the next call is due (the answer's time plus the scaled delay); when
//! that call comes, the difference is a *lateness* sample ([`Scripted::lateness`]). The
//! controller computes its own due time a little later (after reading the answer), so a sample
//! slightly overstates the controller's lateness, never understates it.

mod answer;
mod linked;
mod package;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::http::{HeaderMap, Method};
use axum::routing::{any, post};
use serde_json::Value;
use tokio::time::Instant;

pub use linked::{PART, SPARE};
pub use package::{APP, THING};

/// The base URL under which a controller reaches the scripted endpoint in-process.
pub const BASE_URL: &str = "http://scripted.invalid";
/// The service whose resources follow the script.
pub const SERVICE: &str = "thing";

/// How the endpoint answers what the resources do not plan, and what it keeps.
#[derive(Debug, Clone, Copy)]
pub struct Script {
    /// How many `202 Accepted` a `thing` without a plan gets before it is done; `u32::MAX`
    /// never ends.
    pub accepts: u32,
    /// The `APS-Retry-Timeout` of every 202, in seconds.
    pub retry_secs: u64,
    /// The controller's time scale, to know when the next call is due.
    pub time_scale: f64,
    /// Whether every call is kept for [`Scripted::calls`] (tests); a benchmark making
    /// millions of calls keeps none.
    pub record: bool,
}

impl Default for Script {
    /// Done at once without a plan, 30 s rechecks at time scale 1000, every call kept.
    fn default() -> Self {
        Self {
            accepts: 0,
            retry_secs: 30,
            time_scale: 1000.0,
            record: true,
        }
    }
}

/// One call the endpoint saw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The method.
    pub method: Method,
    /// `/thing/` or `/thing/{id}`.
    pub path: String,
    /// The request's headers.
    pub headers: HeaderMap,
    /// The request's JSON body (`null` when there was none).
    pub body: Value,
    /// When it came.
    pub at: Instant,
}

/// Lateness figures over the samples taken since the previous report, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatenessReport {
    /// How many rechecks were timed.
    pub count: u64,
    /// The median.
    pub p50_us: u64,
    /// The 99th percentile.
    pub p99_us: u64,
    /// The worst.
    pub max_us: u64,
}

/// The endpoint; clones share their state.
#[derive(Debug, Clone, Default)]
pub struct Scripted(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    script: Script,
    calls: Mutex<Vec<Seen>>,
    /// Per resource and method, until its plan ends: calls so far, and when the next is due.
    progress: Mutex<HashMap<(String, Method), Progress>>,
    lateness_us: Mutex<Vec<u64>>,
}

#[derive(Debug)]
struct Progress {
    calls: usize,
    due: Option<Instant>,
}

impl Scripted {
    /// An endpoint that follows `script` where resources plan nothing.
    pub fn new(script: Script) -> Self {
        Self(Arc::new(Shared {
            script,
            ..Shared::default()
        }))
    }

    /// The routes (`/{service}/`, `/{service}/{id}`, and below a resource the operations and
    /// link notifications of [`Scripted::linked_model`]), to serve or to hand to
    /// `ControllerBuilder::endpoint_router`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/{service}/", post(answer::collection))
            .route("/{service}/{id}", any(answer::resource))
            .route("/{service}/{id}/{*rest}", any(linked::below))
            .with_state(self.clone())
    }

    /// Every call so far (none unless [`Script::record`]).
    pub fn calls(&self) -> Vec<Seen> {
        lock(&self.0.calls).clone()
    }

    /// The calls about the resource `id`.
    pub fn calls_for(&self, id: &str) -> Vec<Seen> {
        self.calls()
            .into_iter()
            .filter(|c| {
                c.body.pointer("/aps/id").and_then(Value::as_str) == Some(id)
                    || c.path.ends_with(id)
            })
            .collect()
    }

    /// The lateness of the rechecks timed since the previous report; starts a new period.
    pub fn lateness(&self) -> LatenessReport {
        let mut samples = std::mem::take(&mut *lock(&self.0.lateness_us));
        samples.sort_unstable();
        let at = |q: f64| {
            let last = samples.len().saturating_sub(1);
            samples.get((last as f64 * q).round() as usize).copied()
        };
        LatenessReport {
            count: samples.len() as u64,
            p50_us: at(0.5).unwrap_or(0),
            p99_us: at(0.99).unwrap_or(0),
            max_us: samples.last().copied().unwrap_or(0),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
