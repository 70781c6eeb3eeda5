//! `POST /{root-service}/{id}/upgrade?version={version}-{release}`: the controller upgrades an
//! application instance to this endpoint's package version.
//!
//! The body is the root resource's JSON, as a configure sends it; `version` names the version
//! the instance is upgraded from. The sync phase reaches the root type's
//! [`upgrade`](crate::Provisionable::upgrade) and the async phase its `upgrade_async`; the
//! answers are the ones of a configure: 200 with the resource (possibly changed), or 202 with
//! `APS-Info` and `APS-Retry-Timeout`. A path `/upgrade` below a service that is not the root
//! is a custom operation, or a 404 like any undeclared path.

use aps_core::__private::{Handler, Operation};
use axum::body::Body;
use axum::http::request::Parts;
use axum::response::Response;
use http::StatusCode;

use crate::router::{Shared, admitted};
use crate::{Error, Result, answer, body};

/// The path segment below the root resource.
pub(crate) const PATH: &str = "upgrade";

/// The query parameter naming the version upgraded from.
const VERSION: &str = "version";

/// Serves an upgrade of the root resource `id`.
pub(crate) async fn serve(
    shared: &Shared,
    id: &str,
    parts: &Parts,
    body: Body,
    handler: &dyn Handler,
) -> Result<Response> {
    let from_version = from_version(&crate::custom::query(parts))?;
    let ctx = admitted(shared, parts)?;
    let body = body::read(&parts.headers, body, shared.app.server.body_limit).await?;
    let resource = body::with_id(&body, id)?;
    let (outcome, resource) = handler.upgrade(&resource, &from_version, &ctx).await?;
    // An upgrade answers like a configure: the resource, changed or not, with 200.
    Ok(answer::outcome(Operation::Configure, &outcome, resource))
}

/// The `version` of the query: given once and not empty, or a 400 naming it.
fn from_version(query: &[(String, String)]) -> Result<String> {
    let mut given = query.iter().filter(|(name, _)| name == VERSION);
    match (given.next(), given.next()) {
        (Some((_, version)), None) if !version.trim().is_empty() => Ok(version.clone()),
        (None, _) => Err(Error::with(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            "the query parameter `version` (the version upgraded from, `{version}-{release}`) \
             is required",
        )),
        _ => Err(Error::with(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "the query parameter `version` must be given once and not be empty",
        )),
    }
}
