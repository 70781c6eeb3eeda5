//! Tasks: get, long-poll, status, result, list, cancel.
//!
//! A long poll (`poll_timeout=S`) waits on the task's watch channel, in memory: it answers as
//! soon as the task changes past what the client has seen (`last_modified`, `since_revision`, or
//! the state when the request arrived), or after S seconds with the task as it is. A task that
//! has ended never changes, so waiting on it is a plain sleep.

use std::time::Duration;

use aps_protocol::ErrorBody;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::time::{Instant, sleep_until, timeout_at};
use uuid::Uuid;

use super::Api;
use super::answer::{accepted, outcome};
use super::doc::Items;
use super::error::{ApiError, Id, Params};
use super::limits::{Slot, busy};
use crate::engine::Canceled;
use crate::store::TaskFilter;
use crate::task::{State as TaskState, Task, TaskStatus};
use crate::timestamp::Timestamp;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

fn not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format!("There is no task {id}"))
}

fn number<T: std::str::FromStr>(params: &Params, name: &str) -> Result<Option<T>, ApiError> {
    params
        .get(name)
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| ApiError::bad_request(format!("{name} must be a number, not `{v}`")))
        })
        .transpose()
}

/// What a long poll waits for.
enum Seen {
    Revision(u64),
    Modified(Timestamp),
}

impl Seen {
    fn of(params: &Params, now: &Task) -> Result<Self, ApiError> {
        if let Some(revision) = number(params, "since_revision")? {
            return Ok(Self::Revision(revision));
        }
        match params.get("last_modified") {
            // A `+` of the offset arrives as a space when the client did not encode it.
            Some(text) => Timestamp::parse(&text.trim().trim_start_matches(">=").replace(' ', "+"))
                .map(Self::Modified)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "last_modified must be an RFC 3339 time, not `{text}`"
                    ))
                }),
            None => Ok(Self::Revision(now.revision)),
        }
    }

    fn passed_by(&self, task: &Task) -> bool {
        match self {
            Self::Revision(r) => task.revision > *r,
            Self::Modified(t) => task.last_modified > *t,
        }
    }
}

/// `GET /api/v1/tasks/{id}`: the task, at once or after a long poll.
#[utoipa::path(
    get,
    path = "/api/v1/tasks/{id}",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "The task id"),
        ("poll_timeout" = Option<u32>, Query, minimum = 1, maximum = 120, description = "Wait up to this many seconds for the task to change"),
        ("since_revision" = Option<u64>, Query, description = "With `poll_timeout`: wait for a revision above this one"),
        ("last_modified" = Option<String>, Query, description = "With `poll_timeout`: wait for a change after this RFC 3339 time"),
    ),
    responses(
        (status = 200, description = "The task", body = Task),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 404, description = "No such task", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn get(
    State(api): State<Api>,
    Id(id): Id,
    slot: Slot,
    params: Params,
) -> Result<Response, ApiError> {
    let poll: Option<u64> = number(&params, "poll_timeout")?;
    if poll.is_some_and(|s| !(1..=120).contains(&s)) {
        return Err(ApiError::bad_request(
            "poll_timeout must be from 1 to 120 seconds",
        ));
    }
    // Subscribing before reading means no change can fall between the read and the wait.
    let changes = api.engine.subscribe(id);
    let current = changes.as_ref().map(|rx| rx.borrow().clone());
    let now = match current {
        Some(task) => task,
        None => {
            api.engine
                .record(id)
                .await?
                .ok_or_else(|| not_found(id))?
                .task
        }
    };
    let Some(secs) = poll else {
        return Ok(Json(now).into_response());
    };
    let seen = Seen::of(&params, &now)?;
    if seen.passed_by(&now) {
        return Ok(Json(now).into_response());
    }
    let Some(_waiting) = slot.wait() else {
        return Ok(busy());
    };
    let deadline = Instant::now() + Duration::from_secs(secs);
    let Some(mut rx) = changes else {
        sleep_until(deadline).await;
        return Ok(Json(now).into_response());
    };
    // Thousands may wait at once: each keeps only its channel, deadline and mark while it does.
    drop((now, params));
    let waited = timeout_at(deadline, rx.wait_for(|t| seen.passed_by(t)))
        .await
        .map(|changed| changed.map(|task| task.clone()));
    match waited {
        Ok(Ok(task)) => return Ok(Json(task).into_response()),
        // The task ended without passing what the client has seen: it will not change again.
        Ok(Err(_)) => sleep_until(deadline).await,
        Err(_) => {}
    }
    let latest = rx.borrow().clone();
    Ok(Json(latest).into_response())
}

/// `GET /api/v1/tasks/{id}/status`: where the task stands.
#[utoipa::path(
    get,
    path = "/api/v1/tasks/{id}/status",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "The task id"),
    ),
    responses(
        (status = 200, description = "The task's status", body = TaskStatus),
        (status = 404, description = "No such task", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn status(
    State(api): State<Api>,
    Id(id): Id,
) -> Result<Json<TaskStatus>, ApiError> {
    let record = api.engine.record(id).await?.ok_or_else(|| not_found(id))?;
    Ok(Json(TaskStatus::from(&record.task)))
}

/// `GET /api/v1/tasks/{id}/result`: the operation's outcome once the task has ended.
#[utoipa::path(
    get,
    path = "/api/v1/tasks/{id}/result",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "The task id"),
    ),
    responses(
        (status = 200, description = "The resource (provision, configure, install) or what a call answered", body = Value),
        (status = 202, description = "The task has not ended yet", body = Task,
            headers(("Location" = String, description = "The task"), ("Retry-After" = u64, description = "Seconds to wait before asking again"))),
        (status = 204, description = "The resource was unprovisioned, or the call answered nothing"),
        (status = 404, description = "No such task", body = ErrorBody),
        (status = "4XX", description = "The endpoint refused the operation: its error, with `task` beside it", body = ErrorBody),
        (status = 502, description = "The endpoint failed or could not be reached, with `task` beside the error", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn result(State(api): State<Api>, Id(id): Id) -> Result<Response, ApiError> {
    let record = api.engine.record(id).await?.ok_or_else(|| not_found(id))?;
    if record.task.state.is_terminal() {
        outcome(&api, &record, false).await
    } else {
        Ok(accepted(&record.task))
    }
}

/// `GET /api/v1/tasks`: the tasks, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/tasks",
    tag = "tasks",
    params(("state" = Option<TaskState>, Query, description = "Only tasks in this state"),
        ("resource" = Option<Uuid>, Query, description = "Only tasks about this resource"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "At most this many (100 unless given)"),
        ("next" = Option<String>, Query, description = "Where the page starts: `next` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of tasks", body = Items<Task>),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(api): State<Api>,
    params: Params,
) -> Result<Json<Items<Task>>, ApiError> {
    let state = params
        .get("state")
        .map(|s| {
            TaskState::parse(s).ok_or_else(|| ApiError::bad_request(format!("unknown state `{s}`")))
        })
        .transpose()?;
    let resource = params
        .get("resource")
        .map(|r| {
            Uuid::parse_str(r).map_err(|_| ApiError::bad_request("resource must be a resource id"))
        })
        .transpose()?;
    let limit = number(&params, "limit")?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be from 1 to {MAX_LIMIT}"
        )));
    }
    let filter = TaskFilter {
        state,
        resource,
        before: number(&params, "next")?,
        limit: limit + 1,
    };
    let mut rows = api.engine.store().tasks(&filter).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = rows.last().filter(|_| more).map(|(seq, _)| seq.to_string());
    let items: Vec<Task> = rows.into_iter().map(|(_, task)| task).collect();
    Ok(Json(Items { items, next }))
}

/// `POST /api/v1/tasks/{id}/cancel`: cancels a task that has not ended.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/cancel",
    tag = "tasks",
    params(("id" = Uuid, Path, description = "The task id"),
    ),
    responses(
        (status = 200, description = "Canceled", body = Task),
        (status = 404, description = "No such task", body = ErrorBody),
        (status = 409, description = "The task has already ended", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn cancel(State(api): State<Api>, Id(id): Id) -> Result<Response, ApiError> {
    match api.engine.cancel(id).await? {
        Canceled::Now(task) => Ok(Json(task).into_response()),
        Canceled::AlreadyEnded(task) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "TaskEnded",
            format!("Task {id} has already ended ({})", task.state.as_str()),
        )),
        Canceled::Unknown => Err(not_found(id)),
    }
}
