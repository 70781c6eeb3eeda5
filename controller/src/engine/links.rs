//! Links between resources: checking a link against the declared relations
//! ([`super::relations`]), telling the endpoint, storing it, and showing links in a resource's
//! JSON.
//!
//! A link is stored only after the endpoint accepted its notification (2xx; 404, 405 and 501
//! too: an endpoint with nothing to do about the relation). A relation whose type has exactly
//! one relation back to the linking type (`websites.domains` and `domains.website`) is one link
//! seen from both sides: both directions are stored and removed together, and a single
//! relation is full on either side.

use aps_protocol::headers::Phase;
use aps_protocol::relation::Link;
use http::Method;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::relations::{self, declared, fits, given, inverse, schema_of, with_links};
use super::{Engine, OperationError};
use crate::endpoint::{Call, Unreachable};
use crate::package::PackageModel;
use crate::store::{ApplicationRow, LinkRow, Linked, ResourceRow, StoreError};
use crate::task::{JsonText, Record};

impl Engine {
    /// The resource a provision, install or configure sends: the task's own, with its links.
    pub(super) async fn sent(&self, record: &Record) -> Result<Option<Value>, StoreError> {
        let Some(body) = record.work.body.as_ref().map(JsonText::value) else {
            return Ok(None);
        };
        let task = &record.task;
        let shown = self
            .with_links_of(
                task.application,
                &task.resource.service,
                task.resource.id,
                body,
            )
            .await?;
        Ok(Some(shown))
    }

    /// A resource's JSON as clients and endpoints see it: with its links.
    pub(crate) async fn resource_json(&self, row: ResourceRow) -> Result<Value, StoreError> {
        self.with_links_of(row.application_id, &row.service, row.id, row.body)
            .await
    }

    /// `body`, the JSON of resource `id` of `service` in instance `application`, with its
    /// links. Without the instance or its package (nothing to read the relations from) the
    /// body is answered as it is.
    pub(crate) async fn with_links_of(
        &self,
        application: Uuid,
        service: &str,
        id: Uuid,
        body: Value,
    ) -> Result<Value, StoreError> {
        let package = match self.store.application(application).await? {
            Some(app) => self.store.package(app.package_id).await?,
            None => None,
        };
        let Some(schema) = package.as_ref().and_then(|p| p.schema(service)) else {
            return Ok(body);
        };
        if schema.relations.is_empty() {
            return Ok(body);
        }
        let links = self.store.links_of(id).await?;
        Ok(with_links(body, schema, &links))
    }

    /// The resources linked to `id` under `relation`, as JSON.
    pub(crate) async fn linked(
        &self,
        id: Uuid,
        relation: &str,
    ) -> Result<Vec<Value>, OperationError> {
        let row = self.stored_resource(id).await?;
        let (_, package) = self.instance(row.application_id).await?;
        declared(schema_of(&package, &row)?, relation)?;
        let mut items = Vec::new();
        for (name, target) in self.store.links_of(id).await? {
            if name != relation {
                continue;
            }
            // A target removed meanwhile took its links with it.
            if let Some(target) = self.store.resource(target).await? {
                let schema = schema_of(&package, &target)?;
                let links = self.store.links_of(target.id).await?;
                items.push(with_links(target.body, schema, &links));
            }
        }
        Ok(items)
    }

    /// Links `relation` of resource `id` to `target`. With `notify`, the endpoint is told first
    /// (`POST /{service}/{id}/{relation}` with the target's JSON) and nothing is stored when it
    /// refuses; without (the endpoint asked for the link itself), it is stored at once.
    pub(crate) async fn link(
        &self,
        id: Uuid,
        relation: &str,
        target: Uuid,
        notify: bool,
    ) -> Result<Link, OperationError> {
        let source = self.stored_resource(id).await?;
        let (app, package) = self.instance(source.application_id).await?;
        let other = self.store.resource(target).await?.ok_or_else(|| {
            OperationError::field(
                "relation",
                relation,
                format!("There is no resource {target}"),
            )
        })?;
        let planned = relations::plan(&package, &source, relation, &other)?;
        let link = Link::new(planned.kind, &target.to_string());
        // Linking again what is linked changes nothing and tells nobody.
        let held = self.store.links_of(id).await?;
        if held.iter().any(|(r, t)| r == relation && *t == target) {
            return Ok(link);
        }
        // Checked before the endpoint hears of it, and again when stored.
        for (resource, name) in &planned.single {
            let held = self.store.links_of(*resource).await?;
            if let Some((_, other_id)) = held.iter().find(|(r, _)| r == name) {
                return Err(relations::taken(*resource, name, *other_id));
            }
        }
        if notify {
            let body = self.resource_json(other).await?;
            let path = vec![
                source.service.clone(),
                source.id.to_string(),
                relation.to_owned(),
            ];
            self.notify(&app, Method::POST, path, Some(&body)).await?;
        }
        match self.store.link(&planned.rows, &planned.single).await? {
            Linked::Done | Linked::Already => Ok(link),
            Linked::Taken {
                resource,
                relation,
                other,
            } => Err(relations::taken(resource, &relation, other)),
        }
    }

    /// Removes the link of `relation` of resource `id` to `target`; with `notify` the endpoint
    /// is told first (`DELETE /{service}/{id}/{relation}/{target}`).
    pub(crate) async fn unlink(
        &self,
        id: Uuid,
        relation: &str,
        target: Uuid,
        notify: bool,
    ) -> Result<(), OperationError> {
        let source = self.stored_resource(id).await?;
        let (app, package) = self.instance(source.application_id).await?;
        let schema = schema_of(&package, &source)?;
        declared(schema, relation)?;
        let held = self.store.links_of(id).await?;
        if !held.iter().any(|(r, t)| r == relation && *t == target) {
            return Err(OperationError::NotFound(format!(
                "Resource {id} is not linked to {target} by `{relation}`"
            )));
        }
        let mut rows = vec![LinkRow {
            resource: id,
            relation: relation.to_owned(),
            target,
        }];
        if let Some(other) = self.store.resource(target).await? {
            if let Some((back, _)) = inverse(schema_of(&package, &other)?, schema) {
                rows.push(LinkRow {
                    resource: target,
                    relation: back.to_owned(),
                    target: id,
                });
            }
        }
        if notify {
            let path = vec![
                source.service.clone(),
                source.id.to_string(),
                relation.to_owned(),
                target.to_string(),
            ];
            self.notify(&app, Method::DELETE, path, None).await?;
        }
        self.store.unlink(&rows).await?;
        Ok(())
    }

    /// The links a new resource is provisioned with: the relations given in its properties
    /// (taken out of them), and a required single relation to the application's root when it
    /// is not given. A required relation without a link is refused.
    pub(crate) async fn initial_links(
        &self,
        app: &ApplicationRow,
        package: &PackageModel,
        new: &ResourceRow,
        properties: &mut Map<String, Value>,
    ) -> Result<Vec<LinkRow>, OperationError> {
        let schema = schema_of(package, new)?;
        let mut rows = Vec::new();
        for (name, decl) in &schema.relations {
            let mut targets = match properties.remove(name) {
                Some(value) => given(name, decl, value)?,
                None => Vec::new(),
            };
            let root = package.schema(package.root());
            if targets.is_empty()
                && decl.required
                && !decl.collection
                && root.is_some_and(|r| fits(r, &decl.type_id))
            {
                targets.push(app.root_id);
            }
            if targets.is_empty() && decl.required {
                return Err(OperationError::field(
                    "relation",
                    name,
                    format!(
                        "The relation `{name}` is required: give it as {{\"{name}\": {{\"aps\": {{\"id\": \"<resource id>\"}}}}}}"
                    ),
                ));
            }
            for target in targets {
                let other = self.store.resource(target).await?.ok_or_else(|| {
                    OperationError::field(
                        "relation",
                        name,
                        format!("There is no resource {target}"),
                    )
                })?;
                let planned = relations::plan(package, new, name, &other)?;
                for (resource, relation) in planned.single.iter().filter(|(r, _)| *r != new.id) {
                    let held = self.store.links_of(*resource).await?;
                    if let Some((_, other_id)) = held.iter().find(|(r, _)| r == relation) {
                        return Err(relations::taken(*resource, relation, *other_id));
                    }
                }
                rows.extend(planned.rows);
            }
        }
        Ok(rows)
    }

    /// Tells the endpoint of a link or an unlink; answers once it accepted.
    async fn notify(
        &self,
        app: &ApplicationRow,
        method: Method,
        path: Vec<String>,
        body: Option<&Value>,
    ) -> Result<(), OperationError> {
        let call = Call {
            method,
            base: &app.endpoint,
            path,
            query: &[],
            phase: Phase::Sync,
            instance: app.id,
            transaction: Uuid::new_v4(),
            body,
            install: false,
        };
        let reply = self
            .endpoints
            .call(&call)
            .await
            .map_err(|Unreachable(why)| OperationError::Unreachable(why))?;
        match reply.status {
            200..=299 | 404 | 405 | 501 => Ok(()),
            status => {
                let mut error = super::outcome::endpoint_error(status, &reply.body);
                if !(400..500).contains(&error.code) {
                    error.code = 502;
                }
                Err(OperationError::Refused(error))
            }
        }
    }
}
