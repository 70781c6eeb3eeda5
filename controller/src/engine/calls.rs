//! Custom operations: a call checked against the operation's declaration, run as a task.
//!
//! A call is a task like any other (stored, rechecked after a 202 with the same request in the
//! async phase, resumed after a restart, cancellable), except that it leaves its resource as it
//! is and does not hold it: calls run beside each other and beside an operation on the
//! resource. Its result is the endpoint's final answer body.

use aps_protocol::TypeSchema;
use aps_protocol::operation::OperationDecl;
use http::Method;
use serde_json::Value;
use uuid::Uuid;

use super::{Engine, OperationError, validate};
use crate::task::{CallWork, Operation, Task};

/// The declared operation at `path` (below the resource) for `method`: 404 when none is
/// declared there, 405 (with the verbs that are) when it is declared for other verbs.
fn resolve<'a>(
    schema: &'a TypeSchema,
    path: &str,
    method: &Method,
) -> Result<(&'a str, &'a OperationDecl), OperationError> {
    let wanted: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let at: Vec<(&String, &OperationDecl)> = schema
        .operations
        .iter()
        .filter(|(_, op)| op.segments().eq(wanted.iter().copied()))
        .collect();
    if let Some((name, op)) = at.iter().find(|(_, op)| op.verb == *method) {
        return Ok((name.as_str(), op));
    }
    if at.is_empty() {
        return Err(OperationError::NotFound(format!(
            "The type {} declares no operation or relation at `/{}`",
            schema.id,
            wanted.join("/")
        )));
    }
    let allow: Vec<&str> = at.iter().map(|(_, op)| op.verb.as_str()).collect();
    Err(OperationError::WrongVerb {
        message: format!(
            "`/{}` of type {} is called with {}, not {method}",
            wanted.join("/"),
            schema.id,
            allow.join(" or ")
        ),
        allow: allow.join(", "),
    })
}

/// What an endpoint's final answer to a call gives as the task's result: its JSON, its text
/// when it is not JSON, nothing when it is empty.
pub(super) fn result(body: &[u8]) -> Option<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(
        serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned())),
    )
}

impl Engine {
    /// Whether `name` is a declared relation of resource `id` (so its path is a link, not an
    /// operation).
    pub(crate) async fn is_relation(&self, id: Uuid, name: &str) -> Result<bool, OperationError> {
        let row = self.stored_resource(id).await?;
        let (_, package) = self.instance(row.application_id).await?;
        Ok(package
            .schema(&row.service)
            .is_some_and(|s| s.relations.contains_key(name)))
    }

    /// Calls the custom operation declared at `path` below resource `id` for `method`, with
    /// the query parameters and body checked against its declaration first.
    pub(crate) async fn call(
        &self,
        id: Uuid,
        method: &Method,
        path: &str,
        query: &[(String, String)],
        body: Option<Value>,
    ) -> Result<Task, OperationError> {
        let row = self.stored_resource(id).await?;
        let (app, package) = self.instance(row.application_id).await?;
        let schema = package.schema(&row.service).ok_or_else(|| {
            OperationError::NotFound(format!("The package has no service `{}`", row.service))
        })?;
        let (name, decl) = resolve(schema, path, method)?;
        validate::parameters(name, decl, query, body.as_ref())?;
        let target = [row.service.clone(), row.id.to_string()]
            .into_iter()
            .chain(decl.segments().map(str::to_owned))
            .collect();
        let mut record = self.new_record(Operation::Call, &app, &package, &row, None);
        record.task.name = Operation::call_name(name, &row.service, row.id, &package.meta.name);
        record.work.call = Some(CallWork {
            operation: name.to_owned(),
            method: decl.verb.to_string(),
            path: target,
            query: query.to_vec(),
            body: body.filter(|b| !b.is_null()),
        });
        Ok(self.begin(record, None, None, None, &[]).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_are_found_by_path_then_verb() {
        let schema: TypeSchema = serde_json::from_value(json!({
            "apsVersion": "2.0", "id": "http://x/t/1.0", "name": "t",
            "operations": {
                "restart": {"verb": "POST", "path": "/restart"},
                "usage": {"verb": "GET", "path": "/usage/daily"}
            }
        }))
        .unwrap();
        assert_eq!(
            resolve(&schema, "restart", &Method::POST).unwrap().0,
            "restart"
        );
        assert_eq!(
            resolve(&schema, "/usage/daily/", &Method::GET).unwrap().0,
            "usage"
        );
        assert!(matches!(
            resolve(&schema, "restart", &Method::GET),
            Err(OperationError::WrongVerb { allow, .. }) if allow == "POST"
        ));
        assert!(matches!(
            resolve(&schema, "stop", &Method::POST),
            Err(OperationError::NotFound(_))
        ));
    }
}
