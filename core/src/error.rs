//! Errors that operations answer with.

use std::borrow::Cow;

use aps_protocol::ErrorBody;
use http::StatusCode;

/// `Result` with the framework's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An operation's failure: an HTTP status (500 unless said otherwise), a short error name and a
/// message. The controller shows it in the task and fails the operation; the framework answers
/// it as the APS error body ([`Error::body`]) with its status.
///
/// Any standard error converts with `?` into a 500 whose message is the error's text, so
/// handlers can use `?` on I/O, JSON or HTTP-client errors directly. Name another status when the
/// failure is the caller's:
///
/// ```
/// use aps_core::{Error, StatusCode};
///
/// fn check(quota: u64) -> aps_core::Result<()> {
///     if quota > 100 {
///         return Err(Error::bad_request(format!("quota {quota} is over the plan's 100")));
///     }
///     let _n: u64 = "42".parse()?; // a ParseIntError becomes a 500
///     Ok(())
/// }
/// assert_eq!(check(101).unwrap_err().status(), StatusCode::BAD_REQUEST);
/// ```
///
/// `Error` deliberately does not implement `std::error::Error`, so that the blanket conversion
/// from every error type can exist (the same choice as `anyhow::Error`).
#[derive(Debug)]
pub struct Error {
    status: StatusCode,
    name: Cow<'static, str>,
    message: String,
    /// Set by [`Error::retry_later`]: answered with `Retry-After`.
    retry_after: Option<std::time::Duration>,
}

impl Error {
    /// A 500 `InternalError` with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }

    /// An error with its status, name and message.
    pub fn with(
        status: StatusCode,
        name: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            name: name.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// A 503 `Busy` answered with `Retry-After: secs`: the endpoint cannot take the operation
    /// now (a backend at its limit, a maintenance window). The controller calls again after
    /// that delay until the task's deadline, instead of failing the operation.
    ///
    /// ```
    /// use aps_core::{Error, StatusCode};
    ///
    /// let busy = Error::retry_later(30, "the mail backend is at its connection limit");
    /// assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    /// assert_eq!(busy.retry_after(), Some(std::time::Duration::from_secs(30)));
    /// ```
    pub fn retry_later(secs: u64, message: impl Into<String>) -> Self {
        let mut error = Self::with(StatusCode::SERVICE_UNAVAILABLE, "Busy", message);
        error.retry_after = Some(std::time::Duration::from_secs(secs));
        error
    }

    /// The delay a [`Error::retry_later`] asks for.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after
    }

    /// A 400 `BadRequest`: the request cannot be carried out as it is.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::with(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// A 404 `NotFound`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::with(StatusCode::NOT_FOUND, "NotFound", message)
    }

    /// A 409 `Conflict`: the resource's state does not allow the operation now.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::with(StatusCode::CONFLICT, "Conflict", message)
    }

    /// The same error with another status (the name stays).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The short error name, e.g. `BadRequest`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The APS error body of this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody::new(
            self.status.as_u16(),
            self.name.clone(),
            self.message.clone(),
        )
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.name,
            self.message
        )
    }
}

impl<E> From<E> for Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::new(message)
    }
}
