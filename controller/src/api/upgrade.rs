//! `POST /api/v1/applications/{id}/upgrade`: moves an instance to a newer package of the same
//! application, as a task on its root resource ([`crate::engine`]'s `upgrade`).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::Api;
use super::error::{ApiError, Id, JsonBody, Params};
use super::limits::Slot;
use super::operations::{OptionsRequest, run};

/// `{"package": "<newer package id>", "timeout"?, "callbackURL"?}`.
#[derive(Deserialize)]
pub(crate) struct UpgradeRequest {
    package: Uuid,
    #[serde(flatten)]
    options: OptionsRequest,
}

pub(crate) async fn upgrade(
    State(api): State<Api>,
    Id(id): Id,
    params: Params,
    slot: Slot,
    headers: HeaderMap,
    JsonBody(req): JsonBody<UpgradeRequest>,
) -> Result<Response, ApiError> {
    let (wait, callback_url) = req.options.read(&api, &params, &headers)?;
    let task = api.engine.upgrade(id, req.package, callback_url).await?;
    run(&api, task, wait, &slot).await
}
