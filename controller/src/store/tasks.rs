//! Tasks, the resource changes they make, and the callback outbox.
//!
//! A task's change, the resource change it brings and the callback it owes are written in one
//! transaction: a callback is owed exactly when the task has ended, even across a crash.

use uuid::Uuid;

use super::commit::{ApplicationText, Change, OutboxText, ResourceText, ResourceWrite, TaskText};
use super::{ApplicationRow, ResourceRow, Store, StoreError, corrupt, uuid};
use crate::clock::Timestamp;
use crate::task::{Record, State, Task};

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

fn record_of(text: &str) -> Result<Record, StoreError> {
    serde_json::from_str(text).map_err(corrupt)
}

impl Store {
    /// Starts an operation: stores its new task and resource (and, for an install, the new
    /// application instance), unless another task is still working on that resource.
    pub(crate) async fn begin(
        &self,
        record: &Record,
        application: Option<&ApplicationRow>,
        resource: &ResourceRow,
    ) -> Result<(), StoreError> {
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
            application,
            resource: resource_text(resource),
        };
        self.committer.commit(change).await
    }

    /// Stores a task's change with the resource change and the callback it brings.
    pub(crate) async fn save(
        &self,
        record: &Record,
        resource: &ResourceChange,
        callback: Option<&Outbox>,
    ) -> Result<(), StoreError> {
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
        };
        self.committer.commit(change).await
    }

    /// A task with its work record.
    pub(crate) async fn task(&self, id: Uuid) -> Result<Option<Record>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT record FROM tasks WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(self.reader())
            .await?;
        row.map(|(text,)| record_of(&text)).transpose()
    }

    /// Tasks, newest first, each with its listing position.
    pub(crate) async fn tasks(&self, filter: &TaskFilter) -> Result<Vec<(i64, Task)>, StoreError> {
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
        let rows: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT record FROM tasks WHERE {UNFINISHED} ORDER BY seq"
        ))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|(text,)| record_of(text)).collect()
    }

    /// Every callback not yet delivered.
    pub(crate) async fn pending_callbacks(&self) -> Result<Vec<Outbox>, StoreError> {
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
        sqlx::query("DELETE FROM outbox WHERE id = ?")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Records a failed delivery and when to try again.
    pub(crate) async fn callback_failed(&self, callback: &Outbox) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET attempts = ?, next_attempt = ? WHERE id = ?")
            .bind(callback.attempts)
            .bind(callback.next_attempt.to_string())
            .bind(&callback.id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

fn task_text(record: &Record) -> Result<TaskText, StoreError> {
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
mod tests {
    use serde_json::json;

    use super::*;
    use crate::package::PackageModel;

    fn record(resource: Uuid, app: Uuid) -> Record {
        let id = Uuid::new_v4();
        let now = Timestamp::now().to_string();
        serde_json::from_value(json!({
            "task": {
                "id": id, "name": "Provisioning \"thing\" for APS application t", "operation": "provision",
                "application": app,
                "resource": {"id": resource, "type": "http://t/thing/1.0", "service": "thing", "href": "/"},
                "state": "queued", "description": null, "output": null, "attempts": 0, "nextCheck": null,
                "retryAfter": null, "creationTime": now, "lastModified": now, "completionTime": null,
                "revision": 1, "error": null, "statusURI": "/s", "resultURI": "/r"
            },
            "work": {
                "transaction_id": Uuid::new_v4(), "phase_async": false, "endpoint": "http://e",
                "body": null, "failures": 0, "deadline": now, "callback_url": "http://cb/?t=1", "result": null
            }
        }))
        .unwrap()
    }

    /// A store on a fresh file, with a package and an application instance (not yet stored).
    async fn fixture(dir: &tempfile::TempDir) -> (String, Store, ApplicationRow) {
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let store = Store::open(&url).await.unwrap();
        let package = Uuid::new_v4();
        let model = PackageModel {
            meta: aps_protocol::AppMeta {
                id: "i".into(),
                name: "t".into(),
                version: "1".into(),
                release: "1".into(),
                ..Default::default()
            },
            schemas: vec![],
        };
        store.insert_package(package, &model).await.unwrap();
        let app = ApplicationRow {
            id: Uuid::new_v4(),
            package_id: package,
            endpoint: "http://e".into(),
            settings: json!({}),
            root_id: Uuid::new_v4(),
        };
        (url, store, app)
    }

    fn resource(app: &ApplicationRow) -> ResourceRow {
        ResourceRow {
            id: Uuid::new_v4(),
            application_id: app.id,
            service: "thing".into(),
            type_id: "http://t/thing/1.0".into(),
            body: json!({"aps": {}}),
        }
    }

    #[tokio::test]
    async fn state_survives_reopening_the_file_and_one_task_per_resource() {
        let dir = tempfile::tempdir().unwrap();
        let (url, store, app) = fixture(&dir).await;
        let resource = resource(&app);
        let first = record(resource.id, app.id);
        store.begin(&first, Some(&app), &resource).await.unwrap();
        let second = record(resource.id, app.id);
        match store.begin(&second, None, &resource).await {
            Err(StoreError::Busy(task)) => assert_eq!(task, first.task.id),
            other => panic!("expected Busy, got {other:?}"),
        }
        let mut ended = first.clone();
        ended.finish(State::Success, None, None);
        let owed = crate::callback::owed(&ended.task, "http://cb/?t=1");
        store
            .save(&ended, &ResourceChange::Delete(resource.id), Some(&owed))
            .await
            .unwrap();
        drop(store);

        let store = Store::open(&url).await.unwrap();
        assert!(store.unfinished().await.unwrap().is_empty());
        assert_eq!(store.task(first.task.id).await.unwrap(), Some(ended));
        assert_eq!(store.pending_callbacks().await.unwrap(), vec![owed.clone()]);
        assert!(store.resource(resource.id).await.unwrap().is_none());
        assert_eq!(
            store
                .package(app.package_id)
                .await
                .unwrap()
                .unwrap()
                .meta
                .name,
            "t"
        );
        store.callback_done(&owed.id).await.unwrap();
        assert!(store.pending_callbacks().await.unwrap().is_empty());
        assert_eq!(store.setting_or_insert("k", "a").await.unwrap(), "a");
        assert_eq!(store.setting_or_insert("k", "b").await.unwrap(), "a");
    }

    #[tokio::test]
    async fn changes_sent_together_are_all_stored_and_a_busy_start_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (url, store, app) = fixture(&dir).await;
        let taken = resource(&app);
        let first = record(taken.id, app.id);
        store.begin(&first, Some(&app), &taken).await.unwrap();
        let starts: Vec<_> = (0..40)
            .map(|i| {
                let (store, app) = (store.clone(), app.clone());
                let row = if i == 20 {
                    taken.clone()
                } else {
                    resource(&app)
                };
                tokio::spawn(async move {
                    let mut task = record(row.id, app.id);
                    store.begin(&task, None, &row).await?;
                    task.task.state = State::Running;
                    task.touch();
                    store.save(&task, &ResourceChange::Keep, None).await
                })
            })
            .collect();
        let mut busy = 0;
        for start in starts {
            match start.await.unwrap() {
                Ok(()) => {}
                Err(StoreError::Busy(task)) => {
                    assert_eq!(task, first.task.id);
                    busy += 1;
                }
                Err(other) => panic!("unexpected {other}"),
            }
        }
        assert_eq!(busy, 1);
        assert_eq!(store.stats().task_writes, 1 + 39 * 2);
        drop(store);

        let store = Store::open(&url).await.unwrap();
        let unfinished = store.unfinished().await.unwrap();
        assert_eq!(unfinished.len(), 40);
        let running = unfinished.iter().filter(|r| r.task.state == State::Running);
        assert_eq!(running.count(), 39);
    }
}
