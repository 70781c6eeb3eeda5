//! APS type schemas generated from Rust types through `schemars`.
//!
//! A struct field becomes a property: its JSON type gives `type`, its doc comment
//! `description`, a field without `Option` or `#[serde(default)]` is `required`, and
//! `#[schemars(extend("readOnly" = true))]` makes it `readonly`. The flattened
//! [`Resource`](crate::Resource) adds nothing: `aps` and unknown properties are not declared.

use std::collections::BTreeMap;

use aps_protocol::TypeSchema;
use aps_protocol::schema::{APPLICATION_TYPE, Property, RESOURCE_TYPE};
use serde_json::{Map, Value};

/// The APS schema of a type, from its JSON schema.
pub(crate) fn type_schema(
    service: &str,
    type_id: &str,
    root: bool,
    json: &schemars::Schema,
) -> TypeSchema {
    let json = json.as_value();
    let defs = json.get("$defs").and_then(Value::as_object);
    let required: Vec<&str> = json
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let properties: BTreeMap<String, Property> = json
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(name, _)| name.as_str() != "aps")
        .map(|(name, schema)| {
            let mut property = property(schema, defs);
            property.required = required.contains(&name.as_str());
            (name.clone(), property)
        })
        .collect();
    TypeSchema {
        aps_version: "2.0".into(),
        id: type_id.into(),
        name: service.into(),
        implements: vec![
            if root {
                APPLICATION_TYPE
            } else {
                RESOURCE_TYPE
            }
            .into(),
        ],
        properties,
        relations: BTreeMap::new(),
        operations: BTreeMap::new(),
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

/// Follows `$ref` into `$defs`, and `Option`'s `anyOf [T, null]` to `T`.
fn resolve<'a>(schema: &'a Value, defs: Option<&'a Map<String, Value>>) -> &'a Value {
    if let Some(name) = schema.get("$ref").and_then(Value::as_str) {
        let def = name.rsplit('/').next().and_then(|n| defs?.get(n));
        return def.map_or(schema, |d| resolve(d, defs));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(options)) = schema.get(key) {
            let mut real = options
                .iter()
                .filter(|o| o.get("type").and_then(Value::as_str) != Some("null"));
            if let (Some(only), None) = (real.next(), real.next()) {
                return resolve(only, defs);
            }
        }
    }
    schema
}

fn kind(schema: &Value) -> String {
    let named = match schema.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    };
    match named {
        Some(t) => t.to_owned(),
        None if schema.get("enum").is_some() || schema.get("const").is_some() => "string".into(),
        None => "object".into(),
    }
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

    fn mailbox() -> TypeSchema {
        type_schema(
            "mailbox",
            "http://x/mailbox/1.0",
            false,
            &schemars::schema_for!(Mailbox),
        )
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
        let root = type_schema(
            "globals",
            "http://x/globals/1.0",
            true,
            &schemars::schema_for!(Resource),
        );
        assert!(root.is_application());
        assert!(root.properties.is_empty());
    }
}
