//! Retry delays: exponential backoff with jitter.
//!
//! Both the engine (an endpoint that cannot be reached) and the callback outbox (a receiver that
//! does not answer 2xx) wait 1 s, then about twice as long each time, up to 5 minutes. Each delay
//! is drawn between half and all of that, so that thousands of retries do not fire in the same
//! second.

use std::time::Duration;

use rand::Rng;

const FIRST: Duration = Duration::from_secs(1);
const LONGEST: Duration = Duration::from_secs(300);

/// The delay before retry number `failures` (1 for the first retry).
pub(crate) fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    let full = FIRST.saturating_mul(1 << doublings).min(LONGEST);
    full.mul_f64(rand::rng().random_range(0.5..=1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_up_to_five_minutes_with_jitter() {
        for _ in 0..100 {
            let first = backoff(1);
            assert!(first >= Duration::from_millis(500) && first <= FIRST);
            let third = backoff(3);
            assert!(third >= Duration::from_secs(2) && third <= Duration::from_secs(4));
            assert!(backoff(1000) <= LONGEST && backoff(1000) >= LONGEST / 2);
        }
    }
}
