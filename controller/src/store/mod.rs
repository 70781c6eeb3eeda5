//! The durable state of a controller, and the only place that speaks SQL.
//!
//! [`Store`] keeps packages, application instances, resources, tasks and the callback outbox in
//! SQLite (WAL, `synchronous = FULL`): a change is committed before the engine tells anyone of it,
//! so a process killed at any moment loses nothing it acknowledged. Its methods are the whole
//! interface the rest of the controller uses, and each is atomic, so that another database
//! (PostgreSQL) can stand behind the same methods.
//!
//! Task changes (a new task, a task's next state) are *group committed* ([`commit`]): the
//! changes of many tasks share one transaction and one `fsync`, and each caller is answered
//! only once that transaction has committed. Writes go through a pool of one connection:
//! SQLite allows one writer at a time anyway, and a single in-process writer never meets
//! `SQLITE_BUSY` when a read inside a transaction turns into a write. Reads use their own pool.

mod commit;
mod links;
mod packages;
mod paused;
mod stats;
mod subscriptions;
mod tasks;
mod tokens;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use uuid::Uuid;

use crate::package::PackageModel;
use crate::task::Record;
use crate::timestamp::Timestamp;
use paused::Hold;
pub(crate) use paused::PausedClock;

pub(crate) use links::{LinkRow, Linked};
pub use stats::StoreStats;
pub(crate) use subscriptions::{Event, Owed, SubscriptionRow};
pub(crate) use tasks::{Effects, Outbox, PackageSwitch, ResourceChange, TaskFilter};
pub(crate) use tokens::TokenRow;

/// Why the store could not do something.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row could not be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// The resource has an unfinished task.
    #[error("task {0} is still working on this resource")]
    Busy(Uuid),
    /// The resource changed (or went) since it was read, so a change made from it was not
    /// stored; read it again.
    #[error("resource {0} changed meanwhile; try again")]
    Changed(Uuid),
    /// The transaction that held the change did not commit (the whole batch failed).
    #[error("database commit: {0}")]
    Commit(String),
    /// The store's writer has stopped (the controller is shutting down).
    #[error("the store is closed")]
    Closed,
}

/// An application instance, as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApplicationRow {
    pub id: Uuid,
    pub package_id: Uuid,
    pub endpoint: String,
    pub settings: Value,
    pub root_id: Uuid,
}

/// A resource, as stored: its full JSON and what it is indexed by.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResourceRow {
    pub id: Uuid,
    pub application_id: Uuid,
    pub service: String,
    pub type_id: String,
    pub body: Value,
}

/// The database of a controller.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    writer: SqlitePool,
    reader: SqlitePool,
    committer: commit::Committer,
    counters: Arc<stats::Counters>,
    paused: PausedClock,
    /// The packages read so far: a package never changes once imported, and the engine reads
    /// its schemas at every step (to send a resource with its links).
    models: packages::Models,
    /// Told whenever notifications were written, to wake their delivery.
    notifications: Arc<tokio::sync::Notify>,
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(corrupt)
}

fn json(text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(corrupt)
}

impl Store {
    /// Opens (and creates, and migrates) the database at an `sqlite://PATH` URL.
    pub(crate) async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!().run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let counters = Arc::<stats::Counters>::default();
        Ok(Self {
            committer: commit::Committer::start(writer.clone(), counters.clone()),
            writer,
            reader,
            counters,
            paused: PausedClock::default(),
            models: packages::Models::default(),
            notifications: Arc::default(),
        })
    }

    /// Makes every call hold a paused tokio clock while SQLite works, when `paused` says the
    /// clock is paused ([`paused`]).
    pub(crate) fn holding(mut self, paused: PausedClock) -> Self {
        self.paused = paused;
        self
    }

    /// Held by every call for as long as it waits for the database.
    fn hold(&self) -> Hold {
        self.paused.hold()
    }

    /// Told whenever notifications were written (and committed).
    pub(crate) fn notifications_written(&self) -> Arc<tokio::sync::Notify> {
        self.notifications.clone()
    }

    /// Wakes the delivery of notifications, when `written` were.
    fn written(&self, written: usize) {
        if written > 0 {
            self.notifications.notify_one();
        }
    }

    /// What the store has done since it was opened.
    pub(crate) fn stats(&self) -> StoreStats {
        self.counters.snapshot()
    }

    /// The times of the store's write transactions, for `/metrics`.
    pub(crate) fn commit_histogram(&self) -> prometheus_client::metrics::histogram::Histogram {
        self.counters.commit_seconds.clone()
    }

    /// Answers when the database answers a query.
    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        let _held = self.hold();
        sqlx::query("SELECT 1").execute(self.reader()).await?;
        Ok(())
    }

    /// The pool for reads, counted.
    fn reader(&self) -> &SqlitePool {
        self.counters.read();
        &self.reader
    }

    /// A setting, stored the first time it is asked for: the value already stored wins over
    /// `value`, so concurrent first starts agree.
    pub(crate) async fn setting_or_insert(
        &self,
        key: &str,
        value: &str,
    ) -> Result<String, StoreError> {
        let _held = self.hold();
        sqlx::query("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)")
            .bind(key)
            .bind(value)
            .execute(&self.writer)
            .await?;
        let (stored,): (String,) = sqlx::query_as("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_one(&self.writer)
            .await?;
        Ok(stored)
    }

    /// Stores an imported package.
    pub(crate) async fn insert_package(
        &self,
        id: Uuid,
        model: &PackageModel,
    ) -> Result<(), StoreError> {
        let _held = self.hold();
        let schemas = serde_json::to_string(&model.schemas).map_err(corrupt)?;
        sqlx::query("INSERT INTO packages (id, meta_xml, schemas, created) VALUES (?, ?, ?, ?)")
            .bind(id.to_string())
            .bind(model.meta.to_xml())
            .bind(schemas)
            .bind(Timestamp::now().to_string())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// A package by id.
    pub(crate) async fn package(&self, id: Uuid) -> Result<Option<PackageModel>, StoreError> {
        if let Some(model) = self.models.get(id) {
            return Ok(Some(model));
        }
        let _held = self.hold();
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT meta_xml, schemas FROM packages WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(self.reader())
                .await?;
        let model = row
            .map(|(xml, schemas)| packages::model_of(&xml, &schemas))
            .transpose()?;
        if let Some(model) = &model {
            self.models.keep(id, model);
        }
        Ok(model)
    }

    /// An application instance by id.
    pub(crate) async fn application(&self, id: Uuid) -> Result<Option<ApplicationRow>, StoreError> {
        Ok(self.applications_where(Some(id)).await?.pop())
    }

    /// Every application instance, oldest first.
    pub(crate) async fn applications(&self) -> Result<Vec<ApplicationRow>, StoreError> {
        self.applications_where(None).await
    }

    async fn applications_where(
        &self,
        id: Option<Uuid>,
    ) -> Result<Vec<ApplicationRow>, StoreError> {
        let _held = self.hold();
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT id, package_id, endpoint, settings, root_id FROM applications
             WHERE ?1 IS NULL OR id = ?1 ORDER BY created, id",
        )
        .bind(id.map(|id| id.to_string()))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|(id, package, endpoint, settings, root)| {
                Ok(ApplicationRow {
                    id: uuid(id)?,
                    package_id: uuid(package)?,
                    endpoint: endpoint.clone(),
                    settings: json(settings)?,
                    root_id: uuid(root)?,
                })
            })
            .collect()
    }

    /// A resource by id.
    pub(crate) async fn resource(&self, id: Uuid) -> Result<Option<ResourceRow>, StoreError> {
        let _held = self.hold();
        let row: Option<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT id, application_id, service, type_id, body FROM resources WHERE id = ?",
        )
        .bind(id.to_string())
        .fetch_optional(self.reader())
        .await?;
        row.map(|row| resource_row(&row)).transpose()
    }

    /// Resources, filtered by application and by type: a type id or a service id, as
    /// provisioning takes either.
    pub(crate) async fn resources(
        &self,
        application: Option<Uuid>,
        type_id: Option<&str>,
    ) -> Result<Vec<ResourceRow>, StoreError> {
        let _held = self.hold();
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT id, application_id, service, type_id, body FROM resources
             WHERE (?1 IS NULL OR application_id = ?1)
               AND (?2 IS NULL OR type_id = ?2 OR service = ?2)
             ORDER BY rowid",
        )
        .bind(application.map(|id| id.to_string()))
        .bind(type_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(resource_row).collect()
    }

    /// Changes a resource's JSON in one transaction (read, `edit`, write), with the record of
    /// the task `edit` answers, if any; answers the new JSON, or `None` when there is no such
    /// resource. `task` is the resource's unfinished task as the caller knows it: when the
    /// stored one is another (or there is one after all), nothing changes and the answer is
    /// [`StoreError::Changed`].
    pub(crate) async fn update_resource(
        &self,
        resource: Uuid,
        task: Option<Uuid>,
        edit: impl FnOnce(&mut Value) -> Option<Record>,
    ) -> Result<Option<Value>, StoreError> {
        let _held = self.hold();
        let id = resource.to_string();
        let mut tx = self.writer.begin().await?;
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT body, type_id FROM resources WHERE id = ?")
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((text, type_id)) = row else {
            return Ok(None);
        };
        let running: Option<(String,)> = sqlx::query_as(&format!(
            "SELECT id FROM tasks WHERE resource_id = ? AND {} LIMIT 1",
            tasks::HOLDING
        ))
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
        if running.map(|(t,)| uuid(&t)).transpose()? != task {
            return Err(StoreError::Changed(resource));
        }
        let mut body = json(&text)?;
        let task = edit(&mut body).map(|r| tasks::task_text(&r)).transpose()?;
        sqlx::query("UPDATE resources SET body = ? WHERE id = ?")
            .bind(body.to_string())
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        if let Some(task) = task {
            sqlx::query("UPDATE tasks SET state = ?, record = ? WHERE id = ?")
                .bind(task.state)
                .bind(&task.record)
                .bind(&task.id)
                .execute(&mut *tx)
                .await?;
        }
        let changed = Event {
            kind: aps_protocol::event::EventKind::Changed,
            type_id,
            source: resource,
            relation: None,
        };
        let written = subscriptions::notify(&mut tx, &changed).await?;
        tx.commit().await?;
        self.written(written);
        Ok(Some(body))
    }
}

fn resource_row(row: &(String, String, String, String, String)) -> Result<ResourceRow, StoreError> {
    let (id, application, service, type_id, body) = row;
    Ok(ResourceRow {
        id: uuid(id)?,
        application_id: uuid(application)?,
        service: service.clone(),
        type_id: type_id.clone(),
        body: json(body)?,
    })
}
