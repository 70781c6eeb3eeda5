//! Requests below a resource: custom operations and link notifications.
//!
//! | request | what it reaches |
//! |---|---|
//! | `{verb} /{service}/{id}{path}` | the operation declared with that verb and path |
//! | `POST /{service}/{id}/{relation}` | the link handler of `relation` (none: accepted) |
//! | `DELETE /{service}/{id}/{relation}/{linked-id}` | the unlink handler (none: accepted) |
//! | `POST /{root-service}/{id}/upgrade?version=…` | `upgrade` (see [`upgrade`](crate::upgrade)) |
//!
//! What the type's schema does not declare is a 404; a declared path with another verb a 405
//! naming the verbs it takes. An operation's query parameters are checked against their
//! declared types before the resource is loaded from the controller; a handler gets the resource
//! as the controller stores it, read-only.

use std::collections::HashMap;
use std::sync::Arc;

use aps_core::__private::{Answer, Call};
use aps_protocol::TypeSchema;
use aps_protocol::operation::OperationDecl;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};

use crate::answer::with_transaction;
use crate::router::{Shared, admitted, bad_path, find, wrong_method};
use crate::trace::clean;
use crate::{App, Error, Result, body};

/// What a path below a resource names.
enum Target<'a> {
    /// A declared operation, with the request's verb.
    Operation(&'a str, &'a OperationDecl),
    /// A link through a declared relation.
    Link(&'a str),
    /// An unlink through a declared relation, of the resource with this id.
    Unlink(&'a str, &'a str),
    /// The root resource's upgrade.
    Upgrade,
    /// A declared path, not with this verb: the verbs it takes.
    WrongVerb(String),
}

/// What makes the custom operations and handlers of `app` unservable, one line each: a
/// handler of a relation the type does not declare, two operations at one verb and path.
pub(crate) fn problems(app: &App) -> Vec<String> {
    let schemas: HashMap<String, TypeSchema> = app.schemas().into_iter().collect();
    let mut problems = Vec::new();
    for service in app.services() {
        let Some(schema) = schemas.get(&service.id) else {
            continue;
        };
        for relation in service.handler.handled() {
            if !schema.relations.contains_key(relation) {
                problems.push(format!(
                    "service `{}` has a link handler for `{relation}`, which is not one of its \
                     relations (a Link or Links field)",
                    service.id
                ));
            }
        }
        let declared: Vec<_> = schema.operations.iter().collect();
        if schema.is_application() {
            let taken = declared
                .iter()
                .filter(|(_, decl)| decl.segments().eq([crate::upgrade::PATH]));
            for (name, decl) in taken {
                problems.push(format!(
                    "service `{}` has the operation `{name}` at {} {}, where the root service \
                     serves its upgrade",
                    service.id, decl.verb, decl.path
                ));
            }
        }
        for (i, (name, decl)) in declared.iter().enumerate() {
            let same = declared[..i]
                .iter()
                .find(|(_, other)| other.verb == decl.verb && other.segments().eq(decl.segments()));
            if let Some((other, _)) = same {
                problems.push(format!(
                    "service `{}` has two operations at {} {}: `{other}` and `{name}`",
                    service.id, decl.verb, decl.path
                ));
            }
        }
    }
    problems
}

/// `{verb} /{service}/{id}/{*path}`.
pub(crate) async fn route(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let answer = async {
        let Path((service, id, below)) = path.map_err(bad_path)?;
        let found = find(&shared, &service)?;
        let id = crate::ids::path(&id)?;
        let schema = shared
            .schemas
            .get(&found.id)
            .ok_or_else(|| Error::new(format!("service `{}` has no schema", found.id)))?;
        let handler = found.handler.clone();
        match target(schema, &parts.method, &below)? {
            Target::WrongVerb(allow) => Ok(wrong_method(&parts.method, &allow)),
            Target::Upgrade => crate::upgrade::serve(&shared, id, &parts, body, &*handler).await,
            Target::Operation(name, decl) => {
                let limit = shared.app.server.body_limit;
                let ctx = admitted(&shared, &parts)?;
                let query = query(&parts);
                let body = match decl.body() {
                    Some(_) => body::read(&parts.headers, body, limit).await?,
                    None => Bytes::new(),
                };
                let call = Call::new(decl, &query, &body);
                call.check()?;
                let resource = ctx.controller().fetch(id).await?;
                let answer = handler.operate(name, &resource, &call, &ctx).await?;
                Ok(reply(answer))
            }
            Target::Link(relation) => {
                let ctx = admitted(&shared, &parts)?;
                if handler.handles(relation, false) {
                    let limit = shared.app.server.body_limit;
                    let body = body::read(&parts.headers, body, limit).await?;
                    crate::ids::body(&body)?;
                    let linked = linked(body)?;
                    let resource = ctx.controller().fetch(id).await?;
                    handler.link(relation, &resource, &linked, &ctx).await?;
                }
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            Target::Unlink(relation, linked_id) => {
                let linked_id = crate::ids::path(linked_id)?;
                let ctx = admitted(&shared, &parts)?;
                if handler.handles(relation, true) {
                    let resource = ctx.controller().fetch(id).await?;
                    handler.unlink(relation, &resource, linked_id, &ctx).await?;
                }
                Ok(StatusCode::NO_CONTENT.into_response())
            }
        }
    };
    with_transaction(answer.await, &parts.headers)
}

/// What `below` (the path after the resource id) names for `method`, or a 404.
fn target<'a>(schema: &'a TypeSchema, method: &Method, below: &'a str) -> Result<Target<'a>> {
    let segments: Vec<&str> = below.split('/').filter(|s| !s.is_empty()).collect();
    if schema.is_application() && segments == [crate::upgrade::PATH] {
        if method == Method::POST {
            return Ok(Target::Upgrade);
        }
        return Ok(Target::WrongVerb("POST".into()));
    }
    let at_path: Vec<(&String, &OperationDecl)> = schema
        .operations
        .iter()
        .filter(|(_, decl)| decl.segments().eq(segments.iter().copied()))
        .collect();
    if !at_path.is_empty() {
        let verb = at_path.iter().find(|(_, decl)| decl.verb == method);
        return Ok(match verb {
            Some((name, decl)) => Target::Operation(name, decl),
            None => {
                let verbs: Vec<&str> = ["GET", "POST", "PUT", "DELETE"]
                    .into_iter()
                    .filter(|verb| at_path.iter().any(|(_, d)| d.verb == *verb))
                    .collect();
                Target::WrongVerb(verbs.join(", "))
            }
        });
    }
    let relation = |name: &str| {
        schema
            .relations
            .get_key_value(name)
            .map(|(k, _)| k.as_str())
    };
    match segments[..] {
        [name] => match relation(name) {
            Some(relation) if method == Method::POST => return Ok(Target::Link(relation)),
            Some(_) => return Ok(Target::WrongVerb("POST".into())),
            None => {}
        },
        [name, linked_id] => match relation(name) {
            Some(relation) if method == Method::DELETE => {
                return Ok(Target::Unlink(relation, linked_id));
            }
            Some(_) => return Ok(Target::WrongVerb("DELETE".into())),
            None => {}
        },
        _ => {}
    }
    Err(Error::not_found(format!(
        "type {} declares no operation or relation at /{}",
        schema.name,
        clean(below)
    )))
}

/// The query string's pairs, decoded.
pub(crate) fn query(parts: &Parts) -> Vec<(String, String)> {
    let query = parts.uri.query().unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// A link notification's body: the linked resource, a JSON object.
fn linked(body: Bytes) -> Result<Bytes> {
    if body::json(&body)?.is_object() {
        return Ok(body);
    }
    Err(Error::with(
        StatusCode::BAD_REQUEST,
        "InvalidResource",
        "the body of a link must be the linked resource, a JSON object",
    ))
}

/// The HTTP answer of a custom operation: 200 with JSON, 204, or 202 with `APS-Info` and
/// `APS-Retry-Timeout` (no body: there is no resource to echo).
fn reply(answer: Answer) -> Response {
    match answer {
        Answer::Json(json) => {
            let content = [(header::CONTENT_TYPE, "application/json")];
            (StatusCode::OK, content, json).into_response()
        }
        Answer::Empty => StatusCode::NO_CONTENT.into_response(),
        Answer::Accepted(accepted) => {
            let mut response = accepted.response(Vec::new()).map(Body::from);
            response.headers_mut().remove(header::CONTENT_TYPE);
            response
        }
    }
}
