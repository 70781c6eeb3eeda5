//! Checking a value against a declared type: a property's `type`, an operation parameter's
//! `type`. Both sides use the same rules: the controller before it stores a resource or calls
//! an operation, an endpoint before it acts on a parameter.
//!
//! The JSON types `string`, `integer`, `number`, `boolean`, `array` and `object` are checked;
//! any other declared type (a structure name, a type id) must be an object. A query parameter
//! arrives as text and is read as its declared type first ([`from_query`]).
//!
//! ```
//! use aps_protocol::typecheck::{check, from_query};
//! use serde_json::json;
//!
//! assert!(check("integer", &json!(7)).is_ok());
//! assert_eq!(check("integer", &json!("7")).unwrap_err().to_string(), "must be an integer, not a string");
//! assert_eq!(from_query("integer", "30").unwrap(), json!(30));
//! assert!(from_query("boolean", "maybe").is_err());
//! ```

use serde_json::Value;

/// A value that is not of its declared type; says what was expected and what came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be {expected}, not {found}")]
pub struct Mismatch {
    /// The declared type, as a phrase (`an integer`).
    pub expected: String,
    /// What came instead, as a phrase (`a string`, or the text of a query value).
    pub found: String,
}

/// The declared type as a phrase.
fn expected(declared: &str) -> String {
    match declared {
        "string" | "number" | "boolean" | "array" | "object" => format!("a {declared}"),
        "integer" => "an integer".to_owned(),
        other => format!("an object (`{other}`)"),
    }
}

/// What a JSON value is, as a phrase.
fn found(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether `value` is of the `declared` type (`null` never is: an absent value is the
/// caller's to judge).
pub fn check(declared: &str, value: &Value) -> Result<(), Mismatch> {
    let fits = match declared {
        "string" => value.is_string(),
        // 3.0 is an integer too: JSON does not tell them apart.
        "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        _ => value.is_object(),
    };
    if fits {
        Ok(())
    } else {
        Err(Mismatch {
            expected: expected(declared),
            found: found(value).to_owned(),
        })
    }
}

/// A query parameter's text read as its `declared` type: numbers and booleans as such, a
/// string as it came, anything else as JSON text.
pub fn from_query(declared: &str, text: &str) -> Result<Value, Mismatch> {
    let mismatch = || Mismatch {
        expected: expected(declared),
        found: format!("`{text}`"),
    };
    let value = match declared {
        "string" => Value::String(text.to_owned()),
        "integer" => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| mismatch())?,
        "number" => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(mismatch)?,
        "boolean" => match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(mismatch()),
        },
        _ => serde_json::from_str(text).map_err(|_| mismatch())?,
    };
    check(declared, &value).map_err(|_| mismatch())?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_types_are_told_apart() {
        assert!(check("integer", &json!(3.0)).is_ok());
        assert!(check("integer", &json!(3.5)).is_err());
        assert!(check("number", &json!(3)).is_ok());
        assert!(check("string", &Value::Null).is_err());
        assert!(check("http://x/t/1.0#S", &json!({})).is_ok());
        assert!(check("Limits", &json!([1])).is_err());
        assert_eq!(
            check("boolean", &json!("yes")).unwrap_err().to_string(),
            "must be a boolean, not a string"
        );
    }

    #[test]
    fn query_text_is_read_as_its_type() {
        assert_eq!(from_query("number", "2.5").unwrap(), json!(2.5));
        assert_eq!(from_query("string", "7").unwrap(), json!("7"));
        assert_eq!(from_query("array", "[1,2]").unwrap(), json!([1, 2]));
        assert!(from_query("integer", "2.5").is_err());
        assert!(from_query("number", "NaN").is_err());
        assert!(from_query("object", "[]").is_err());
    }
}
