//! Events (issue #12): which changes notify whom, subscriptions made by endpoints and type
//! schemas, and the loop that delivers notifications.
//!
//! Notifications are written by the store in the transaction of their change
//! ([`crate::store`]'s `subscriptions`), so the delivery loop only reads what is owed: the
//! first undelivered notification of each subscription, sent as a call of the subscriber's
//! handler operation. It is marked delivered when the endpoint answers 2xx; otherwise it is
//! tried again after a backoff (divided by the time scale), and the later notifications of
//! that subscription wait behind it, so a subscriber sees serial n+1 only after n. A restart
//! finds the same rows, so nothing is lost; a delivery cut short is repeated with its serial.

use std::collections::HashMap;
use std::time::Duration;

use aps_protocol::Phase;
use aps_protocol::TypeSchema;
use aps_protocol::event::{EventKind, Source, Subscription};
use http::Method;
use serde_json::Value;
use tokio::task::JoinSet;
use tracing::Instrument;
use uuid::Uuid;

use super::{Engine, OperationError};
use crate::endpoint::{Call, Endpoints};
use crate::schedule::{TimeScale, backoff};
use crate::store::{Event, Owed, ResourceRow, Store, StoreError, SubscriptionRow};
use crate::task::{Operation, Record, State};
use crate::timestamp::Timestamp;

/// How long the loop waits before reading the store again after it failed.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// The events a task's change brings: a provisioned resource is `available`, a configured one
/// `changed`, an unprovisioned one `removed`; nothing until the task has succeeded.
pub(super) fn events_of(record: &Record) -> Vec<Event> {
    let task = &record.task;
    if task.state != State::Success {
        return Vec::new();
    }
    let kind = match task.operation {
        Operation::Install | Operation::Provision => aps_protocol::event::EventKind::Available,
        Operation::Configure | Operation::Upgrade => aps_protocol::event::EventKind::Changed,
        Operation::Unprovision => aps_protocol::event::EventKind::Removed,
        Operation::Call => return Vec::new(),
        // A usage sync is a change only when the endpoint answered other properties.
        Operation::Refresh if !usage_changed(record) => return Vec::new(),
        Operation::Refresh => aps_protocol::event::EventKind::Changed,
    };
    vec![Event {
        kind,
        type_id: task.resource.type_id.clone(),
        source: task.resource.id,
        relation: None,
    }]
}

/// Whether a usage sync's answer differs from the resource it started from (`aps` aside).
fn usage_changed(record: &Record) -> bool {
    let properties = |body: Value| match body {
        Value::Object(mut map) => {
            map.remove("aps");
            map
        }
        _ => serde_json::Map::new(),
    };
    let before = record.work.body.as_ref().map(|b| properties(b.value()));
    let after = record.work.result.clone().map(properties);
    before != after
}

/// A subscription of `subscriber` (of type `schema`) as asked for, with its handler resolved
/// against the declaration: the handler must be a custom operation of the subscriber's type.
pub(super) fn resolve(
    schema: &TypeSchema,
    subscriber: Uuid,
    request: Subscription,
) -> Result<SubscriptionRow, OperationError> {
    let bad = |message: String| OperationError::Invalid(message);
    let kind = EventKind::parse(&request.event).ok_or_else(|| {
        bad(format!(
            "`{}` is not an event the controller delivers (changed, removed, linked, unlinked, \
             available)",
            request.event
        ))
    })?;
    if let Source::Resource { id } = &request.source {
        Uuid::parse_str(id).map_err(|_| bad(format!("The source id `{id}` is not a UUID")))?;
    }
    let decl = schema.operations.get(&request.handler).ok_or_else(|| {
        bad(format!(
            "The type {} declares no operation `{}` to handle the notifications",
            schema.id, request.handler
        ))
    })?;
    Ok(SubscriptionRow {
        id: Uuid::new_v4(),
        subscriber,
        method: decl.verb.to_string(),
        path: decl.path.clone(),
        kind,
        request: Subscription {
            id: None,
            event: kind.id(),
            ..request
        },
    })
}

/// The subscriptions a type schema declares (its `subscriptions` member), for a new resource
/// of the type; a declaration that does not hold is logged and left out.
pub(super) fn declared(schema: &TypeSchema, subscriber: Uuid) -> Vec<SubscriptionRow> {
    schema
        .subscriptions
        .iter()
        .filter_map(|declared| {
            let made = resolve(schema, subscriber, declared.clone());
            made.map_err(|error| {
                tracing::warn!(schema = %schema.id, %error, "declared subscription left out");
            })
            .ok()
        })
        .collect()
}

impl Engine {
    /// The subscriptions a task's change makes: those declared by the type of a resource just
    /// provisioned.
    pub(super) async fn declared_subscriptions(
        &self,
        record: &Record,
    ) -> Result<Vec<SubscriptionRow>, StoreError> {
        let task = &record.task;
        let provisioned = matches!(task.operation, Operation::Install | Operation::Provision);
        if task.state != State::Success || !provisioned {
            return Ok(Vec::new());
        }
        let Some(app) = self.store.application(task.application).await? else {
            return Ok(Vec::new());
        };
        let Some(package) = self.store.package(app.package_id).await? else {
            return Ok(Vec::new());
        };
        Ok(package
            .schema(&task.resource.service)
            .map(|schema| declared(schema, task.resource.id))
            .unwrap_or_default())
    }

    /// Subscribes resource `subscriber` (already checked to be the caller's own) to an event.
    pub(crate) async fn subscribe_to_event(
        &self,
        subscriber: &ResourceRow,
        request: Subscription,
    ) -> Result<SubscriptionRow, OperationError> {
        let (_, package) = self.instance(subscriber.application_id).await?;
        let schema = package.schema(&subscriber.service).ok_or_else(|| {
            OperationError::NotFound(format!(
                "The package has no service `{}`",
                subscriber.service
            ))
        })?;
        let row = resolve(schema, subscriber.id, request)?;
        self.store.subscribe(&row).await?;
        Ok(row)
    }
}

/// Delivers owed notifications until aborted: one delivery in flight per subscription, each
/// subscription going on as soon as its previous delivery is stored, never waiting for others.
pub(super) async fn deliver(store: Store, endpoints: Endpoints, scale: TimeScale) {
    let wake = store.notifications_written();
    let mut attempts: JoinSet<()> = JoinSet::new();
    // The subscription each delivery in flight is for.
    let mut in_flight: HashMap<tokio::task::Id, Uuid> = HashMap::new();
    loop {
        // Registered before the store is read, so a notification written meanwhile wakes us.
        let written = wake.notified();
        tokio::pin!(written);
        written.as_mut().enable();
        let owed = match store.owed_notifications().await {
            Ok(owed) => owed,
            Err(error) => {
                tracing::error!(%error, "cannot read the notifications owed; retrying");
                tokio::time::sleep(scale.apply(STORE_RETRY)).await;
                continue;
            }
        };
        let now = Timestamp::now();
        let mut next_due: Option<Duration> = None;
        for owed in owed {
            if in_flight.values().any(|s| *s == owed.subscription) {
                continue;
            }
            if owed.next_attempt <= now {
                let subscription = owed.subscription;
                let task = attempts.spawn(attempt(store.clone(), endpoints.clone(), scale, owed));
                in_flight.insert(task.id(), subscription);
            } else {
                let wait = owed.next_attempt.from_now();
                next_due = Some(next_due.map_or(wait, |w| w.min(wait)));
            }
        }
        let retry = async {
            match next_due {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = &mut written => {}
            () = retry => {}
            Some(done) = attempts.join_next_with_id(), if !attempts.is_empty() => {
                in_flight.remove(&ended(done));
                // Every other delivery that ended meanwhile, so one read serves them all.
                while let Some(done) = attempts.try_join_next_with_id() {
                    in_flight.remove(&ended(done));
                }
            }
        }
    }
}

/// The task id of a delivery that ended (or panicked).
fn ended(done: Result<(tokio::task::Id, ()), tokio::task::JoinError>) -> tokio::task::Id {
    match done {
        Ok((id, ())) => id,
        Err(error) => error.id(),
    }
}

/// One delivery of a notification, and its outcome stored.
async fn attempt(store: Store, endpoints: Endpoints, scale: TimeScale, mut owed: Owed) {
    let span = tracing::error_span!(
        "notification",
        subscription = %owed.subscription,
        serial = owed.serial
    );
    async move {
        let failure = send(&endpoints, &owed).await;
        let stored = match failure {
            None => {
                tracing::info!("notification delivered");
                store.notification_delivered(&owed).await
            }
            Some(why) => {
                owed.attempts += 1;
                let delay = scale.apply(backoff(owed.attempts));
                owed.next_attempt = Timestamp::now().plus(delay);
                tracing::warn!(
                    attempts = owed.attempts,
                    "notification failed ({why}); retrying"
                );
                store.notification_failed(&owed, &why).await
            }
        };
        if let Err(error) = stored {
            // The row stays owed as it was, so the notification is delivered again.
            tracing::error!(%error, "could not record the notification's delivery");
        }
    }
    .instrument(span)
    .await;
}

/// Calls the handler with the notification; answers why it was not accepted, if it was not.
async fn send(endpoints: &Endpoints, owed: &Owed) -> Option<String> {
    let Ok(body) = serde_json::from_str::<Value>(&owed.body) else {
        return Some("the stored notification is unreadable".to_owned());
    };
    let Ok(method) = Method::from_bytes(owed.method.as_bytes()) else {
        return Some(format!(
            "the handler's verb `{}` is unreadable",
            owed.method
        ));
    };
    let call = Call {
        method,
        base: &owed.endpoint,
        // `/{service}/{subscriber}{handler path}`: segments with no `/` of their own.
        path: owed
            .path
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(str::to_owned)
            .collect(),
        query: &[],
        phase: Phase::Sync,
        instance: owed.application,
        transaction: Uuid::new_v4(),
        body: Some(&body),
        install: false,
    };
    match endpoints.call(&call).await {
        Ok(reply) if (200..300).contains(&reply.status) => None,
        Ok(reply) => Some(format!("answered {}", reply.status)),
        Err(error) => Some(format!("not reachable: {error}")),
    }
}
