//! The 202 Accepted of an operation that goes on in the background: the resource as it stands,
//! with `APS-Info` (the text the controller shows in its task) and `APS-Retry-Timeout`.

use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use crate::headers::{INFO, header_text, text_of};
use crate::retry::RetryTimeout;

/// What a 202 tells the controller besides the resource.
///
/// The endpoint writes it with [`Accepted::response`]; the controller reads it back with
/// [`Accepted::from_headers`].
///
/// ```
/// use aps_protocol::{Accepted, RetryTimeout};
/// let sent = Accepted::new("Provisioning\r\nX-Injected: 1", RetryTimeout::from_secs(0));
/// let response = sent.response(b"{}".to_vec());
/// assert_eq!(response.status(), 202);
/// let read = Accepted::from_headers(response.headers());
/// assert_eq!(read.info.as_deref(), Some("Provisioning  X-Injected: 1"));
/// assert_eq!(read.retry, RetryTimeout::MIN);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Accepted {
    /// `APS-Info`: the text for the task; `None` when absent or empty.
    pub info: Option<String>,
    /// `APS-Retry-Timeout`: when the controller checks again.
    pub retry: RetryTimeout,
}

impl Accepted {
    /// A 202's headers with this text for the task and this delay.
    pub fn new(info: impl Into<String>, retry: RetryTimeout) -> Self {
        Self {
            info: Some(info.into()),
            retry,
        }
    }

    /// Reads `APS-Info` and `APS-Retry-Timeout` from an answer's headers; absent or unusable
    /// values read as none and as [`RetryTimeout::DEFAULT`].
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let info = headers
            .get(INFO)
            .map(|value| text_of(value).into_owned())
            .filter(|text| !text.is_empty());
        Self {
            info,
            retry: RetryTimeout::from_headers(headers),
        }
    }

    /// The 202 answer with `resource` (JSON) as its body. The info text goes through
    /// [`header_text`], so no message can break the header.
    pub fn response(&self, resource: Vec<u8>) -> Response<Vec<u8>> {
        let mut response = Response::new(resource);
        *response.status_mut() = StatusCode::ACCEPTED;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(info) = &self.info {
            headers.insert(INFO, header_text(info));
        }
        headers.insert(crate::headers::RETRY_TIMEOUT, self.retry.header_value());
        response
    }
}
