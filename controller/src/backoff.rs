//! Retry delays: exponential backoff with jitter, and the `--time-scale` that shortens delays.
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

/// Divides delays by a time scale (1 in production; 1000 in tests makes 30 s take 30 ms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TimeScale(f64);

impl TimeScale {
    /// A time scale; values that are not positive and finite count as 1.
    pub(crate) fn new(factor: f64) -> Self {
        Self(if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        })
    }

    /// The factor.
    pub(crate) fn factor(self) -> f64 {
        self.0
    }

    /// The scaled delay.
    pub(crate) fn apply(self, delay: Duration) -> Duration {
        delay.div_f64(self.0)
    }
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

    #[test]
    fn nonsense_scales_count_as_one() {
        for factor in [0.0, -3.0, f64::NAN, f64::INFINITY] {
            assert_eq!(TimeScale::new(factor).factor(), 1.0);
        }
        assert_eq!(
            TimeScale::new(1000.0).apply(Duration::from_secs(30)),
            Duration::from_millis(30)
        );
    }
}
