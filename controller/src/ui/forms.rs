//! Forms made from a type's schema, and reading them back into properties.
//!
//! Every writable property becomes a labelled field: a list for an `enum` or a boolean, a text
//! field for strings and numbers, a JSON text area for arrays, objects and structures. Numbers
//! are typed as text (with a numeric keyboard on phones) so that what the user typed reaches
//! the controller, which checks it against the schema and says what is wrong beside the field.

use aps_protocol::TypeSchema;
use aps_protocol::json::MAX_DEPTH;
use aps_protocol::schema::Property;
use serde_json::{Map, Number, Value};

use super::csrf::Form;
use super::view::text;

/// The prefix of a property's field name, so no property can clash with `csrf`.
const PREFIX: &str = "p.";

/// How a field is shown.
pub(super) enum Input {
    /// One line of text; `mode` is the `inputmode` hint for on-screen keyboards.
    Line { mode: &'static str },
    /// One of these values (as text); the empty one means "not set".
    Choice(Vec<String>),
    /// JSON text.
    Json,
}

/// One field of a form.
pub(super) struct Field {
    /// The property name.
    pub name: String,
    /// The form field's name.
    pub key: String,
    /// The HTML id (numbered, since property names may hold anything).
    pub html_id: String,
    /// The schema's type, shown beside the label.
    pub kind: String,
    pub description: String,
    pub required: bool,
    pub input: Input,
    /// The text in the field.
    pub value: String,
    /// What is wrong with it.
    pub error: Option<String>,
}

/// Whether a form makes a new resource or changes one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    /// Empty required fields are refused; empty others take the schema's default.
    Create,
    /// Empty fields leave the property as it is.
    Edit,
}

fn choices(property: &Property) -> Option<Vec<Value>> {
    if let Some(Value::Array(values)) = property.other.get("enum") {
        return Some(values.clone());
    }
    (property.kind == "boolean").then(|| vec![Value::Bool(true), Value::Bool(false)])
}

fn input(property: &Property) -> Input {
    if let Some(values) = choices(property) {
        let mut options = vec![String::new()];
        options.extend(values.iter().map(text));
        return Input::Choice(options);
    }
    match property.kind.as_str() {
        "string" => Input::Line { mode: "text" },
        "integer" => Input::Line { mode: "numeric" },
        "number" => Input::Line { mode: "decimal" },
        _ => Input::Json,
    }
}

/// The fields of a type's writable properties, filled with `values` (the stored resource when
/// editing, the schema's defaults when creating).
pub(super) fn fields(
    schema: &TypeSchema,
    purpose: Purpose,
    values: &Map<String, Value>,
) -> Vec<Field> {
    schema
        .properties
        .iter()
        .filter(|(_, p)| !p.readonly)
        .enumerate()
        .map(|(n, (name, property))| {
            let value = match purpose {
                Purpose::Edit => values.get(name),
                Purpose::Create => property.default.as_ref(),
            };
            Field {
                name: name.clone(),
                key: format!("{PREFIX}{name}"),
                html_id: format!("field-{n}"),
                kind: property.kind.clone(),
                description: property.description.clone().unwrap_or_default(),
                required: property.required && purpose == Purpose::Create,
                input: input(property),
                value: value.map(text).unwrap_or_default(),
                error: None,
            }
        })
        .collect()
}

/// The value of a field's text, or what is wrong with it.
fn read(property: &Property, text_in: &str) -> Result<Value, String> {
    if let Some(values) = choices(property) {
        return values
            .iter()
            .find(|v| text(v) == text_in)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<String> = values.iter().map(text).collect();
                format!("must be one of: {}", names.join(", "))
            });
    }
    let trimmed = text_in.trim();
    match property.kind.as_str() {
        "string" => Ok(Value::String(text_in.to_owned())),
        "integer" => trimmed
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("must be a whole number (integer), not “{trimmed}”")),
        "number" => trimmed
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("must be a number, not “{trimmed}”")),
        kind => {
            if aps_protocol::json::nests_deeper_than(trimmed.as_bytes(), MAX_DEPTH) {
                return Err(format!("must not nest deeper than {MAX_DEPTH} levels"));
            }
            let value: Value =
                serde_json::from_str(trimmed).map_err(|e| format!("must be JSON: {e}"))?;
            match (kind, &value) {
                ("array", Value::Array(_)) | ("object", Value::Object(_)) => Ok(value),
                ("array" | "object", _) => Err(format!("must be a JSON {kind}")),
                _ => Ok(value),
            }
        }
    }
}

/// Reads a submitted form against the schema: the properties it sets, or the fields (with the
/// submitted text kept) and what is wrong with them.
pub(super) fn submitted(
    schema: &TypeSchema,
    purpose: Purpose,
    form: &Form,
) -> Result<Map<String, Value>, Vec<Field>> {
    let mut fields = fields(schema, purpose, &Map::new());
    let mut properties = Map::new();
    for field in &mut fields {
        field.value = form.get(&field.key).unwrap_or_default().to_owned();
        if field.value.trim().is_empty() {
            if field.required {
                field.error = Some("is required".into());
            }
            continue;
        }
        match read(&schema.properties[&field.name], &field.value) {
            Ok(value) => {
                properties.insert(field.name.clone(), value);
            }
            Err(error) => field.error = Some(error),
        }
    }
    if fields.iter().any(|f| f.error.is_some()) {
        Err(fields)
    } else {
        Ok(properties)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn property(value: Value) -> Property {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn values_are_read_by_their_declared_type() {
        let integer = property(json!({"type": "integer"}));
        assert_eq!(read(&integer, " 42 "), Ok(json!(42)));
        assert!(read(&integer, "4.5").unwrap_err().contains("whole number"));
        let number = property(json!({"type": "number"}));
        assert_eq!(read(&number, "4.5"), Ok(json!(4.5)));
        assert!(read(&number, "NaN").is_err());
        let flag = property(json!({"type": "boolean"}));
        assert_eq!(read(&flag, "false"), Ok(json!(false)));
        assert!(
            read(&flag, "yes")
                .unwrap_err()
                .contains("one of: true, false")
        );
        let plan = property(json!({"type": "string", "enum": ["small", "large"]}));
        assert_eq!(read(&plan, "large"), Ok(json!("large")));
        assert!(read(&plan, "huge").is_err());
        let list = property(json!({"type": "array"}));
        assert_eq!(read(&list, "[1]"), Ok(json!([1])));
        assert!(read(&list, "{}").unwrap_err().contains("JSON array"));
        let note = property(json!({"type": "string"}));
        assert_eq!(read(&note, " <b> "), Ok(json!(" <b> ")));
    }
}
