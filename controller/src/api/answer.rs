//! Shaping answers about tasks: the 202 with a Task, and a finished operation's outcome.
//!
//! The same outcome answers a synchronous request that finished in time and `GET …/result`:
//! the resource on success (201 for a synchronous provision or install), 204 for an
//! unprovision, and on failure the operation's error with the task beside it, with the
//! endpoint's 4xx status passed through and anything else reported as 502.

use aps_protocol::ErrorBody;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::Api;
use super::error::ApiError;
use crate::task::{Operation, Record, State, Task};

/// Seconds a client should wait before asking again.
fn retry_after(task: &Task) -> u64 {
    task.next_check
        .map_or(1, |t| t.from_now().as_secs_f64().ceil().max(1.0) as u64)
}

/// 202 with the Task, `Location` and `Retry-After`.
pub(crate) fn accepted(task: &Task) -> Response {
    let mut response = (StatusCode::ACCEPTED, Json(task)).into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/tasks/{}", task.id)) {
        headers.insert(header::LOCATION, location);
    }
    headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after(task)));
    response
}

/// A failed operation's error with its task.
#[derive(Serialize)]
struct Failed<'a> {
    #[serde(flatten)]
    error: ErrorBody,
    task: &'a Task,
}

/// The answer for an ended task. `created` chooses 201 over 200 for a provision or install.
pub(crate) async fn outcome(
    api: &Api,
    record: &Record,
    created: bool,
) -> Result<Response, ApiError> {
    let task = &record.task;
    if task.state != State::Success {
        let mut error = task
            .error
            .clone()
            .unwrap_or_else(|| ErrorBody::new(502, "TaskFailed", "The task failed"));
        if !(400..500).contains(&error.code) {
            error.code = 502;
        }
        let status = StatusCode::from_u16(error.code).unwrap_or(StatusCode::BAD_GATEWAY);
        return Ok((status, Json(Failed { error, task })).into_response());
    }
    let resource = match (&record.work.result, task.operation) {
        (
            Some(result),
            Operation::Install
            | Operation::Provision
            | Operation::Configure
            | Operation::Refresh
            | Operation::Upgrade,
        ) => {
            let r = &task.resource;
            api.engine
                .with_links_of(task.application, &r.service, r.id, result.clone())
                .await?
        }
        (result, _) => result.clone().unwrap_or(Value::Null),
    };
    let ok = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(match task.operation {
        Operation::Unprovision => StatusCode::NO_CONTENT.into_response(),
        Operation::Call => match &record.work.result {
            Some(result) => (StatusCode::OK, Json(result)).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
        Operation::Configure | Operation::Refresh | Operation::Upgrade => {
            (StatusCode::OK, Json(resource)).into_response()
        }
        Operation::Provision => (ok, Json(resource)).into_response(),
        Operation::Install => {
            let app = api.engine.store().application(task.application).await?;
            let (package, endpoint) = app.map(|a| (a.package_id.to_string(), a.endpoint)).unzip();
            let body = json!({"id": task.application, "package": package, "endpoint": endpoint, "root": resource});
            (ok, Json(body)).into_response()
        }
    })
}
