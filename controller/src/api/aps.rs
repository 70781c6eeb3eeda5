//! The endpoint-facing API: what an endpoint calls back with its `APS-Controller-URI`.
//!
//! An endpoint reads a resource (to load state for GET and DELETE) and changes the properties
//! of its own resources. Only the owning instance may. Over TLS it proves who it is with the
//! client certificate the controller issued to it at install (sent in `aps.x509.self`): the
//! certificate presented must be exactly that one, else 403 (also when none is presented). On
//! plain HTTP (development) it names itself with `APS-Instance-ID`.

use aps_protocol::headers::{self, text_of};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use serde_json::Value;

use super::Api;
use super::error::{ApiError, Id, JsonBody};
use crate::serve::Peer;
use crate::store::ResourceRow;

fn forbidden(how: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "Forbidden",
        format!("Only the application instance that owns a resource may use it ({how})"),
    )
}

/// The resource, when the caller is the instance that owns it.
pub(super) async fn owned(
    api: &Api,
    id: uuid::Uuid,
    peer: Option<&Peer>,
    headers: &HeaderMap,
) -> Result<ResourceRow, ApiError> {
    let row = api.engine.store().resource(id).await?;
    let row = row.ok_or_else(|| ApiError::not_found(format!("There is no resource {id}")))?;
    let owner = row.application_id;
    match peer {
        Some(Peer(presented)) => {
            let issued = api.authority.instance_certificate(owner).map_err(|error| {
                tracing::error!(%error, instance = %owner, "cannot read the instance certificate");
                forbidden("its certificate")
            })?;
            if presented.is_none() || issued.is_none() || *presented != issued {
                return Err(forbidden("its client certificate"));
            }
        }
        None => {
            let caller = headers.get(headers::INSTANCE_ID).map(text_of);
            if caller.as_deref().map(str::trim) != Some(owner.to_string().as_str()) {
                return Err(forbidden("APS-Instance-ID"));
            }
        }
    }
    Ok(row)
}

pub(crate) async fn get(
    State(api): State<Api>,
    Id(id): Id,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let peer = peer.as_ref().map(|Extension(p)| p);
    let row = owned(&api, id, peer, &headers).await?;
    Ok(Json(api.engine.resource_json(row).await?))
}

pub(crate) async fn put(
    State(api): State<Api>,
    Id(id): Id,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    JsonBody(changes): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let peer = peer.as_ref().map(|Extension(p)| p);
    aps_protocol::id::in_resource(&changes).map_err(super::error::invalid_id)?;
    let row = owned(&api, id, peer, &headers).await?;
    let Value::Object(changes) = changes else {
        return Err(ApiError::bad_request(
            "The body must be a JSON object of properties",
        ));
    };
    // One read-modify-write, seen by an operation running on the resource; the resource may
    // have gone since it was checked above.
    let body = api.engine.update_resource(id, changes).await?;
    let body = body.ok_or_else(|| ApiError::not_found(format!("There is no resource {id}")))?;
    let shown = api
        .engine
        .with_links_of(row.application_id, &row.service, id, body)
        .await?;
    Ok(Json(shown))
}
