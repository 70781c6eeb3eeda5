//! Failed authentications per peer: after [`MAX_FAILURES`] in a minute, a peer's requests that
//! need credentials are answered 429 until the minute is over, so guessing tokens is slow.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Failures a peer may have in one window.
pub(crate) const MAX_FAILURES: u32 = 10;
/// The window failures are counted in.
const WINDOW: Duration = Duration::from_secs(60);
/// Peers tracked before windows that are over are swept out.
const SWEEP_AT: usize = 10_000;

/// The failures of each peer in its current window. A request that came without a peer
/// address (in-process) counts under `None`.
#[derive(Debug, Default)]
pub(crate) struct Failures {
    peers: Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>,
}

impl Failures {
    /// How long the peer must still wait, when it has used up its failures.
    pub(crate) fn blocked(&self, peer: Option<IpAddr>) -> Option<Duration> {
        let peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        let (began, count) = peers.get(&peer)?;
        let left = WINDOW.checked_sub(began.elapsed())?;
        (*count >= MAX_FAILURES).then_some(left)
    }

    /// Counts a failure of the peer.
    pub(crate) fn fail(&self, peer: Option<IpAddr>) {
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        if peers.len() >= SWEEP_AT {
            peers.retain(|_, (began, _)| began.elapsed() < WINDOW);
        }
        let entry = peers.entry(peer).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_is_blocked_after_its_failures_and_others_are_not() {
        let failures = Failures::default();
        let peer = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..MAX_FAILURES - 1 {
            failures.fail(peer);
        }
        assert_eq!(failures.blocked(peer), None);
        failures.fail(peer);
        assert!(failures.blocked(peer).is_some_and(|d| d <= WINDOW));
        assert_eq!(failures.blocked(Some(IpAddr::from([10, 0, 0, 2]))), None);
    }
}
