//! The trait resource types implement.

use async_trait::async_trait;
use http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::custom::Custom;
use crate::{Context, Error, Outcome, Result};

/// A resource type that an endpoint serves.
///
/// Each method gets the resource as the controller sent it (`&mut self`: whatever the method
/// changes goes back to the controller, on a 202 as on a 200) and the request's [`Context`]. The
/// first call of an operation reaches `provision`, `configure` or `unprovision`; after one of
/// those answered [`Outcome::accepted`], the controller's rechecks reach the `*_async` twin until
/// it answers [`Outcome::done`] or fails.
///
/// Every method has a default, so a type implements only what it does:
///
/// * `provision`, `configure`, `unprovision`: succeed at once (configure keeps the new values
///   the controller sent).
/// * `retrieve`: answers the resource as the controller stores it.
/// * the `*_async` twins: fail with 501, naming the method to implement, so a type that answers
///   `accepted` but forgot its twin is told so instead of being rechecked forever.
///
/// ```
/// use aps_core::{Context, Outcome, Provisionable, Resource, Result};
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, JsonSchema)]
/// struct Mailbox {
///     /// Quota in MiB.
///     quota: u64,
///     #[serde(flatten)]
///     resource: Resource,
/// }
///
/// #[aps_core::async_trait]
/// impl Provisionable for Mailbox {
///     async fn provision(&mut self, _ctx: &Context) -> Result<Outcome> {
///         Ok(Outcome::accepted("Creating the mailbox", 10))
///     }
///
///     async fn provision_async(&mut self, _ctx: &Context) -> Result<Outcome> {
///         Ok(Outcome::done())
///     }
/// }
/// ```
#[async_trait]
pub trait Provisionable: Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static {
    /// Creates the resource (`POST`, sync phase).
    async fn provision(&mut self, _ctx: &Context) -> Result<Outcome> {
        Ok(Outcome::done())
    }

    /// Checks on a provisioning that answered `accepted` (`POST`, async phase).
    async fn provision_async(&mut self, _ctx: &Context) -> Result<Outcome> {
        Err(missing_twin::<Self>("provision"))
    }

    /// Applies new property values (`PUT`, sync phase).
    async fn configure(&mut self, _ctx: &Context) -> Result<Outcome> {
        Ok(Outcome::done())
    }

    /// Checks on a configure that answered `accepted` (`PUT`, async phase).
    async fn configure_async(&mut self, _ctx: &Context) -> Result<Outcome> {
        Err(missing_twin::<Self>("configure"))
    }

    /// Removes the resource (`DELETE`, sync phase).
    async fn unprovision(&mut self, _ctx: &Context) -> Result<Outcome> {
        Ok(Outcome::done())
    }

    /// Checks on an unprovision that answered `accepted` (`DELETE`, async phase).
    async fn unprovision_async(&mut self, _ctx: &Context) -> Result<Outcome> {
        Err(missing_twin::<Self>("unprovision"))
    }

    /// Refreshes the resource before it is shown (`GET`): update counters and the like on
    /// `self`.
    async fn retrieve(&mut self, _ctx: &Context) -> Result<()> {
        Ok(())
    }

    /// The type's custom operations and link handlers: none, unless the impl carries
    /// `#[aps::operations]`, which lists the ones it declares. Not written by hand.
    #[doc(hidden)]
    fn __custom() -> Custom<Self> {
        Custom::default()
    }
}

fn missing_twin<T>(operation: &str) -> Error {
    let ty = std::any::type_name::<T>();
    Error::with(
        StatusCode::NOT_IMPLEMENTED,
        "NotImplemented",
        format!(
            "`{ty}` answered 202 Accepted from `{operation}`, so the controller checks again, \
             but it does not implement `{operation}_async`: implement `{operation}_async` in \
             `impl Provisionable for {ty}`"
        ),
    )
}
