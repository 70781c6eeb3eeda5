//! Starting operations: checking a request against the stored instance and package, making the
//! resource's new state and the task record, and handing both to [`Engine::begin`].

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::outcome::{stamp, transitional};
use super::urls::{self, callback};
use super::{Engine, validate};
use crate::package::{PackageInfo, PackageModel};
use crate::store::{ApplicationRow, ResourceRow, StoreError};
use crate::task::{JsonText, Operation, Record, State, Task, TaskResource, Work};
use crate::timestamp::Timestamp;

/// How often an operation on a stored resource is tried when the resource keeps changing.
const ATTEMPTS: usize = 8;

/// Why an operation could not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OperationError {
    /// Something the request names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// A TLS controller would send an instance's key to an endpoint over plain HTTP.
    #[error("{0}")]
    InsecureEndpoint(String),
    /// The resource is an instance's root, which only uninstalling the instance removes.
    #[error("resource {resource} is the root of application instance {application}")]
    Root {
        /// The root resource.
        resource: Uuid,
        /// Its instance.
        application: Uuid,
    },
    /// The instance still has resources other than its root.
    #[error("{0}")]
    InUse(String),
    /// Another task is working on the resource.
    #[error("task {0} is still working on this resource")]
    Busy(Uuid),
    /// A value of the request (a property, a parameter, a relation) is not acceptable.
    #[error("{message}")]
    Field {
        /// `property`, `parameter` or `relation`.
        kind: &'static str,
        /// Its name.
        name: String,
        message: String,
    },
    /// The request conflicts with what is stored (a single relation already linked).
    #[error("{0}")]
    Conflict(String),
    /// The path is declared, but not for this verb; `allow` lists the verbs that are.
    #[error("{message}")]
    WrongVerb { message: String, allow: String },
    /// The endpoint refused (its error, with a 4xx kept and anything else made 502).
    #[error("{}", .0.message)]
    Refused(aps_protocol::ErrorBody),
    /// The endpoint could not be reached.
    #[error("The endpoint could not be reached: {0}")]
    Unreachable(String),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl OperationError {
    /// A value of the request that is not acceptable.
    pub(crate) fn field(kind: &'static str, name: &str, message: impl Into<String>) -> Self {
        Self::Field {
            kind,
            name: name.to_owned(),
            message: message.into(),
        }
    }
}

impl From<StoreError> for OperationError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Busy(task) => Self::Busy(task),
            other => Self::Store(other),
        }
    }
}

/// The properties of a request's resource: an object, without its `aps` member.
fn properties(value: Value, what: &str) -> Result<Map<String, Value>, OperationError> {
    // The controller gives ids; one sent anyway must still be an id, never a path.
    aps_protocol::id::in_resource(&value).map_err(|e| OperationError::Invalid(e.to_string()))?;
    match value {
        Value::Object(mut map) => {
            map.remove("aps");
            Ok(map)
        }
        Value::Null => Ok(Map::new()),
        _ => Err(OperationError::Invalid(format!(
            "{what} must be a JSON object"
        ))),
    }
}

impl Engine {
    async fn package(&self, id: Uuid) -> Result<PackageModel, OperationError> {
        self.store
            .package(id)
            .await?
            .ok_or_else(|| OperationError::NotFound(format!("There is no package {id}")))
    }

    /// An application instance and its package.
    pub(crate) async fn instance(
        &self,
        id: Uuid,
    ) -> Result<(ApplicationRow, PackageModel), OperationError> {
        let app = self.store.application(id).await?.ok_or_else(|| {
            OperationError::NotFound(format!("There is no application instance {id}"))
        })?;
        let package = self.package(app.package_id).await?;
        Ok((app, package))
    }

    pub(super) async fn stored_resource(&self, id: Uuid) -> Result<ResourceRow, OperationError> {
        self.store
            .resource(id)
            .await?
            .ok_or_else(|| OperationError::NotFound(format!("There is no resource {id}")))
    }

    pub(super) fn new_record(
        &self,
        operation: Operation,
        app: &ApplicationRow,
        package: &PackageModel,
        resource: &ResourceRow,
        callback_url: Option<String>,
    ) -> Record {
        let id = Uuid::new_v4();
        let now = Timestamp::now();
        let sends_resource = matches!(
            operation,
            Operation::Install
                | Operation::Provision
                | Operation::Configure
                | Operation::Refresh
                | Operation::Upgrade
        );
        let body = sends_resource.then(|| JsonText::new(&resource.body));
        Record {
            task: Task {
                id,
                name: operation.task_name(&resource.service, &package.meta.name),
                operation,
                application: app.id,
                resource: TaskResource {
                    id: resource.id,
                    type_id: resource.type_id.clone(),
                    service: resource.service.clone(),
                    href: format!("/api/v1/resources/{}", resource.id),
                },
                state: State::Queued,
                description: None,
                output: None,
                attempts: 0,
                next_check: None,
                retry_after: None,
                creation_time: now,
                last_modified: now,
                completion_time: None,
                revision: 1,
                error: None,
                status_uri: format!("/api/v1/tasks/{id}/status"),
                result_uri: format!("/api/v1/tasks/{id}/result"),
            },
            work: Work {
                transaction_id: Uuid::new_v4(),
                phase_async: false,
                endpoint: app.endpoint.clone(),
                body,
                failures: 0,
                deadline: now.plus(self.config.task_deadline),
                callback_url,
                result: None,
                call: None,
                infos: Vec::new(),
                upgrade: None,
            },
        }
    }

    /// Stores a package model under a new id.
    pub(crate) async fn import(&self, model: &PackageModel) -> Result<PackageInfo, StoreError> {
        let id = Uuid::new_v4();
        self.store.insert_package(id, model).await?;
        Ok(PackageInfo::of(id, model))
    }

    /// Installs an application instance: provisions its root resource on the endpoint.
    pub(crate) async fn install(
        &self,
        package_id: Uuid,
        endpoint: String,
        settings: Value,
        callback_url: Option<String>,
    ) -> Result<Task, OperationError> {
        let callback_url = callback(callback_url)?;
        urls::web_endpoint(&endpoint)?;
        // Refused before anything is stored; the endpoint client refuses it again at the call,
        // for installs stored before the controller switched to TLS.
        if let Some(why) = self.endpoints.install_refusal(&endpoint) {
            return Err(OperationError::InsecureEndpoint(why));
        }
        urls::endpoint(&endpoint)?;
        let package = self.package(package_id).await?;
        let root = package.root().to_owned();
        let app = ApplicationRow {
            id: Uuid::new_v4(),
            package_id,
            endpoint,
            settings: settings.clone(),
            root_id: Uuid::new_v4(),
        };
        let settings = properties(settings, "settings")?;
        let resource = self.new_resource(&app, &package, &root, app.root_id, settings)?;
        let record = self.new_record(Operation::Install, &app, &package, &resource, callback_url);
        Ok(self
            .begin(record, Some(&app), Some(&resource), None, &[])
            .await?)
    }

    fn new_resource(
        &self,
        app: &ApplicationRow,
        package: &PackageModel,
        type_or_service: &str,
        id: Uuid,
        mut properties: Map<String, Value>,
    ) -> Result<ResourceRow, OperationError> {
        let (service, schema) = package.service_for(type_or_service).ok_or_else(|| {
            OperationError::Invalid(format!(
                "The application {} has no type or service `{type_or_service}`",
                package.meta.name
            ))
        })?;
        if id != app.root_id && service == package.root() {
            return Err(OperationError::Invalid(format!(
                "`{service}` is the application's root service: install an instance instead"
            )));
        }
        PackageModel::apply_defaults(schema, &mut properties);
        properties.insert(
            "aps".into(),
            json!({"id": id.to_string(), "type": schema.id}),
        );
        let mut body = Value::Object(properties);
        stamp(&mut body, &transitional(Operation::Provision));
        Ok(ResourceRow {
            id,
            application_id: app.id,
            service: service.to_owned(),
            type_id: schema.id.clone(),
            body,
        })
    }

    /// Provisions a new resource of an instance; `resource.aps.type` names its type (a type id
    /// or a service id).
    pub(crate) async fn provision(
        &self,
        application: Uuid,
        resource: Value,
        callback_url: Option<String>,
    ) -> Result<Task, OperationError> {
        let callback_url = callback(callback_url)?;
        let type_id = resource
            .pointer("/aps/type")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| OperationError::Invalid("resource.aps.type is required".into()))?;
        let (app, package) = self.instance(application).await?;
        let mut properties = properties(resource, "resource")?;
        // The links come out of the properties first; the rest is checked against the schema.
        let shell = self.new_resource(&app, &package, &type_id, Uuid::new_v4(), Map::new())?;
        let links = self
            .initial_links(&app, &package, &shell, &mut properties)
            .await?;
        if let Some(schema) = package.schema(&shell.service) {
            validate::properties(schema, &properties, true)?;
        }
        let row = self.new_resource(&app, &package, &type_id, shell.id, properties)?;
        let record = self.new_record(Operation::Provision, &app, &package, &row, callback_url);
        Ok(self.begin(record, None, Some(&row), None, &links).await?)
    }

    /// Changes a resource's properties.
    pub(crate) async fn configure(
        &self,
        id: Uuid,
        changes: Value,
        callback_url: Option<String>,
    ) -> Result<Task, OperationError> {
        let callback_url = callback(callback_url)?;
        let mut changes = properties(changes, "resource")?;
        let row = self.stored_resource(id).await?;
        let (_, package) = self.instance(row.application_id).await?;
        if let Some(schema) = package.schema(&row.service) {
            // Links change through their own requests; the members a client read with the
            // resource and sends back are not properties.
            changes.retain(|name, _| !schema.relations.contains_key(name));
            validate::properties(schema, &changes, false)?;
        }
        self.change_stored(id, Operation::Configure, callback_url, |body| {
            if let Value::Object(body) = body {
                body.extend(changes.clone());
            }
        })
        .await
    }

    /// Removes a resource.
    pub(crate) async fn unprovision(
        &self,
        id: Uuid,
        callback_url: Option<String>,
    ) -> Result<Task, OperationError> {
        let callback_url = callback(callback_url)?;
        let row = self.stored_resource(id).await?;
        let app = self.store.application(row.application_id).await?;
        if let Some(app) = app.filter(|app| app.root_id == id) {
            return Err(OperationError::Root {
                resource: id,
                application: app.id,
            });
        }
        self.change_stored(id, Operation::Unprovision, callback_url, |_| {})
            .await
    }

    /// Uninstalls an instance: unprovisions its root resource on the endpoint, and forgets the
    /// instance when that succeeds. Its other resources must be unprovisioned first.
    pub(crate) async fn uninstall(
        &self,
        id: Uuid,
        callback_url: Option<String>,
    ) -> Result<Task, OperationError> {
        let callback_url = callback(callback_url)?;
        let (app, _) = self.instance(id).await?;
        let others = self
            .store
            .resources(Some(id), None)
            .await?
            .iter()
            .filter(|r| r.id != app.root_id)
            .count();
        if others > 0 {
            return Err(OperationError::InUse(format!(
                "Application instance {id} still has {others} resources besides its root: \
                 unprovision them first"
            )));
        }
        self.change_stored(app.root_id, Operation::Unprovision, callback_url, |_| {})
            .await
    }

    /// Starts an operation on a stored resource: `edit` makes the new resource from the stored
    /// one. Read, edit and start are tried again when the resource changes in between (an
    /// endpoint's `PUT /aps/2`), so no change is lost.
    pub(super) async fn change_stored(
        &self,
        id: Uuid,
        operation: Operation,
        callback_url: Option<String>,
        edit: impl Fn(&mut Value),
    ) -> Result<Task, OperationError> {
        self.change_stored_with(id, operation, callback_url, edit, |_| {})
            .await
    }

    /// [`Engine::change_stored`], with `prepare` completing the new task's record.
    pub(super) async fn change_stored_with(
        &self,
        id: Uuid,
        operation: Operation,
        callback_url: Option<String>,
        edit: impl Fn(&mut Value),
        prepare: impl Fn(&mut Record),
    ) -> Result<Task, OperationError> {
        let (app, package) = self
            .instance(self.stored_resource(id).await?.application_id)
            .await?;
        for _ in 0..ATTEMPTS {
            let mut row = self.stored_resource(id).await?;
            let read = row.body.clone();
            edit(&mut row.body);
            stamp(&mut row.body, &transitional(operation));
            let callback_url = callback_url.clone();
            let mut record = self.new_record(operation, &app, &package, &row, callback_url);
            prepare(&mut record);
            match self.begin(record, None, Some(&row), Some(&read), &[]).await {
                Err(StoreError::Changed(_)) => continue,
                started => return Ok(started?),
            }
        }
        Err(StoreError::Changed(id).into())
    }
}
