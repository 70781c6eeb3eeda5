//! Checking a value against a declared type: a property's `type`, an operation parameter's
//! `type`. Both sides use the same rules: the controller before it stores a resource or calls
//! an operation, an endpoint before it acts on a parameter.
//!
//! The JSON types `string`, `integer`, `number`, `boolean`, `array` and `object` are checked;
//! any other declared type (a structure name, a type id) must be an object. A query parameter
//! arrives as text and is read as its declared type first
//! ([`Parameter::read_query`](crate::operation::Parameter::read_query)).
//!
//! ```
//! use aps_protocol::typecheck::check;
//! use serde_json::json;
//!
//! assert!(check("integer", &json!(7)).is_ok());
//! assert_eq!(
//!     check("integer", &json!("7")).unwrap_err().to_string(),
//!     "must be an integer, not a string"
//! );
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
}
