//! The OpenAPI 3.1 description of `/api/v1`, collected from the handlers.
//!
//! Every `/api/v1` route is registered through [`utoipa_axum::routes!`] from a handler that
//! carries its `#[utoipa::path]` annotation (parameters, body, every status it answers), so a
//! route cannot be served without being described. What is here is what the handlers share:
//! the document's head, the answer types that are JSON built by hand elsewhere, and the
//! document's own route.

use axum::Json;
use serde::Serialize;
use serde_json::Value;
use std::sync::OnceLock;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::{OpenApi, PartialSchema, ToSchema};
use uuid::Uuid;

/// The head of the document; the paths come from the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "APS controller client API",
        description = "Packages, application instances, resources and tasks of an APS controller. \
            Every error answer is an APS error body `{\"code\", \"error\", \"message\", \"details\"}` \
            whose `code` equals the HTTP status. Under load any operation may answer 503 with \
            `Retry-After`."
    ),
    tags(
        (name = "packages", description = "Imported application packages"),
        (name = "applications", description = "Application instances"),
        (name = "resources", description = "Resources, their custom operations and links"),
        (name = "tasks", description = "The tasks that carry out operations"),
        (name = "subscriptions", description = "Event subscriptions and their deliveries"),
        (name = "api", description = "This description"),
    )
)]
pub(super) struct Head;

/// What every operation that runs as a task may answer besides its own outcome and its own
/// 400/404/409: the task when it goes on, a slow or large body, the endpoint's refusal or
/// failure, the store, the load limit. Named once here, listed in each such operation.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its derived description is used
pub(crate) enum TaskAnswers {
    #[response(
        status = 202,
        description = "The task has not ended yet (or the request asked not to wait)",
        headers(
            ("Location" = String, description = "The task"),
            ("Retry-After" = u64, description = "Seconds to wait before asking again")
        )
    )]
    Pending(Box<crate::task::Task>),
    #[response(status = 408, description = "The body did not arrive in time")]
    Slow(aps_protocol::ErrorBody),
    #[response(status = 413, description = "The body is larger than 1 MiB")]
    Large(aps_protocol::ErrorBody),
    #[response(
        status = "4XX",
        description = "The endpoint refused the operation: its error, with `task` beside it"
    )]
    Refused(aps_protocol::ErrorBody),
    #[response(status = 500, description = "The store failed")]
    Store(aps_protocol::ErrorBody),
    #[response(
        status = 502,
        description = "The endpoint failed or could not be reached (with `task` when the task failed)"
    )]
    Endpoint(aps_protocol::ErrorBody),
    #[response(status = 503, description = "The controller is at its load limit")]
    Busy(aps_protocol::ErrorBody),
}

/// Adds what the authentication layer answers before any handler runs: the bearer token (or a
/// client certificate, which OpenAPI cannot name) as the security scheme, and 401, 403 and 429
/// to every operation. A controller over plain HTTP on loopback asks for no credentials, so
/// the requirement is optional there; the document describes the TLS controller.
pub(super) fn with_authentication(document: &mut Document) {
    use utoipa::openapi::security::{
        HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
    };
    use utoipa::openapi::{ComponentsBuilder, ResponseBuilder, content::ContentBuilder};

    let components = document
        .components
        .get_or_insert_with(|| ComponentsBuilder::new().build());
    components.add_security_scheme(
        "token",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("An API token (`aps-controller token create`)"))
                .build(),
        ),
    );
    document.security = Some(vec![
        SecurityRequirement::new("token", Vec::<String>::new()),
        SecurityRequirement::default(),
    ]);
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                        "ErrorBody",
                    ))))
                    .build(),
            )
            .build()
    };
    for item in document.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let responses = &mut operation.responses.responses;
            for (status, description) in [
                ("401", "No credentials, or credentials that do not hold"),
                (
                    "403",
                    "The credentials do not carry the scope this operation needs",
                ),
                (
                    "429",
                    "Too many failed authentications from this address; `Retry-After` says when to try again",
                ),
            ] {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::T(error(description)));
            }
        }
    }
}

/// A resource as the controller shows it: the properties its type's schema declares (free-form
/// here: every package declares its own), its `aps` header (`id`, `type`, `status`, …) and, for
/// a type with relations, the links under each relation's name.
pub(crate) enum Resource {}

impl PartialSchema for Resource {
    fn schema() -> RefOr<Schema> {
        let aps = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("The resource's APS header: id, type and status"))
            .additional_properties(Some(AdditionalProperties::FreeForm(true)));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A resource: the properties its type declares, and its `aps` header",
            ))
            .property("aps", aps)
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl ToSchema for Resource {}

/// An application instance: its package, endpoint and root resource.
#[derive(Serialize, ToSchema)]
pub(crate) struct Application {
    /// The instance id.
    pub id: Uuid,
    /// The package it was installed from.
    pub package: Uuid,
    /// That package's `{version}-{release}`.
    pub version: Option<String>,
    /// The endpoint's base URL.
    pub endpoint: String,
    /// The root resource; `null` while the install has not finished.
    #[schema(value_type = Option<Resource>)]
    pub root: Option<Value>,
}

/// A list: `{"items": […]}`, with `next` (the value for `?next=`) when there are more.
#[derive(Serialize, ToSchema)]
pub(crate) struct Items<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Where the next page starts, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl<T> Items<T> {
    /// A list that is complete.
    pub(crate) fn all(items: Vec<T>) -> Self {
        Self { items, next: None }
    }
}

/// `GET /api/v1/openapi.json`: this API's OpenAPI 3.1 description.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "api",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of `/api/v1`", body = Object),
        (status = 503, description = "The controller is at its load limit", body = aps_protocol::ErrorBody),
    )
)]
pub(crate) async fn openapi() -> Json<&'static Document> {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    Json(DOCUMENT.get_or_init(super::document))
}
