//! Packages: import (`POST /api/v1/packages` with an `.app.zip` body), list and show.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::Api;
use serde_json::{Value, json};

use super::error::{ApiError, Id, RawBody};
use crate::package::{PackageInfo, PackageModel};

pub(crate) async fn import(
    State(api): State<Api>,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<PackageInfo>), ApiError> {
    // Unzipping and parsing up to 256 MiB takes a while: not on the threads serving requests.
    let read = tokio::task::spawn_blocking(move || aps_package::Package::read(&body))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                format!("reading the package failed: {e}"),
            )
        })?;
    let package =
        read.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "InvalidPackage", e.to_string()))?;
    let model = PackageModel::from(package);
    Ok((StatusCode::CREATED, Json(api.engine.import(&model).await?)))
}

/// `GET /api/v1/packages`: every imported package, oldest first, as `{"items": […]}`.
pub(crate) async fn list(State(api): State<Api>) -> Result<Json<Value>, ApiError> {
    let items: Vec<PackageInfo> = api
        .engine
        .store()
        .packages()
        .await?
        .iter()
        .map(|(id, model)| PackageInfo::of(*id, model))
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/packages/{id}`: one package, with each type's operations and relations.
pub(crate) async fn get(State(api): State<Api>, Id(id): Id) -> Result<Json<PackageInfo>, ApiError> {
    let model = api
        .engine
        .store()
        .package(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("There is no package {id}")))?;
    Ok(Json(PackageInfo::of(id, &model)))
}
