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
    let package = aps_package::Package::read(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "InvalidPackage", e.to_string()))?;
    let model = PackageModel::from(package);
    Ok((StatusCode::CREATED, Json(api.engine.import(&model).await?)))
}
