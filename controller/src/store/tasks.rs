//! Tasks, the resource changes they make, and the callback outbox.
//!
//! A task's change, the resource change it brings and the callback it owes are written in one
//! transaction: a callback is owed exactly when the task has ended, even across a crash.

use serde_json::Value;
use uuid::Uuid;

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

const UNFINISHED: &str = "state IN ('queued', 'running')";

fn record_text(record: &Record) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(corrupt)
}

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
        let mut tx = self.writer.begin().await?;
        let resource_id = resource.id.to_string();
        let busy: Option<(String,)> = sqlx::query_as(&format!(
            "SELECT id FROM tasks WHERE resource_id = ? AND {UNFINISHED} LIMIT 1"
        ))
        .bind(&resource_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id,)) = busy {
            return Err(StoreError::Busy(uuid(&id)?));
        }
        if let Some(app) = application {
            sqlx::query(
                "INSERT INTO applications (id, package_id, endpoint, settings, root_id, created)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(app.id.to_string())
            .bind(app.package_id.to_string())
            .bind(&app.endpoint)
            .bind(app.settings.to_string())
            .bind(app.root_id.to_string())
            .bind(Timestamp::now().to_string())
            .execute(&mut *tx)
            .await?;
        }
        put_resource(&mut tx, resource).await?;
        sqlx::query("INSERT INTO tasks (id, resource_id, state, record) VALUES (?, ?, ?, ?)")
            .bind(record.task.id.to_string())
            .bind(&resource_id)
            .bind(record.task.state.as_str())
            .bind(record_text(record)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.counters.committed(1);
        Ok(())
    }

    /// Stores a task's change with the resource change and the callback it brings.
    pub(crate) async fn save(
        &self,
        record: &Record,
        resource: &ResourceChange,
        callback: Option<&Outbox>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE tasks SET state = ?, record = ? WHERE id = ?")
            .bind(record.task.state.as_str())
            .bind(record_text(record)?)
            .bind(record.task.id.to_string())
            .execute(&mut *tx)
            .await?;
        match resource {
            ResourceChange::Keep => {}
            ResourceChange::Put(row) => put_resource(&mut tx, row).await?,
            ResourceChange::Delete(id) => {
                sqlx::query("DELETE FROM resources WHERE id = ?")
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if let Some(callback) = callback {
            sqlx::query(
                "INSERT OR IGNORE INTO outbox (id, task_id, url, body, attempts, next_attempt, created)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&callback.id)
            .bind(callback.task_id.to_string())
            .bind(&callback.url)
            .bind(&callback.body)
            .bind(callback.attempts)
            .bind(callback.next_attempt.to_string())
            .bind(callback.created.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.counters.committed(1);
        Ok(())
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

async fn put_resource(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    row: &ResourceRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO resources (id, application_id, service, type_id, body) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body",
    )
    .bind(row.id.to_string())
    .bind(row.application_id.to_string())
    .bind(&row.service)
    .bind(&row.type_id)
    .bind(Value::to_string(&row.body))
    .execute(&mut **tx)
    .await?;
    Ok(())
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

    #[tokio::test]
    async fn state_survives_reopening_the_file_and_one_task_per_resource() {
        let dir = tempfile::tempdir().unwrap();
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
        let resource = ResourceRow {
            id: Uuid::new_v4(),
            application_id: app.id,
            service: "thing".into(),
            type_id: "http://t/thing/1.0".into(),
            body: json!({"aps": {}}),
        };
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
            store.package(package).await.unwrap().unwrap().meta.name,
            "t"
        );
        store.callback_done(&owed.id).await.unwrap();
        assert!(store.pending_callbacks().await.unwrap().is_empty());
        assert_eq!(store.setting_or_insert("k", "a").await.unwrap(), "a");
        assert_eq!(store.setting_or_insert("k", "b").await.unwrap(), "a");
    }
}
