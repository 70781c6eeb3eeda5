//! What the pages share: rendering, the error page, and how values and times are written.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::engine::OperationError;
use crate::store::StoreError;
use crate::task::Task;
use crate::timestamp::Timestamp;

/// Why a panel request failed; answered as an error page.
#[derive(Debug)]
pub(super) enum UiError {
    /// There is no such thing.
    NotFound(String),
    /// The request cannot be read.
    BadRequest(String),
    /// The form's CSRF token did not check out.
    Forbidden(String),
    /// The operation cannot start now (another task works on the resource, it has ended…).
    Conflict(String),
    /// The store failed.
    Store(StoreError),
    /// A template failed to render.
    Render(askama::Error),
}

impl From<StoreError> for UiError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<askama::Error> for UiError {
    fn from(error: askama::Error) -> Self {
        Self::Render(error)
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    reason: &'static str,
    message: String,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::NotFound(message) => (StatusCode::NOT_FOUND, message),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, message),
            Self::Forbidden(message) => (StatusCode::FORBIDDEN, message),
            Self::Conflict(message) => (StatusCode::CONFLICT, message),
            Self::Store(error) => {
                tracing::error!(%error, "store failed");
                (StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
            }
            Self::Render(error) => {
                tracing::error!(%error, "a panel template failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "The page failed".into())
            }
        };
        let page = ErrorPage {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, page.message).into_response(),
        }
    }
}

/// Renders a page.
pub(super) fn render(page: &impl Template) -> Result<Html<String>, UiError> {
    Ok(Html(page.render()?))
}

/// An id from a path; anything else names nothing.
pub(super) fn id(text: &str, what: &str) -> Result<Uuid, UiError> {
    Uuid::parse_str(text).map_err(|_| UiError::NotFound(format!("There is no {what} {text}")))
}

/// Any other path under `/ui/`.
pub(super) async fn not_found() -> UiError {
    UiError::NotFound("There is no such page".into())
}

/// A property value as text: strings as they are, anything else as JSON.
pub(super) fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A resource's `aps.status`, without its `aps:` prefix.
pub(super) fn status(body: &Value) -> String {
    let status = body
        .pointer("/aps/status")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    status.strip_prefix("aps:").unwrap_or(status).to_owned()
}

/// A duration in seconds as people read it: `4.2 s`, `3 min 5 s`, `2 h 1 min`. Written here, not
/// with humantime: a task list wants tenths of a second while short and at most two units.
pub(super) fn duration(seconds: f64) -> String {
    let whole = seconds as u64;
    match whole {
        0..60 => format!("{seconds:.1} s"),
        60..3600 => format!("{} min {} s", whole / 60, whole % 60),
        _ => format!("{} h {} min", whole / 3600, whole / 60 % 60),
    }
}

/// Seconds since the Unix epoch, with the timestamp's microseconds.
fn seconds(t: Timestamp) -> f64 {
    // The timestamp's text is RFC 3339 by construction, so it always reads back.
    OffsetDateTime::parse(&t.to_string(), &Rfc3339)
        .map_or(0.0, |t| t.unix_timestamp_nanos() as f64 / 1e9)
}

/// A task as the task list and the task page show it.
pub(super) struct TaskView {
    pub id: Uuid,
    pub name: String,
    pub state: &'static str,
    pub ended: bool,
    pub description: String,
    pub output: String,
    pub attempts: u32,
    pub elapsed: String,
    pub created: String,
    pub completed: String,
    pub resource: Uuid,
    pub service: String,
    pub error: String,
}

impl From<&Task> for TaskView {
    fn from(task: &Task) -> Self {
        let end = task.completion_time.unwrap_or_else(Timestamp::now);
        let elapsed = seconds(end) - seconds(task.creation_time);
        Self {
            id: task.id,
            name: task.name.clone(),
            state: task.state.as_str(),
            ended: task.state.is_terminal(),
            description: task.description.clone().unwrap_or_default(),
            output: task.output.clone().unwrap_or_default(),
            attempts: task.attempts,
            elapsed: duration(elapsed.max(0.0)),
            created: task.creation_time.to_string(),
            completed: task
                .completion_time
                .map(|t| t.to_string())
                .unwrap_or_default(),
            resource: task.resource.id,
            service: task.resource.service.clone(),
            error: task
                .error
                .as_ref()
                .map(|e| format!("{} {}: {}", e.code, e.error, e.message))
                .unwrap_or_default(),
        }
    }
}

impl From<OperationError> for UiError {
    fn from(error: OperationError) -> Self {
        match error {
            OperationError::NotFound(message) => Self::NotFound(message),
            OperationError::Store(error) => Self::Store(error),
            other => Self::Conflict(other.to_string()),
        }
    }
}
