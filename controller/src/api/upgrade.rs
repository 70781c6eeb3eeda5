//! `POST /api/v1/applications/{id}/upgrade`: moves an instance to a newer package of the same
//! application, as a task on its root resource ([`crate::engine`]'s `upgrade`).

use aps_protocol::ErrorBody;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Api;
use super::error::{ApiError, Id, JsonBody, Params};
use super::limits::Slot;
use super::operations::{UnprovisionRequest, run};
use crate::task::Task;

/// `{"package": "<newer package id>", "timeout"?, "callbackURL"?}`.
#[derive(Deserialize, ToSchema)]
pub(crate) struct UpgradeRequest {
    /// The newer package of the same application.
    package: Uuid,
    /// `timeout` and `callbackURL`, as for an unprovision.
    #[serde(flatten)]
    options: UnprovisionRequest,
}

/// Upgrades an instance; answers as the envelope asks.
#[utoipa::path(
    post,
    path = "/api/v1/applications/{id}/upgrade",
    tag = "applications",
    params(("id" = Uuid, Path, description = "The application instance"), ("timeout" = Option<i64>, Query, minimum = -1, description = "Like `timeout` of the body, which wins"), ("Prefer" = Option<String>, Header, description = "`respond-async` answers 202 at once, `wait=N` waits up to N seconds; used when the body has no `timeout`")),
    request_body = UpgradeRequest,
    responses(
        (status = 200, description = "Upgraded: the root resource as now stored", body = super::doc::Resource),
        (status = 202, description = "The task has not ended yet (or the request asked not to wait)", body = Task,
            headers(("Location" = String, description = "The task"), ("Retry-After" = u64, description = "Seconds to wait before asking again"))),
        (status = 400, description = "Another application's package, a version not newer, or an invalid request", body = ErrorBody),
        (status = 404, description = "No such instance or package", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 409, description = "An upgrade or another operation on the root is running", body = ErrorBody),
        (status = 413, description = "The body is larger than 1 MiB", body = ErrorBody),
        (status = "4XX", description = "The endpoint refused the upgrade: its error, with `task` beside it", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 502, description = "The endpoint failed or could not be reached (with `task` when the task failed)", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn upgrade(
    State(api): State<Api>,
    Id(id): Id,
    params: Params,
    slot: Slot,
    headers: HeaderMap,
    JsonBody(req): JsonBody<UpgradeRequest>,
) -> Result<Response, ApiError> {
    let (wait, callback_url) =
        UnprovisionRequest::read(Some(req.options), &api, &params, &headers)?;
    let task = api.engine.upgrade(id, req.package, callback_url).await?;
    run(&api, task, wait, &slot).await
}
