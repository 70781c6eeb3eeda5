//! When things happen again: rechecks of tasks and retries of calls and callbacks.
//!
//! * `timer`: an in-memory timer heap; the engine schedules each task's next step on one, the
//!   callback outbox each delivery on another.
//! * `backoff`: the delay before retrying something that failed.
//! * `scale`: the time scale that divides every delay (1 in production).

mod backoff;
mod scale;
mod timer;

pub(crate) use backoff::backoff;
pub(crate) use scale::TimeScale;
pub use scale::{MAX_SCALE, MIN_SCALE};
pub(crate) use timer::{Scheduler, later};
