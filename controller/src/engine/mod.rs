//! The engine: drives every task through the endpoint's sync and async phases.
//!
//! A task is started by [`Engine::begin`] (stored first, then scheduled at once). When it falls
//! due, one *step* runs: call the endpoint in the task's phase, apply the answer
//! ([`outcome::apply`]), store the change, wake waiters, and schedule the next step at the
//! delay the endpoint asked for (divided by the time scale) or after a backoff. A restart calls
//! [`Engine::resume`], which schedules every unfinished task from the store again: a step cut
//! short by a crash is simply repeated, which the APS protocol allows (operations are
//! idempotent per resource).

mod calls;
mod events;
mod links;
mod operations;
pub(crate) mod outcome;
mod relations;
mod resources;
mod slots;
mod upgrade;
mod urls;
mod usage;
mod validate;

use std::sync::{Arc, Weak};
use std::time::Duration;

use aps_protocol::Phase;
use http::Method;
use serde_json::Value;
use tokio::sync::{Semaphore, broadcast, watch};
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tracing::Instrument;
use uuid::Uuid;

use crate::callback::{Callbacks, owed};
use crate::endpoint::{Call, Endpoints};
use crate::observe::{CallLabels, EngineMetrics, TaskLabels};
use crate::schedule::{Scheduler, TimeScale, backoff, later};
use crate::store::{
    ApplicationRow, Effects, LinkRow, ResourceChange, ResourceRow, Store, StoreError,
};
use crate::task::{Operation, Record, State, Task};
use crate::timestamp::Timestamp;
use outcome::{Applied, Context, capped};
use slots::{Slot, Slots};

pub(crate) use operations::OperationError;

/// How many endpoint calls run at once.
const CONCURRENT_CALLS: usize = 256;
/// How many task changes a slow watcher of [`Engine::watch_all`] may fall behind.
const CHANGES_KEPT: usize = 1024;

/// The engine's settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    pub time_scale: TimeScale,
    pub task_deadline: Duration,
    /// How often resources with usage counters are synchronized (before the time scale).
    pub usage_interval: Duration,
}

/// The outcome of a cancel request.
#[derive(Debug)]
pub(crate) enum Canceled {
    /// The task is now canceled.
    Now(Task),
    /// The task had already ended.
    AlreadyEnded(Task),
    /// There is no such task.
    Unknown,
}

/// Drives tasks; shared by the API and the scheduler.
pub(crate) struct Engine {
    store: Store,
    endpoints: Endpoints,
    callbacks: Arc<Callbacks>,
    slots: Slots,
    scheduler: Scheduler<Uuid>,
    permits: Semaphore,
    config: Config,
    scheduler_loop: AbortHandle,
    /// Every task change, for watchers of all tasks (the panel's live task list).
    changes: broadcast::Sender<Task>,
    metrics: EngineMetrics,
    /// The loop delivering notifications ([`events`]).
    notifications_loop: AbortHandle,
    /// The loop synchronizing usage ([`usage`]).
    usage_loop: AbortHandle,
}

impl Engine {
    /// Starts the engine's scheduler; [`Engine::resume`] then picks up stored tasks.
    pub(crate) fn start(
        store: Store,
        endpoints: Endpoints,
        callbacks: Arc<Callbacks>,
        config: Config,
    ) -> Arc<Self> {
        Arc::new_cyclic(|engine: &Weak<Self>| {
            let weak = engine.clone();
            let (scheduler, scheduler_loop) = Scheduler::start(move |id| {
                if let Some(engine) = weak.upgrade() {
                    tokio::spawn(engine.step(id));
                }
            });
            let notifications_loop = tokio::spawn(events::deliver(
                store.clone(),
                endpoints.clone(),
                config.time_scale,
            ))
            .abort_handle();
            let usage_loop = tokio::spawn(usage::every(
                engine.clone(),
                config.usage_interval,
                config.time_scale,
            ))
            .abort_handle();
            Self {
                usage_loop,
                store,
                endpoints,
                callbacks,
                notifications_loop,
                slots: Slots::default(),
                scheduler,
                permits: Semaphore::new(CONCURRENT_CALLS),
                config,
                scheduler_loop: scheduler_loop.abort_handle(),
                changes: broadcast::Sender::new(CHANGES_KEPT),
                metrics: EngineMetrics::default(),
            }
        })
    }

    /// Stops scheduling (and the callbacks' scheduling); steps already running finish.
    pub(crate) fn stop(&self) {
        self.scheduler_loop.abort();
        self.callbacks.stop();
        self.notifications_loop.abort();
        self.usage_loop.abort();
    }

    /// The engine's metrics.
    pub(crate) fn metrics(&self) -> &EngineMetrics {
        &self.metrics
    }

    /// Counts a task entering its state.
    fn count(&self, task: &Task) {
        let labels = TaskLabels {
            operation: task.operation.as_str(),
            state: task.state.as_str(),
        };
        self.metrics.tasks.get_or_create(&labels).inc();
    }

    /// The store behind the engine.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Schedules every unfinished task of the store; answers how many there were.
    pub(crate) async fn resume(&self) -> Result<usize, StoreError> {
        let records = self.store.unfinished().await?;
        let count = records.len();
        for record in records {
            // A restart with a shorter time scale should not wait out a delay scaled the old way.
            let remaining = record
                .task
                .next_check
                .map_or(Duration::ZERO, Timestamp::from_now);
            let rescaled = record
                .task
                .retry_after
                .map(|secs| self.config.time_scale.apply(Duration::from_secs(secs)));
            let delay = capped(&record, rescaled.map_or(remaining, |d| remaining.min(d)));
            let id = record.task.id;
            self.slots.insert(record);
            self.scheduler.at(later(Instant::now(), delay), id);
        }
        Ok(count)
    }

    /// Stores a new task (with its resource, the new instance for an install, and the links a
    /// new resource is provisioned with) and runs it. `expected` is the stored resource the
    /// new one was made from: when it has changed since, nothing is stored and the answer is
    /// [`StoreError::Changed`]. A call has no resource to store.
    pub(crate) async fn begin(
        &self,
        record: Record,
        application: Option<&ApplicationRow>,
        resource: Option<&ResourceRow>,
        expected: Option<&Value>,
        links: &[LinkRow],
    ) -> Result<Task, StoreError> {
        let task = record.task.clone();
        let transaction = record.work.transaction_id;
        // The slot is there before the task is stored, so an endpoint changing the resource
        // (`PUT /aps/2`) finds it as soon as the store shows the task.
        let slot = self.slots.insert(record);
        let stored = {
            let work = slot.work.lock().await;
            self.store
                .begin(&slot.record(&work), application, resource, expected, links)
                .await
        };
        if let Err(error) = stored {
            self.slots.remove(task.id);
            return Err(error);
        }
        tracing::info!(%transaction, task = %task.id, "{}", task.name);
        self.count(&task);
        // Nobody watching is not an error.
        let _ = self.changes.send(task.clone());
        self.scheduler.at(Instant::now(), task.id);
        Ok(task)
    }

    /// A task with its work record, from memory while it runs, else from the store.
    pub(crate) async fn record(&self, id: Uuid) -> Result<Option<Record>, StoreError> {
        match self.slots.get(id) {
            Some(slot) => Ok(Some(slot.record(&*slot.work.lock().await))),
            None => self.store.task(id).await,
        }
    }

    /// A receiver of the task's changes, while the task has not ended.
    pub(crate) fn subscribe(&self, id: Uuid) -> Option<watch::Receiver<Task>> {
        self.slots.get(id).map(|slot| slot.watch.subscribe())
    }

    /// A receiver of every task's changes from now on: new tasks and each change, once stored.
    pub(crate) fn watch_all(&self) -> broadcast::Receiver<Task> {
        self.changes.subscribe()
    }

    /// Cancels a task: no more rechecks.
    pub(crate) async fn cancel(&self, id: Uuid) -> Result<Canceled, StoreError> {
        if let Some(slot) = self.slots.get(id) {
            let transaction = slot.work.lock().await.transaction_id;
            let span = task_span(transaction, id);
            let changed = self
                .change(&slot, |r| {
                    outcome::cancel(r);
                    Applied {
                        resource: ResourceChange::Keep,
                        next: None,
                    }
                })
                .instrument(span)
                .await?;
            if changed {
                return Ok(Canceled::Now(slot.watch.borrow().clone()));
            }
        }
        Ok(match self.store.task(id).await? {
            Some(record) => Canceled::AlreadyEnded(record.task),
            None => Canceled::Unknown,
        })
    }

    async fn step(self: Arc<Self>, id: Uuid) {
        let Some(slot) = self.slots.get(id) else {
            return;
        };
        let record = slot.record(&*slot.work.lock().await);
        if record.task.state.is_terminal() {
            return;
        }
        let span = task_span(record.work.transaction_id, id);
        let delay = capped(&record, self.config.time_scale.apply(backoff(1)));
        if let Err(error) = self.drive(&slot, record).instrument(span.clone()).await {
            span.in_scope(
                || tracing::error!(%error, "could not store the task's progress; retrying"),
            );
            self.scheduler.at(later(Instant::now(), delay), id);
        }
    }

    /// One call to the endpoint and what follows from it.
    async fn drive(&self, slot: &Slot, record: Record) -> Result<(), StoreError> {
        if Timestamp::now() >= record.work.deadline {
            tracing::warn!("deadline passed");
            self.change(slot, |r| {
                outcome::expire(r);
                Applied {
                    resource: ResourceChange::Keep,
                    next: None,
                }
            })
            .await?;
            return Ok(());
        }
        if record.task.state == State::Queued {
            self.change(slot, |r| {
                r.task.state = State::Running;
                r.touch();
                Applied {
                    resource: ResourceChange::Keep,
                    next: None,
                }
            })
            .await?;
        }
        let task = &record.task;
        let stored = match (&record.work.body, task.operation) {
            (Some(_), _) | (None, Operation::Call) => None,
            (None, _) => self.store.resource(task.resource.id).await?.map(|r| r.body),
        };
        let service = task.resource.service.clone();
        let (method, path, query, sent) = match (task.operation, &record.work.call) {
            (Operation::Call, Some(call)) => {
                let method = Method::from_bytes(call.method.as_bytes()).map_err(|_| {
                    StoreError::Corrupt(format!("the call's verb `{}`", call.method))
                })?;
                (
                    method,
                    call.path.clone(),
                    call.query.clone(),
                    call.body.clone(),
                )
            }
            (Operation::Call, None) => {
                return Err(StoreError::Corrupt(
                    "a call task without its request".into(),
                ));
            }
            (Operation::Install | Operation::Provision, _) => (
                Method::POST,
                vec![service, String::new()],
                Vec::new(),
                self.sent(&record).await?,
            ),
            (Operation::Configure, _) => (
                Method::PUT,
                vec![service, task.resource.id.to_string()],
                Vec::new(),
                self.sent(&record).await?,
            ),
            (Operation::Upgrade, _) => {
                let from = record.work.upgrade.as_ref().map(|u| u.from.clone());
                let from = from.ok_or_else(|| {
                    StoreError::Corrupt("an upgrade task without its versions".into())
                })?;
                let path = vec![service, task.resource.id.to_string(), "upgrade".to_owned()];
                let query = vec![("version".to_owned(), from)];
                (Method::POST, path, query, self.sent(&record).await?)
            }
            // `retrieve`: the endpoint loads the resource itself and answers it.
            (Operation::Refresh, _) => (
                Method::GET,
                vec![service, task.resource.id.to_string()],
                Vec::new(),
                None,
            ),
            (Operation::Unprovision, _) => (
                Method::DELETE,
                vec![service, task.resource.id.to_string()],
                Vec::new(),
                None,
            ),
        };
        let phase = if record.work.phase_async {
            Phase::Async
        } else {
            Phase::Sync
        };
        let call = Call {
            body: sent.as_ref(),
            method,
            base: &record.work.endpoint,
            path,
            query: &query,
            phase,
            instance: task.application,
            transaction: record.work.transaction_id,
            install: task.operation == Operation::Install,
        };
        // The permit bounds the calls in flight, not the commits: a slow commit must not hold
        // back the rechecks that fall due meanwhile.
        let Ok(permit) = self.permits.acquire().await else {
            return Ok(());
        };
        if let Some(due) = record.task.next_check {
            self.metrics.lateness.observe(due.elapsed().as_secs_f64());
        }
        let began = Instant::now();
        let answer = self.endpoints.call(&call).await;
        drop(permit);
        let status = match &answer {
            Ok(reply) => reply.status.to_string(),
            Err(_) => "unreachable".to_owned(),
        };
        self.metrics
            .calls
            .get_or_create(&CallLabels { status })
            .observe(began.elapsed().as_secs_f64());
        match &answer {
            Ok(reply) => {
                tracing::debug!(%phase, status = reply.status, info = ?reply.info, "endpoint answered")
            }
            Err(error) => tracing::warn!(%phase, %error, "endpoint not reachable"),
        }
        let context = Context {
            stored: stored.as_ref(),
            sent: sent.as_ref(),
            scale: self.config.time_scale,
        };
        self.change(slot, |r| outcome::apply(r, answer, context))
            .await?;
        Ok(())
    }

    /// Applies a change to a task: stored first, then shown to waiters and acted on. Answers
    /// false when the task had already ended (a cancel won the race), so nothing changed.
    async fn change(
        &self,
        slot: &Slot,
        f: impl FnOnce(&mut Record) -> Applied,
    ) -> Result<bool, StoreError> {
        let mut work = slot.work.lock().await;
        let mut next = slot.record(&work);
        if next.task.state.is_terminal() {
            return Ok(false);
        }
        // The next step is due at the `nextCheck` the change shows, not a commit later.
        let applied_at = Instant::now();
        let applied = f(&mut next);
        let ended = next.task.state.is_terminal();
        let moved = next.task.state != slot.watch.borrow().state;
        let callback = match (&next.work.callback_url, ended) {
            (Some(url), true) => Some(owed(&next.task, url)),
            _ => None,
        };
        let effects = Effects {
            events: events::events_of(&next),
            subscriptions: self.declared_subscriptions(&next).await?,
            upgrade: self.package_switch(&next).await?,
        };
        self.store
            .save(&next, &applied.resource, callback.as_ref(), &effects)
            .await?;
        let Record {
            task,
            work: next_work,
        } = next;
        *work = next_work;
        let id = task.id;
        if moved {
            self.count(&task);
        }
        if ended {
            tracing::info!(state = task.state.as_str(), output = ?task.output, "task ended");
        }
        let _ = self.changes.send(task.clone());
        slot.watch.send_replace(task);
        if ended {
            self.slots.remove(id);
            if let Some(callback) = callback {
                self.callbacks.deliver(callback);
            }
        } else if let Some(delay) = applied.next {
            self.scheduler.at(later(applied_at, delay), id);
        }
        Ok(true)
    }
}

/// The span of a task's work: every line it logs carries the task's `APS-Transaction-ID`. At
/// error level, so it is on whenever any line is (a warning under `RUST_LOG=warn` keeps it).
fn task_span(transaction: Uuid, task: Uuid) -> tracing::Span {
    tracing::error_span!("task", %transaction, %task)
}
