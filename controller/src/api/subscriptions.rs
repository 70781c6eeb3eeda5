//! Subscriptions to events (issue #12): made, listed and removed by endpoints under
//! `/aps/2/resources/{subscriber}/aps/subscriptions` (with the subscriber's instance
//! credentials, as every `/aps/2` route), and shown to clients under `/api/v1/subscriptions`
//! with their deliveries.

use aps_protocol::ErrorBody;
use aps_protocol::event::Subscription;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Value, json};
use uuid::Uuid;

use super::Api;
use super::aps::owned;
use super::error::{ApiError, Id, JsonBody, Params};
use super::links::{id_of, path};
use crate::serve::Peer;
use crate::store::SubscriptionRow;

/// A subscription as the wire shows it.
fn shown(row: SubscriptionRow) -> Subscription {
    Subscription {
        id: Some(row.id.to_string()),
        ..row.request
    }
}

/// The subscription `sid` of `subscriber`, or 404.
async fn of(api: &Api, subscriber: Uuid, sid: &str) -> Result<SubscriptionRow, ApiError> {
    let missing =
        || ApiError::not_found(format!("Resource {subscriber} has no subscription `{sid}`"));
    let sid = Uuid::parse_str(sid).map_err(|_| missing())?;
    match api.engine.store().subscription(sid).await? {
        Some(row) if row.subscriber == subscriber => Ok(row),
        _ => Err(missing()),
    }
}

/// `POST /aps/2/resources/{subscriber}/aps/subscriptions`: 201 with the new subscription.
pub(crate) async fn create(
    State(api): State<Api>,
    Id(id): Id,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let subscriber = owned(&api, id, peer.as_ref().map(|Extension(p)| p), &headers).await?;
    let request: Subscription = serde_json::from_value(body).map_err(|e| {
        ApiError::bad_request(format!(
            "The body must be {{\"event\", \"source\": {{\"type\"}} or {{\"id\"}}, \"relation\"?, \"handler\"}}: {e}"
        ))
    })?;
    let row = api.engine.subscribe_to_event(&subscriber, request).await?;
    Ok((StatusCode::CREATED, Json(shown(row))).into_response())
}

/// `GET /aps/2/resources/{subscriber}/aps/subscriptions`: the subscriptions, as an array.
pub(crate) async fn list(
    State(api): State<Api>,
    Id(id): Id,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
) -> Result<Json<Vec<Subscription>>, ApiError> {
    owned(&api, id, peer.as_ref().map(|Extension(p)| p), &headers).await?;
    let rows = api.engine.store().subscriptions_of(id).await?;
    Ok(Json(rows.into_iter().map(shown).collect()))
}

/// `GET /aps/2/resources/{subscriber}/aps/subscriptions/{sid}`.
pub(crate) async fn get(
    State(api): State<Api>,
    params: Result<Path<(String, String)>, PathRejection>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
) -> Result<Json<Subscription>, ApiError> {
    let (id, sid) = path(params)?;
    let id = id_of(&id)?;
    owned(&api, id, peer.as_ref().map(|Extension(p)| p), &headers).await?;
    Ok(Json(shown(of(&api, id, &sid).await?)))
}

/// `DELETE /aps/2/resources/{subscriber}/aps/subscriptions/{sid}`: 204; what it was still
/// owed is dropped.
pub(crate) async fn delete(
    State(api): State<Api>,
    params: Result<Path<(String, String)>, PathRejection>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let (id, sid) = path(params)?;
    let id = id_of(&id)?;
    owned(&api, id, peer.as_ref().map(|Extension(p)| p), &headers).await?;
    let row = of(&api, id, &sid).await?;
    api.engine.store().unsubscribe(row.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/subscriptions?resource={id}`: the subscriptions of a resource, as
/// `{"items": […]}`, each with its subscriber.
#[utoipa::path(
    get,
    path = "/api/v1/subscriptions",
    tag = "subscriptions",
    params(("resource" = Uuid, Query, description = "The subscriber")),
    responses(
        (status = 200, description = "Its subscriptions, as `{\"items\": […]}`", body = Object),
        (status = 400, description = "No or no valid `resource`", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn client_list(
    State(api): State<Api>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let resource = params
        .get("resource")
        .ok_or_else(|| ApiError::bad_request("Name the subscriber: ?resource=<resource id>"))?;
    let resource = Uuid::parse_str(resource)
        .map_err(|_| ApiError::bad_request(format!("`{resource}` is not a resource id")))?;
    let rows = api.engine.store().subscriptions_of(resource).await?;
    let items: Vec<Value> = rows.into_iter().map(client_shown).collect();
    Ok(Json(json!({ "items": items })))
}

fn client_shown(row: SubscriptionRow) -> Value {
    let subscriber = row.subscriber;
    let mut value = serde_json::to_value(shown(row)).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("subscriber".into(), json!(subscriber));
    }
    value
}

/// `GET /api/v1/subscriptions/{sid}`: one subscription, with its subscriber.
#[utoipa::path(
    get,
    path = "/api/v1/subscriptions/{id}",
    tag = "subscriptions",
    params(("id" = Uuid, Path, description = "The subscription")),
    responses(
        (status = 200, description = "The subscription", body = Object),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn client_get(
    State(api): State<Api>,
    Id(sid): Id,
) -> Result<Json<Value>, ApiError> {
    let row = api.engine.store().subscription(sid).await?;
    let row = row.ok_or_else(|| ApiError::not_found(format!("There is no subscription {sid}")))?;
    Ok(Json(client_shown(row)))
}

/// `GET /api/v1/subscriptions/{sid}/deliveries`: its notifications by serial, with how each
/// delivery went, as `{"items": […]}`.
#[utoipa::path(
    get,
    path = "/api/v1/subscriptions/{id}/deliveries",
    tag = "subscriptions",
    params(("id" = Uuid, Path, description = "The subscription")),
    responses(
        (status = 200, description = "Its notifications, as `{\"items\": […]}`", body = Object),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn deliveries(
    State(api): State<Api>,
    Id(sid): Id,
) -> Result<Json<Value>, ApiError> {
    if api.engine.store().subscription(sid).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "There is no subscription {sid}"
        )));
    }
    let items = api.engine.store().deliveries(sid).await?;
    Ok(Json(json!({ "items": items })))
}
