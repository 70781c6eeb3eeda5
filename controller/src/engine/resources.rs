//! An endpoint changing its own resource (`PUT /aps/2/resources/{id}`).
//!
//! The change is one read-modify-write in the store. While an operation runs on the resource,
//! its task holds a copy of the resource that each async call sends back; that copy changes in
//! the same transaction, under the task's lock, so the next recheck sends the changed resource
//! and a restart resumes with it. An answer to a call that was already out when the change came
//! keeps the change ([`super::outcome`]).

use aps_protocol::Status;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::Engine;
use super::outcome::stamp;
use crate::store::StoreError;
use crate::task::JsonText;

/// How often a change is tried again when the resource's task ends (or starts) meanwhile.
const ATTEMPTS: usize = 8;

/// Adds the properties to the resource; its status stays, its revision grows.
fn merge(body: &mut Value, changes: Map<String, Value>) {
    let status = body
        .pointer("/aps/status")
        .and_then(Value::as_str)
        .unwrap_or("aps:ready")
        .to_owned();
    if let Value::Object(body) = body {
        body.extend(changes);
    }
    stamp(body, &Status::Other(status));
}

impl Engine {
    /// Changes properties of a resource (never its `aps`); answers the resource as now stored,
    /// or `None` when there is no such resource.
    pub(crate) async fn update_resource(
        &self,
        id: Uuid,
        mut changes: Map<String, Value>,
    ) -> Result<Option<Value>, StoreError> {
        changes.remove("aps");
        for _ in 0..ATTEMPTS {
            let task = self.store.unfinished_task_of(id).await?;
            let slot = task.and_then(|task| self.slots.get(task));
            let stored = match (task, slot) {
                // No operation runs. The store checks that none started meanwhile, and one
                // starting after checks that the resource it was made from is still the
                // stored one (see `Engine::begin`).
                (None, _) => {
                    let changes = changes.clone();
                    let edit = |body: &mut Value| {
                        merge(body, changes);
                        None
                    };
                    self.store.update_resource(id, None, edit).await
                }
                // The task ended meanwhile (its slot has gone); another may have started.
                (Some(_), None) => continue,
                (Some(task), Some(slot)) => {
                    let mut work = slot.work.lock().await;
                    if slot.watch.borrow().state.is_terminal() {
                        continue;
                    }
                    let mut next = slot.record(&work);
                    let changes = changes.clone();
                    let edit = |body: &mut Value| {
                        merge(body, changes);
                        // Unprovision sends no resource; the others send this one from now on.
                        next.work.body.as_ref()?;
                        next.work.body = Some(JsonText::new(body));
                        Some(next)
                    };
                    let stored = self.store.update_resource(id, Some(task), edit).await;
                    if let (Ok(Some(body)), Some(_)) = (&stored, &work.body) {
                        work.body = Some(JsonText::new(body));
                    }
                    stored
                }
            };
            match stored {
                Err(StoreError::Changed(_)) => continue,
                stored => return stored,
            }
        }
        Err(StoreError::Changed(id))
    }
}
