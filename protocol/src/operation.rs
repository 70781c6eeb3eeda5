//! Custom operations as a type schema declares them (`operations` in `schemas/{service}.schema`).
//!
//! An operation is called on a resource with its `verb` at `{service}/{id}{path}`; its
//! parameters travel in the query string (`kind: query`) or as the JSON body (`kind: body`, at
//! most one). The shape is the one the official build tool writes:
//!
//! ```
//! use aps_protocol::operation::{OperationDecl, ParameterKind};
//!
//! let declared: OperationDecl = serde_json::from_value(serde_json::json!({
//!     "verb": "GET", "path": "/stats",
//!     "parameters": {"days": {"kind": "query", "type": "integer", "required": true}},
//!     "response": {"contentType": "application/json", "type": "object"},
//!     "access": {"admin": true}
//! })).unwrap();
//! assert_eq!(declared.verb, http::Method::GET);
//! assert_eq!(declared.parameters["days"].kind, ParameterKind::Query);
//! assert_eq!(declared.other["access"]["admin"], true);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// One declared custom operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationDecl {
    /// The HTTP method: `GET`, `POST`, `PUT` or `DELETE`.
    #[serde(serialize_with = "write_verb", deserialize_with = "read_verb")]
    pub verb: http::Method,
    /// The path below the resource, starting with `/` (`/restart`).
    pub path: String,
    /// The parameters, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, Parameter>,
    /// What a successful call answers, when it answers a body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseDecl>,
    /// Every other member (`access`, …), kept as it came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl OperationDecl {
    /// The one body parameter, with its name, if the operation takes one.
    pub fn body(&self) -> Option<(&str, &Parameter)> {
        self.parameters
            .iter()
            .find(|(_, p)| p.kind == ParameterKind::Body)
            .map(|(name, p)| (name.as_str(), p))
    }

    /// The query parameters, by name.
    pub fn query(&self) -> impl Iterator<Item = (&str, &Parameter)> {
        self.parameters
            .iter()
            .filter(|(_, p)| p.kind == ParameterKind::Query)
            .map(|(name, p)| (name.as_str(), p))
    }

    /// The path's segments below the resource (`/usage/daily` is `["usage", "daily"]`).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.path.split('/').filter(|s| !s.is_empty())
    }
}

/// One declared parameter of an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    /// Where it travels.
    pub kind: ParameterKind,
    /// A JSON type (`string`, `integer`, `number`, `boolean`, `array`, `object`) or a type id
    /// with a structure (`http://…/resource/1.0#Notification`).
    #[serde(rename = "type")]
    pub kind_of_value: String,
    /// Whether a call must carry it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Every other member (`description`, `items`, …), kept as it came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Parameter {
    /// A query parameter's text as the JSON value of its declared type, the rule both sides
    /// apply: `integer` is a whole number, `number` any number, `boolean` is `true` or
    /// `false`, `string` is the text itself, and any other type (`array`, `object`, a type id)
    /// is the text read as JSON.
    ///
    /// ```
    /// use aps_protocol::operation::{Parameter, ParameterKind};
    /// use serde_json::json;
    ///
    /// let days = Parameter::new(ParameterKind::Query, "integer", true);
    /// assert_eq!(days.read_query("7").unwrap(), json!(7));
    /// assert!(days.read_query("seven").unwrap_err().contains("integer"));
    /// ```
    pub fn read_query(&self, text: &str) -> Result<Value, String> {
        let wrong = || format!("`{text}` is not {}", article(&self.kind_of_value));
        match self.kind_of_value.as_str() {
            "string" => Ok(Value::String(text.to_owned())),
            "integer" => text
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| text.parse::<u64>().map(Value::from))
                .map_err(|_| wrong()),
            "number" => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(wrong),
            "boolean" => match text {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(wrong()),
            },
            _ => serde_json::from_str(text).map_err(|_| wrong()),
        }
    }

    /// A parameter without other members.
    pub fn new(kind: ParameterKind, kind_of_value: impl Into<String>, required: bool) -> Self {
        Self {
            kind,
            kind_of_value: kind_of_value.into(),
            required,
            other: Map::new(),
        }
    }
}

/// `an integer`, `a string`, `a http://…` (for messages).
fn article(kind: &str) -> String {
    match kind {
        "integer" | "array" | "object" => format!("an {kind}"),
        "number" | "boolean" | "string" => format!("a {kind}"),
        other => format!("a value of type {other}"),
    }
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParameterKind {
    /// In the query string.
    Query,
    /// As the request's JSON body.
    Body,
}

/// What an operation answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseDecl {
    /// The media type, e.g. `application/json`.
    #[serde(
        rename = "contentType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub content_type: Option<String>,
    /// The JSON type or type id of the answer.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind_of_value: Option<String>,
    /// Every other member (`items`, …), kept as it came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn is_false(b: &bool) -> bool {
    !b
}

fn write_verb<S: Serializer>(verb: &http::Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(verb.as_str())
}

/// Reads a verb in any case; only the four APS verbs are accepted.
fn read_verb<'de, D: Deserializer<'de>>(d: D) -> Result<http::Method, D::Error> {
    let text = String::deserialize(d)?;
    match text.to_ascii_uppercase().as_str() {
        "GET" => Ok(http::Method::GET),
        "POST" => Ok(http::Method::POST),
        "PUT" => Ok(http::Method::PUT),
        "DELETE" => Ok(http::Method::DELETE),
        _ => Err(serde::de::Error::custom(format!(
            "`{text}` is not an APS verb (GET, POST, PUT, DELETE)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_build_tools_nulls_and_access_round_trip() {
        let wire = json!({
            "verb": "GET", "path": "/healthCheck",
            "response": {"contentType": null, "type": "object", "items": null},
            "access": {"admin": true, "referrer": false}
        });
        let op: OperationDecl = serde_json::from_value(wire).unwrap();
        assert_eq!(
            op.response.as_ref().unwrap().kind_of_value.as_deref(),
            Some("object")
        );
        assert!(op.body().is_none());
        assert_eq!(op.segments().collect::<Vec<_>>(), ["healthCheck"]);
        let back = serde_json::to_value(&op).unwrap();
        assert_eq!(back["access"]["referrer"], false);
        assert_eq!(back["verb"], "GET");
    }

    #[test]
    fn query_text_is_read_as_its_declared_type() {
        let p = |t: &str| Parameter::new(ParameterKind::Query, t, false);
        assert_eq!(p("integer").read_query("-3").unwrap(), json!(-3));
        assert_eq!(
            p("integer").read_query(&u64::MAX.to_string()).unwrap(),
            json!(u64::MAX)
        );
        assert!(p("integer").read_query("1.5").is_err());
        assert_eq!(p("number").read_query("1.5").unwrap(), json!(1.5));
        assert!(p("number").read_query("NaN").is_err());
        assert_eq!(p("boolean").read_query("true").unwrap(), json!(true));
        assert!(p("boolean").read_query("yes").is_err());
        assert_eq!(p("string").read_query("7").unwrap(), json!("7"));
        assert_eq!(p("array").read_query("[1,2]").unwrap(), json!([1, 2]));
        assert!(
            p("object")
                .read_query("{")
                .unwrap_err()
                .contains("an object")
        );
    }

    #[test]
    fn verbs_outside_aps_are_refused() {
        let e = serde_json::from_value::<OperationDecl>(json!({"verb": "PATCH", "path": "/x"}));
        assert!(e.unwrap_err().to_string().contains("PATCH"));
    }
}
