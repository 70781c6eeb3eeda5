//! Group commit: the task changes of many tasks, written in one SQLite transaction.
//!
//! With `synchronous = FULL` every commit waits for the disk (an `fsync` of the WAL), and that
//! wait, not the SQL, is what a commit costs. So task changes do not commit one by one: callers
//! hand a [`Change`] to one writer loop and wait. The loop takes every change that is waiting
//! (up to [`MAX_BATCH`]), applies each inside a savepoint of one transaction, commits once,
//! and only then answers every caller. A change is acknowledged only after the commit that
//! holds it returned, so a process killed at any moment loses nothing it acknowledged, exactly
//! as with one transaction per change; while one batch is on disk, the next one gathers.
//!
//! A new task that cannot start (its resource is busy, or changed since the resource it starts
//! from was read, or its rows are refused) rolls back its own savepoint and leaves the rest of
//! its batch alone. A saved change fails only when the database does; then the transaction is
//! rolled back and every change of the batch gets the error (the engine retries its steps after
//! a backoff).
//!
//! The SQL text of each change is rendered by its caller before it is queued, so the JSON work
//! runs on the callers' threads and the loop only talks to SQLite.

use std::sync::Arc;

use serde_json::Value;
use sqlx::{Acquire, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::stats::Counters;
use super::tasks::HOLDING;
use super::tasks::{Effects, PackageSwitch};
use super::{StoreError, uuid};

/// The most changes one transaction carries.
const MAX_BATCH: usize = 512;

/// A resource row, rendered for SQL.
#[derive(Debug)]
pub(super) struct ResourceText {
    pub id: String,
    pub application_id: String,
    pub service: String,
    pub type_id: String,
    pub body: String,
}

/// An application instance row, rendered for SQL.
#[derive(Debug)]
pub(super) struct ApplicationText {
    pub id: String,
    pub package_id: String,
    pub endpoint: String,
    pub settings: String,
    pub root_id: String,
    pub created: String,
}

/// A callback owed, rendered for SQL.
#[derive(Debug)]
pub(super) struct OutboxText {
    pub id: String,
    pub task_id: String,
    pub url: String,
    pub body: String,
    pub attempts: u32,
    pub next_attempt: String,
    pub created: String,
}

/// A task row: its id, state and JSON record.
#[derive(Debug)]
pub(super) struct TaskText {
    pub id: String,
    pub state: &'static str,
    pub record: String,
}

/// A link row (one direction), rendered for SQL.
#[derive(Debug)]
pub(super) struct LinkText {
    pub resource_id: String,
    pub relation: String,
    pub target_id: String,
}

/// One task change, with what it brings.
#[derive(Debug)]
pub(super) enum Change {
    /// A new task (with its resource, and the new instance of an install), unless the resource
    /// has an unfinished task and the new one holds it too.
    Begin {
        task: TaskText,
        /// The resource the task is about.
        resource_id: String,
        /// Whether the task holds its resource (a call does not, and writes no resource).
        exclusive: bool,
        application: Option<ApplicationText>,
        resource: Option<ResourceText>,
        /// The stored body the new resource was made from, which must still be the stored one.
        expected: Option<Value>,
        /// The links a new resource is provisioned with.
        links: Vec<LinkText>,
    },
    /// A task's new state, with its resource change and the callback it owes.
    Save {
        task: TaskText,
        resource: Option<ResourceWrite>,
        callback: Option<OutboxText>,
        /// Events, subscriptions and an upgrade's package switch (issue #12).
        effects: Effects,
    },
}

/// What a saved change does to its resource.
#[derive(Debug)]
pub(super) enum ResourceWrite {
    Put(ResourceText),
    Delete(String),
}

type Ack = oneshot::Sender<Result<(), StoreError>>;

/// The handle callers queue changes on.
#[derive(Debug, Clone)]
pub(super) struct Committer {
    tx: mpsc::UnboundedSender<(Change, Ack)>,
}

impl Committer {
    /// Starts the writer loop on `writer`; it ends when every handle is dropped.
    pub(super) fn start(writer: SqlitePool, counters: Arc<Counters>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(writer, counters, rx));
        Self { tx }
    }

    /// Queues a change and waits until the transaction holding it has committed.
    pub(super) async fn commit(&self, change: Change) -> Result<(), StoreError> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send((change, ack))
            .map_err(|_| StoreError::Closed)?;
        done.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run(
    writer: SqlitePool,
    counters: Arc<Counters>,
    mut rx: mpsc::UnboundedReceiver<(Change, Ack)>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (changes, acks): (Vec<Change>, Vec<Ack>) = batch.drain(..).unzip();
        let began = std::time::Instant::now();
        match write(&writer, &changes).await {
            Ok(outcomes) => {
                let written = outcomes.iter().filter(|o| o.is_ok()).count();
                counters.committed(written as u64, began.elapsed());
                for (ack, outcome) in acks.into_iter().zip(outcomes) {
                    // A caller that stopped waiting needs no answer.
                    let _ = ack.send(outcome);
                }
            }
            Err(error) => {
                let message = error.to_string();
                for ack in acks {
                    let _ = ack.send(Err(StoreError::Commit(message.clone())));
                }
            }
        }
    }
}

/// Applies every change in one transaction; answers each change's own outcome once it is
/// committed, or the error that stopped the transaction.
async fn write(
    writer: &SqlitePool,
    changes: &[Change],
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let mut tx = writer.begin().await?;
    let mut outcomes = Vec::with_capacity(changes.len());
    for change in changes {
        let outcome = match change {
            // A new task comes from a client's request: whatever is wrong with it stays its own.
            Change::Begin { .. } => {
                let mut savepoint = tx.begin().await?;
                let outcome = apply(&mut savepoint, change).await;
                match outcome {
                    Ok(()) => savepoint.commit().await?,
                    Err(_) => savepoint.rollback().await?,
                }
                outcome
            }
            // A saved change only fails when the database does, and then so does the batch.
            Change::Save { .. } => Ok(apply(&mut tx, change).await?),
        };
        outcomes.push(outcome);
    }
    tx.commit().await?;
    Ok(outcomes)
}

async fn apply(db: &mut SqliteConnection, change: &Change) -> Result<(), StoreError> {
    match change {
        Change::Begin {
            task,
            resource_id,
            exclusive,
            application,
            resource,
            expected,
            links,
        } => {
            let busy: Option<(String,)> = sqlx::query_as(&format!(
                "SELECT id FROM tasks WHERE resource_id = ? AND {HOLDING} LIMIT 1"
            ))
            .bind(resource_id)
            .fetch_optional(&mut *db)
            .await?;
            if let (true, Some((id,))) = (*exclusive, busy) {
                return Err(StoreError::Busy(uuid(&id)?));
            }
            if let Some(expected) = expected {
                // Compare and swap: a change made since the read (`PUT /aps/2`, a removal)
                // is not overwritten; the caller reads again.
                let stored: Option<(String,)> =
                    sqlx::query_as("SELECT body FROM resources WHERE id = ?")
                        .bind(resource_id)
                        .fetch_optional(&mut *db)
                        .await?;
                let same = stored.is_some_and(|(text,)| {
                    serde_json::from_str::<Value>(&text).is_ok_and(|v| v == *expected)
                });
                if !same {
                    return Err(StoreError::Changed(uuid(resource_id)?));
                }
            }
            if let Some(app) = application {
                sqlx::query(
                    "INSERT INTO applications (id, package_id, endpoint, settings, root_id, created)
                     VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind(&app.id)
                .bind(&app.package_id)
                .bind(&app.endpoint)
                .bind(&app.settings)
                .bind(&app.root_id)
                .bind(&app.created)
                .execute(&mut *db)
                .await?;
            }
            if let Some(resource) = resource {
                put_resource(db, resource).await?;
            }
            for link in links {
                super::links::insert(db, link).await?;
            }
            sqlx::query(
                "INSERT INTO tasks (id, resource_id, state, record, exclusive) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&task.id)
            .bind(resource_id)
            .bind(task.state)
            .bind(&task.record)
            .bind(exclusive)
            .execute(&mut *db)
            .await?;
        }
        Change::Save {
            task,
            resource,
            callback,
            effects,
        } => {
            sqlx::query("UPDATE tasks SET state = ?, record = ? WHERE id = ?")
                .bind(task.state)
                .bind(&task.record)
                .bind(&task.id)
                .execute(&mut *db)
                .await?;
            for subscription in &effects.subscriptions {
                super::subscriptions::insert(db, subscription).await?;
            }
            // Before a removal: a subscriber that goes is still told of its own removal.
            for event in &effects.events {
                super::subscriptions::notify(db, event).await?;
            }
            match resource {
                None => {}
                Some(ResourceWrite::Put(row)) => put_resource(db, row).await?,
                Some(ResourceWrite::Delete(id)) => {
                    sqlx::query("DELETE FROM resources WHERE id = ?")
                        .bind(id)
                        .execute(&mut *db)
                        .await?;
                    // A resource that is gone is linked to nothing, in either direction,
                    // and subscribed to nothing.
                    super::links::remove_all(db, id).await?;
                    // An instance whose root is gone is uninstalled: forgotten, unless a
                    // resource of it was provisioned meanwhile.
                    sqlx::query(
                        "DELETE FROM applications WHERE root_id = ?1 AND NOT EXISTS
                         (SELECT 1 FROM resources WHERE application_id = applications.id)",
                    )
                    .bind(id)
                    .execute(&mut *db)
                    .await?;
                    super::subscriptions::remove_all(db, id).await?;
                }
            }
            if let Some(callback) = callback {
                sqlx::query(
                    "INSERT OR IGNORE INTO outbox (id, task_id, url, body, attempts, next_attempt, created)
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(&callback.id)
                .bind(&callback.task_id)
                .bind(&callback.url)
                .bind(&callback.body)
                .bind(callback.attempts)
                .bind(&callback.next_attempt)
                .bind(&callback.created)
                .execute(&mut *db)
                .await?;
            }
            if let Some(switch) = &effects.upgrade {
                switch_package(db, switch).await?;
            }
        }
    }
    Ok(())
}

/// Moves an instance to its new package and fills the new properties' defaults into its
/// stored resources that lack them.
async fn switch_package(
    db: &mut SqliteConnection,
    switch: &PackageSwitch,
) -> Result<(), StoreError> {
    let application = switch.application.to_string();
    sqlx::query("UPDATE applications SET package_id = ? WHERE id = ?")
        .bind(switch.package.to_string())
        .bind(&application)
        .execute(&mut *db)
        .await?;
    for (type_id, property, default) in &switch.defaults {
        // A JSON path member in double quotes takes any property name.
        let path = format!(
            "$.\"{}\"",
            property.replace('\\', "\\\\").replace('"', "\\\"")
        );
        sqlx::query(
            "UPDATE resources SET body = json_set(body, ?1, json(?2))
             WHERE application_id = ?3 AND type_id = ?4 AND json_type(body, ?1) IS NULL",
        )
        .bind(&path)
        .bind(default.to_string())
        .bind(&application)
        .bind(type_id)
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

async fn put_resource(db: &mut SqliteConnection, row: &ResourceText) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO resources (id, application_id, service, type_id, body) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body",
    )
    .bind(&row.id)
    .bind(&row.application_id)
    .bind(&row.service)
    .bind(&row.type_id)
    .bind(&row.body)
    .execute(db)
    .await?;
    Ok(())
}
