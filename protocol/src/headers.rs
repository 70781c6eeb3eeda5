//! Header names of the APS protocol and safe construction of header values.

use std::borrow::Cow;

use http::HeaderValue;

/// Base URL of the controller, for the endpoint's calls back.
pub const CONTROLLER_URI: &str = "aps-controller-uri";
/// The application instance the request is for (a UUID).
pub const INSTANCE_ID: &str = "aps-instance-id";
/// Correlation id of the operation; logged with every line a request produces.
pub const TRANSACTION_ID: &str = "aps-transaction-id";
/// `sync` or `async`; absent means `sync`.
pub const REQUEST_PHASE: &str = "aps-request-phase";
/// The controller's API version, e.g. `2.0`.
pub const VERSION: &str = "aps-version";
/// Who initiated the operation, when known.
pub const IDENTITY_ID: &str = "aps-identity-id";
/// The actor who initiated the operation, when known.
pub const ACTOR_ID: &str = "aps-actor-id";
/// On a 202: the text the controller shows in the task.
pub const INFO: &str = "aps-info";
/// On a 202: seconds until the controller checks again.
pub const RETRY_TIMEOUT: &str = "aps-retry-timeout";

/// Longest header text this crate emits, in bytes (cut at a character boundary).
pub const MAX_HEADER_TEXT: usize = 4096;

/// The phase of an operation: the first call, or a recheck after a 202.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Phase {
    /// The first call of an operation (`APS-Request-Phase: sync`, or no header).
    #[default]
    Sync,
    /// A recheck after the endpoint answered 202 Accepted.
    Async,
}

impl Phase {
    /// Reads the `APS-Request-Phase` header value; `None` (absent) means [`Phase::Sync`].
    ///
    /// ```
    /// use aps_protocol::Phase;
    /// assert_eq!(Phase::parse(None), Ok(Phase::Sync));
    /// assert_eq!(Phase::parse(Some("ASYNC")), Ok(Phase::Async));
    /// assert!(Phase::parse(Some("later")).is_err());
    /// ```
    pub fn parse(value: Option<&str>) -> Result<Self, UnknownPhase> {
        match value.map(str::trim) {
            None => Ok(Self::Sync),
            Some(v) if v.eq_ignore_ascii_case("sync") => Ok(Self::Sync),
            Some(v) if v.eq_ignore_ascii_case("async") => Ok(Self::Async),
            Some(v) => Err(UnknownPhase(text_of(&header_text(v)).into_owned())),
        }
    }

    /// The header value: `sync` or `async`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Async => "async",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `APS-Request-Phase` that is neither `sync` nor `async`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("APS-Request-Phase must be `sync` or `async`, not `{0}`")]
pub struct UnknownPhase(pub String);

/// Builds a header value from any text, never failing.
///
/// Control characters (CR, LF, NUL, DEL, …) become spaces, so a message can never end a header
/// or inject another one; text longer than [`MAX_HEADER_TEXT`] bytes is cut at a character
/// boundary. Other UTF-8 is kept as it is (readers decode the bytes as UTF-8).
///
/// ```
/// use aps_protocol::headers::header_text;
/// assert_eq!(header_text("line\r\nSet-Cookie: x"), "line  Set-Cookie: x");
/// assert_eq!(header_text("Größe").as_bytes(), "Größe".as_bytes());
/// ```
pub fn header_text(text: &str) -> HeaderValue {
    // Most text needs no change: one copy, straight into the value.
    let plain = text.len() <= MAX_HEADER_TEXT
        && text.trim().len() == text.len()
        && !text.chars().any(char::is_control);
    if let Some(value) = plain.then(|| HeaderValue::from_str(text).ok()).flatten() {
        return value;
    }
    let mut cleaned = String::with_capacity(text.len().min(MAX_HEADER_TEXT));
    for c in text.chars() {
        if cleaned.len() + c.len_utf8() > MAX_HEADER_TEXT {
            break;
        }
        cleaned.push(if c.is_control() { ' ' } else { c });
    }
    HeaderValue::from_str(cleaned.trim()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Reads a header value as text: UTF-8, with anything undecodable replaced (borrowed when
/// nothing is).
pub fn text_of(value: &HeaderValue) -> Cow<'_, str> {
    String::from_utf8_lossy(value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_is_always_a_valid_value() {
        for text in ["", "\0\u{7f}\r\n", "ok", "émoji 🚀", "\t tab"] {
            let value = header_text(text);
            assert!(
                !value.as_bytes().iter().any(|b| *b < 0x20 || *b == 0x7f),
                "{text:?}"
            );
        }
    }

    #[test]
    fn header_text_is_cut_to_the_limit() {
        let long = "x".repeat(MAX_HEADER_TEXT * 3);
        assert_eq!(header_text(&long).len(), MAX_HEADER_TEXT);
        let wide = "é".repeat(MAX_HEADER_TEXT);
        let cut = header_text(&wide);
        assert!(cut.len() <= MAX_HEADER_TEXT);
        assert!(std::str::from_utf8(cut.as_bytes()).is_ok());
    }

    #[test]
    fn unknown_phase_names_the_value() {
        let err = Phase::parse(Some("soon")).unwrap_err();
        assert!(err.to_string().contains("soon"));
    }
}
