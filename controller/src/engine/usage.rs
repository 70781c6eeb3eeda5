//! Usage counters (issue #12): resources whose type has `Counter`, `Limit` or `Usage`
//! properties are synchronized from the endpoint's `retrieve` (`GET /{service}/{id}`), on
//! demand and every usage interval.
//!
//! A sync is a task like a configure (`operation: refresh`, "Synchronizing resource usage"):
//! it holds its resource, goes async if the endpoint answers 202, and stores the resource the
//! endpoint answers; a `changed` event follows when the properties differ ([`super::events`]).
//! The periodic sync skips a resource another task holds; it comes again next interval.

use std::sync::Weak;
use std::time::Duration;

use aps_protocol::TypeSchema;
use aps_protocol::schema::RESOURCE_TYPE;
use uuid::Uuid;

use super::{Engine, OperationError};
use crate::schedule::TimeScale;
use crate::task::{Operation, Task};

/// The core structures a counter property is of.
const COUNTER_TYPES: [&str; 3] = ["#Counter", "#Limit", "#Usage"];

/// Whether a type has usage counters: properties of the core `Counter`, `Limit` or `Usage`
/// structure.
pub(crate) fn has_counters(schema: &TypeSchema) -> bool {
    schema.properties.values().any(|p| {
        p.kind
            .strip_prefix(RESOURCE_TYPE)
            .is_some_and(|rest| COUNTER_TYPES.contains(&rest))
    })
}

impl Engine {
    /// Starts a usage sync of a resource whose type has counters (400 otherwise).
    pub(crate) async fn refresh(
        &self,
        id: Uuid,
        callback_url: Option<String>,
    ) -> Result<Task, OperationError> {
        let callback_url = super::urls::callback(callback_url)?;
        let row = self.stored_resource(id).await?;
        let (_, package) = self.instance(row.application_id).await?;
        if !package.schema(&row.service).is_some_and(has_counters) {
            return Err(OperationError::Invalid(format!(
                "The type {} has no usage counters (Counter, Limit or Usage properties)",
                row.type_id
            )));
        }
        self.change_stored(id, Operation::Refresh, callback_url, |_| {})
            .await
    }

    /// Starts a usage sync of every resource with counters that no task holds.
    async fn refresh_all(&self) -> Result<usize, OperationError> {
        let mut started = 0;
        for app in self.store.applications().await? {
            let Ok((_, package)) = self.instance(app.id).await else {
                continue;
            };
            for row in self.store.resources(Some(app.id), None).await? {
                if !package.schema(&row.service).is_some_and(has_counters) {
                    continue;
                }
                match self.refresh(row.id, None).await {
                    Ok(_) => started += 1,
                    Err(OperationError::Busy(_) | OperationError::NotFound(_)) => {}
                    Err(error) => return Err(error),
                }
            }
        }
        Ok(started)
    }
}

/// Syncs usage every `interval` (divided by the time scale) until the engine is gone.
pub(super) async fn every(engine: Weak<Engine>, interval: Duration, scale: TimeScale) {
    let period = scale.apply(interval).max(Duration::from_millis(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        match engine.refresh_all().await {
            Ok(started) => tracing::debug!(started, "usage sync"),
            Err(error) => tracing::error!(%error, "usage sync could not start"),
        }
    }
}
