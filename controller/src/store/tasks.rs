//! Tasks, the resource changes they make, and the callback outbox.
//!
//! A task's change, the resource change it brings and the callback it owes are written in one
//! transaction: a callback is owed exactly when the task has ended, even across a crash.

use serde_json::Value;
use uuid::Uuid;

use super::commit::{ApplicationText, Change, OutboxText, ResourceText, ResourceWrite, TaskText};
use super::links::LinkRow;
use super::subscriptions::{Event, SubscriptionRow};
use super::{ApplicationRow, ResourceRow, Store, StoreError, corrupt, uuid};
use crate::task::{Record, State, Task};
use crate::timestamp::Timestamp;

/// What a task's change does to its resource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ResourceChange {
    /// Nothing.
    Keep,
    /// Stores the resource (new or replaced).
    Put(ResourceRow),
    /// Removes the resource.
    Delete(Uuid),
}

/// What else a task's change brings (issue #12), written in its transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Effects {
    /// What happened, for the subscriptions to be told.
    pub events: Vec<Event>,
    /// Subscriptions made (those a provisioned resource's type declares).
    pub subscriptions: Vec<SubscriptionRow>,
    /// An instance moving to a newer package.
    pub upgrade: Option<PackageSwitch>,
}

/// An instance moving to a newer package when its upgrade succeeds: the new package, and the
/// defaults of the properties its schemas declare, filled into the stored resources that lack
/// them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PackageSwitch {
    pub application: Uuid,
    pub package: Uuid,
    /// (type id, property, default).
    pub defaults: Vec<(String, String, Value)>,
}

/// A callback owed: the final task JSON for a URL.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outbox {
    /// The `webhook-id`, the same for every delivery of this callback.
    pub id: String,
    pub task_id: Uuid,
    pub url: String,
    pub body: String,
    pub attempts: u32,
    pub next_attempt: Timestamp,
    pub created: Timestamp,
}

/// Which tasks to list, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TaskFilter {
    pub state: Option<State>,
    pub resource: Option<Uuid>,
    /// Only tasks older than this listing position (from a previous page's `next`).
    pub before: Option<i64>,
    pub limit: u32,
}

/// The condition of a task that has not ended.
pub(super) const UNFINISHED: &str = "state IN ('queued', 'running')";
/// The condition of a task that has not ended and holds its resource (not a call).
pub(super) const HOLDING: &str = "state IN ('queued', 'running') AND exclusive = 1";

fn record_of(text: &str) -> Result<Record, StoreError> {
    serde_json::from_str(text).map_err(corrupt)
}

impl Store {
    /// Starts an operation: stores its new task and resource (and, for an install, the new
    /// application instance, and a new resource's links), unless another task is still working
    /// on that resource ([`StoreError::Busy`]) or the resource is no longer `expected`, the body
    /// the new one was made from ([`StoreError::Changed`]). A call (`resource` is `None`) only
    /// stores its task, beside any other task.
    pub(crate) async fn begin(
        &self,
        record: &Record,
        application: Option<&ApplicationRow>,
        resource: Option<&ResourceRow>,
        expected: Option<&Value>,
        links: &[LinkRow],
    ) -> Result<(), StoreError> {
        let _held = self.hold();
        let application = application.map(|app| ApplicationText {
            id: app.id.to_string(),
            package_id: app.package_id.to_string(),
            endpoint: app.endpoint.clone(),
            settings: app.settings.to_string(),
            root_id: app.root_id.to_string(),
            created: Timestamp::now().to_string(),
        });
        let change = Change::Begin {
            task: task_text(record)?,
            resource_id: record.task.resource.id.to_string(),
            exclusive: record.task.operation.is_exclusive(),
            application,
            resource: resource.map(resource_text),
            expected: expected.cloned(),
            links: links.iter().map(LinkRow::text).collect(),
        };
        self.committer.commit(change).await
    }

    /// Stores a task's change with the resource change, the callback and the `effects` it
    /// brings, in one transaction.
    pub(crate) async fn save(
        &self,
        record: &Record,
        resource: &ResourceChange,
        callback: Option<&Outbox>,
        effects: &Effects,
    ) -> Result<(), StoreError> {
        let _held = self.hold();
        let resource = match resource {
            ResourceChange::Keep => None,
            ResourceChange::Put(row) => Some(ResourceWrite::Put(resource_text(row))),
            ResourceChange::Delete(id) => Some(ResourceWrite::Delete(id.to_string())),
        };
        let callback = callback.map(|c| OutboxText {
            id: c.id.clone(),
            task_id: c.task_id.to_string(),
            url: c.url.clone(),
            body: c.body.clone(),
            attempts: c.attempts,
            next_attempt: c.next_attempt.to_string(),
            created: c.created.to_string(),
        });
        let change = Change::Save {
            task: task_text(record)?,
            resource,
            callback,
            effects: effects.clone(),
        };
        self.committer.commit(change).await?;
        self.written(effects.events.len());
        Ok(())
    }

    /// The unfinished task that holds a resource, if it has one (calls do not hold it).
    pub(crate) async fn unfinished_task_of(
        &self,
        resource: Uuid,
    ) -> Result<Option<Uuid>, StoreError> {
        let _held = self.hold();
        let row: Option<(String,)> = sqlx::query_as(&format!(
            "SELECT id FROM tasks WHERE resource_id = ? AND {HOLDING} LIMIT 1"
        ))
        .bind(resource.to_string())
        .fetch_optional(self.reader())
        .await?;
        row.map(|(id,)| uuid(&id)).transpose()
    }

    /// A task with its work record.
    pub(crate) async fn task(&self, id: Uuid) -> Result<Option<Record>, StoreError> {
        let _held = self.hold();
        let row: Option<(String,)> = sqlx::query_as("SELECT record FROM tasks WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(self.reader())
            .await?;
        row.map(|(text,)| record_of(&text)).transpose()
    }

    /// Tasks, newest first, each with its listing position.
    pub(crate) async fn tasks(&self, filter: &TaskFilter) -> Result<Vec<(i64, Task)>, StoreError> {
        let _held = self.hold();
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, record FROM tasks
             WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR resource_id = ?2)
               AND (?3 IS NULL OR seq < ?3)
             ORDER BY seq DESC LIMIT ?4",
        )
        .bind(filter.state.map(State::as_str))
        .bind(filter.resource.map(|id| id.to_string()))
        .bind(filter.before)
        .bind(filter.limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|(seq, text)| Ok((*seq, record_of(text)?.task)))
            .collect()
    }

    /// Every task that has not ended, oldest first: what a restart resumes.
    pub(crate) async fn unfinished(&self) -> Result<Vec<Record>, StoreError> {
        let _held = self.hold();
        let rows: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT record FROM tasks WHERE {UNFINISHED} ORDER BY seq"
        ))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|(text,)| record_of(text)).collect()
    }

    /// Every callback not yet delivered.
    pub(crate) async fn pending_callbacks(&self) -> Result<Vec<Outbox>, StoreError> {
        let _held = self.hold();
        let rows: Vec<(String, String, String, String, u32, String, String)> = sqlx::query_as(
            "SELECT id, task_id, url, body, attempts, next_attempt, created FROM outbox",
        )
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(|(id, task_id, url, body, attempts, next, created)| {
                Ok(Outbox {
                    id,
                    task_id: uuid(&task_id)?,
                    url,
                    body,
                    attempts,
                    next_attempt: Timestamp::parse(&next).ok_or_else(|| corrupt(&next))?,
                    created: Timestamp::parse(&created).ok_or_else(|| corrupt(&created))?,
                })
            })
            .collect()
    }

    /// Forgets a callback: delivered, or given up.
    pub(crate) async fn callback_done(&self, id: &str) -> Result<(), StoreError> {
        let _held = self.hold();
        sqlx::query("DELETE FROM outbox WHERE id = ?")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Records a failed delivery and when to try again.
    pub(crate) async fn callback_failed(&self, callback: &Outbox) -> Result<(), StoreError> {
        let _held = self.hold();
        sqlx::query("UPDATE outbox SET attempts = ?, next_attempt = ? WHERE id = ?")
            .bind(callback.attempts)
            .bind(callback.next_attempt.to_string())
            .bind(&callback.id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

pub(super) fn task_text(record: &Record) -> Result<TaskText, StoreError> {
    Ok(TaskText {
        id: record.task.id.to_string(),
        state: record.task.state.as_str(),
        record: serde_json::to_string(record).map_err(corrupt)?,
    })
}

fn resource_text(row: &ResourceRow) -> ResourceText {
    ResourceText {
        id: row.id.to_string(),
        application_id: row.application_id.to_string(),
        service: row.service.clone(),
        type_id: row.type_id.clone(),
        body: row.body.to_string(),
    }
}

#[cfg(test)]
mod tests;
