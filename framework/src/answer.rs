//! What the endpoint answers: an operation's outcome as HTTP, errors in the APS error shape,
//! the transaction id echoed, and a panic turned into a 500.

use aps_core::__private::Operation;
use aps_protocol::headers::{self, header_text, text_of};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::{Error, Outcome, Result};

/// An [`Error`] as an answer: its status and the APS error body.
///
/// `Error` belongs to `aps-core` and `IntoResponse` to axum, so the framework cannot implement
/// one for the other; every error becomes a response here.
pub(crate) trait ErrorResponse {
    /// The answer for this error.
    fn into_response(self) -> Response;
}

impl ErrorResponse for Error {
    fn into_response(self) -> Response {
        match self.retry_after() {
            Some(after) => aps_protocol::busy::retry_later(&self.body(), after).map(Body::from),
            None => self.body().response().map(Body::from),
        }
    }
}

/// The HTTP answer for an outcome.
pub(crate) fn outcome(op: Operation, outcome: &Outcome, resource: Vec<u8>) -> Response {
    if let Some(accepted) = outcome.as_accepted() {
        return accepted.response(resource).map(Body::from);
    }
    let json = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    )];
    match op {
        Operation::Unprovision => StatusCode::NO_CONTENT.into_response(),
        Operation::Provision => (StatusCode::CREATED, json, resource).into_response(),
        Operation::Retrieve | Operation::Configure => {
            (StatusCode::OK, json, resource).into_response()
        }
    }
}

/// The answer, or its error's, with the transaction id echoed so a client can correlate it.
pub(crate) fn with_transaction(answer: Result<Response>, request_headers: &HeaderMap) -> Response {
    let mut response = answer.unwrap_or_else(ErrorResponse::into_response);
    if let Some(txn) = request_headers.get(headers::TRANSACTION_ID) {
        // Plain text is echoed as it came (sharing its bytes); anything else is cleaned.
        let plain = txn.len() <= headers::MAX_HEADER_TEXT
            && txn
                .to_str()
                .is_ok_and(|t| t.trim().len() == t.len() && !t.contains('\t'));
        let echo = if plain {
            txn.clone()
        } else {
            header_text(&text_of(txn))
        };
        response.headers_mut().insert(headers::TRANSACTION_ID, echo);
    }
    response
}

/// The answer for an operation that panicked. The panic's text goes to the log, inside the
/// request's span, not to the caller.
pub(crate) fn panicked(panic: Box<dyn std::any::Any + Send>) -> Response {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    tracing::error!("the operation panicked: {text}");
    Error::new("the operation failed unexpectedly; the endpoint's log has the details")
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_later_answers_503_with_retry_after() {
        let answer = ErrorResponse::into_response(Error::retry_later(30, "backend at its limit"));
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.headers()[header::RETRY_AFTER], "30");
        let plain = ErrorResponse::into_response(Error::new("no"));
        assert!(!plain.headers().contains_key(header::RETRY_AFTER));
    }
}
