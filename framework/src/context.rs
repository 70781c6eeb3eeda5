//! What an operation knows about the request that called it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use aps_protocol::Phase;
use uuid::Uuid;

use crate::{ControllerClient, Error, Result};

/// The request an operation runs for: which instance, which transaction, which phase, and a
/// client for calling the controller back.
#[derive(Debug, Clone)]
pub struct Context {
    pub(crate) instance_id: Uuid,
    pub(crate) transaction_id: String,
    pub(crate) phase: Phase,
    pub(crate) controller: ControllerClient,
    pub(crate) state: State,
}

impl Context {
    /// The application instance (`APS-Instance-ID`).
    pub fn instance_id(&self) -> Uuid {
        self.instance_id
    }

    /// The transaction (`APS-Transaction-ID`); made up by the framework when the controller
    /// sent none, so logs can always be correlated.
    pub fn transaction_id(&self) -> &str {
        &self.transaction_id
    }

    /// Whether this is the first call of the operation or a recheck.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The controller that sent the request.
    pub fn controller(&self) -> &ControllerClient {
        &self.controller
    }

    /// Shared state the program added with [`App::with_state`](crate::App::with_state).
    ///
    /// ```
    /// # async fn f(ctx: &aps::Context) -> aps::Result<()> {
    /// struct Plans { max_quota: u64 }
    /// let plans = ctx.state::<Plans>()?;
    /// # let _ = plans.max_quota; Ok(()) }
    /// ```
    pub fn state<T: Send + Sync + 'static>(&self) -> Result<&T> {
        self.state.get::<T>().ok_or_else(|| {
            Error::new(format!(
                "no state of type `{}`: add it with App::with_state",
                std::any::type_name::<T>()
            ))
        })
    }
}

/// Values shared by every request, one per type.
#[derive(Clone, Default)]
pub(crate) struct State(Arc<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>);

impl State {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        Arc::make_mut(&mut self.0).insert(TypeId::of::<T>(), Arc::new(value));
    }

    fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.0.get(&TypeId::of::<T>())?.downcast_ref::<T>()
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "State({} values)", self.0.len())
    }
}
