//! Package import: `POST /api/v1/packages` with an `.app.zip` body.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::Api;
use super::error::{ApiError, RawBody};
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
