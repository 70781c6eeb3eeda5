//! Checking what a client sends against the type's schema: a resource's properties, an
//! operation's parameters. One rule for both: a value must be of its declared type
//! ([`aps_protocol::typecheck`]) and, when the declaration lists an `enum`, one of its values.
//! Every refusal names what it is about.

use aps_protocol::TypeSchema;
use aps_protocol::operation::{OperationDecl, ParameterKind};
use aps_protocol::typecheck;
use serde_json::{Map, Value};

use super::OperationError;

/// Checks one value against its declared type and `enum` (from the declaration's other
/// members).
fn value(
    kind: &'static str,
    name: &str,
    declared: &str,
    other: &Map<String, Value>,
    value: &Value,
) -> Result<(), OperationError> {
    typecheck::check(declared, value).map_err(|mismatch| {
        OperationError::field(kind, name, format!("{} `{name}` {mismatch}", capital(kind)))
    })?;
    if let Some(Value::Array(allowed)) = other.get("enum") {
        if !allowed.contains(value) {
            let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
            return Err(OperationError::field(
                kind,
                name,
                format!(
                    "{} `{name}` must be one of {}, not {value}",
                    capital(kind),
                    listed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn capital(kind: &str) -> String {
    let mut chars = kind.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Checks properties against the schema: each declared one given is of its type (and one of
/// its `enum`); `null` clears an optional one. For a `new` resource, each required property
/// without a default must be given. Properties the schema does not declare pass (APS types
/// may be extended by the endpoint).
pub(super) fn properties(
    schema: &TypeSchema,
    given: &Map<String, Value>,
    new: bool,
) -> Result<(), OperationError> {
    for (name, declared) in &schema.properties {
        let missing =
            || OperationError::field("property", name, format!("Property `{name}` is required"));
        match given.get(name) {
            Some(Value::Null) | None if declared.required && declared.default.is_none() => {
                if new || given.contains_key(name) {
                    return Err(missing());
                }
            }
            Some(Value::Null) | None => {}
            Some(v) => value("property", name, &declared.kind, &declared.other, v)?,
        }
    }
    Ok(())
}

/// Checks a call's query parameters and body against the operation's declaration: every query
/// parameter given must be declared (an unknown one is refused, so a misspelt name is not
/// silently dropped) and readable as its type; every required one must be given; the body is
/// the body parameter, or nothing when the operation declares none.
pub(super) fn parameters(
    operation: &str,
    decl: &OperationDecl,
    query: &[(String, String)],
    body: Option<&Value>,
) -> Result<(), OperationError> {
    for (name, text) in query {
        let declared = decl
            .parameters
            .get(name)
            .filter(|p| p.kind == ParameterKind::Query)
            .ok_or_else(|| {
                OperationError::field(
                    "parameter",
                    name,
                    format!("The operation `{operation}` has no query parameter `{name}`"),
                )
            })?;
        let read = declared.read_query(text).map_err(|why| {
            OperationError::field("parameter", name, format!("Parameter `{name}`: {why}"))
        })?;
        value(
            "parameter",
            name,
            &declared.kind_of_value,
            &declared.other,
            &read,
        )?;
    }
    for (name, declared) in decl.query() {
        if declared.required && !query.iter().any(|(n, _)| n == name) {
            return Err(OperationError::field(
                "parameter",
                name,
                format!("The query parameter `{name}` is required"),
            ));
        }
    }
    let body = body.filter(|b| !b.is_null());
    match (decl.body(), body) {
        (Some((name, declared)), Some(body)) => value(
            "parameter",
            name,
            &declared.kind_of_value,
            &declared.other,
            body,
        ),
        (Some((name, declared)), None) if declared.required => Err(OperationError::field(
            "parameter",
            name,
            format!("The body parameter `{name}` is required (the request's JSON body)"),
        )),
        (None, Some(_)) => Err(OperationError::field(
            "parameter",
            "body",
            format!("The operation `{operation}` takes no body"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> TypeSchema {
        serde_json::from_value(json!({
            "apsVersion": "2.0", "id": "http://x/t/1.0", "name": "t",
            "properties": {
                "name": {"type": "string", "required": true},
                "plan": {"type": "string", "required": true, "default": "basic", "enum": ["basic", "pro"]},
                "size": {"type": "integer"}
            }
        }))
        .unwrap()
    }

    fn refusal(result: Result<(), OperationError>) -> (String, String) {
        match result {
            Err(OperationError::Field { name, message, .. }) => (name, message),
            other => panic!("not a field refusal: {other:?}"),
        }
    }

    #[test]
    fn properties_are_checked_by_type_enum_and_presence() {
        let s = schema();
        let ok = json!({"name": "a", "size": 3, "extra": [1]});
        assert!(properties(&s, ok.as_object().unwrap(), true).is_ok());
        let (name, message) = refusal(properties(&s, &Map::new(), true));
        assert_eq!(
            (name.as_str(), message.as_str()),
            ("name", "Property `name` is required")
        );
        assert!(properties(&s, &Map::new(), false).is_ok());
        let bad = json!({"name": "a", "size": "3"});
        let (name, message) = refusal(properties(&s, bad.as_object().unwrap(), true));
        assert_eq!(name, "size");
        assert!(
            message.contains("must be an integer, not a string"),
            "{message}"
        );
        let off = json!({"name": "a", "plan": "gold"});
        assert_eq!(
            refusal(properties(&s, off.as_object().unwrap(), false)).0,
            "plan"
        );
        let cleared = json!({"name": null});
        assert_eq!(
            refusal(properties(&s, cleared.as_object().unwrap(), false)).0,
            "name"
        );
    }

    #[test]
    fn parameters_are_checked_against_the_declaration() {
        let op: OperationDecl = serde_json::from_value(json!({
            "verb": "GET", "path": "/stats",
            "parameters": {"days": {"kind": "query", "type": "integer", "required": true}}
        }))
        .unwrap();
        let q = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        assert!(parameters("stats", &op, &q("days", "7"), None).is_ok());
        assert_eq!(refusal(parameters("stats", &op, &[], None)).0, "days");
        assert_eq!(
            refusal(parameters("stats", &op, &q("days", "x"), None)).0,
            "days"
        );
        assert_eq!(
            refusal(parameters("stats", &op, &q("weeks", "1"), None)).0,
            "weeks"
        );
        let body = json!({"a": 1});
        assert_eq!(
            refusal(parameters("stats", &op, &q("days", "1"), Some(&body))).0,
            "body"
        );
    }
}
