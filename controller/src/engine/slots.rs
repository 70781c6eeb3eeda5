//! The unfinished tasks, in memory: each with its watch channel and its work record.
//!
//! Every task that has not ended has a slot. The slot's lock orders changes to one task (a
//! recheck coming back and a cancel cannot overwrite each other), and its `watch` channel is how
//! long polls and synchronous requests wait: they are woken by the change itself, with no
//! database read and no busy loop. A slot is dropped when its task ends; receivers still see the
//! final value.
//!
//! The task is kept once, in the watch channel, and the lock guards the rest of the record
//! (the [`Work`]): a hundred thousand waiting tasks are a hundred thousand slots, so each copy
//! counts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as AsyncMutex, watch};
use uuid::Uuid;

use crate::task::{Record, Task, Work};

/// One unfinished task.
#[derive(Debug)]
pub(crate) struct Slot {
    /// The engine's part of the record as stored; locked while a change is written.
    pub work: AsyncMutex<Work>,
    /// The task as last stored: what waiters see, and the other part of the record. Only
    /// sent to while `work` is locked.
    pub watch: watch::Sender<Task>,
}

impl Slot {
    /// The whole record as stored, given the locked work record.
    pub(super) fn record(&self, work: &Work) -> Record {
        Record {
            task: self.watch.borrow().clone(),
            work: work.clone(),
        }
    }
}

/// The slots of all unfinished tasks.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    map: Mutex<HashMap<Uuid, Arc<Slot>>>,
}

impl Slots {
    /// Adds the slot of a stored, unfinished task.
    pub(super) fn insert(&self, record: Record) -> Arc<Slot> {
        let id = record.task.id;
        let slot = Arc::new(Slot {
            watch: watch::Sender::new(record.task),
            work: AsyncMutex::new(record.work),
        });
        self.lock().insert(id, slot.clone());
        slot
    }

    /// The slot of an unfinished task.
    pub(super) fn get(&self, id: Uuid) -> Option<Arc<Slot>> {
        self.lock().get(&id).cloned()
    }

    /// Drops the slot of a task that has ended.
    pub(super) fn remove(&self, id: Uuid) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Slot>>> {
        // The map is never left half-changed, so a panic elsewhere does not spoil it.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
