//! What an endpoint's answer does to a task and its resource.
//!
//! These functions only change a record in memory and say what to store; the engine stores it
//! and only then tells anyone. Keeping them free of I/O keeps every rule of the contract
//! ("a 202 stores the returned body", "a failure keeps the transitional status", "a connection
//! error is retried, never a failure") testable in isolation.

use std::time::Duration;

use aps_protocol::{ErrorBody, Status};
use serde_json::{Value, json};

use crate::backoff::{TimeScale, backoff};
use crate::clock::Timestamp;
use crate::endpoint::{Reply, Unreachable};
use crate::store::{ResourceChange, ResourceRow};
use crate::task::{JsonText, Operation, Record, State};

/// What to store after an answer, and when to call the endpoint next.
#[derive(Debug)]
pub(crate) struct Applied {
    pub resource: ResourceChange,
    /// `None` when the task has ended.
    pub next: Option<Duration>,
}

/// The status a resource has while an operation runs.
pub(crate) fn transitional(operation: Operation) -> Status {
    match operation {
        Operation::Install | Operation::Provision => Status::Provisioning,
        Operation::Configure => Status::Configuring,
        Operation::Unprovision => Status::Unprovisioning,
    }
}

/// Sets a resource's `aps.status`, bumps `aps.revision` and stamps `aps.modified`.
pub(crate) fn stamp(body: &mut Value, status: &Status) {
    if !body.is_object() {
        *body = json!({});
    }
    let aps = &mut body["aps"];
    if !aps.is_object() {
        *aps = json!({});
    }
    let revision = aps["revision"].as_u64().unwrap_or(0) + 1;
    aps["status"] = json!(status.as_str());
    aps["revision"] = json!(revision);
    aps["modified"] = json!(Timestamp::now().to_string());
}

/// The resource the endpoint returned, with the controller's own `aps` members kept (id, type,
/// revision): an endpoint may change properties, not identity. `None` when it sent no object.
fn returned(reply: &Reply, ours: Option<&Value>) -> Option<Value> {
    let mut body: Value = serde_json::from_slice(&reply.body)
        .ok()
        .filter(Value::is_object)?;
    if let Some(ours) = ours.and_then(|o| o.get("aps")).and_then(Value::as_object) {
        for key in ["id", "type", "revision", "subscription"] {
            if let Some(value) = ours.get(key) {
                body["aps"][key] = value.clone();
            }
        }
    }
    Some(body)
}

fn row(record: &Record, body: Value) -> ResourceChange {
    let r = &record.task.resource;
    ResourceChange::Put(ResourceRow {
        id: r.id,
        application_id: record.task.application,
        service: r.service.clone(),
        type_id: r.type_id.clone(),
        body,
    })
}

/// Applies one answer (or transport failure) to a running task.
pub(crate) fn apply(
    record: &mut Record,
    answer: Result<Reply, Unreachable>,
    stored: Option<&Value>,
    scale: TimeScale,
) -> Applied {
    record.task.attempts += 1;
    record.task.state = State::Running;
    let operation = record.task.operation;
    let reply = match answer {
        Ok(reply) => reply,
        Err(Unreachable(why)) => {
            record.work.failures += 1;
            let delay = scale.apply(backoff(record.work.failures));
            record.task.output = Some(format!(
                "The endpoint could not be reached ({why}); attempt {}, trying again in {:.1} s",
                record.task.attempts,
                delay.as_secs_f64()
            ));
            return wait(record, delay, ResourceChange::Keep);
        }
    };
    record.work.failures = 0;
    let base = record
        .work
        .body
        .as_ref()
        .map(JsonText::value)
        .or_else(|| stored.cloned());
    match reply.status {
        202 => {
            record.work.phase_async = true;
            if let Some(info) = &reply.info {
                record.task.description.get_or_insert_with(|| info.clone());
                record.task.output = Some(info.clone());
            }
            record.task.retry_after = Some(reply.retry_secs);
            let delay = scale.apply(Duration::from_secs(reply.retry_secs));
            let Some(mut body) = returned(&reply, base.as_ref()) else {
                return wait(record, delay, ResourceChange::Keep);
            };
            stamp(&mut body, &transitional(operation));
            if operation != Operation::Unprovision {
                record.work.body = Some(JsonText::new(&body));
            }
            let change = row(record, body);
            wait(record, delay, change)
        }
        200..=299 => {
            let change = if operation == Operation::Unprovision {
                record.work.result = None;
                ResourceChange::Delete(record.task.resource.id)
            } else {
                let mut body = returned(&reply, base.as_ref()).or(base).unwrap_or_default();
                stamp(&mut body, &Status::Ready);
                record.work.result = Some(body.clone());
                row(record, body)
            };
            let output = record.task.output.take();
            record.finish(State::Success, output, None);
            Applied {
                resource: change,
                next: None,
            }
        }
        status => {
            let error = endpoint_error(status, &reply.body);
            record.finish(State::Failure, Some(error.message.clone()), Some(error));
            Applied {
                resource: ResourceChange::Keep,
                next: None,
            }
        }
    }
}

fn wait(record: &mut Record, delay: Duration, resource: ResourceChange) -> Applied {
    record.task.next_check = Some(Timestamp::now().plus(delay));
    record.touch();
    Applied {
        resource,
        next: Some(delay),
    }
}

/// The endpoint's error body, or one made from what it sent; `code` is always the HTTP status.
fn endpoint_error(status: u16, body: &[u8]) -> ErrorBody {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(mut error) => {
            error.code = status;
            error
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text: String = text.trim().chars().take(500).collect();
            let message = if text.is_empty() {
                format!("The endpoint answered {status}")
            } else {
                format!("The endpoint answered {status}: {text}")
            };
            ErrorBody::new(status, "EndpointError", message)
        }
    }
}

/// Fails a task whose deadline has passed.
pub(crate) fn expire(record: &mut Record) {
    let error = ErrorBody::new(
        504,
        "DeadlineExceeded",
        format!(
            "The task did not end before its deadline, {}",
            record.work.deadline
        ),
    );
    record.finish(State::Failure, Some(error.message.clone()), Some(error));
}

/// Ends a task because a client canceled it.
pub(crate) fn cancel(record: &mut Record) {
    let error = ErrorBody::new(409, "TaskCanceled", "The task was canceled by a client");
    record.finish(State::Canceled, Some(error.message.clone()), Some(error));
}
