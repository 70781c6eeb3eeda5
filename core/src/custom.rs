//! A resource type's custom operations and link handlers, as the `#[aps::operations]` macro
//! lists them: their declarations for the type schema, and functions the router calls. Not
//! written by hand.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use aps_protocol::operation::{OperationDecl, Parameter, ParameterKind, ResponseDecl};
use http::{Method, StatusCode};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::registry::{Origin, decode, decode_as};
use crate::reply::Answer;
use crate::{Context, Error, Result};

/// A future that borrows for `'a`, as the router awaits it.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs one operation on the resource `T`.
pub type OperationFn<T> =
    for<'a> fn(&'a T, &'a Context, &'a Call<'a>) -> BoxFuture<'a, Result<Answer>>;

/// Runs a link handler on the resource `T`, with the linked resource's JSON.
pub type LinkFn<T> = for<'a> fn(&'a T, &'a Context, &'a [u8]) -> BoxFuture<'a, Result<()>>;

/// Runs an unlink handler on the resource `T`, with the unlinked resource's id.
pub type UnlinkFn<T> = for<'a> fn(&'a T, &'a Context, &'a str) -> BoxFuture<'a, Result<()>>;

/// The custom operations and link handlers of `T`.
pub struct Custom<T> {
    operations: BTreeMap<String, (OperationDecl, OperationFn<T>)>,
    links: BTreeMap<&'static str, LinkFn<T>>,
    unlinks: BTreeMap<&'static str, UnlinkFn<T>>,
}

impl<T> Default for Custom<T> {
    fn default() -> Self {
        Self {
            operations: BTreeMap::new(),
            links: BTreeMap::new(),
            unlinks: BTreeMap::new(),
        }
    }
}

impl<T> Custom<T> {
    /// Adds the operation `name`: `verb` at `path`, with its parameters and response.
    pub fn operation(
        mut self,
        name: &str,
        verb: Method,
        path: &str,
        parameters: Vec<(&str, Parameter)>,
        response: Option<ResponseDecl>,
        call: OperationFn<T>,
    ) -> Self {
        let decl = OperationDecl {
            verb,
            path: path.to_owned(),
            parameters: parameters
                .into_iter()
                .map(|(name, p)| (name.to_owned(), p))
                .collect(),
            response,
            other: Map::new(),
        };
        self.operations.insert(name.to_owned(), (decl, call));
        self
    }

    /// Adds the link handler of `relation`.
    pub fn link(mut self, relation: &'static str, call: LinkFn<T>) -> Self {
        self.links.insert(relation, call);
        self
    }

    /// Adds the unlink handler of `relation`.
    pub fn unlink(mut self, relation: &'static str, call: UnlinkFn<T>) -> Self {
        self.unlinks.insert(relation, call);
        self
    }

    /// The operations as the type schema declares them.
    pub fn declared(&self) -> BTreeMap<String, OperationDecl> {
        self.operations
            .iter()
            .map(|(name, (decl, _))| (name.clone(), decl.clone()))
            .collect()
    }

    /// The operation `name`.
    pub fn find(&self, name: &str) -> Option<(&OperationDecl, OperationFn<T>)> {
        self.operations.get(name).map(|(decl, call)| (decl, *call))
    }

    /// The relations the type has link or unlink handlers for.
    pub fn handled(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.links.keys().chain(self.unlinks.keys()).copied()
    }

    /// The link handler of `relation`, if the type has one.
    pub fn link_handler(&self, relation: &str) -> Option<LinkFn<T>> {
        self.links.get(relation).copied()
    }

    /// The unlink handler of `relation`, if the type has one.
    pub fn unlink_handler(&self, relation: &str) -> Option<UnlinkFn<T>> {
        self.unlinks.get(relation).copied()
    }
}

/// A parameter of the Rust type `P` as an operation declares it: its JSON type, required
/// unless `P` is an `Option`.
pub fn parameter<P: JsonSchema>(kind: ParameterKind) -> Parameter {
    let (json, optional) = crate::json_type::json_type::<P>();
    Parameter::new(kind, json, !optional)
}

/// What a call of a custom operation brings: its query and body, read against its declaration.
#[derive(Debug)]
pub struct Call<'a> {
    decl: &'a OperationDecl,
    query: &'a [(String, String)],
    body: &'a [u8],
}

impl<'a> Call<'a> {
    /// A call of the operation `decl` with the query string's pairs and the body.
    pub fn new(decl: &'a OperationDecl, query: &'a [(String, String)], body: &'a [u8]) -> Self {
        Self { decl, query, body }
    }

    /// Checks every declared parameter that can be checked before the resource is loaded:
    /// each query parameter against its declared type, and that a required body is there.
    pub fn check(&self) -> Result<()> {
        for (name, _) in self.decl.query() {
            self.query_value(name)?;
        }
        match self.decl.body() {
            Some((name, declared)) if declared.required && self.body_is_empty() => {
                Err(missing(format!("the body parameter `{name}` is required")))
            }
            _ => Ok(()),
        }
    }

    /// The query parameter `name` as `P`: missing (when required), repeated, or not of its
    /// declared type is a 400 naming it.
    pub fn query<P: DeserializeOwned>(&self, name: &str) -> Result<P> {
        serde_json::from_value(self.query_value(name)?)
            .map_err(|e| invalid(format!("the query parameter `{name}` does not fit: {e}")))
    }

    /// The query parameter `name` as the JSON value of its declared type (`null` when absent).
    fn query_value(&self, name: &str) -> Result<Value> {
        let declared = self.declared(name)?;
        let mut given = self.query.iter().filter(|(n, _)| n == name);
        match (given.next(), given.next()) {
            (None, _) if declared.required => {
                Err(missing(format!("the query parameter `{name}` is required")))
            }
            (None, _) => Ok(Value::Null),
            (Some(_), Some(_)) => Err(invalid(format!(
                "the query parameter `{name}` is given more than once"
            ))),
            (Some((_, text)), None) => declared
                .read_query(text)
                .map_err(|e| invalid(format!("the query parameter `{name}`: {e}"))),
        }
    }

    fn body_is_empty(&self) -> bool {
        self.body.iter().all(u8::is_ascii_whitespace)
    }

    /// The body parameter `name` as `P`: missing (when required) or not fitting `P` is a 400
    /// naming it.
    pub fn body<P: DeserializeOwned>(&self, name: &str) -> Result<P> {
        let declared = self.declared(name)?;
        if self.body_is_empty() {
            if declared.required {
                return Err(missing(format!("the body parameter `{name}` is required")));
            }
            return serde_json::from_value(Value::Null)
                .map_err(|e| invalid(format!("the body parameter `{name}`: {e}")));
        }
        let subject = format!("the body parameter `{name}`");
        decode_as(self.body, Origin::Request, &subject, "InvalidParameter").map_err(|e| {
            if e.name() == "InvalidJson" {
                let message = format!("{subject}: {}", e.message());
                return Error::with(e.status(), "InvalidParameter", message);
            }
            e
        })
    }

    fn declared(&self, name: &str) -> Result<&Parameter> {
        self.decl
            .parameters
            .get(name)
            .ok_or_else(|| Error::new(format!("the operation declares no parameter `{name}`")))
    }
}

/// A linked resource's JSON (a link request's body) as the handler's type `P`, or a 400.
pub fn linked<P: DeserializeOwned>(json: &[u8]) -> Result<P> {
    decode(json, Origin::Request)
}

fn missing(message: String) -> Error {
    Error::with(StatusCode::BAD_REQUEST, "MissingParameter", message)
}

fn invalid(message: String) -> Error {
    Error::with(StatusCode::BAD_REQUEST, "InvalidParameter", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> OperationDecl {
        let days = parameter::<u32>(ParameterKind::Query);
        let tag = parameter::<Option<String>>(ParameterKind::Query);
        let body = parameter::<Option<Vec<u8>>>(ParameterKind::Body);
        Custom::<()>::default()
            .operation(
                "stats",
                Method::GET,
                "/stats",
                vec![("days", days), ("tag", tag), ("filter", body)],
                None,
                |_, _, _| Box::pin(async { Ok(Answer::Empty) }),
            )
            .declared()
            .remove("stats")
            .expect("declared")
    }

    fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parameters_are_declared_from_their_rust_types() {
        let decl = stats();
        let days = &decl.parameters["days"];
        assert_eq!(
            (days.kind_of_value.as_str(), days.required),
            ("integer", true)
        );
        assert!(!decl.parameters["tag"].required);
        assert_eq!(decl.body().map(|(n, _)| n), Some("filter"));
    }

    #[test]
    fn query_parameters_are_read_against_their_declared_type_naming_them() {
        let decl = stats();
        let query = pairs(&[("days", "7")]);
        let call = Call::new(&decl, &query, b"");
        assert_eq!(call.query::<u32>("days").expect("days"), 7);
        assert_eq!(call.query::<Option<String>>("tag").expect("tag"), None);
        assert_eq!(call.body::<Option<Vec<u8>>>("filter").expect("none"), None);
        for (query, name) in [
            (pairs(&[]), "MissingParameter"),
            (pairs(&[("days", "seven")]), "InvalidParameter"),
            (pairs(&[("days", "-1")]), "InvalidParameter"),
            (pairs(&[("days", "1"), ("days", "2")]), "InvalidParameter"),
        ] {
            let error = Call::new(&decl, &query, b"")
                .query::<u32>("days")
                .expect_err("refused");
            assert_eq!(
                (error.status(), error.name()),
                (StatusCode::BAD_REQUEST, name)
            );
            assert!(error.message().contains("`days`"), "{}", error.message());
        }
        let missing = pairs(&[("tag", "x")]);
        let error = Call::new(&decl, &missing, b"").check().expect_err("days");
        assert_eq!(error.name(), "MissingParameter");
        let error = Call::new(&decl, &query, b"[1, \"x\"]")
            .body::<Option<Vec<u8>>>("filter")
            .expect_err("not bytes");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(error.message().contains("`filter`"), "{}", error.message());
    }
}
