//! Errors in the APS shape, and extractors that never answer in any other shape.
//!
//! Every handler returns [`ApiError`] on failure: `{"code", "error", "message"}` with the HTTP
//! status equal to `code`. The extractors here replace axum's own (whose rejections are plain
//! text): [`JsonBody`] for request bodies, [`Id`] for ids in paths, and [`Params`] for query
//! strings, which cannot fail at all.

use aps_protocol::ErrorBody;
use axum::Json;
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
        let status = StatusCode::from_u16(self.0.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.0)).into_response()
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
            OperationError::Busy(task) => {
                let mut body = ErrorBody::new(
                    409,
                    "Conflict",
                    format!("Task {task} is still working on this resource"),
                );
                body.details = Some(json!({"task": task, "href": format!("/api/v1/tasks/{task}")}));
                Self(body)
            }
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

/// A JSON request body; an empty body reads as `null`.
pub(crate) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            ApiError::new(rejection.status(), "InvalidBody", rejection.body_text())
        })?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes).map(JsonBody).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidJson",
                format!("The body is not valid: {e}"),
            )
        })
    }
}

/// An id in the path; anything that is not a UUID names nothing, so it is a 404.
pub(crate) struct Id(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("Malformed id"))?;
        Uuid::parse_str(&text)
            .map(Id)
            .map_err(|_| ApiError::not_found(format!("There is nothing with id `{text}`")))
    }
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
