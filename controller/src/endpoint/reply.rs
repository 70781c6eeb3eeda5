//! What the engine sees of an endpoint's answer, however it was reached.
//!
//! An answer body is read up to [`MAX_BODY`] bytes, with or without `Content-Length`: a longer
//! one fails the operation (502 `AnswerTooLarge`).

use std::time::{Duration, SystemTime};

use aps_protocol::{Accepted, ErrorBody, RetryTimeout, busy};
use bytes::Bytes;
use http::HeaderMap;

use super::credentials::without_credentials;

/// The largest answer body read from an endpoint; a longer one counts as a failed call.
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;

/// What an endpoint answered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: u16,
    /// `APS-Info`, when sent.
    pub info: Option<String>,
    /// `APS-Retry-Timeout`, [`RetryTimeout::DEFAULT`] when absent or unusable.
    pub retry: RetryTimeout,
    /// `Retry-After` (seconds or a date), the delay a busy answer asks for.
    pub retry_after: Option<Duration>,
    /// Whether the answer means "not now" ([`busy::is_transient`]), so the call is made again.
    /// Never for an answer the controller gives in the endpoint's place.
    pub transient: bool,
    pub body: Bytes,
}

impl Reply {
    /// Reads an answer: the 202 headers by the protocol's rules, the body without echoed
    /// credentials.
    pub(super) fn read(status: u16, head: &HeaderMap, body: Bytes) -> Self {
        let Accepted { info, retry } = Accepted::from_headers(head);
        Self {
            status,
            info,
            retry,
            retry_after: busy::retry_after(head, SystemTime::now()),
            transient: busy::is_transient(status),
            body: without_credentials(body),
        }
    }

    /// The answer an endpoint is taken to have given when its body is over [`MAX_BODY`]: a
    /// broken endpoint, not a passing network fault, so the operation fails (502) instead of
    /// being retried.
    pub(super) fn too_large() -> Self {
        let error = ErrorBody::new(
            502,
            "AnswerTooLarge",
            format!("The endpoint's answer is larger than {MAX_BODY} bytes"),
        );
        Self::from(error.response())
    }
}

impl From<http::Response<Vec<u8>>> for Reply {
    /// An answer the controller gives in the endpoint's place.
    fn from(response: http::Response<Vec<u8>>) -> Self {
        let (head, body) = response.into_parts();
        Self {
            transient: false,
            ..Self::read(head.status.as_u16(), &head.headers, Bytes::from(body))
        }
    }
}
