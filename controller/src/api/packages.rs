//! Packages: import (`POST /api/v1/packages` with an `.app.zip` body), list and show.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::Api;
use aps_protocol::ErrorBody;

use super::doc::Items;
use super::error::{ApiError, Id, RawBody};
use crate::package::{PackageInfo, PackageModel};

/// `POST /api/v1/packages`: imports an `.app.zip` sent as the body.
#[utoipa::path(
    post,
    path = "/api/v1/packages",
    tag = "packages",
    request_body(
        content((String = "application/zip"), (String = "application/octet-stream")),
        description = "The package: the bytes of an `.app.zip` (at most 256 MiB)",
    ),
    responses(
        (status = 201, description = "Imported", body = PackageInfo),
        (status = 400, description = "Not a package the controller can read", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "The package is larger than 256 MiB", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/packages",
    tag = "packages",
    responses(
        (status = 200, description = "Every imported package", body = Items<PackageInfo>),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn list(State(api): State<Api>) -> Result<Json<Items<PackageInfo>>, ApiError> {
    let items: Vec<PackageInfo> = api
        .engine
        .store()
        .packages()
        .await?
        .iter()
        .map(|(id, model)| PackageInfo::of(*id, model))
        .collect();
    Ok(Json(Items::all(items)))
}

/// `GET /api/v1/packages/{id}`: one package, with each type's operations and relations.
#[utoipa::path(
    get,
    path = "/api/v1/packages/{id}",
    tag = "packages",
    params(("id" = Uuid, Path, description = "The package id")),
    responses(
        (status = 200, description = "The package", body = PackageInfo),
        (status = 404, description = "No such package", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn get(State(api): State<Api>, Id(id): Id) -> Result<Json<PackageInfo>, ApiError> {
    let model = api
        .engine
        .store()
        .package(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("There is no package {id}")))?;
    Ok(Json(PackageInfo::of(id, &model)))
}
