//! Packages: import (`POST /api/v1/packages` with an `.app.zip` body), list and show.
//!
//!
//! The body is streamed to a temporary file, never held in memory: a declared
//! `Content-Length` over [`MAX_PACKAGE`] is refused before a byte is read, and the limit holds as
//! the bytes arrive whatever was declared. At most [`MAX_UPLOADS`] uploads are read at once
//! (more are answered 503 `Busy` with `Retry-After`), so a few clients cannot fill the disk or
//! the blocking threads. The package is then read from the file (`aps_package` reads only the
//! zip's directory and the entries an import needs) and the file is gone when the request ends.

use std::sync::Arc;

use aps_protocol::body::READ_TIMEOUT;
use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

use aps_protocol::ErrorBody;

use super::doc::Items;
use super::error::{ApiError, Id};
use super::{Api, MAX_PACKAGE};
use crate::package::{PackageInfo, PackageModel};

/// How many uploads are read at once.
pub(crate) const MAX_UPLOADS: usize = 2;

/// The places for uploads being read, shared by the route.
#[derive(Clone)]
pub(crate) struct Uploads(Arc<Semaphore>);

impl Default for Uploads {
    fn default() -> Self {
        Self(Arc::new(Semaphore::new(MAX_UPLOADS)))
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLarge",
        format!("A package is at most {MAX_PACKAGE} bytes"),
    )
}

fn internal(what: &str, error: impl std::fmt::Display) -> ApiError {
    tracing::error!(%error, "{what}");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        format!("{what}: {error}"),
    )
}

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
    axum::Extension(uploads): axum::Extension<Uploads>,
    request: Request,
) -> Result<Response, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_PACKAGE as u64) {
        return Err(too_large());
    }
    let Ok(_place) = uploads.0.clone().try_acquire_owned() else {
        let mut answer = aps_protocol::busy::busy("controller").map(Body::from);
        *answer.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        return Ok(answer.into_response());
    };
    let file = match tokio::time::timeout(READ_TIMEOUT, spool(request.into_body())).await {
        Ok(spooled) => spooled?,
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "RequestTimeout",
                "The request body did not arrive in time",
            ));
        }
    };
    // Unzipping and parsing takes a while: not on the threads serving requests.
    let read = tokio::task::spawn_blocking(move || aps_package::Package::read_from(file))
        .await
        .map_err(|e| internal("reading the package failed", e))?;
    let package =
        read.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "InvalidPackage", e.to_string()))?;
    let model = PackageModel::from(package);
    let info: PackageInfo = api.engine.import(&model).await?;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

/// Writes a body to an anonymous temporary file (deleted when closed), at most
/// [`MAX_PACKAGE`] bytes.
async fn spool(body: Body) -> Result<std::fs::File, ApiError> {
    let write_failed = |e: std::io::Error| internal("cannot write the upload", e);
    let file = tempfile::tempfile().map_err(|e| internal("cannot make a temporary file", e))?;
    let mut file = tokio::io::BufWriter::with_capacity(1 << 20, tokio::fs::File::from_std(file));
    let mut stream = body.into_data_stream();
    let mut written: usize = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidBody",
                format!("The body could not be read: {e}"),
            )
        })?;
        written = written.saturating_add(chunk.len());
        if written > MAX_PACKAGE {
            return Err(too_large());
        }
        file.write_all(&chunk).await.map_err(write_failed)?;
    }
    file.flush().await.map_err(write_failed)?;
    Ok(file.into_inner().into_std().await)
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
