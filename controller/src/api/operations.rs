//! Application instances and resources: the operations and the envelope that says how long a
//! request waits for them.
//!
//! `timeout` in the body (or `Prefer: respond-async` / `Prefer: wait=N` when the body has none)
//! chooses: `0` answers 202 with the Task at once; `-1` or nothing waits up to the server's
//! default; `N` waits up to N seconds. Either wait is at most an hour. A request that waits
//! answers with the operation's outcome when the task ends in time, else 202 like `0`.

use std::time::Duration;

use aps_protocol::ErrorBody;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Api;
use super::answer::{accepted, outcome};
use super::doc::{Application, Items, Resource, TaskAnswers};
use super::error::{ApiError, Id, JsonBody, Params};
use super::limits::Slot;
use crate::store::ApplicationRow;
use crate::task::Task;

/// The longest a request waits.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// How long a request waits for its operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wait {
    /// Answer 202 at once.
    Async,
    /// Wait up to this long.
    For(Duration),
}

impl Wait {
    pub(super) fn of(
        timeout: Option<i64>,
        headers: &HeaderMap,
        default: Duration,
    ) -> Result<Self, ApiError> {
        match timeout.or_else(|| prefer(headers)) {
            // The server's default (`--sync-timeout`) is capped like any other wait.
            None | Some(-1) => Ok(Self::For(default.min(MAX_WAIT))),
            Some(0) => Ok(Self::Async),
            Some(n) if n > 0 => Ok(Self::For(
                Duration::from_secs(n.unsigned_abs()).min(MAX_WAIT),
            )),
            Some(n) => Err(ApiError::bad_request(format!(
                "timeout must be -1, 0 or a number of seconds, not {n}"
            ))),
        }
    }
}

/// The timeout a `Prefer` header asks for: `respond-async` is 0, `wait=N` is N.
fn prefer(headers: &HeaderMap) -> Option<i64> {
    let preferences: Vec<String> = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .map(|p| p.trim().to_ascii_lowercase())
        .collect();
    if preferences.iter().any(|p| p == "respond-async") {
        return Some(0);
    }
    preferences
        .iter()
        .filter_map(|p| p.strip_prefix("wait="))
        .find_map(|n| n.trim().parse().ok())
}

/// Checks a `callbackURL` against the allowed hosts (`--callback-hosts`), when there is a list.
/// The URL itself is never echoed: its query may hold a token.
fn allowed_callback(api: &Api, url: Option<&String>) -> Result<(), ApiError> {
    let (Some(url), Some(hosts)) = (url, &api.callback_hosts) else {
        return Ok(());
    };
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    match host {
        Some(host) if hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) => Ok(()),
        _ => Err(ApiError::bad_request(
            "callbackURL must name one of the hosts the controller allows",
        )),
    }
}

/// Answers for a started task, waiting as the request asked (or answering 202 at once when
/// as many requests wait as the controller allows: the task has started either way).
pub(super) async fn run(
    api: &Api,
    task: Task,
    wait: Wait,
    slot: &Slot,
) -> Result<Response, ApiError> {
    let Wait::For(limit) = wait else {
        return Ok(accepted(&task));
    };
    let Some(_waiting) = slot.wait() else {
        return Ok(accepted(&task));
    };
    if let Some(mut changes) = api.engine.subscribe(task.id) {
        // Timing out only means the answer is a 202; the channel closing means the task ended.
        let _ = tokio::time::timeout(limit, changes.wait_for(|t| t.state.is_terminal())).await;
    }
    let record = api
        .engine
        .record(task.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Task {} vanished", task.id)))?;
    if record.task.state.is_terminal() {
        outcome(api, &record, true).await
    } else {
        Ok(accepted(&record.task))
    }
}

/// `POST /api/v1/applications`: installs an application instance.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InstallRequest {
    /// The package to install.
    package: Uuid,
    /// The endpoint's base URL.
    endpoint: String,
    /// The root resource's properties.
    #[serde(default)]
    #[schema(value_type = Object, additional_properties = true)]
    settings: Value,
    /// `0` answers 202 at once, `-1` waits the controller's default, `N` up to N seconds.
    #[schema(minimum = -1)]
    timeout: Option<i64>,
    /// Where the final task is posted.
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

/// Installs; answers as the envelope asks (see the module docs).
#[utoipa::path(
    post,
    path = "/api/v1/applications",
    tag = "applications",
    params(("Prefer" = Option<String>, Header, description = "`respond-async` answers 202 at once, `wait=N` waits up to N seconds; used when the body has no `timeout`")),
    request_body = InstallRequest,
    responses(
        (status = 201, description = "Installed", body = Application),
        (status = 400, description = "The request is invalid", body = ErrorBody),
        (status = 404, description = "No such package", body = ErrorBody),
        (status = 409, description = "Another task is working on this resource", body = ErrorBody),
        TaskAnswers,
    )
)]
pub(crate) async fn install(
    State(api): State<Api>,
    slot: Slot,
    headers: HeaderMap,
    JsonBody(req): JsonBody<InstallRequest>,
) -> Result<Response, ApiError> {
    let wait = Wait::of(req.timeout, &headers, api.sync_timeout)?;
    allowed_callback(&api, req.callback_url.as_ref())?;
    let task = api
        .engine
        .install(req.package, req.endpoint, req.settings, req.callback_url)
        .await?;
    run(&api, task, wait, &slot).await
}

async fn application_json(api: &Api, app: ApplicationRow) -> Result<Application, ApiError> {
    let root = match api.engine.store().resource(app.root_id).await? {
        Some(row) => Some(api.engine.resource_json(row).await?),
        None => None,
    };
    let version = api
        .engine
        .store()
        .package(app.package_id)
        .await?
        .map(|p| format!("{}-{}", p.meta.version, p.meta.release));
    Ok(Application {
        id: app.id,
        package: app.package_id,
        version,
        endpoint: app.endpoint,
        root,
    })
}

/// `GET /api/v1/applications`: every application instance.
#[utoipa::path(
    get,
    path = "/api/v1/applications",
    tag = "applications",
    responses(
        (status = 200, description = "Every application instance", body = Items<Application>),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn applications(
    State(api): State<Api>,
) -> Result<Json<Items<Application>>, ApiError> {
    let mut items = Vec::new();
    for app in api.engine.store().applications().await? {
        items.push(application_json(&api, app).await?);
    }
    Ok(Json(Items::all(items)))
}

/// `GET /api/v1/applications/{id}`: one application instance.
#[utoipa::path(
    get,
    path = "/api/v1/applications/{id}",
    tag = "applications",
    params(("id" = Uuid, Path, description = "The instance id")),
    responses(
        (status = 200, description = "The instance", body = Application),
        (status = 404, description = "No such instance", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn application(
    State(api): State<Api>,
    Id(id): Id,
) -> Result<Json<Application>, ApiError> {
    let app = api
        .engine
        .store()
        .application(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("There is no application instance {id}")))?;
    Ok(Json(application_json(&api, app).await?))
}

/// `POST /api/v1/resources`: provisions a resource in an instance.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ProvisionRequest {
    /// The application instance.
    application: Uuid,
    /// The resource: `aps.type` and its properties.
    #[schema(value_type = Resource)]
    resource: Value,
    /// `0` answers 202 at once, `-1` waits the controller's default, `N` up to N seconds.
    #[schema(minimum = -1)]
    timeout: Option<i64>,
    /// Where the final task is posted.
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

/// Provisions; answers as the envelope asks (see the module docs).
#[utoipa::path(
    post,
    path = "/api/v1/resources",
    tag = "resources",
    params(("Prefer" = Option<String>, Header, description = "`respond-async` answers 202 at once, `wait=N` waits up to N seconds; used when the body has no `timeout`")),
    request_body = ProvisionRequest,
    responses(
        (status = 201, description = "Provisioned", body = Resource),
        (status = 400, description = "The request is invalid", body = ErrorBody),
        (status = 404, description = "No such instance", body = ErrorBody),
        (status = 409, description = "Another task is working on this resource", body = ErrorBody),
        TaskAnswers,
    )
)]
pub(crate) async fn provision(
    State(api): State<Api>,
    slot: Slot,
    headers: HeaderMap,
    JsonBody(req): JsonBody<ProvisionRequest>,
) -> Result<Response, ApiError> {
    let wait = Wait::of(req.timeout, &headers, api.sync_timeout)?;
    allowed_callback(&api, req.callback_url.as_ref())?;
    let task = api
        .engine
        .provision(req.application, req.resource, req.callback_url)
        .await?;
    run(&api, task, wait, &slot).await
}

/// `PUT /api/v1/resources/{id}`: changes a resource's properties.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ConfigureRequest {
    /// The properties to change.
    #[schema(value_type = Resource)]
    resource: Value,
    /// `0` answers 202 at once, `-1` waits the controller's default, `N` up to N seconds.
    #[schema(minimum = -1)]
    timeout: Option<i64>,
    /// Where the final task is posted.
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

/// Configures; answers as the envelope asks (see the module docs).
#[utoipa::path(
    put,
    path = "/api/v1/resources/{id}",
    tag = "resources",
    params(("id" = Uuid, Path, description = "The resource id"), ("Prefer" = Option<String>, Header, description = "`respond-async` answers 202 at once, `wait=N` waits up to N seconds; used when the body has no `timeout`")),
    request_body = ConfigureRequest,
    responses(
        (status = 200, description = "Configured", body = Resource),
        (status = 400, description = "The request is invalid", body = ErrorBody),
        (status = 404, description = "No such resource", body = ErrorBody),
        (status = 409, description = "Another task is working on this resource", body = ErrorBody),
        TaskAnswers,
    )
)]
pub(crate) async fn configure(
    State(api): State<Api>,
    Id(id): Id,
    slot: Slot,
    headers: HeaderMap,
    JsonBody(req): JsonBody<ConfigureRequest>,
) -> Result<Response, ApiError> {
    let wait = Wait::of(req.timeout, &headers, api.sync_timeout)?;
    allowed_callback(&api, req.callback_url.as_ref())?;
    let task = api
        .engine
        .configure(id, req.resource, req.callback_url)
        .await?;
    run(&api, task, wait, &slot).await
}

/// `DELETE /api/v1/resources/{id}`: the optional body of an unprovision.
#[derive(Deserialize, Default, ToSchema)]
pub(crate) struct UnprovisionRequest {
    /// `0` answers 202 at once, `-1` waits the controller's default, `N` up to N seconds.
    #[schema(minimum = -1)]
    timeout: Option<i64>,
    /// Where the final task is posted.
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

impl UnprovisionRequest {
    /// The wait and callback of a removal: the body's, or the timeout as `?timeout=T`.
    pub(super) fn read(
        req: Option<Self>,
        api: &Api,
        params: &Params,
        headers: &HeaderMap,
    ) -> Result<(Wait, Option<String>), ApiError> {
        let req = req.unwrap_or_default();
        let query_timeout = params
            .get("timeout")
            .map(|t| {
                t.trim()
                    .parse::<i64>()
                    .map_err(|_| ApiError::bad_request("timeout must be a whole number"))
            })
            .transpose()?;
        let wait = Wait::of(req.timeout.or(query_timeout), headers, api.sync_timeout)?;
        allowed_callback(api, req.callback_url.as_ref())?;
        Ok((wait, req.callback_url))
    }
}

/// Unprovisions; answers as the envelope asks (see the module docs).
#[utoipa::path(
    delete,
    path = "/api/v1/resources/{id}",
    tag = "resources",
    params(("id" = Uuid, Path, description = "The resource id"), ("timeout" = Option<i64>, Query, minimum = -1, description = "Like `timeout` of the body, which wins"), ("Prefer" = Option<String>, Header, description = "`respond-async` answers 202 at once, `wait=N` waits up to N seconds; used when the body has no `timeout`")),
    request_body = Option<UnprovisionRequest>,
    responses(
        (status = 204, description = "Unprovisioned"),
        (status = 400, description = "The request is invalid", body = ErrorBody),
        (status = 404, description = "No such resource", body = ErrorBody),
        (status = 409, description = "Another task is working on this resource", body = ErrorBody),
        TaskAnswers,
    )
)]
pub(crate) async fn unprovision(
    State(api): State<Api>,
    Id(id): Id,
    params: Params,
    slot: Slot,
    headers: HeaderMap,
    JsonBody(req): JsonBody<Option<UnprovisionRequest>>,
) -> Result<Response, ApiError> {
    let (wait, callback_url) = UnprovisionRequest::read(req, &api, &params, &headers)?;
    let task = api.engine.unprovision(id, callback_url).await?;
    run(&api, task, wait, &slot).await
}

/// `POST /api/v1/resources/{id}/refresh`: synchronizes the resource's usage counters.
#[utoipa::path(
    post,
    path = "/api/v1/resources/{id}/refresh",
    tag = "resources",
    params(("id" = Uuid, Path, description = "The resource id"), ("timeout" = Option<i64>, Query, minimum = -1, description = "Like `timeout` of the body, which wins"), ("Prefer" = Option<String>, Header, description = "`respond-async` answers 202 at once, `wait=N` waits up to N seconds; used when the body has no `timeout`")),
    request_body = Option<UnprovisionRequest>,
    responses(
        (status = 200, description = "Synchronized: the resource as now stored", body = Resource),
        (status = 400, description = "The request is invalid, or the type has no usage counters", body = ErrorBody),
        (status = 404, description = "No such resource", body = ErrorBody),
        (status = 409, description = "Another task is working on this resource", body = ErrorBody),
        TaskAnswers,
    )
)]
pub(crate) async fn refresh(
    State(api): State<Api>,
    Id(id): Id,
    params: Params,
    slot: Slot,
    headers: HeaderMap,
    JsonBody(req): JsonBody<Option<UnprovisionRequest>>,
) -> Result<Response, ApiError> {
    let (wait, callback_url) = UnprovisionRequest::read(req, &api, &params, &headers)?;
    let task = api.engine.refresh(id, callback_url).await?;
    run(&api, task, wait, &slot).await
}

/// `DELETE /api/v1/applications/{id}`: uninstalls the instance (takes what unprovision takes).
#[utoipa::path(
    delete,
    path = "/api/v1/applications/{id}",
    tag = "applications",
    params(("id" = Uuid, Path, description = "The application instance"), ("timeout" = Option<i64>, Query, minimum = -1, description = "Like `timeout` of the body, which wins"), ("Prefer" = Option<String>, Header, description = "`respond-async` answers 202 at once, `wait=N` waits up to N seconds; used when the body has no `timeout`")),
    request_body = Option<UnprovisionRequest>,
    responses(
        (status = 204, description = "Uninstalled: the root unprovisioned and the instance forgotten"),
        (status = 400, description = "The request is invalid", body = ErrorBody),
        (status = 404, description = "No such instance", body = ErrorBody),
        (status = 409, description = "The instance still has resources, or a task is working on its root", body = ErrorBody),
        TaskAnswers,
    )
)]
pub(crate) async fn uninstall(
    State(api): State<Api>,
    Id(id): Id,
    params: Params,
    slot: Slot,
    headers: HeaderMap,
    JsonBody(req): JsonBody<Option<UnprovisionRequest>>,
) -> Result<Response, ApiError> {
    let (wait, callback_url) = UnprovisionRequest::read(req, &api, &params, &headers)?;
    let task = api.engine.uninstall(id, callback_url).await?;
    run(&api, task, wait, &slot).await
}

/// `GET /api/v1/resources/{id}`: one resource, with its links.
#[utoipa::path(
    get,
    path = "/api/v1/resources/{id}",
    tag = "resources",
    params(("id" = Uuid, Path, description = "The resource id")),
    responses(
        (status = 200, description = "The resource", body = Resource),
        (status = 404, description = "No such resource", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn resource(State(api): State<Api>, Id(id): Id) -> Result<Response, ApiError> {
    let row = api.engine.store().resource(id).await?;
    let row = row.ok_or_else(|| ApiError::not_found(format!("There is no resource {id}")))?;
    Ok(Json(api.engine.resource_json(row).await?).into_response())
}

/// `GET /api/v1/resources`: the resources, of one instance or type when asked.
#[utoipa::path(
    get,
    path = "/api/v1/resources",
    tag = "resources",
    params(
        ("application" = Option<Uuid>, Query, description = "Only this instance's resources"),
        ("type" = Option<String>, Query, description = "Only resources of this type id"),
    ),
    responses(
        (status = 200, description = "The resources", body = Items<Resource>),
        (status = 400, description = "`application` is not an id", body = ErrorBody),
        (status = 500, description = "The store failed", body = ErrorBody),
        (status = 503, description = "The controller is at its load limit", body = ErrorBody),
    )
)]
pub(crate) async fn resources(
    State(api): State<Api>,
    params: Params,
) -> Result<Json<Items<Value>>, ApiError> {
    let application = params
        .get("application")
        .map(|a| {
            Uuid::parse_str(a)
                .map_err(|_| ApiError::bad_request("application must be an instance id"))
        })
        .transpose()?;
    let rows = api
        .engine
        .store()
        .resources(application, params.get("type"))
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(api.engine.resource_json(row).await?);
    }
    Ok(Json(Items::all(items)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_prefer(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("prefer", HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn the_body_wins_over_prefer_and_prefer_over_the_default() {
        let default = Duration::from_secs(30);
        let none = HeaderMap::new();
        assert_eq!(Wait::of(None, &none, default).unwrap(), Wait::For(default));
        assert_eq!(
            Wait::of(Some(-1), &none, default).unwrap(),
            Wait::For(default)
        );
        assert_eq!(Wait::of(Some(0), &none, default).unwrap(), Wait::Async);
        assert_eq!(
            Wait::of(Some(99_999), &none, default).unwrap(),
            Wait::For(MAX_WAIT)
        );
        assert!(Wait::of(Some(-2), &none, default).is_err());
        let long = Duration::from_secs(7200);
        assert_eq!(Wait::of(None, &none, long).unwrap(), Wait::For(MAX_WAIT));
        assert_eq!(
            Wait::of(Some(-1), &none, long).unwrap(),
            Wait::For(MAX_WAIT)
        );
        let async_ = with_prefer("respond-async, wait=10");
        assert_eq!(Wait::of(None, &async_, default).unwrap(), Wait::Async);
        assert_eq!(
            Wait::of(Some(5), &async_, default).unwrap(),
            Wait::For(Duration::from_secs(5))
        );
        let wait = with_prefer("wait=7");
        assert_eq!(
            Wait::of(None, &wait, default).unwrap(),
            Wait::For(Duration::from_secs(7))
        );
    }

    proptest::proptest! {
        #[test]
        fn any_timeout_and_prefer_header_give_a_bounded_wait_or_400(
            timeout in proptest::option::of(proptest::prelude::any::<i64>()),
            prefer in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_bytes(&prefer) {
                headers.insert("prefer", value);
            }
            match Wait::of(timeout, &headers, Duration::from_secs(30)) {
                Ok(Wait::For(limit)) => proptest::prop_assert!(limit <= MAX_WAIT),
                Ok(Wait::Async) => {}
                Err(ApiError(body)) => proptest::prop_assert_eq!(body.code, 400),
            }
        }
    }
}
