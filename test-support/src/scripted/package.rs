//! The scripted endpoint's package: the application root `app` and the resource `thing`.

use aps_controller::PackageModel;
use aps_protocol::schema::{APPLICATION_TYPE, RESOURCE_TYPE};
use aps_protocol::{AppMeta, ServiceMeta, TypeSchema};
use serde_json::json;

/// The type id of the application root.
pub const APP: &str = "http://example.com/scripted/app/1.0";
/// The type id of `thing`.
pub const THING: &str = "http://example.com/scripted/thing/1.0";

impl super::Scripted {
    /// The package model (as the framework makes one, without a zip): services `app` and
    /// `thing`, each with the properties `plan` (the answers), `size` (default 1) and `label`.
    pub fn model() -> PackageModel {
        model()
    }
}

fn model() -> PackageModel {
    let services = [
        ("app", APP, APPLICATION_TYPE),
        ("thing", THING, RESOURCE_TYPE),
    ];
    let meta = AppMeta {
        id: "http://example.com/scripted".into(),
        name: "scripted".into(),
        version: "1.0".into(),
        release: "1".into(),
        services: services
            .iter()
            .map(|(service, ..)| ServiceMeta {
                id: (*service).into(),
                schema: Some(format!("schemas/{service}.schema")),
                code: None,
            })
            .collect(),
        ..AppMeta::default()
    };
    let schemas = services
        .iter()
        .map(|(service, id, implements)| ((*service).to_owned(), schema(service, id, implements)))
        .collect();
    PackageModel::new(meta, schemas).expect("the scripted package names a schema for each service")
}

fn schema(name: &str, id: &str, implements: &str) -> TypeSchema {
    serde_json::from_value(json!({
        "apsVersion": "2.0", "id": id, "name": name, "implements": [implements],
        "properties": {
            "plan": {"type": "array"},
            "size": {"type": "integer", "default": 1},
            "label": {"type": "string"},
        }
    }))
    .expect("the scripted schemas are well-formed")
}
