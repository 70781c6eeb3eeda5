//! Tasks: what a long operation looks like to clients, and what the engine keeps to drive it.
//!
//! A [`Task`] is the contract's task JSON, field for field; it is what the API answers, what a
//! callback posts, and what the [`Client`](crate::Client) and the test kit hand back. The engine
//! keeps it together with a [`Work`] record (phase, transaction id, the resource to send, the
//! callback URL…) that clients never see.

use aps_protocol::ErrorBody;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::timestamp::Timestamp;

/// A task, as the contract shows it. Every field is always serialized, `null` when empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct Task {
    /// The task id.
    pub id: Uuid,
    /// For people, e.g. `Provisioning "provisionable" for APS application async-provisioning`.
    pub name: String,
    /// What the task does.
    pub operation: Operation,
    /// The application instance.
    pub application: Uuid,
    /// The resource the operation is about.
    pub resource: TaskResource,
    /// Where the task stands.
    pub state: State,
    /// The first `APS-Info` of the endpoint.
    pub description: Option<String>,
    /// The latest `APS-Info`, or the error.
    pub output: Option<String>,
    /// How many times the controller has called the endpoint for this task.
    pub attempts: u32,
    /// When the controller calls the endpoint next.
    pub next_check: Option<Timestamp>,
    /// The recheck delay the endpoint asked for, in seconds (before `--time-scale`).
    pub retry_after: Option<u64>,
    /// When the task was made.
    pub creation_time: Timestamp,
    /// When the task last changed; moves with `revision`.
    pub last_modified: Timestamp,
    /// When the task ended.
    pub completion_time: Option<Timestamp>,
    /// Grows by one at every change.
    pub revision: u64,
    /// The operation's error, when it failed (or was canceled).
    pub error: Option<ErrorBody>,
    /// `/api/v1/tasks/{id}/status`.
    #[serde(rename = "statusURI")]
    pub status_uri: String,
    /// `/api/v1/tasks/{id}/result`.
    #[serde(rename = "resultURI")]
    pub result_uri: String,
}

/// The resource a task is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct TaskResource {
    /// The resource id.
    pub id: Uuid,
    /// The type id.
    #[serde(rename = "type")]
    pub type_id: String,
    /// The service of the endpoint that implements the type.
    pub service: String,
    /// `/api/v1/resources/{id}`.
    pub href: String,
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub enum State {
    /// Made, not yet sent to the endpoint.
    Queued,
    /// The endpoint is working on it.
    Running,
    /// Done.
    Success,
    /// The endpoint refused or failed it, or its deadline passed.
    Failure,
    /// A client canceled it.
    Canceled,
}

impl State {
    /// Whether the task has ended for good.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Success | Self::Failure | Self::Canceled)
    }

    /// The wire spelling, e.g. `running`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Canceled => "canceled",
        }
    }

    /// Reads the wire spelling.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Running,
            Self::Success,
            Self::Failure,
            Self::Canceled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What a task does to its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub enum Operation {
    /// Installs an application instance: provisions its root resource.
    Install,
    /// Provisions a resource.
    Provision,
    /// Changes a resource's properties.
    Configure,
    /// Removes a resource.
    Unprovision,
    /// Calls a custom operation of a resource; the resource itself does not change.
    Call,
    /// Synchronizes a resource's usage (its counters) from the endpoint's `retrieve`.
    Refresh,
    /// Upgrades an application instance to a newer package (on its root resource).
    Upgrade,
}

impl Operation {
    /// The wire spelling, e.g. `provision`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Install => "install",
            Self::Provision => "provision",
            Self::Configure => "configure",
            Self::Unprovision => "unprovision",
            Self::Call => "call",
            Self::Refresh => "refresh",
            Self::Upgrade => "upgrade",
        }
    }

    /// The verb of the task name, as the APS task manager writes it.
    fn verb(self) -> &'static str {
        match self {
            Self::Install => "Installing",
            Self::Provision => "Provisioning",
            Self::Configure => "Configuring",
            Self::Unprovision => "Unprovisioning",
            Self::Call => "Calling",
            Self::Refresh => "Synchronizing resource usage of",
            Self::Upgrade => "Upgrading",
        }
    }

    /// Whether the task holds its resource while it runs (one such task at a time per
    /// resource); a call does not.
    pub fn is_exclusive(self) -> bool {
        self != Self::Call
    }

    /// The name of a call's task: `Calling restart on "websites" {id} for APS application hosting`.
    pub fn call_name(operation: &str, service: &str, id: Uuid, application: &str) -> String {
        format!(
            "{} {operation} on \"{service}\" {id} for APS application {application}",
            Self::Call.verb()
        )
    }

    /// The task name: `Provisioning "provisionable" for APS application async-provisioning`.
    pub fn task_name(self, service: &str, application: &str) -> String {
        format!(
            "{} \"{service}\" for APS application {application}",
            self.verb()
        )
    }
}

/// The status of a task, as `GET /api/v1/tasks/{id}/status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct TaskStatus {
    /// The task id.
    pub id: Uuid,
    /// Where the task stands.
    pub state: State,
    /// The first `APS-Info`.
    pub description: Option<String>,
    /// The latest `APS-Info`, or the error.
    pub output: Option<String>,
    /// When the task last changed.
    pub last_modified: Timestamp,
    /// Grows by one at every change.
    pub revision: u64,
}

impl From<&Task> for TaskStatus {
    fn from(t: &Task) -> Self {
        Self {
            id: t.id,
            state: t.state,
            description: t.description.clone(),
            output: t.output.clone(),
            last_modified: t.last_modified,
            revision: t.revision,
        }
    }
}

/// What the engine keeps beside a task to drive it; never shown to clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Work {
    /// The `APS-Transaction-ID` of every call of this task.
    pub transaction_id: Uuid,
    /// Whether the endpoint has answered 202 (so calls go in the async phase).
    pub phase_async: bool,
    /// The base URL of the endpoint.
    pub endpoint: String,
    /// The resource to send (provision, configure), updated from every 202.
    pub body: Option<JsonText>,
    /// Connection failures in a row, for the backoff.
    pub failures: u32,
    /// The task fails when it has not ended by then.
    pub deadline: Timestamp,
    /// Where the final task is posted.
    pub callback_url: Option<String>,
    /// What the task produced, for its result URI.
    pub result: Option<Value>,
    /// What a custom operation call sends (none for the other operations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallWork>,
    /// The endpoint's `APS-Info` messages, oldest first, at most [`INFOS_KEPT`]; the last is
    /// the latest, which the output shows again once a retried call is answered (stored, so a
    /// restart meanwhile keeps it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub infos: Vec<Info>,
    /// What an upgrade moves to (none for the other operations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeWork>,
}

/// An upgrade: the package the instance moves to, and the version it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct UpgradeWork {
    /// The newer package.
    pub package: Uuid,
    /// The old `{version}-{release}`, sent as the upgrade's `version` query parameter.
    pub from: String,
}

/// The request of a custom operation call, repeated as it is at every recheck.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CallWork {
    /// The operation's name.
    pub operation: String,
    /// The declared verb.
    pub method: String,
    /// The path's segments below the endpoint: `["websites", "{id}", "stats"]`.
    pub path: Vec<String>,
    /// The query parameters, as the client sent them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<(String, String)>,
    /// The JSON body (the body parameter), if any.
    pub body: Option<Value>,
}

/// How many `APS-Info` messages a task keeps (the oldest go first; the description stays).
pub(crate) const INFOS_KEPT: usize = 50;

/// One `APS-Info` message of the endpoint, and when it first came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Info {
    pub at: Timestamp,
    pub text: String,
}

impl Work {
    /// Notes an `APS-Info`: a message repeating the latest is the same entry.
    pub(crate) fn note_info(&mut self, text: &str) {
        if self.infos.last().is_some_and(|last| last.text == text) {
            return;
        }
        if self.infos.len() >= INFOS_KEPT {
            self.infos.remove(0);
        }
        self.infos.push(Info {
            at: Timestamp::now(),
            text: text.to_owned(),
        });
    }

    /// The latest `APS-Info`.
    pub(crate) fn latest_info(&self) -> Option<&str> {
        self.infos.last().map(|info| info.text.as_str())
    }
}

/// A JSON value kept as its text, stored as the JSON itself.
///
/// A resource waiting to be sent again is held by every unfinished task: as text it takes a
/// few hundred bytes, where a `Value` (a tree of maps and strings) takes several times that.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonText(Box<str>);

impl JsonText {
    /// The text of `value`.
    pub(crate) fn new(value: &Value) -> Self {
        Self(value.to_string().into())
    }

    /// The value back. The text was made from a value, so it always parses; `null` otherwise.
    pub(crate) fn value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or_default()
    }
}

impl Serialize for JsonText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(|value| Self::new(&value))
    }
}

/// A task with its work record: one row of the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Record {
    pub task: Task,
    pub work: Work,
}

impl Record {
    /// Marks a change: the revision grows and `lastModified` moves.
    pub(crate) fn touch(&mut self) {
        self.task.revision += 1;
        self.task.last_modified = Timestamp::after(self.task.last_modified);
    }

    /// Ends the task in `state`.
    pub(crate) fn finish(
        &mut self,
        state: State,
        output: Option<String>,
        error: Option<ErrorBody>,
    ) {
        self.task.state = state;
        self.task.output = output;
        self.task.error = error;
        self.task.next_check = None;
        self.touch();
        self.task.completion_time = Some(self.task.last_modified);
    }
}
