//! A scripted APS endpoint for the controller benchmarks, called in-process by the controller.
//!
//! The package has two services: `app`, the application root, which answers every call at once
//! (so installing an instance takes one call), and `thing`, which follows a [`Script`]: it
//! answers `202 Accepted` with `APS-Retry-Timeout` a set number of times for each transaction,
//! then `200` with the resource. Doing nothing else keeps the endpoint's own cost out of the
//! controller's figures.
//!
//! Every 202 notes when the next call is due (the answer's time plus the scaled delay); when
//! that call comes, the difference is a *lateness* sample. The controller computes its own due
//! time a little later (after reading the answer), so a sample slightly overstates the
//! controller's lateness, never understates it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aps_controller::PackageModel;
use aps_protocol::meta::ServiceMeta;
use aps_protocol::schema::APPLICATION_TYPE;
use aps_protocol::{AppMeta, TypeSchema};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use tokio::time::Instant;

/// The base URL under which the controller reaches the scripted endpoint in-process.
pub const BASE_URL: &str = "http://scripted.bench";
/// The service whose calls follow the script.
pub const SERVICE: &str = "thing";

/// How the `thing` service answers.
#[derive(Debug, Clone, Copy)]
pub struct Script {
    /// How many `202 Accepted` each transaction gets before its `200`; `u32::MAX` never ends.
    pub accepts: u32,
    /// The `APS-Retry-Timeout` of every 202, in seconds.
    pub retry_secs: u64,
    /// The controller's `--time-scale`, to know when the next call is due.
    pub time_scale: f64,
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

/// The scripted endpoint's state: calls so far per transaction, and lateness samples.
#[derive(Debug)]
pub struct Endpoint {
    script: Script,
    /// Per transaction: 202s answered so far, and when the next call is due.
    transactions: Mutex<HashMap<String, (u32, Instant)>>,
    lateness_us: Mutex<Vec<u64>>,
}

impl Endpoint {
    /// An endpoint that follows `script`.
    pub fn new(script: Script) -> Arc<Self> {
        Arc::new(Self {
            script,
            transactions: Mutex::default(),
            lateness_us: Mutex::default(),
        })
    }

    /// The routes (`/app/` and `/thing/`), to hand to `ControllerBuilder::endpoint_router`.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/app/", post(root))
            .route("/thing/", post(thing))
            .with_state(self.clone())
    }

    /// The lateness of the rechecks timed since the previous report; starts a new period.
    pub fn lateness(&self) -> LatenessReport {
        let mut samples = std::mem::take(&mut *lock(&self.lateness_us));
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

    /// Answers one call of a transaction: 202 while the script says so, then 200.
    fn answer(&self, transaction: &str) -> bool {
        let now = Instant::now();
        let mut transactions = lock(&self.transactions);
        let accepted = match transactions.get(transaction) {
            Some(&(accepted, due)) => {
                let late = now.saturating_duration_since(due).as_micros();
                lock(&self.lateness_us).push(u64::try_from(late).unwrap_or(u64::MAX));
                accepted
            }
            None => 0,
        };
        if accepted >= self.script.accepts {
            transactions.remove(transaction);
            return false;
        }
        let delay =
            Duration::from_secs(self.script.retry_secs).as_secs_f64() / self.script.time_scale;
        transactions.insert(
            transaction.to_owned(),
            (accepted + 1, now + Duration::from_secs_f64(delay)),
        );
        true
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn root(body: Bytes) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

async fn thing(State(endpoint): State<Arc<Endpoint>>, request: HeaderMap, body: Bytes) -> Response {
    let transaction = request
        .get("aps-transaction-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let json = [(header::CONTENT_TYPE, "application/json")];
    if endpoint.answer(transaction) {
        let retry = endpoint.script.retry_secs.to_string();
        let headers = [
            ("aps-info", "Working on it".to_owned()),
            ("aps-retry-timeout", retry),
        ];
        (StatusCode::ACCEPTED, json, headers, body).into_response()
    } else {
        (StatusCode::OK, json, body).into_response()
    }
}

/// The package model of the scripted endpoint: services `app` (the root) and `thing`.
pub fn package() -> anyhow::Result<PackageModel> {
    let schema = |name: &str, implements: &[&str]| -> anyhow::Result<(String, TypeSchema)> {
        let schema = serde_json::from_value(json!({
            "apsVersion": "2.0",
            "id": format!("http://bench.example/scripted/{name}/1.0"),
            "name": name,
            "implements": implements,
            "properties": {"label": {"type": "string"}},
        }))?;
        Ok((name.to_owned(), schema))
    };
    let services = ["app", SERVICE].map(|id| ServiceMeta {
        id: id.to_owned(),
        ..ServiceMeta::default()
    });
    let meta = AppMeta {
        id: "http://bench.example/scripted".into(),
        name: "scripted".into(),
        version: "1.0".into(),
        release: "1".into(),
        services: services.to_vec(),
        ..AppMeta::default()
    };
    let schemas = vec![schema("app", &[APPLICATION_TYPE])?, schema(SERVICE, &[])?];
    Ok(PackageModel::new(meta, schemas)?)
}
