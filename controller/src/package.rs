//! The application model a controller imports: `APP-META.xml` and the type schemas it names.
//!
//! A [`PackageModel`] comes either from an uploaded `.app.zip` or, in the `dev` command and the
//! test kit, straight from the endpoint framework (which produces the same `AppMeta` and
//! `TypeSchema`s without a zip). Both paths import through the same code.

use std::collections::BTreeMap;

use aps_protocol::operation::OperationDecl;
use aps_protocol::relation::RelationDecl;
use aps_protocol::schema::APPLICATION_TYPE;
use aps_protocol::{AppMeta, TypeSchema};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// An application's package model: its meta data and one type schema per service.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageModel {
    /// `APP-META.xml`.
    pub meta: AppMeta,
    /// The type schema of each service, by service id.
    pub schemas: Vec<(String, TypeSchema)>,
}

/// Why a package model cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// A service of `APP-META.xml` has no schema.
    #[error("service `{0}` has no type schema")]
    MissingSchema(String),
    /// No service implements the application type, and there is no service at all.
    #[error("the package declares no services")]
    NoServices,
}

impl PackageModel {
    /// A model from its parts, checked: every service of `meta` must have a schema.
    pub fn new(meta: AppMeta, schemas: Vec<(String, TypeSchema)>) -> Result<Self, ModelError> {
        let model = Self { meta, schemas };
        if model.meta.services.is_empty() {
            return Err(ModelError::NoServices);
        }
        if let Some(s) = model
            .meta
            .services
            .iter()
            .find(|s| model.schema(&s.id).is_none())
        {
            return Err(ModelError::MissingSchema(s.id.clone()));
        }
        Ok(model)
    }

    /// The schema of a service.
    pub fn schema(&self, service: &str) -> Option<&TypeSchema> {
        self.schemas
            .iter()
            .find(|(id, _)| id == service)
            .map(|(_, s)| s)
    }

    /// The root service: the one whose type implements the APS application type, else the first.
    pub fn root(&self) -> &str {
        self.schemas
            .iter()
            .find(|(_, s)| s.implements.iter().any(|t| t == APPLICATION_TYPE))
            .or(self.schemas.first())
            .map_or("", |(id, _)| id)
    }

    /// The service that implements a type, looked up by type id or by service id.
    pub fn service_for(&self, type_or_service: &str) -> Option<(&str, &TypeSchema)> {
        self.schemas
            .iter()
            .find(|(id, s)| s.id == type_or_service || id == type_or_service)
            .map(|(id, s)| (id.as_str(), s))
    }

    /// Fills in the declared defaults of the properties a new resource does not set.
    pub(crate) fn apply_defaults(schema: &TypeSchema, properties: &mut Map<String, Value>) {
        for (name, property) in &schema.properties {
            if let Some(default) = &property.default {
                properties
                    .entry(name.clone())
                    .or_insert_with(|| default.clone());
            }
        }
    }
}

impl From<aps_package::Package> for PackageModel {
    fn from(package: aps_package::Package) -> Self {
        Self {
            meta: package.meta,
            schemas: package.schemas.into_iter().collect(),
        }
    }
}

/// An imported package, as `POST /api/v1/packages` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct PackageInfo {
    /// The package id, made by the controller.
    pub id: Uuid,
    /// The application name.
    pub name: String,
    /// The version.
    pub version: String,
    /// The release.
    pub release: String,
    /// The services and their type ids.
    pub services: Vec<ServiceInfo>,
    /// The root service id.
    pub root: String,
}

/// One service of a package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct ServiceInfo {
    /// The service id.
    pub id: String,
    /// The type id.
    #[serde(rename = "type")]
    pub type_id: String,
    /// The type's custom operations, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "engine", schema(value_type = Object, additional_properties = true))]
    pub operations: BTreeMap<String, OperationDecl>,
    /// The type's relations, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "engine", schema(value_type = Object, additional_properties = true))]
    pub relations: BTreeMap<String, RelationDecl>,
}

impl PackageInfo {
    /// The summary of a model imported under `id`.
    pub(crate) fn of(id: Uuid, model: &PackageModel) -> Self {
        Self {
            id,
            name: model.meta.name.clone(),
            version: model.meta.version.clone(),
            release: model.meta.release.clone(),
            services: model
                .schemas
                .iter()
                .map(|(id, s)| ServiceInfo {
                    id: id.clone(),
                    type_id: s.id.clone(),
                    operations: s.operations.clone(),
                    relations: s.relations.clone(),
                })
                .collect(),
            root: model.root().to_owned(),
        }
    }
}
