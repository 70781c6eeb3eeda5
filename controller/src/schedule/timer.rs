//! An in-memory timer heap: "call me back for this key at that instant".
//!
//! One loop per scheduler owns a binary heap of due times and sleeps until the earliest. Adding
//! an entry is a channel send, so callers never lock anything. Nothing here is durable: after a
//! restart the engine and the outbox schedule again from the store. Times are tokio instants, so
//! tests with a paused clock run through delays at once.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

/// The longest delay anything is scheduled after; far enough to never come, small enough that
/// adding it to any instant cannot overflow (tokio's own "far future" is 30 years too).
pub(crate) const FAR: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// `at + delay`, saturating at [`FAR`] after `at`: an endpoint's delay can be anything.
pub(crate) fn later(at: Instant, delay: Duration) -> Instant {
    at.checked_add(delay.min(FAR))
        .or_else(|| at.checked_add(FAR))
        .unwrap_or(at)
}

/// Sends keys to a callback when they fall due.
#[derive(Debug)]
pub(crate) struct Scheduler<K> {
    tx: mpsc::UnboundedSender<(Instant, K)>,
}

impl<K> Clone for Scheduler<K> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

impl<K: Ord + Send + 'static> Scheduler<K> {
    /// Starts the loop; it ends when every clone of the scheduler is dropped.
    pub(crate) fn start(on_due: impl Fn(K) + Send + 'static) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, tokio::spawn(run(rx, on_due)))
    }

    /// Calls back for `key` at `when` (at once when it has passed).
    pub(crate) fn at(&self, when: Instant, key: K) {
        // A closed channel means the controller is shutting down: nothing is left to run.
        let _ = self.tx.send((when, key));
    }
}

async fn run<K: Ord>(mut rx: mpsc::UnboundedReceiver<(Instant, K)>, on_due: impl Fn(K)) {
    let mut heap: BinaryHeap<Reverse<(Instant, K)>> = BinaryHeap::new();
    loop {
        let next = heap.peek().map(|Reverse((when, _))| *when);
        tokio::select! {
            entry = rx.recv() => match entry {
                Some(entry) => heap.push(Reverse(entry)),
                None => return,
            },
            () = async { sleep_until(next.unwrap_or_else(Instant::now)).await }, if next.is_some() => {
                let now = Instant::now();
                while heap.peek().is_some_and(|Reverse((when, _))| *when <= now) {
                    if let Some(Reverse((_, key))) = heap.pop() {
                        on_due(key);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[tokio::test(start_paused = true)]
    async fn keys_come_due_in_time_order() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let (scheduler, _loop) = Scheduler::start(move |k: u32| log.lock().unwrap().push(k));
        let start = Instant::now();
        scheduler.at(start + Duration::from_secs(30), 3);
        scheduler.at(start + Duration::from_secs(10), 1);
        scheduler.at(start + Duration::from_secs(20), 2);
        tokio::time::sleep(Duration::from_secs(15)).await;
        assert_eq!(*seen.lock().unwrap(), vec![1]);
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn a_delay_past_far_is_scheduled_at_far() {
        let now = Instant::now();
        assert_eq!(later(now, Duration::MAX), now + FAR);
        assert_eq!(
            later(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
    }
}
