//! The resource types an application serves, found through `inventory` or added by hand, and
//! the type-erased handler through which the framework's router calls them.

use std::marker::PhantomData;
use std::sync::Arc;

use aps_protocol::Phase;
use aps_protocol::json::{MAX_DEPTH, nests_deeper_than};
use async_trait::async_trait;
use http::StatusCode;

use crate::{Context, Error, Outcome, Provisionable, Result};

/// The operations the controller forwards to an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `POST`: create.
    Provision,
    /// `GET`: read.
    Retrieve,
    /// `PUT`: change.
    Configure,
    /// `DELETE`: remove.
    Unprovision,
}

/// One resource type, registered with [`register!`](crate::register). Not built by hand.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Registration {
    /// The service id, the first segment of the resource's URLs.
    pub service: &'static str,
    /// The type id, absolute or relative to the application id.
    pub type_id: &'static str,
    /// Whether this is the application's root type.
    pub root: bool,
    /// Makes the handler the router calls.
    pub handler: fn() -> Arc<dyn Handler>,
    /// The type's JSON schema.
    pub schema: fn() -> schemars::Schema,
}

impl Registration {
    /// The registration of `T`, as [`register!`](crate::register) makes it.
    pub const fn new<T: Provisionable>(
        service: &'static str,
        type_id: &'static str,
        root: bool,
    ) -> Self {
        Self {
            service,
            type_id,
            root,
            handler: handler::<T>,
            schema: schema::<T>,
        }
    }
}

inventory::collect!(Registration);

/// Every type registered with [`register!`](crate::register) in the program.
pub fn registered() -> impl Iterator<Item = &'static Registration> {
    inventory::iter::<Registration>.into_iter()
}

/// A resource type with the type erased, as the router calls it.
#[async_trait]
pub trait Handler: Send + Sync {
    /// Reads the resource from JSON, runs the operation for the context's phase, and answers
    /// the outcome with the resource as it now stands, as JSON.
    async fn call(
        &self,
        op: Operation,
        resource: &[u8],
        origin: Origin,
        ctx: &Context,
    ) -> Result<(Outcome, Vec<u8>)>;
}

/// Where a resource's JSON came from, which decides whose fault it is when it does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The request's body: the caller's fault, a 400.
    Request,
    /// Loaded from the controller (for `GET` and `DELETE`): the controller's fault, a 502.
    Controller,
}

fn schema<T: Provisionable>() -> schemars::Schema {
    schemars::schema_for!(T)
}

fn handler<T: Provisionable>() -> Arc<dyn Handler> {
    Arc::new(Typed::<T>(PhantomData))
}

struct Typed<T>(PhantomData<fn() -> T>);

#[async_trait]
impl<T: Provisionable> Handler for Typed<T> {
    async fn call(
        &self,
        op: Operation,
        resource: &[u8],
        origin: Origin,
        ctx: &Context,
    ) -> Result<(Outcome, Vec<u8>)> {
        let mut resource: T = decode(resource, origin)?;
        let async_phase = ctx.phase() == Phase::Async;
        let outcome = match op {
            Operation::Provision if async_phase => resource.provision_async(ctx).await?,
            Operation::Provision => resource.provision(ctx).await?,
            Operation::Configure if async_phase => resource.configure_async(ctx).await?,
            Operation::Configure => resource.configure(ctx).await?,
            Operation::Unprovision if async_phase => resource.unprovision_async(ctx).await?,
            Operation::Unprovision => resource.unprovision(ctx).await?,
            Operation::Retrieve => {
                resource.retrieve(ctx).await?;
                Outcome::done()
            }
        };
        Ok((outcome, serde_json::to_vec(&resource)?))
    }
}

/// Reads a resource straight from the JSON bytes: malformed JSON (or JSON nested deeper than
/// [`MAX_DEPTH`]) is `InvalidJson`, JSON that does not fit the type is `InvalidResource` naming
/// where; both 400 for a request's body, and a 502 `InvalidControllerResponse` for a resource the
/// controller sent.
fn decode<T: Provisionable>(json: &[u8], origin: Origin) -> Result<T> {
    let invalid = |name: &'static str, subject: &str, problem: String| match origin {
        Origin::Request => Error::with(
            StatusCode::BAD_REQUEST,
            name,
            format!("{subject} {problem}"),
        ),
        Origin::Controller => Error::with(
            StatusCode::BAD_GATEWAY,
            "InvalidControllerResponse",
            format!("the resource the controller sent {problem}"),
        ),
    };
    if nests_deeper_than(json, MAX_DEPTH) {
        let problem = format!("nests deeper than {MAX_DEPTH} levels");
        return Err(invalid("InvalidJson", "the body", problem));
    }
    // Tracking the path costs on every read; only a body that fails is read again to name it.
    if let Ok(resource) = serde_json::from_slice(json) {
        return Ok(resource);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let resource = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| {
            let path = e.path().to_string();
            (path, e.into_inner())
        })
        .and_then(|resource| {
            deserializer.end().map_err(|e| (String::new(), e))?;
            Ok(resource)
        });
    resource.map_err(|(path, e)| {
        if e.classify() != serde_json::error::Category::Data {
            return invalid("InvalidJson", "the body", format!("is not valid JSON: {e}"));
        }
        let at = if path.is_empty() || path == "." {
            String::new()
        } else {
            format!(" at `{path}`")
        };
        let problem = format!("does not fit its type{at}: {e}");
        invalid("InvalidResource", "the resource", problem)
    })
}
