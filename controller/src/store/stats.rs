//! Counters of what a store does, for benchmarks and diagnostics.
//!
//! They are plain atomics bumped beside the queries, so reading them costs nothing and they
//! prove things timings cannot: that a long poll waits without reading the database, or how
//! many task changes one commit carried.

use std::sync::atomic::{AtomicU64, Ordering};

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

/// The live counters behind [`StoreStats`].
#[derive(Debug, Default)]
pub(super) struct Counters {
    reads: AtomicU64,
    task_writes: AtomicU64,
    commits: AtomicU64,
}

impl Counters {
    pub(super) fn read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    /// One committed transaction that wrote `tasks` task rows.
    pub(super) fn committed(&self, tasks: u64) {
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
