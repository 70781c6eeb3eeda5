//! What the panel's forms do: provision, configure, unprovision and cancel, each through the
//! engine exactly as the API's handlers call it, then on to the task's page.

use aps_protocol::TypeSchema;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::csrf::{Form, Token};
use super::forms::{Field, Input, Purpose, fields, submitted};
use super::pages::stored;
use super::view::{UiError, id, render};
use crate::api::Api;
use crate::engine::{Canceled, OperationError};
use crate::task::Task;

#[derive(Template)]
#[template(path = "form.html")]
struct FormPage {
    heading: String,
    /// Where the form posts.
    action: String,
    /// Where Cancel goes.
    back: String,
    submit: &'static str,
    fields: Vec<Field>,
    /// What the controller refused, when it is about no single field.
    error: Option<String>,
    csrf: String,
}

impl FormPage {
    /// The page, answered with `status`.
    fn answer(self, status: StatusCode) -> Result<Response, UiError> {
        Ok((status, render(&self)?).into_response())
    }
}

/// Where the browser goes once a task has started.
fn to_task(task: &Task) -> Response {
    Redirect::to(&format!("/ui/tasks/{}", task.id)).into_response()
}

/// The form again, with the controller's refusal: a failure of the store or a vanished
/// instance is an error page, a property refused shows beside its field, anything else (a
/// conflict, an invalid request) on the form.
fn refused(mut page: FormPage, error: OperationError) -> Result<Response, UiError> {
    let status = match &error {
        OperationError::NotFound(_) | OperationError::Store(_) => return Err(error.into()),
        OperationError::Busy(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    if let OperationError::Field {
        kind: "property",
        name,
        message,
    } = &error
    {
        if let Some(field) = page.fields.iter_mut().find(|f| f.name == *name) {
            field.error = Some(message.clone());
            return page.answer(status);
        }
    }
    page.error = Some(error.to_string());
    page.answer(status)
}

/// The instance and the schema of a service it may create resources of.
async fn creatable(
    api: &Api,
    app_id: &str,
    service: &str,
) -> Result<(Uuid, String, TypeSchema), UiError> {
    let (app, package) = api
        .engine
        .instance(id(app_id, "application instance")?)
        .await?;
    match package.service_for(service) {
        Some((found, schema)) if found != package.root() => {
            Ok((app.id, package.meta.name.clone(), schema.clone()))
        }
        _ => Err(UiError::NotFound(format!(
            "The application has no type `{service}` to create"
        ))),
    }
}

fn create_page(
    app: Uuid,
    name: &str,
    service: &str,
    schema: &TypeSchema,
    token: &Token,
) -> FormPage {
    FormPage {
        heading: format!("Create {service} in {name}"),
        action: format!("/ui/applications/{app}/create/{service}"),
        back: format!("/ui/applications/{app}"),
        submit: "Create",
        fields: fields(schema, Purpose::Create, &Map::new()),
        error: None,
        csrf: token.value(),
    }
}

/// `GET /ui/applications/{id}/create/{service}`: the Create form of a type.
pub(super) async fn create_form(
    State(api): State<Api>,
    Path((app_id, service)): Path<(String, String)>,
    Extension(token): Extension<Token>,
) -> Result<Response, UiError> {
    let (app, name, schema) = creatable(&api, &app_id, &service).await?;
    create_page(app, &name, &service, &schema, &token).answer(StatusCode::OK)
}

/// `POST /ui/applications/{id}/create/{service}`: provisions a resource.
pub(super) async fn provision(
    State(api): State<Api>,
    Path((app_id, service)): Path<(String, String)>,
    Extension(token): Extension<Token>,
    form: Form,
) -> Result<Response, UiError> {
    let (app, name, schema) = creatable(&api, &app_id, &service).await?;
    let mut page = create_page(app, &name, &service, &schema, &token);
    let mut properties = match submitted(&schema, Purpose::Create, &form) {
        Ok(properties) => properties,
        Err(fields) => {
            page.fields = fields;
            return page.answer(StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    properties.insert("aps".into(), json!({ "type": schema.id }));
    match api
        .engine
        .provision(app, Value::Object(properties), None)
        .await
    {
        Ok(task) => Ok(to_task(&task)),
        Err(error) => refused(page, error),
    }
}

/// The Edit form of a stored resource, with its schema.
async fn edit_page(
    api: &Api,
    resource_id: &str,
    token: &Token,
) -> Result<(FormPage, TypeSchema), UiError> {
    let row = stored(api, resource_id).await?;
    let (_, package) = api.engine.instance(row.application_id).await?;
    let schema = package
        .schema(&row.service)
        .cloned()
        .ok_or_else(|| UiError::NotFound(format!("The type `{}` has gone", row.service)))?;
    let values = row.body.as_object().cloned().unwrap_or_default();
    let page = FormPage {
        heading: format!("Edit {} {}", row.service, row.id),
        action: format!("/ui/resources/{}/edit", row.id),
        back: format!("/ui/resources/{}", row.id),
        submit: "Save",
        fields: fields(&schema, Purpose::Edit, &values),
        error: None,
        csrf: token.value(),
    };
    Ok((page, schema))
}

/// `GET /ui/resources/{id}/edit`.
pub(super) async fn edit_form(
    State(api): State<Api>,
    Path(resource_id): Path<String>,
    Extension(token): Extension<Token>,
) -> Result<Response, UiError> {
    let (page, _) = edit_page(&api, &resource_id, &token).await?;
    page.answer(StatusCode::OK)
}

/// `POST /ui/resources/{id}/edit`: configures the resource.
pub(super) async fn configure(
    State(api): State<Api>,
    Path(resource_id): Path<String>,
    Extension(token): Extension<Token>,
    form: Form,
) -> Result<Response, UiError> {
    let (mut page, schema) = edit_page(&api, &resource_id, &token).await?;
    let properties = match submitted(&schema, Purpose::Edit, &form) {
        Ok(properties) => properties,
        Err(fields) => {
            page.fields = fields;
            return page.answer(StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let resource = id(&resource_id, "resource")?;
    match api
        .engine
        .configure(resource, Value::Object(properties), None)
        .await
    {
        Ok(task) => Ok(to_task(&task)),
        Err(error) => refused(page, error),
    }
}

/// `POST /ui/resources/{id}/unprovision`.
pub(super) async fn unprovision(
    State(api): State<Api>,
    Path(resource_id): Path<String>,
    _form: Form,
) -> Result<Response, UiError> {
    let resource = id(&resource_id, "resource")?;
    let task = api.engine.unprovision(resource, None).await?;
    Ok(to_task(&task))
}

/// `POST /ui/resources/{id}/call/{operation}`: calls an operation that takes no parameters
/// (the resource page's buttons); on to the call's task.
pub(super) async fn call(
    State(api): State<Api>,
    Path((resource_id, operation)): Path<(String, String)>,
    _form: Form,
) -> Result<Response, UiError> {
    let resource = super::pages::stored(&api, &resource_id).await?;
    let (_, package) = api.engine.instance(resource.application_id).await?;
    let declared = package
        .schema(&resource.service)
        .and_then(|s| s.operations.get(&operation))
        .filter(|op| op.parameters.is_empty())
        .ok_or_else(|| {
            UiError::NotFound(format!(
                "The type has no operation `{operation}` to call without parameters"
            ))
        })?;
    let task = api
        .engine
        .call(resource.id, &declared.verb, &declared.path, &[], None)
        .await?;
    Ok(to_task(&task))
}

/// `POST /ui/tasks/{id}/cancel`: back to the task's page, which shows how it ended.
pub(super) async fn cancel(
    State(api): State<Api>,
    Path(task_id): Path<String>,
    _form: Form,
) -> Result<Response, UiError> {
    match api.engine.cancel(id(&task_id, "task")?).await? {
        Canceled::Now(task) | Canceled::AlreadyEnded(task) => Ok(to_task(&task)),
        Canceled::Unknown => Err(UiError::NotFound(format!("There is no task {task_id}"))),
    }
}
