//! The pages that show what is installed: applications, an application's resources by type,
//! and a resource.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use serde_json::Value;
use uuid::Uuid;

use super::csrf::Token;
use super::view::{TaskView, UiError, id, render, status, text};
use crate::api::Api;
use crate::store::{ResourceRow, TaskFilter};

/// How many of a resource's tasks its page lists.
const RESOURCE_TASKS: u32 = 20;

struct AppRow {
    id: Uuid,
    name: String,
    version: String,
    package: Uuid,
    endpoint: String,
    status: String,
}

#[derive(Template)]
#[template(path = "applications.html")]
struct Applications {
    apps: Vec<AppRow>,
}

/// `/ui/`: the installed application instances.
pub(super) async fn applications(State(api): State<Api>) -> Result<Html<String>, UiError> {
    let mut apps = Vec::new();
    for app in api.engine.store().applications().await? {
        let (app, package) = api.engine.instance(app.id).await?;
        let root = api.engine.store().resource(app.root_id).await?;
        apps.push(AppRow {
            id: app.id,
            name: package.meta.name,
            version: format!("{}-{}", package.meta.version, package.meta.release),
            package: app.package_id,
            endpoint: app.endpoint,
            status: root.map_or_else(|| "gone".into(), |r| status(&r.body)),
        });
    }
    render(&Applications { apps })
}

struct ResourceItem {
    id: Uuid,
    status: String,
}

struct TypeGroup {
    service: String,
    type_id: String,
    root: bool,
    resources: Vec<ResourceItem>,
}

#[derive(Template)]
#[template(path = "application.html")]
struct Application {
    id: Uuid,
    name: String,
    version: String,
    endpoint: String,
    types: Vec<TypeGroup>,
}

/// `/ui/applications/{id}`: an instance's resources, by type, and a Create button per type.
pub(super) async fn application(
    State(api): State<Api>,
    Path(app_id): Path<String>,
) -> Result<Html<String>, UiError> {
    let (app, package) = api
        .engine
        .instance(id(&app_id, "application instance")?)
        .await?;
    let resources = api.engine.store().resources(Some(app.id), None).await?;
    let root = package.root();
    let types = package
        .schemas
        .iter()
        .map(|(service, schema)| TypeGroup {
            service: service.clone(),
            type_id: schema.id.clone(),
            root: service == root,
            resources: resources
                .iter()
                .filter(|r| &r.service == service)
                .map(|r| ResourceItem {
                    id: r.id,
                    status: status(&r.body),
                })
                .collect(),
        })
        .collect();
    render(&Application {
        id: app.id,
        name: package.meta.name.clone(),
        version: format!("{}-{}", package.meta.version, package.meta.release),
        endpoint: app.endpoint,
        types,
    })
}

struct PropertyRow {
    name: String,
    value: String,
    description: String,
}

/// A declared relation and what it links to.
struct RelationRow {
    name: String,
    collection: bool,
    linked: Vec<Uuid>,
}

/// A declared operation; `button` when it takes no parameters, so the page can call it.
struct OperationRow {
    name: String,
    verb: String,
    path: String,
    button: bool,
}

#[derive(Template)]
#[template(path = "resource.html")]
struct Resource {
    id: Uuid,
    service: String,
    type_id: String,
    status: String,
    application: Uuid,
    app_name: String,
    root: bool,
    properties: Vec<PropertyRow>,
    relations: Vec<RelationRow>,
    operations: Vec<OperationRow>,
    tasks: Vec<TaskView>,
    csrf: String,
}

/// A stored resource, or the page saying there is none.
pub(super) async fn stored(api: &Api, text_id: &str) -> Result<ResourceRow, UiError> {
    let id = id(text_id, "resource")?;
    api.engine
        .store()
        .resource(id)
        .await?
        .ok_or_else(|| UiError::NotFound(format!("There is no resource {id}")))
}

/// `/ui/resources/{id}`: properties, status, its tasks, and the Edit and Unprovision buttons.
pub(super) async fn resource(
    State(api): State<Api>,
    Path(resource_id): Path<String>,
    token: axum::Extension<Token>,
) -> Result<Html<String>, UiError> {
    let row = stored(&api, &resource_id).await?;
    let (app, package) = api.engine.instance(row.application_id).await?;
    let schema = package.schema(&row.service);
    let description = |name: &str| {
        schema
            .and_then(|s| s.properties.get(name))
            .and_then(|p| p.description.clone())
            .unwrap_or_default()
    };
    let is_relation = |name: &str| schema.is_some_and(|s| s.relations.contains_key(name));
    let properties = match &row.body {
        Value::Object(members) => members
            .iter()
            .filter(|(name, _)| *name != "aps" && !is_relation(name))
            .map(|(name, value)| PropertyRow {
                name: name.clone(),
                value: text(value),
                description: description(name),
            })
            .collect(),
        _ => Vec::new(),
    };
    let filter = TaskFilter {
        state: None,
        resource: Some(row.id),
        before: None,
        limit: RESOURCE_TASKS,
    };
    let tasks = api.engine.store().tasks(&filter).await?;
    let links = api.engine.store().links_of(row.id).await?;
    let relations = schema
        .iter()
        .flat_map(|s| &s.relations)
        .map(|(name, decl)| RelationRow {
            name: name.clone(),
            collection: decl.collection,
            linked: links
                .iter()
                .filter(|(relation, _)| relation == name)
                .map(|(_, target)| *target)
                .collect(),
        })
        .collect();
    let operations = schema
        .iter()
        .flat_map(|s| &s.operations)
        .map(|(name, op)| OperationRow {
            name: name.clone(),
            verb: op.verb.to_string(),
            path: op.path.clone(),
            button: op.parameters.is_empty(),
        })
        .collect();
    render(&Resource {
        id: row.id,
        status: status(&row.body),
        root: row.id == app.root_id,
        service: row.service,
        type_id: row.type_id,
        application: app.id,
        app_name: package.meta.name.clone(),
        properties,
        relations,
        operations,
        tasks: tasks.iter().map(|(_, t)| TaskView::from(t)).collect(),
        csrf: token.value(),
    })
}
