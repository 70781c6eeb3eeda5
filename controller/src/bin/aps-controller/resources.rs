//! The client commands about one resource: `call` (a custom operation), `link`, `unlink`,
//! `links` and `refresh` (a usage sync).

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::Value;
use uuid::Uuid;

use crate::commands::Target;

#[derive(Debug, Subcommand)]
pub(crate) enum ResourceCommand {
    /// Calls a resource's custom operation; prints the answer (or the task, when it goes on).
    Call {
        #[command(flatten)]
        target: Target,
        /// The resource.
        resource: Uuid,
        /// The operation's name, as its type declares it.
        operation: String,
        /// A query parameter, as `key=value`.
        #[arg(long = "query", value_name = "KEY=VALUE")]
        query: Vec<String>,
        /// The JSON body (the operation's body parameter).
        #[arg(long)]
        body: Option<String>,
        /// How long to wait for the answer, in seconds: 0 answers with the task at once;
        /// default: the controller's sync timeout.
        #[arg(long)]
        wait: Option<u64>,
    },
    /// Links a resource's relation to another resource; prints the link.
    Link {
        #[command(flatten)]
        target: Target,
        /// The resource.
        resource: Uuid,
        /// The relation, as its type declares it.
        relation: String,
        /// The resource to link.
        other: Uuid,
    },
    /// Removes the link of a resource's relation to another resource.
    Unlink {
        #[command(flatten)]
        target: Target,
        /// The resource.
        resource: Uuid,
        /// The relation.
        relation: String,
        /// The linked resource.
        other: Uuid,
    },
    /// Synchronizes a resource's usage counters from its endpoint; prints the resource (or
    /// the task, when it goes on).
    Refresh {
        #[command(flatten)]
        target: Target,
        /// The resource.
        resource: Uuid,
        /// How long to wait for the sync, in seconds: 0 answers with the task at once;
        /// default: the controller's sync timeout.
        #[arg(long)]
        wait: Option<u64>,
    },
    /// Lists the resources linked by a relation: id, type and status, one a line.
    Links {
        #[command(flatten)]
        target: Target,
        /// The resource.
        resource: Uuid,
        /// The relation.
        relation: String,
    },
}

fn pairs(query: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    query
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => Ok((key.trim().to_owned(), value.to_owned())),
            None => bail!("--query takes key=value, not `{pair}`"),
        })
        .collect()
}

pub(crate) async fn run(command: ResourceCommand) -> anyhow::Result<ExitCode> {
    match command {
        ResourceCommand::Call {
            target,
            resource,
            operation,
            query,
            body,
            wait,
        } => {
            let body: Option<Value> = body
                .map(|text| serde_json::from_str(&text).context("--body is not JSON"))
                .transpose()?;
            let answer = target
                .client()?
                .call(resource, &operation, &pairs(&query)?, body.as_ref(), wait)
                .await?;
            if !answer.body.is_null() {
                println!("{}", serde_json::to_string_pretty(&answer.body)?);
            }
            Ok(if (200..300).contains(&answer.status) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        ResourceCommand::Refresh {
            target,
            resource,
            wait,
        } => {
            let body = serde_json::json!({"timeout": wait.map_or(-1, |w| i64::try_from(w).unwrap_or(i64::MAX))});
            let path = format!("/api/v1/resources/{resource}/refresh");
            let answer = target
                .client()?
                .send(reqwest::Method::POST, &path, Some(&body))
                .await?;
            println!("{}", serde_json::to_string_pretty(&answer.body)?);
            Ok(if (200..300).contains(&answer.status) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        ResourceCommand::Link {
            target,
            resource,
            relation,
            other,
        } => {
            let link = target.client()?.link(resource, &relation, other).await?;
            println!("{}", serde_json::to_string_pretty(&link)?);
            Ok(ExitCode::SUCCESS)
        }
        ResourceCommand::Unlink {
            target,
            resource,
            relation,
            other,
        } => {
            target.client()?.unlink(resource, &relation, other).await?;
            Ok(ExitCode::SUCCESS)
        }
        ResourceCommand::Links {
            target,
            resource,
            relation,
        } => {
            for linked in target.client()?.links(resource, &relation).await? {
                let field = |pointer: &str| {
                    linked
                        .pointer(pointer)
                        .and_then(Value::as_str)
                        .unwrap_or("-")
                        .to_owned()
                };
                println!(
                    "{}  {}  {}",
                    field("/aps/id"),
                    field("/aps/type"),
                    field("/aps/status")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_split_at_the_first_equals_sign() {
        let read = pairs(&["days=7".into(), "q=a=b".into()]).unwrap();
        assert_eq!(
            read,
            [("days".into(), "7".into()), ("q".into(), "a=b".into())]
        );
        assert!(pairs(&["days".into()]).is_err());
    }
}
