//! What an endpoint's answer does to a task and its resource.
//!
//! These functions only change a record in memory and say what to store; the engine stores it
//! and only then tells anyone. Keeping them free of I/O keeps every rule of the contract
//! ("a 202 stores the returned body", "a failure keeps the transitional status", "a connection
//! error is retried, never a failure") testable in isolation.

use std::time::Duration;

use aps_protocol::{ErrorBody, Status};
use serde_json::{Value, json};

use crate::endpoint::{Reply, Unreachable};
use crate::schedule::{TimeScale, backoff};
use crate::store::{ResourceChange, ResourceRow};
use crate::task::{JsonText, Operation, Record, State};
use crate::timestamp::Timestamp;

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
        // A call leaves its resource as it is; nothing stamps this.
        Operation::Call => Status::Ready,
        // A usage sync leaves the resource usable.
        Operation::Refresh => Status::Ready,
        Operation::Upgrade => Status::Configuring,
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
    let revision = aps["revision"].as_u64().unwrap_or(0).saturating_add(1);
    aps["status"] = json!(status.as_str());
    aps["revision"] = json!(revision);
    aps["modified"] = json!(Timestamp::now().to_string());
}

/// Why part of an answer was not taken, for the output of the task it ends.
const NOT_AN_OBJECT: &str = "its body is not a JSON object, so the controller ignored it and \
                             kept the resource as it sent it";
const APS_NOT_AN_OBJECT: &str =
    "its resource's `aps` is not an object, so the controller kept its own `aps`";

/// What an answer's body gives: the resource, and why something was ignored (if it was).
struct Returned {
    body: Option<Value>,
    note: Option<&'static str>,
}

/// The resource the endpoint returned, with the controller's own `aps` members kept (id, type,
/// revision): an endpoint may change properties, not identity. No body when it sent no object.
fn returned(reply: &Reply, ours: Option<&Value>) -> Returned {
    let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(&reply.body) else {
        let blank = reply.body.iter().all(u8::is_ascii_whitespace);
        return Returned {
            body: None,
            note: (!blank).then_some(NOT_AN_OBJECT),
        };
    };
    let mut note = None;
    let aps = body.entry("aps").or_insert_with(|| json!({}));
    if !aps.is_object() {
        // `{"aps": "x"}`: whatever it is, the controller's members go in its place.
        note = Some(APS_NOT_AN_OBJECT);
        *aps = json!({});
    }
    let ours = ours.and_then(|o| o.get("aps")).and_then(Value::as_object);
    if let (Some(aps), Some(ours)) = (aps.as_object_mut(), ours) {
        for key in ["id", "type", "revision", "subscription"] {
            if let Some(value) = ours.get(key) {
                aps.insert(key.to_owned(), value.clone());
            }
        }
    }
    Returned {
        body: Some(Value::Object(body)),
        note,
    }
}

/// Puts back the properties changed while a call was out (the endpoint's `PUT /aps/2` between
/// `sent` and `now`): the answer was made from what was sent, so it does not know them.
fn keep_changes_made_meanwhile(body: &mut Value, sent: Option<&Value>, now: Option<&Value>) {
    let (Value::Object(body), Some(sent), Some(Value::Object(now))) = (body, sent, now) else {
        return;
    };
    for (key, value) in now {
        if key != "aps" && sent.get(key) != Some(value) {
            body.insert(key.clone(), value.clone());
        }
    }
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

/// What a step knows besides the answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    /// The resource as stored, when the task keeps none of its own (unprovision).
    pub stored: Option<&'a Value>,
    /// The resource the call sent (the task's own when the call went out).
    pub sent: Option<&'a Value>,
    pub scale: TimeScale,
}

/// Applies one answer (or transport failure) to a running task.
pub(crate) fn apply(
    record: &mut Record,
    answer: Result<Reply, Unreachable>,
    context: Context<'_>,
) -> Applied {
    record.task.attempts = record.task.attempts.saturating_add(1);
    record.task.state = State::Running;
    let operation = record.task.operation;
    let reply = match answer {
        Ok(reply) if reply.transient => {
            let why = busy_reason(&reply);
            return retry(record, &why, reply.retry_after, context.scale);
        }
        Ok(reply) => reply,
        Err(Unreachable(why)) => {
            let why = format!("The endpoint could not be reached ({why})");
            return retry(record, &why, None, context.scale);
        }
    };
    if record.work.failures > 0 {
        // The output shows the failures; the endpoint answers again, so it is the latest
        // APS-Info once more.
        record.task.output = record.work.latest_info().map(str::to_owned);
    }
    record.work.failures = 0;
    if let Some(info) = &reply.info {
        record.task.description.get_or_insert_with(|| info.clone());
        record.task.output = Some(info.clone());
        record.work.note_info(info);
    }
    let current = record.work.body.as_ref().map(JsonText::value);
    let base = current.clone().or_else(|| context.stored.cloned());
    match reply.status {
        202 => {
            record.work.phase_async = true;
            record.task.retry_after = Some(reply.retry.secs());
            let delay = capped(record, context.scale.apply(reply.retry.duration()));
            if operation == Operation::Call {
                // A call's 202 says nothing about the resource; the same request comes again.
                return wait(record, delay, ResourceChange::Keep);
            }
            let returned = returned(&reply, base.as_ref());
            if let Some(note) = returned.note {
                tracing::warn!("the endpoint answered 202, but {note}");
            }
            let Some(mut body) = returned.body else {
                return wait(record, delay, ResourceChange::Keep);
            };
            keep_changes_made_meanwhile(&mut body, context.sent, current.as_ref());
            stamp(&mut body, &transitional(operation));
            if operation != Operation::Unprovision {
                record.work.body = Some(JsonText::new(&body));
            }
            let change = row(record, body);
            wait(record, delay, change)
        }
        status @ 200..=299 => {
            let mut note = None;
            let change = if operation == Operation::Unprovision {
                record.work.result = None;
                ResourceChange::Delete(record.task.resource.id)
            } else if operation == Operation::Call {
                record.work.result = super::calls::result(&reply.body);
                ResourceChange::Keep
            } else {
                let returned = returned(&reply, base.as_ref());
                note = returned.note;
                let mut body = match returned.body {
                    Some(mut body) => {
                        keep_changes_made_meanwhile(&mut body, context.sent, current.as_ref());
                        body
                    }
                    None => base.unwrap_or_default(),
                };
                stamp(&mut body, &Status::Ready);
                record.work.result = Some(body.clone());
                row(record, body)
            };
            let output = noted(record.task.output.take(), status, note);
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

/// Calls again later, after an answer that says "not now" or none at all: after the delay the
/// endpoint asked for (`Retry-After`), else after the backoff; either way within the deadline.
/// The output says why and when; the latest `APS-Info` stays in the work record meanwhile.
fn retry(record: &mut Record, why: &str, asked: Option<Duration>, scale: TimeScale) -> Applied {
    record.work.failures = record.work.failures.saturating_add(1);
    // `Retry-After: 0` would call again at once, forever: the backoff paces it instead.
    let asked = asked.filter(|d| !d.is_zero());
    if let Some(asked) = asked {
        record.task.retry_after = Some(asked.as_secs());
    }
    let delay = asked.unwrap_or_else(|| backoff(record.work.failures));
    let delay = capped(record, scale.apply(delay));
    record.task.output = Some(format!(
        "{why}; attempt {}, trying again in {:.1} s",
        record.task.attempts,
        delay.as_secs_f64()
    ));
    wait(record, delay, ResourceChange::Keep)
}

/// Why a transient answer ([`aps_protocol::busy::is_transient`]) is retried, for the task's output.
fn busy_reason(reply: &Reply) -> String {
    let said = ErrorBody::from_peer(reply.status, &reply.body)
        .map(|e| format!(": {}", e.message.chars().take(200).collect::<String>()))
        .unwrap_or_default();
    match reply.status {
        502 | 504 => format!(
            "A proxy in front of the endpoint could not get its answer ({}{said})",
            reply.status
        ),
        status => format!("The endpoint is busy ({status}{said})"),
    }
}

/// The output of a task ended by a 2xx: its latest APS-Info, and what of the answer was
/// ignored, so a success built on a broken answer says so.
fn noted(info: Option<String>, status: u16, note: Option<&str>) -> Option<String> {
    let Some(note) = note else { return info };
    Some(match info {
        Some(info) => format!("{info} (the endpoint answered {status}, but {note})"),
        None => format!("The endpoint answered {status}, but {note}"),
    })
}

/// Slightly past the deadline (timers and the wall clock differ a little): a step due then
/// finds it passed and fails the task, without calling the endpoint once more.
const PAST_DEADLINE: Duration = Duration::from_millis(10);

/// A delay cut to the time left before the task's deadline, so the deadline always gets its
/// step however long the endpoint or the backoff asks to wait.
pub(crate) fn capped(record: &Record, delay: Duration) -> Duration {
    delay.min(
        record
            .work
            .deadline
            .from_now()
            .saturating_add(PAST_DEADLINE),
    )
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
pub(super) fn endpoint_error(status: u16, body: &[u8]) -> ErrorBody {
    ErrorBody::from_peer(status, body).unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let text: String = text.trim().chars().take(500).collect();
        let message = if text.is_empty() {
            format!("The endpoint answered {status}")
        } else {
            format!("The endpoint answered {status}: {text}")
        };
        ErrorBody::new(status, "EndpointError", message)
    })
}

/// Fails a task whose deadline has passed.
pub(crate) fn expire(record: &mut Record) {
    let mut message = format!(
        "The task did not end before its deadline, {}",
        record.work.deadline
    );
    if record.work.failures > 0 {
        // The last call was retried: its reason is why the task did not end.
        if let Some(last) = &record.task.output {
            message = format!("{message}; the last attempt: {last}");
        }
    }
    let error = ErrorBody::new(504, "DeadlineExceeded", message);
    record.finish(State::Failure, Some(error.message.clone()), Some(error));
}

/// Ends a task because a client canceled it.
pub(crate) fn cancel(record: &mut Record) {
    let error = ErrorBody::new(409, "TaskCanceled", "The task was canceled by a client");
    record.finish(State::Canceled, Some(error.message.clone()), Some(error));
}

#[cfg(test)]
mod tests;
