//! The APS error body.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The body of every error answer: `{"code": 404, "error": "NotFound", "message": "…"}`.
///
/// The HTTP status of the answer equals `code`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

impl std::fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.error, self.message)
    }
}
