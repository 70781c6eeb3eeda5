//! Counters of what a store does, for benchmarks and diagnostics.
//!
//! They are plain atomics bumped beside the queries, so reading them costs nothing and they
//! prove things timings cannot: that a long poll waits without reading the database, or how
//! many task changes one commit carried.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::metrics::histogram::Histogram;

/// What a store has done since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Read queries outside a write (a task, a resource, a package, a listing…).
    pub reads: u64,
    /// Task rows inserted or changed, counted when their transaction commits.
    pub task_writes: u64,
    /// Write transactions committed.
    pub commits: u64,
}

/// The live counters behind [`StoreStats`], and the commit times for `/metrics`.
#[derive(Debug)]
pub(super) struct Counters {
    reads: AtomicU64,
    task_writes: AtomicU64,
    commits: AtomicU64,
    pub(super) commit_seconds: Histogram,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            reads: AtomicU64::default(),
            task_writes: AtomicU64::default(),
            commits: AtomicU64::default(),
            commit_seconds: crate::observe::seconds_histogram(),
        }
    }
}

impl Counters {
    pub(super) fn read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    /// One committed transaction that wrote `tasks` task rows, in `took`.
    pub(super) fn committed(&self, tasks: u64, took: Duration) {
        self.commit_seconds.observe(took.as_secs_f64());
        self.task_writes.fetch_add(tasks, Ordering::Relaxed);
        self.commits.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> StoreStats {
        StoreStats {
            reads: self.reads.load(Ordering::Relaxed),
            task_writes: self.task_writes.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
        }
    }
}
