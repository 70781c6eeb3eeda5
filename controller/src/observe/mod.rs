//! What the controller tells its operators: Prometheus metrics (`/metrics`) and health
//! (`/healthz`, `/readyz`).
//!
//! Each part of the controller keeps its own metric handles ([`EngineMetrics`] in the engine,
//! the commit histogram in the store, failure counters in the callbacks and the authentication);
//! [`Metrics`] registers clones of them (they share their values) and, at each scrape, reads the
//! gauges that are states rather than events: callbacks not yet delivered and waiting requests.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `aps_controller_tasks_total` | counter: tasks entering a state | `operation`, `state` |
//! | `aps_controller_recheck_lateness_seconds` | histogram: how late a recheck ran | |
//! | `aps_controller_endpoint_call_seconds` | histogram: endpoint calls by answer | `status` (`unreachable` without one) |
//! | `aps_controller_outbox_depth` | gauge: callbacks not yet delivered | |
//! | `aps_controller_callback_failures_total` | counter: failed callback deliveries | |
//! | `aps_controller_long_polls_waiting` | gauge: requests waiting (long polls, operations waiting for their task) | |
//! | `aps_controller_store_commit_seconds` | histogram: store transactions | |
//! | `aps_controller_authentication_failures_total` | counter: refused credentials | |

mod health;

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::api::Limits;
use crate::callback::Callbacks;

pub(crate) use health::{healthz, metrics, metrics_router, readyz};

/// Buckets from 1 ms to about 33 s.
pub(crate) fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The labels of a task count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TaskLabels {
    pub operation: &'static str,
    pub state: &'static str,
}

/// The label of an endpoint call.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CallLabels {
    pub status: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// The engine's metrics.
#[derive(Debug, Clone)]
pub(crate) struct EngineMetrics {
    pub tasks: Family<TaskLabels, Counter>,
    pub lateness: Histogram,
    pub calls: Histograms<CallLabels>,
}

impl Default for EngineMetrics {
    fn default() -> Self {
        Self {
            tasks: Family::default(),
            lateness: seconds_histogram(),
            calls: Family::new_with_constructor(seconds_histogram),
        }
    }
}

/// Every metric of a controller, and what its scrape reads.
pub(crate) struct Metrics {
    registry: Registry,
    outbox_depth: Gauge,
    waiting: Gauge,
    callbacks: Arc<Callbacks>,
    limits: Limits,
}

/// The handles [`Metrics::new`] registers.
pub(crate) struct Parts {
    pub engine: EngineMetrics,
    pub commits: Histogram,
    pub callback_failures: Counter,
    pub auth_failures: Counter,
    pub callbacks: Arc<Callbacks>,
    pub limits: Limits,
}

impl Metrics {
    pub(crate) fn new(parts: Parts) -> Self {
        let mut registry = Registry::with_prefix("aps_controller");
        let outbox_depth = Gauge::default();
        let waiting = Gauge::default();
        registry.register(
            "tasks",
            "Tasks entering a state, by operation and state",
            parts.engine.tasks,
        );
        registry.register(
            "recheck_lateness_seconds",
            "How long after its due time a recheck ran",
            parts.engine.lateness,
        );
        registry.register(
            "endpoint_call_seconds",
            "Endpoint calls by answer status (unreachable: no answer), and how long they took",
            parts.engine.calls,
        );
        registry.register(
            "outbox_depth",
            "Callbacks not yet delivered",
            outbox_depth.clone(),
        );
        registry.register(
            "callback_failures",
            "Callback deliveries that failed (retried later)",
            parts.callback_failures,
        );
        registry.register(
            "long_polls_waiting",
            "Requests waiting: long polls and operations waiting for their task",
            waiting.clone(),
        );
        registry.register(
            "store_commit_seconds",
            "Store write transactions and how long they took",
            parts.commits,
        );
        registry.register(
            "authentication_failures",
            "Refused credentials on the API and the panel",
            parts.auth_failures,
        );
        Self {
            registry,
            outbox_depth,
            waiting,
            callbacks: parts.callbacks,
            limits: parts.limits,
        }
    }

    /// The metrics in the Prometheus text format.
    pub(crate) fn encode(&self) -> String {
        self.outbox_depth
            .set(i64::try_from(self.callbacks.pending()).unwrap_or(i64::MAX));
        self.waiting
            .set(i64::try_from(self.limits.load().waiting).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
