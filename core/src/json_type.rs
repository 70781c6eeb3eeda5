//! The JSON type of a Rust type, read from its JSON schema: what a type schema declares for a
//! property, a parameter or a response.

use schemars::JsonSchema;
use serde_json::{Map, Value};

/// The JSON type of `T` (`integer`, `string`, `object`, …; `null` for `()`) and whether it is
/// optional (an `Option`).
pub fn json_type<T: JsonSchema>() -> (String, bool) {
    let schema = schemars::schema_for!(T);
    let json = schema.as_value();
    let defs = json.get("$defs").and_then(Value::as_object);
    (kind(resolve(json, defs)), T::_schemars_private_is_option())
}

/// Follows `$ref` into `$defs`, and `Option`'s `anyOf [T, null]` to `T`.
pub fn resolve<'a>(schema: &'a Value, defs: Option<&'a Map<String, Value>>) -> &'a Value {
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

/// The JSON type a (resolved) schema names: the first one that is not `null`; `string` for an
/// enumeration of values, `object` when it names none.
pub fn kind(schema: &Value) -> String {
    let named = match schema.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(types)) => {
            let mut real = types.iter().filter_map(Value::as_str);
            let first = real.clone().next();
            real.find(|t| *t != "null").or(first)
        }
        _ => None,
    };
    match named {
        Some(t) => t.to_owned(),
        None if schema.get("enum").is_some() || schema.get("const").is_some() => "string".into(),
        None => "object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Config {
        size: u8,
    }

    #[test]
    fn rust_types_have_their_json_types() {
        assert_eq!(json_type::<u32>(), ("integer".into(), false));
        assert_eq!(json_type::<Option<u32>>(), ("integer".into(), true));
        assert_eq!(json_type::<String>(), ("string".into(), false));
        assert_eq!(json_type::<Vec<bool>>(), ("array".into(), false));
        assert_eq!(json_type::<Config>(), ("object".into(), false));
        assert_eq!(json_type::<Option<Config>>(), ("object".into(), true));
        assert_eq!(json_type::<()>(), ("null".into(), false));
    }
}
