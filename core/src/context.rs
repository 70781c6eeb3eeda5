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
    instance_id: Uuid,
    transaction_id: String,
    phase: Phase,
    controller: ControllerClient,
    state: State,
}

/// The context of one request, as the framework builds it.
pub fn context(
    instance_id: Uuid,
    transaction_id: String,
    phase: Phase,
    controller: ControllerClient,
    state: State,
) -> Context {
    Context {
        instance_id,
        transaction_id,
        phase,
        controller,
        state,
    }
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

    /// Shared state the program added with `App::with_state` (in `aps`).
    ///
    /// ```
    /// # async fn f(ctx: &aps_core::Context) -> aps_core::Result<()> {
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
pub struct State(Arc<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>);

impl State {
    /// Adds `value`, replacing the value of its type if there was one.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
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
