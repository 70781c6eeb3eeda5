//! What a type's declared relations say about a link: whether it fits, its counterpart on the
//! other side, which single relations it fills, and how links show in a resource's JSON. No
//! I/O: [`super::links`] reads and stores.

use aps_protocol::TypeSchema;
use aps_protocol::relation::{Link, RelationDecl};
use serde_json::Value;
use uuid::Uuid;

use super::OperationError;
use crate::package::PackageModel;
use crate::store::{LinkRow, ResourceRow, StoreError};

/// A link checked against the declarations, ready to store.
pub(super) struct Planned {
    /// Both directions (the first is the one asked for).
    pub rows: Vec<LinkRow>,
    /// The single relations that must not hold another link.
    pub single: Vec<(Uuid, String)>,
    pub kind: aps_protocol::relation::LinkKind,
}

/// Whether a resource of `schema` may be linked where `type_id` is declared.
pub(super) fn fits(schema: &TypeSchema, type_id: &str) -> bool {
    schema.id == type_id || schema.implements.iter().any(|t| t == type_id)
}

/// The relation of `target` that links back to `source`, when there is exactly one.
pub(super) fn inverse<'a>(
    target: &'a TypeSchema,
    source: &TypeSchema,
) -> Option<(&'a str, &'a RelationDecl)> {
    let mut back = target
        .relations
        .iter()
        .filter(|(_, decl)| fits(source, &decl.type_id));
    match (back.next(), back.next()) {
        (Some((name, decl)), None) => Some((name.as_str(), decl)),
        _ => None,
    }
}

/// The declared relation, or 404.
pub(super) fn declared<'a>(
    schema: &'a TypeSchema,
    relation: &str,
) -> Result<&'a RelationDecl, OperationError> {
    schema.relations.get(relation).ok_or_else(|| {
        OperationError::NotFound(format!(
            "The type {} declares no relation `{relation}`",
            schema.id
        ))
    })
}

pub(super) fn schema_of<'a>(
    package: &'a PackageModel,
    row: &ResourceRow,
) -> Result<&'a TypeSchema, OperationError> {
    package.schema(&row.service).ok_or_else(|| {
        OperationError::Store(StoreError::Corrupt(format!(
            "the package has no service `{}`",
            row.service
        )))
    })
}

/// Puts the links into a resource's JSON: each declared relation as a member, a single one as
/// one link (absent when unlinked), a collection as an array. Members an endpoint or a client
/// wrote under a relation's name are replaced.
pub(crate) fn with_links(mut body: Value, schema: &TypeSchema, links: &[(String, Uuid)]) -> Value {
    let Value::Object(map) = &mut body else {
        return body;
    };
    for (name, decl) in &schema.relations {
        map.remove(name);
        let kind = decl.link_kind();
        let mut linked = links
            .iter()
            .filter(|(relation, _)| relation == name)
            .map(|(_, target)| serde_json::to_value(Link::new(kind, &target.to_string())));
        let member = if decl.collection {
            Value::Array(linked.filter_map(Result::ok).collect())
        } else {
            match linked.next() {
                Some(Ok(link)) => link,
                _ => continue,
            }
        };
        map.insert(name.clone(), member);
    }
    body
}

/// The ids a provisioning body gives a relation: `{"aps": {"id"}}`, or an array of them for a
/// collection.
pub(super) fn given(
    name: &str,
    decl: &RelationDecl,
    value: Value,
) -> Result<Vec<Uuid>, OperationError> {
    let one = |v: &Value| {
        v.pointer("/aps/id")
            .and_then(Value::as_str)
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or_else(|| {
                OperationError::field(
                    "relation",
                    name,
                    format!("`{name}` must be a link, {{\"aps\": {{\"id\": \"<resource id>\"}}}}"),
                )
            })
    };
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) if decl.collection => items.iter().map(one).collect(),
        Value::Array(_) => Err(OperationError::field(
            "relation",
            name,
            format!("`{name}` is a single relation: give one link, not an array"),
        )),
        _ if decl.collection => Err(OperationError::field(
            "relation",
            name,
            format!("`{name}` is a collection: give an array of links"),
        )),
        other_single => one(&other_single).map(|id| vec![id]),
    }
}

/// Checks a link of `source` to `target` under `relation` against the declarations.
pub(super) fn plan(
    package: &PackageModel,
    source: &ResourceRow,
    relation: &str,
    target: &ResourceRow,
) -> Result<Planned, OperationError> {
    let schema = schema_of(package, source)?;
    let decl = declared(schema, relation)?;
    let other = schema_of(package, target)?;
    if target.application_id != source.application_id {
        return Err(OperationError::Invalid(format!(
            "Resource {} belongs to another application instance",
            target.id
        )));
    }
    if !fits(other, &decl.type_id) {
        return Err(OperationError::field(
            "relation",
            relation,
            format!(
                "`{relation}` links resources of type {}, and {} is of type {}",
                decl.type_id, target.id, other.id
            ),
        ));
    }
    let mut rows = vec![LinkRow {
        resource: source.id,
        relation: relation.to_owned(),
        target: target.id,
    }];
    let mut single = Vec::new();
    if !decl.collection {
        single.push((source.id, relation.to_owned()));
    }
    if let Some((back, back_decl)) = inverse(other, schema) {
        rows.push(LinkRow {
            resource: target.id,
            relation: back.to_owned(),
            target: source.id,
        });
        if !back_decl.collection {
            single.push((target.id, back.to_owned()));
        }
    }
    Ok(Planned {
        rows,
        single,
        kind: decl.link_kind(),
    })
}

/// The 409 of a single relation that holds a link already.
pub(super) fn taken(resource: Uuid, relation: &str, other: Uuid) -> OperationError {
    OperationError::Conflict(format!(
        "The relation `{relation}` of {resource} holds one link, and it is linked to {other}: \
         unlink it first"
    ))
}
