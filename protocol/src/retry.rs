//! `APS-Retry-Timeout`: how long the controller waits after a 202 before it checks again.
//!
//! Both sides keep the delay within [`RetryTimeout::MIN`] and [`RetryTimeout::MAX`]: a 0 would
//! have the controller call again at once, in a loop, and a delay past a day would overflow
//! timers or leave a task unchecked for ever. A 202 without a usable value gets
//! [`RetryTimeout::DEFAULT`].

use std::time::Duration;

use http::{HeaderMap, HeaderValue};

use crate::headers::{RETRY_TIMEOUT, text_of};

/// The delay a 202 asks for, in whole seconds, always within [`Self::MIN`]..=[`Self::MAX`].
///
/// ```
/// use aps_protocol::RetryTimeout;
/// assert_eq!(RetryTimeout::from_secs(0), RetryTimeout::MIN);
/// assert_eq!(RetryTimeout::from_secs(u64::MAX), RetryTimeout::MAX);
/// assert_eq!(RetryTimeout::from_secs(30).secs(), 30);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RetryTimeout(u64);

impl RetryTimeout {
    /// The shortest delay: one second.
    pub const MIN: Self = Self(1);
    /// The longest delay: a day. A longer one is taken as this, so the task is still checked.
    pub const MAX: Self = Self(24 * 3600);
    /// The delay of a 202 without a usable `APS-Retry-Timeout`: 30 seconds.
    pub const DEFAULT: Self = Self(30);

    /// A delay of `secs` seconds, clamped to [`Self::MIN`]..=[`Self::MAX`].
    pub fn from_secs(secs: u64) -> Self {
        Self(secs.clamp(Self::MIN.0, Self::MAX.0))
    }

    /// The delay in seconds.
    pub fn secs(self) -> u64 {
        self.0
    }

    /// The delay as a [`Duration`].
    pub fn duration(self) -> Duration {
        Duration::from_secs(self.0)
    }

    /// Reads header text: whole seconds, blanks around them allowed, clamped. A number too
    /// large for `u64` is as long as any, so it reads as [`Self::MAX`]; anything that is not
    /// a whole number of seconds (`soon`, `1.5`, `-3`) is `None`.
    ///
    /// ```
    /// use aps_protocol::RetryTimeout;
    /// assert_eq!(RetryTimeout::parse(" 7 "), Some(RetryTimeout::from_secs(7)));
    /// assert_eq!(RetryTimeout::parse("99999999999999999999999"), Some(RetryTimeout::MAX));
    /// assert_eq!(RetryTimeout::parse("9.3e18"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(text.parse().map_or(Self::MAX, Self::from_secs))
    }

    /// The `APS-Retry-Timeout` of an answer's headers; [`Self::DEFAULT`] when it is absent or
    /// unusable.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        headers
            .get(RETRY_TIMEOUT)
            .and_then(|value| Self::parse(&text_of(value)))
            .unwrap_or_default()
    }

    /// The header value: the seconds in decimal.
    pub fn header_value(self) -> HeaderValue {
        HeaderValue::from(self.0)
    }
}

impl Default for RetryTimeout {
    /// [`Self::DEFAULT`].
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl std::fmt::Display for RetryTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} s", self.0)
    }
}
