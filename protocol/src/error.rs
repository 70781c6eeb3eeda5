//! The APS error body, written to and read from peers.

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json::{MAX_DEPTH, nests_deeper_than};

/// The body of every error answer: `{"code": 404, "error": "NotFound", "message": "…"}`.
///
/// The HTTP status of the answer equals `code`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The HTTP status.
    pub code: u16,
    /// A short error name, e.g. `InvalidBody`.
    pub error: String,
    /// A message for people.
    pub message: String,
    /// Optional structured details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl ErrorBody {
    /// An error body without details.
    pub fn new(code: u16, error: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            error: error.into(),
            message: message.into(),
            details: None,
        }
    }

    /// Reads the error body a peer answered with `status`, or `None` when the body is not one
    /// (or nests deeper than [`MAX_DEPTH`], checked before parsing). `code` is set to
    /// `status`: the status is what the peer answered, whatever its body claims.
    ///
    /// ```
    /// use aps_protocol::ErrorBody;
    /// let read = ErrorBody::from_peer(404, br#"{"code":200,"error":"NotFound","message":"gone"}"#);
    /// assert_eq!(read, Some(ErrorBody::new(404, "NotFound", "gone")));
    /// assert_eq!(ErrorBody::from_peer(502, b"<html>Bad Gateway</html>"), None);
    /// ```
    pub fn from_peer(status: u16, body: &[u8]) -> Option<Self> {
        if nests_deeper_than(body, MAX_DEPTH) {
            return None;
        }
        let mut error = serde_json::from_slice::<Self>(body).ok()?;
        error.code = status;
        Some(error)
    }

    /// The error answer: status `code` (500 when `code` is no HTTP status) and this body as
    /// JSON.
    pub fn response(&self) -> Response<Vec<u8>> {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // Serializing this struct cannot fail: its members are strings, a number and a JSON
        // value.
        let mut response = Response::new(serde_json::to_vec(self).unwrap_or_default());
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

impl std::fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.error, self.message)
    }
}
