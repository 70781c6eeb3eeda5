//! The `--time-scale`: divides every delay, so tests and demos run rechecks in milliseconds.

use std::time::Duration;

use super::timer::FAR;

/// The smallest time scale: a slower clock would turn a 30 s recheck into more than a year.
pub const MIN_SCALE: f64 = 1e-3;
/// The largest time scale: faster, and every delay is already below a microsecond.
pub const MAX_SCALE: f64 = 1e9;
/// A time scale outside [`MIN_SCALE`]..=[`MAX_SCALE`].
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error(
    "the time scale must be a number from {MIN_SCALE} to {MAX_SCALE} (1 is real time), not {0}"
)]
pub(crate) struct BadTimeScale(pub f64);

/// Divides delays by a time scale (1 in production; 1000 in tests makes 30 s take 30 ms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TimeScale(f64);

impl TimeScale {
    /// A time scale; values that are not positive and finite count as 1, others are brought
    /// into [`MIN_SCALE`]..=[`MAX_SCALE`] (with a warning). [`TimeScale::checked`] refuses
    /// them instead.
    pub(crate) fn new(factor: f64) -> Self {
        match Self::checked(factor) {
            Ok(scale) => scale,
            Err(error) if factor.is_finite() && factor > 0.0 => {
                let clamped = factor.clamp(MIN_SCALE, MAX_SCALE);
                tracing::warn!(%error, "using {clamped}");
                Self(clamped)
            }
            Err(_) => Self(1.0),
        }
    }

    /// The time scale `factor`, when it is within [`MIN_SCALE`]..=[`MAX_SCALE`].
    pub(crate) fn checked(factor: f64) -> Result<Self, BadTimeScale> {
        if (MIN_SCALE..=MAX_SCALE).contains(&factor) {
            Ok(Self(factor))
        } else {
            Err(BadTimeScale(factor))
        }
    }

    /// The factor.
    pub(crate) fn factor(self) -> f64 {
        self.0
    }

    /// The scaled delay, at most [`FAR`] (`Duration::div_f64` would panic on an overflow).
    pub(crate) fn apply(self, delay: Duration) -> Duration {
        Duration::try_from_secs_f64(delay.as_secs_f64() / self.0)
            .unwrap_or(FAR)
            .min(FAR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn extreme_scales_and_delays_never_panic() {
        for factor in [1e-20, f64::MIN_POSITIVE, 1e300] {
            assert!(TimeScale::checked(factor).is_err());
            let scale = TimeScale::new(factor);
            assert!((MIN_SCALE..=MAX_SCALE).contains(&scale.factor()));
            assert!(scale.apply(Duration::MAX) <= FAR);
        }
        let error = TimeScale::checked(1e-20).unwrap_err().to_string();
        assert!(error.contains("time scale"), "{error}");
        assert_eq!(TimeScale::new(1e-20).factor(), MIN_SCALE);
        assert_eq!(
            TimeScale::new(1.0).apply(Duration::from_secs(u64::MAX)),
            FAR
        );
    }
}
