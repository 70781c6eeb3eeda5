//! APS type schemas generated from Rust types through `schemars`.
//!
//! A struct field becomes a property: its JSON type gives `type`, its doc comment
//! `description`, a field without `Option` or `#[serde(default)]` is `required`, and
//! `#[schemars(extend("readOnly" = true))]` makes it `readonly`. The flattened
//! [`Resource`](crate::Resource) adds nothing: `aps` and unknown properties are not declared.
//!
//! A field of type [`Link`](crate::Link) (required), `Option<Link>` or [`Links`](crate::Links)
//! (a collection) is a relation, not a property: its target's type id, resolved like the type's
//! own, goes into `relations`. The operations that `#[aps::operations]` declares go into
//! `operations`.

use std::collections::BTreeMap;

use aps_core::__private::{RELATION_MARK, kind, resolve};
use aps_protocol::TypeSchema;
use aps_protocol::operation::OperationDecl;
use aps_protocol::relation::RelationDecl;
use aps_protocol::schema::{APPLICATION_TYPE, Property, RESOURCE_TYPE};
use serde_json::{Map, Value};

/// What a type schema is made of besides the type's JSON schema.
pub(crate) struct Declared<'a> {
    /// The service id.
    pub(crate) service: &'a str,
    /// The application id, which relative type ids are resolved against.
    pub(crate) app_id: &'a str,
    /// The type id as registered (absolute or relative).
    pub(crate) type_id: &'a str,
    /// Whether it is the root type.
    pub(crate) root: bool,
    /// Its custom operations.
    pub(crate) operations: BTreeMap<String, OperationDecl>,
}

/// A type id, absolute or relative to the application id, made absolute.
pub(crate) fn absolute(app_id: &str, type_id: &str) -> String {
    if type_id.contains("://") {
        type_id.to_owned()
    } else {
        format!("{}/{type_id}", app_id.trim_end_matches('/'))
    }
}

/// The APS schema of a type, from its JSON schema.
pub(crate) fn type_schema(declared: Declared<'_>, json: &schemars::Schema) -> TypeSchema {
    let json = json.as_value();
    let defs = json.get("$defs").and_then(Value::as_object);
    let required: Vec<&str> = json
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut properties = BTreeMap::new();
    let mut relations = BTreeMap::new();
    let fields = json.get("properties").and_then(Value::as_object);
    for (name, schema) in fields.into_iter().flatten() {
        if name == "aps" {
            continue;
        }
        let required = required.contains(&name.as_str());
        let resolved = resolve(schema, defs);
        if let Some(target) = resolved.get(RELATION_MARK) {
            let target_id = target
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let collection = target.get("collection").and_then(Value::as_bool) == Some(true);
            let relation = RelationDecl {
                type_id: absolute(declared.app_id, target_id),
                required: required && !collection,
                collection,
                other: Map::new(),
            };
            relations.insert(name.clone(), relation);
            continue;
        }
        let mut property = property(schema, defs);
        property.required = required;
        properties.insert(name.clone(), property);
    }
    TypeSchema {
        aps_version: "2.0".into(),
        id: absolute(declared.app_id, declared.type_id),
        name: declared.service.into(),
        implements: vec![
            if declared.root {
                APPLICATION_TYPE
            } else {
                RESOURCE_TYPE
            }
            .into(),
        ],
        properties,
        relations,
        operations: declared.operations,
        structures: Map::new(),
        other: Map::new(),
    }
}

fn property(schema: &Value, defs: Option<&Map<String, Value>>) -> Property {
    let schema = resolve(schema, defs);
    let mut property = Property {
        kind: kind(schema),
        description: text(schema, "description"),
        readonly: schema
            .get("readOnly")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        default: schema.get("default").filter(|d| !d.is_null()).cloned(),
        // Numeric formats (`uint64`, `double`) are JSON Schema's, not APS's; keep the others.
        format: text(schema, "format").filter(|f| {
            !f.starts_with("int") && !f.starts_with("uint") && f != "double" && f != "float"
        }),
        ..Property::default()
    };
    if let Some(values) = schema.get("enum") {
        property.other.insert("enum".into(), values.clone());
    }
    if let Some(items) = schema.get("items") {
        let items = property_json(&self::property(items, defs));
        property.other.insert("items".into(), items);
    }
    property
}

fn property_json(property: &Property) -> Value {
    serde_json::to_value(property).unwrap_or(Value::Null)
}

fn text(schema: &Value, key: &str) -> Option<String> {
    schema.get(key).and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Resource;
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    #[allow(dead_code)]
    #[derive(Serialize, Deserialize, JsonSchema)]
    enum Plan {
        Basic,
        Pro,
    }

    #[allow(dead_code)]
    #[derive(Serialize, Deserialize, JsonSchema)]
    struct Mailbox {
        /// Quota in MiB.
        quota: u64,
        /// Shown to people.
        name: Option<String>,
        plan: Plan,
        aliases: Vec<String>,
        #[schemars(extend("readOnly" = true))]
        #[serde(default)]
        usage: f64,
        #[serde(flatten)]
        resource: Resource,
    }

    fn declared(service: &'static str, root: bool) -> Declared<'static> {
        Declared {
            service,
            app_id: "http://x",
            type_id: "mailbox/1.0",
            root,
            operations: BTreeMap::new(),
        }
    }

    fn mailbox() -> TypeSchema {
        type_schema(declared("mailbox", false), &schemars::schema_for!(Mailbox))
    }

    #[test]
    fn fields_become_typed_properties() {
        let s = mailbox();
        assert_eq!(
            s.properties.keys().collect::<Vec<_>>(),
            ["aliases", "name", "plan", "quota", "usage"]
        );
        let quota = &s.properties["quota"];
        assert_eq!((quota.kind.as_str(), quota.required), ("integer", true));
        assert_eq!(quota.description.as_deref(), Some("Quota in MiB."));
        assert_eq!(quota.format, None);
        let name = &s.properties["name"];
        assert_eq!((name.kind.as_str(), name.required), ("string", false));
        assert_eq!(s.properties["plan"].kind, "string");
        assert_eq!(
            s.properties["plan"].other["enum"],
            serde_json::json!(["Basic", "Pro"])
        );
        assert_eq!(s.properties["aliases"].other["items"]["type"], "string");
        assert!(s.properties["usage"].readonly);
        assert!(!s.properties["usage"].required);
    }

    #[test]
    fn root_types_implement_application() {
        assert_eq!(mailbox().implements, [RESOURCE_TYPE]);
        let root = type_schema(declared("globals", true), &schemars::schema_for!(Resource));
        assert!(root.is_application());
        assert!(root.properties.is_empty());
    }
}
