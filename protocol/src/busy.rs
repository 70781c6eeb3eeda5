//! Busy answers: a server that cannot take a request *now* says so with a status a client
//! retries ([`is_transient`]), usually with `Retry-After` ([`retry_after`]), instead of failing.
//!
//! * [`busy`]: the 503 of a server serving as many requests as it allows (APS error `Busy`,
//!   `Retry-After: 1`). Answering at once keeps requests from queueing without bound.
//! * [`retry_later`]: any APS error answered as 503 with the delay the server asks for.
//!
//! The controller retries 503 and 429 (the server is busy) and 502 and 504 (a proxy in front of
//! it could not reach it) after the `Retry-After` delay, or its own backoff without one.

use std::time::{Duration, SystemTime};

use http::header::RETRY_AFTER;
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use crate::error::ErrorBody;

/// How long a busy answer asks the client to wait (`Retry-After`).
pub const RETRY_AFTER_BUSY: Duration = Duration::from_secs(1);

/// The 503 `Busy` answer; `server` names who answers (`endpoint`, `controller`).
///
/// ```
/// let answer = aps_protocol::busy::busy("endpoint");
/// assert_eq!(answer.status(), 503);
/// assert_eq!(answer.headers()["retry-after"], "1");
/// ```
pub fn busy(server: &str) -> Response<Vec<u8>> {
    let body = ErrorBody::new(
        StatusCode::SERVICE_UNAVAILABLE.as_u16(),
        "Busy",
        format!("The {server} is serving as many requests as it allows; try again shortly"),
    );
    retry_later(&body, RETRY_AFTER_BUSY)
}

/// `body` answered as 503 with `Retry-After` in whole seconds (at least 1): the request may
/// succeed when tried again after `after`. The body's own `code` is kept as it is.
///
/// ```
/// use std::time::Duration;
/// use aps_protocol::{ErrorBody, busy};
///
/// let body = ErrorBody::new(503, "Busy", "the backend is being upgraded");
/// let answer = busy::retry_later(&body, Duration::from_secs(30));
/// assert_eq!(answer.status(), 503);
/// assert_eq!(answer.headers()["retry-after"], "30");
/// ```
pub fn retry_later(body: &ErrorBody, after: Duration) -> Response<Vec<u8>> {
    let mut response = body.response();
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let secs = after.as_secs().max(1);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(secs));
    response
}

/// Whether an answer's status means "not now" rather than "no": 429 and 503 (the server is
/// busy), 502 and 504 (a proxy in front of it could not get an answer).
///
/// ```
/// use aps_protocol::busy::is_transient;
/// assert!(is_transient(503) && is_transient(429) && is_transient(502) && is_transient(504));
/// assert!(!is_transient(500) && !is_transient(404));
/// ```
pub fn is_transient(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// The delay an answer's `Retry-After` asks for, as of `now`: delay-seconds, or an HTTP date
/// (a date already past is no delay). `None` when absent or unreadable.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use http::HeaderMap;
/// use aps_protocol::busy::retry_after;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("retry-after", "2".parse().unwrap());
/// assert_eq!(retry_after(&headers, SystemTime::now()), Some(Duration::from_secs(2)));
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_767);
/// headers.insert("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap());
/// assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(10)));
/// ```
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).expect("header"));
        headers
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_ignores_the_rest() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            retry_after(&headers(" 120 "), now),
            Some(Duration::from_secs(120))
        );
        // A date in the past asks for no delay.
        let past = headers("Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(retry_after(&past, now), Some(Duration::ZERO));
        for junk in ["-1", "soon", "1.5", ""] {
            assert_eq!(retry_after(&headers(junk), now), None, "{junk}");
        }
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn retry_later_answers_503_with_at_least_one_second() {
        let body = ErrorBody::new(503, "Busy", "later");
        let answer = retry_later(&body, Duration::from_millis(10));
        assert_eq!(answer.status(), 503);
        assert_eq!(answer.headers()[RETRY_AFTER], "1");
    }
}
