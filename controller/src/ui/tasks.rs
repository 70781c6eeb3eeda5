//! The task manager: the task list (filtered by state), a task's page, and the server-sent
//! events that keep both up to date without reloading.
//!
//! The events carry every task change the engine makes, as the task JSON of the API; the
//! script updates what the page shows from them (as text, never as markup).

use std::convert::Infallible;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures_util::StreamExt;
use tokio::sync::broadcast::error::RecvError;

use super::csrf::Token;
use super::view::{TaskView, UiError, id, render};
use crate::api::{Api, Slot, busy};
use crate::store::TaskFilter;
use crate::task::{Operation, State as TaskState, Task};

/// How many tasks the list shows.
const LISTED: u32 = 200;

/// The states the list can be filtered by.
const STATES: [TaskState; 5] = [
    TaskState::Queued,
    TaskState::Running,
    TaskState::Success,
    TaskState::Failure,
    TaskState::Canceled,
];

#[derive(Template)]
#[template(path = "tasks.html")]
struct Tasks {
    /// The state shown, or empty for all.
    filter: String,
    /// Every state, and whether it is the one shown.
    states: Vec<(&'static str, bool)>,
    tasks: Vec<TaskView>,
}

/// A parameter of a query string.
fn param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(n, _)| n == name)
        .map(|(_, value)| value.into_owned())
}

/// The `state` a list is filtered by; empty or absent is every state.
fn state(query: Option<&str>) -> Result<Option<TaskState>, UiError> {
    match param(query, "state").as_deref() {
        None | Some("") => Ok(None),
        Some(text) => TaskState::parse(text)
            .map(Some)
            .ok_or_else(|| UiError::BadRequest(format!("There is no task state `{text}`"))),
    }
}

/// `/ui/tasks?state=…`: the newest tasks, optionally of one state.
pub(super) async fn list(
    State(api): State<Api>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, UiError> {
    let state = state(query.as_deref())?;
    let filter = TaskFilter {
        state,
        resource: None,
        before: None,
        limit: LISTED,
    };
    let tasks = api.engine.store().tasks(&filter).await?;
    render(&Tasks {
        filter: state.map(TaskState::as_str).unwrap_or_default().to_owned(),
        states: STATES
            .iter()
            .map(|s| (s.as_str(), Some(*s) == state))
            .collect(),
        tasks: tasks.iter().map(|(_, t)| TaskView::from(t)).collect(),
    })
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    task: TaskView,
    /// Whether the resource is still there to link to.
    resource_kept: bool,
    /// The endpoint's `APS-Info` messages, oldest first: when each came, and its text.
    infos: Vec<(String, String)>,
    csrf: String,
}

/// `/ui/tasks/{id}`: one task, its messages (the latest live, every one as of the page's
/// rendering), its outcome, and Cancel while it runs.
pub(super) async fn page(
    State(api): State<Api>,
    Path(task_id): Path<String>,
    Extension(token): Extension<Token>,
) -> Result<Html<String>, UiError> {
    let id = id(&task_id, "task")?;
    let record = api
        .engine
        .record(id)
        .await?
        .ok_or_else(|| UiError::NotFound(format!("There is no task {id}")))?;
    let task = &record.task;
    let gone = task.operation == Operation::Unprovision && task.state == TaskState::Success;
    render(&TaskPage {
        task: TaskView::from(task),
        resource_kept: !gone,
        infos: record
            .work
            .infos
            .iter()
            .map(|info| (info.at.to_string(), info.text.clone()))
            .collect(),
        csrf: token.value(),
    })
}

/// `/ui/events?task=ID` or `/ui/events?state=STATE`: task changes, as `task` events with the
/// task JSON. The stream begins with the tasks as they are now (the one task, or the list as
/// filtered), so a page loses no change made between its rendering and the stream's start,
/// nor while it reconnects. With `task`, only that task's changes follow. A watcher that fell
/// too far behind gets a `stale` event instead of the changes it missed, and reloads.
pub(super) async fn events(
    State(api): State<Api>,
    RawQuery(query): RawQuery,
    slot: Slot,
) -> Result<Response, UiError> {
    let only = param(query.as_deref(), "task")
        .map(|t| id(&t, "task"))
        .transpose()?;
    // Subscribing before reading means no change falls between the snapshot and the stream.
    let changes = api.engine.watch_all();
    let now = match only {
        Some(task) => api
            .engine
            .record(task)
            .await?
            .map(|r| r.task)
            .into_iter()
            .collect(),
        None => {
            let filter = TaskFilter {
                state: state(query.as_deref())?,
                resource: None,
                before: None,
                limit: LISTED,
            };
            let mut rows = api.engine.store().tasks(&filter).await?;
            // Oldest first, so that a list adding rows at its top ends newest first.
            rows.reverse();
            rows.into_iter().map(|(_, task)| task).collect::<Vec<_>>()
        }
    };
    // An open stream counts as a waiting request, like a long poll.
    let Some(waiting) = slot.wait() else {
        return Ok(busy());
    };
    let later =
        futures_util::stream::unfold((changes, waiting), move |(mut rx, waiting)| async move {
            loop {
                let event = match rx.recv().await {
                    Ok(task) if only.is_some_and(|id| id != task.id) => continue,
                    Ok(task) => event(&task),
                    Err(RecvError::Lagged(_)) => stale(),
                    Err(RecvError::Closed) => return None,
                };
                return Some((event, (rx, waiting)));
            }
        });
    let stream = futures_util::stream::iter(now.iter().map(event).collect::<Vec<_>>())
        .chain(later)
        .map(Ok::<_, Infallible>);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn event(task: &Task) -> Event {
    Event::default()
        .event("task")
        .json_data(task)
        .unwrap_or_else(|_| stale())
}

fn stale() -> Event {
    Event::default().event("stale").data("")
}
