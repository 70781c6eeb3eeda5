//! Keeping a paused tokio clock still while SQLite works (the paused test kit).
//!
//! sqlx runs each SQLite connection on a thread of its own. Under a paused clock, a runtime that
//! waits only for that thread looks idle, and tokio auto-advances the clock to the next timer:
//! the pool's acquire timeout fires (`PoolTimedOut`), and a recheck scheduled from the instant
//! before a commit comes due late. A blocking task keeps a paused clock from auto-advancing for
//! as long as it runs (tokio's `test-util`), so each store call holds one while it waits for
//! the database. Off unless asked for: in production it would only cost a thread hand-off.

use std::sync::mpsc;

/// Whether store calls hold the clock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PausedClock(pub(crate) bool);

/// Keeps the clock from auto-advancing until dropped.
pub(crate) struct Hold {
    _release: Option<mpsc::Sender<()>>,
}

impl PausedClock {
    /// A hold, when the clock is paused; nothing otherwise.
    pub(crate) fn hold(self) -> Hold {
        if !self.0 {
            return Hold { _release: None };
        }
        let (release, held) = mpsc::channel::<()>();
        // Dropping the sender ends `recv`, and with it the blocking task and the hold.
        drop(tokio::task::spawn_blocking(move || held.recv()));
        Hold {
            _release: Some(release),
        }
    }
}
