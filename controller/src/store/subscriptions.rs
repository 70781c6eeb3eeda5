//! Subscriptions to events and the notifications owed to them (issue #12).
//!
//! A notification is written by [`notify`] inside the transaction of the change it tells of
//! (a task's save, an endpoint's `PUT`, a link), with the next serial of its subscription, so
//! a change and its notifications are stored together or not at all. Delivered ones are kept
//! (with when they were delivered) for `/api/v1/deliveries`.

use aps_protocol::event::{EventKind, Notification, NotificationSource, Source, Subscription};
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::{Store, StoreError, corrupt, uuid};
use crate::timestamp::Timestamp;

/// A subscription as stored: what it asks for, and the handler call it resolved to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SubscriptionRow {
    pub id: Uuid,
    pub subscriber: Uuid,
    /// The event, typed (the controller delivers the standard ones).
    pub kind: EventKind,
    /// What was asked for, without an id: the event as its id, the source, relation, handler.
    pub request: Subscription,
    /// The handler operation's verb.
    pub method: String,
    /// The handler operation's path below the subscriber (e.g. `/onChange`).
    pub path: String,
}

/// Something that happened to a resource, which subscriptions may be told of.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub kind: EventKind,
    pub type_id: String,
    pub source: Uuid,
    /// The relation of a link event.
    pub relation: Option<String>,
}

/// The next notification owed to a subscription, with where it goes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Owed {
    pub subscription: Uuid,
    pub serial: u64,
    pub body: String,
    pub attempts: u32,
    pub next_attempt: Timestamp,
    pub created: Timestamp,
    /// The subscriber's instance and its endpoint.
    pub application: Uuid,
    pub endpoint: String,
    pub method: String,
    /// The full path of the handler call (`/{service}/{subscriber}{handler path}`).
    pub path: String,
}

/// A notification with how its delivery went, as `/api/v1/deliveries` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Delivery {
    pub subscription: Uuid,
    pub serial: u64,
    pub notification: serde_json::Value,
    pub attempts: u32,
    pub next_attempt: Option<Timestamp>,
    pub last_error: Option<String>,
    pub delivered: Option<Timestamp>,
    pub created: Timestamp,
}

type SubscriptionColumns = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
);

const SUBSCRIPTION_COLUMNS: &str =
    "id, subscriber_id, event, source_type, source_id, relation, handler, method, path";

fn subscription_row(row: SubscriptionColumns) -> Result<SubscriptionRow, StoreError> {
    let (id, subscriber, event, source_type, source_id, relation, handler, method, path) = row;
    let kind = EventKind::parse(&event).ok_or_else(|| corrupt(&event))?;
    let source = match (source_type, source_id) {
        (_, Some(id)) => Source::Resource { id },
        (Some(type_id), None) => Source::Type { type_id },
        (None, None) => return Err(corrupt("a subscription without a source")),
    };
    Ok(SubscriptionRow {
        id: uuid(&id)?,
        subscriber: uuid(&subscriber)?,
        kind,
        request: Subscription {
            id: None,
            event: kind.id(),
            source,
            relation,
            handler,
        },
        method,
        path,
    })
}

fn time(text: &str) -> Result<Timestamp, StoreError> {
    Timestamp::parse(text).ok_or_else(|| corrupt(text))
}

/// Stores a subscription (inside a transaction of the caller's).
pub(super) async fn insert(
    db: &mut SqliteConnection,
    row: &SubscriptionRow,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS}, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(row.id.to_string())
    .bind(row.subscriber.to_string())
    .bind(row.kind.short())
    .bind(match &row.request.source {
        Source::Type { type_id } => Some(type_id),
        Source::Resource { .. } => None,
    })
    .bind(match &row.request.source {
        Source::Resource { id } => Some(id),
        Source::Type { .. } => None,
    })
    .bind(&row.request.relation)
    .bind(&row.request.handler)
    .bind(&row.method)
    .bind(&row.path)
    .bind(Timestamp::now().to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// Writes a notification for every subscription the event matches, each with its
/// subscription's next serial; answers how many.
pub(super) async fn notify(db: &mut SqliteConnection, event: &Event) -> Result<usize, StoreError> {
    let source = event.source.to_string();
    let matching: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM subscriptions WHERE event = ?1
           AND (source_id = ?2 OR (source_id IS NULL AND source_type = ?3))
           AND (?4 IS NULL OR relation IS NULL OR relation = ?4)
         ORDER BY created, id",
    )
    .bind(event.kind.short())
    .bind(&source)
    .bind(&event.type_id)
    .bind(&event.relation)
    .fetch_all(&mut *db)
    .await?;
    let now = Timestamp::now();
    for (id,) in &matching {
        let (serial,): (i64,) = sqlx::query_as(
            "UPDATE subscriptions SET serial = serial + 1 WHERE id = ? RETURNING serial",
        )
        .bind(id)
        .fetch_one(&mut *db)
        .await?;
        let body = Notification {
            event: event.kind.id(),
            time: now.to_string(),
            serial: serial.unsigned_abs(),
            subscription: id.clone(),
            source: NotificationSource {
                type_id: event.type_id.clone(),
                id: source.clone(),
            },
        };
        sqlx::query(
            "INSERT INTO notifications (subscription_id, serial, body, next_attempt, created)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(serial)
        .bind(serde_json::to_string(&body).map_err(corrupt)?)
        .bind(now.to_string())
        .bind(now.to_string())
        .execute(&mut *db)
        .await?;
    }
    Ok(matching.len())
}

/// Removes the subscriptions of a resource that is gone, and what they were still owed.
pub(super) async fn remove_all(
    db: &mut SqliteConnection,
    subscriber: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM notifications WHERE subscription_id IN
           (SELECT id FROM subscriptions WHERE subscriber_id = ?)",
    )
    .bind(subscriber)
    .execute(&mut *db)
    .await?;
    sqlx::query("DELETE FROM subscriptions WHERE subscriber_id = ?")
        .bind(subscriber)
        .execute(db)
        .await?;
    Ok(())
}

impl Store {
    /// Stores a subscription.
    pub(crate) async fn subscribe(&self, row: &SubscriptionRow) -> Result<(), StoreError> {
        let _held = self.hold();
        let mut db = self.writer.acquire().await?;
        insert(&mut db, row).await
    }

    /// The subscriptions of a subscriber, oldest first.
    pub(crate) async fn subscriptions_of(
        &self,
        subscriber: Uuid,
    ) -> Result<Vec<SubscriptionRow>, StoreError> {
        let _held = self.hold();
        let rows: Vec<SubscriptionColumns> = sqlx::query_as(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE subscriber_id = ?
             ORDER BY created, rowid"
        ))
        .bind(subscriber.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(subscription_row).collect()
    }

    /// One subscription.
    pub(crate) async fn subscription(
        &self,
        id: Uuid,
    ) -> Result<Option<SubscriptionRow>, StoreError> {
        let _held = self.hold();
        let row: Option<SubscriptionColumns> = sqlx::query_as(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?"
        ))
        .bind(id.to_string())
        .fetch_optional(self.reader())
        .await?;
        row.map(subscription_row).transpose()
    }

    /// Removes a subscription and what it was still owed; answers whether there was one.
    pub(crate) async fn unsubscribe(&self, id: Uuid) -> Result<bool, StoreError> {
        let _held = self.hold();
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM notifications WHERE subscription_id = ? AND delivered IS NULL")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM subscriptions WHERE id = ?")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The first undelivered notification of every subscription: what may be delivered next
    /// (a later one waits until it is).
    pub(crate) async fn owed_notifications(&self) -> Result<Vec<Owed>, StoreError> {
        let _held = self.hold();
        type Row = (
            String,
            i64,
            String,
            u32,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT n.subscription_id, n.serial, n.body, n.attempts, n.next_attempt, n.created,
                    a.id, a.endpoint, s.method, r.service, r.id, s.path
             FROM notifications n
             JOIN subscriptions s ON s.id = n.subscription_id
             JOIN resources r ON r.id = s.subscriber_id
             JOIN applications a ON a.id = r.application_id
             WHERE n.delivered IS NULL AND n.serial = (
                SELECT MIN(m.serial) FROM notifications m
                WHERE m.subscription_id = n.subscription_id AND m.delivered IS NULL)",
        )
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(
                |(
                    sub,
                    serial,
                    body,
                    attempts,
                    next,
                    created,
                    app,
                    endpoint,
                    method,
                    service,
                    subscriber,
                    path,
                )| {
                    Ok(Owed {
                        subscription: uuid(&sub)?,
                        serial: serial.unsigned_abs(),
                        body,
                        attempts,
                        next_attempt: time(&next)?,
                        created: time(&created)?,
                        application: uuid(&app)?,
                        endpoint,
                        method,
                        path: format!("/{service}/{subscriber}{path}"),
                    })
                },
            )
            .collect()
    }

    /// Records that a notification was accepted.
    pub(crate) async fn notification_delivered(&self, owed: &Owed) -> Result<(), StoreError> {
        let _held = self.hold();
        sqlx::query(
            "UPDATE notifications SET delivered = ?, attempts = attempts + 1
             WHERE subscription_id = ? AND serial = ?",
        )
        .bind(Timestamp::now().to_string())
        .bind(owed.subscription.to_string())
        .bind(i64::try_from(owed.serial).map_err(corrupt)?)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records a failed delivery, and when to try again.
    pub(crate) async fn notification_failed(
        &self,
        owed: &Owed,
        error: &str,
    ) -> Result<(), StoreError> {
        let _held = self.hold();
        sqlx::query(
            "UPDATE notifications SET attempts = ?, next_attempt = ?, last_error = ?
             WHERE subscription_id = ? AND serial = ?",
        )
        .bind(owed.attempts)
        .bind(owed.next_attempt.to_string())
        .bind(error)
        .bind(owed.subscription.to_string())
        .bind(i64::try_from(owed.serial).map_err(corrupt)?)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The notifications of a subscription, by serial.
    pub(crate) async fn deliveries(&self, subscription: Uuid) -> Result<Vec<Delivery>, StoreError> {
        let _held = self.hold();
        type Row = (
            i64,
            String,
            u32,
            String,
            Option<String>,
            Option<String>,
            String,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT serial, body, attempts, next_attempt, last_error, delivered, created
             FROM notifications WHERE subscription_id = ? ORDER BY serial",
        )
        .bind(subscription.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(
                |(serial, body, attempts, next, last_error, delivered, created)| {
                    let delivered = delivered.as_deref().map(time).transpose()?;
                    Ok(Delivery {
                        subscription,
                        serial: serial.unsigned_abs(),
                        notification: super::json(&body)?,
                        attempts,
                        next_attempt: if delivered.is_some() {
                            None
                        } else {
                            Some(time(&next)?)
                        },
                        last_error,
                        delivered,
                        created: time(&created)?,
                    })
                },
            )
            .collect()
    }
}
