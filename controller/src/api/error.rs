//! Errors in the APS shape, and extractors that never answer in any other shape.
//!
//! Every handler returns [`ApiError`] on failure: `{"code", "error", "message"}` with the HTTP
//! status equal to `code`. The extractors here replace axum's own (whose rejections are plain
//! text): [`JsonBody`] for JSON request bodies, [`RawBody`] for others, [`Id`] for ids in
//! paths, and [`Params`] for query strings, which cannot fail at all. A body must arrive within
//! [`READ_TIMEOUT`] and within the route's size limit; JSON may nest at most
//! [`MAX_DEPTH`] deep.

use aps_protocol::ErrorBody;
use aps_protocol::body::READ_TIMEOUT;
use aps_protocol::id::InvalidId;
use aps_protocol::json::{MAX_DEPTH, nests_deeper_than};
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::json;
use uuid::Uuid;

use crate::engine::OperationError;
use crate::store::StoreError;

/// An error answer.
#[derive(Debug)]
pub(crate) struct ApiError(pub ErrorBody);

impl ApiError {
    pub(super) fn new(code: StatusCode, error: &str, message: impl Into<String>) -> Self {
        Self(ErrorBody::new(code.as_u16(), error, message))
    }

    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
    }

    pub(super) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.response().map(Body::from)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        tracing::error!(%error, "store failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "StoreError",
            error.to_string(),
        )
    }
}

impl From<OperationError> for ApiError {
    fn from(error: OperationError) -> Self {
        match error {
            OperationError::NotFound(message) => Self::not_found(message),
            OperationError::Invalid(message) => Self::bad_request(message),
            OperationError::InsecureEndpoint(message) => {
                Self::new(StatusCode::BAD_REQUEST, "InsecureEndpoint", message)
            }
            OperationError::Root {
                resource,
                application,
            } => {
                let mut body = ErrorBody::new(
                    409,
                    "RootResource",
                    format!(
                        "Resource {resource} is the root of application instance \
                         {application}: uninstall it with DELETE /api/v1/applications/{application}"
                    ),
                );
                body.details = Some(json!({
                    "application": application,
                    "href": format!("/api/v1/applications/{application}"),
                }));
                Self(body)
            }
            OperationError::InUse(message) => Self::new(StatusCode::CONFLICT, "Conflict", message),
            OperationError::Busy(task) => {
                let mut body = ErrorBody::new(
                    409,
                    "Conflict",
                    format!("Task {task} is still working on this resource"),
                );
                body.details = Some(json!({"task": task, "href": format!("/api/v1/tasks/{task}")}));
                Self(body)
            }
            OperationError::Field {
                kind,
                name,
                message,
            } => {
                let mut body = ErrorBody::new(400, "InvalidRequest", message);
                body.details = Some(json!({ kind: name }));
                Self(body)
            }
            OperationError::Conflict(message) => {
                Self::new(StatusCode::CONFLICT, "Conflict", message)
            }
            OperationError::WrongVerb { message, .. } => {
                Self::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", message)
            }
            OperationError::Refused(body) => Self(body),
            error @ OperationError::Unreachable(_) => Self::new(
                StatusCode::BAD_GATEWAY,
                "EndpointUnreachable",
                error.to_string(),
            ),
            OperationError::Store(error) => error.into(),
        }
    }
}

/// The answer of an unknown route.
pub(crate) async fn no_route() -> ApiError {
    ApiError::not_found("There is no such resource in this API")
}

/// The answer of a known route with a method it does not serve.
pub(crate) async fn wrong_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "This method is not allowed here",
    )
}

/// A request body, read within the route's size limit and [`READ_TIMEOUT`].
pub(crate) struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let read = tokio::time::timeout(READ_TIMEOUT, Bytes::from_request(req, state));
        match read.await {
            Ok(Ok(bytes)) => Ok(Self(bytes)),
            Ok(Err(rejection)) => Err(ApiError::new(
                rejection.status(),
                "InvalidBody",
                rejection.body_text(),
            )),
            Err(_) => Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "RequestTimeout",
                "The request body did not arrive in time",
            )),
        }
    }
}

/// Reads JSON request bytes as `T`: an empty body reads as `null`.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        bytes
    };
    if nests_deeper_than(bytes, MAX_DEPTH) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidJson",
            format!("The body nests deeper than {MAX_DEPTH} levels"),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidJson",
            format!("The body is not valid: {e}"),
        )
    })
}

/// A JSON request body; an empty body reads as `null`.
pub(crate) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// An id in the path: a UUID ([`aps_protocol::id`]), else a 400 that does not echo it.
pub(crate) struct Id(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| invalid_id(InvalidId("the id in the path")))?;
        aps_protocol::id::parse(&text).map(Id).map_err(invalid_id)
    }
}

/// The 400 of an id that is not a UUID.
pub(crate) fn invalid_id(error: InvalidId) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "InvalidId", error.to_string())
}

/// Query parameters, as name-value pairs (later ones win).
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        Ok(Self(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn any_bytes_are_parsed_or_refused_with_400(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            if let Err(ApiError(body)) = parse_json::<serde_json::Value>(&bytes) {
                proptest::prop_assert_eq!(body.code, 400);
            }
        }
    }
}
