//! The client commands about an application instance: `application upgrade` and
//! `application uninstall`.

use std::process::ExitCode;

use clap::Subcommand;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::commands::Target;

#[derive(Debug, Subcommand)]
pub(crate) enum ApplicationAction {
    /// Uninstalls an instance: unprovisions its root resource on the endpoint, then forgets it.
    Uninstall {
        #[command(flatten)]
        target: Target,
        /// The application instance.
        id: Uuid,
        /// 0 answers at once; -1 waits the server's default; N waits up to N seconds.
        #[arg(long, allow_negative_numbers = true)]
        timeout: Option<i64>,
    },
    /// Upgrades an instance to a newer imported package of the same application; prints the
    /// root resource when done (or the task, when it goes on).
    Upgrade {
        #[command(flatten)]
        target: Target,
        /// The application instance.
        id: Uuid,
        /// The newer package (its id, as `import` printed it).
        #[arg(long)]
        package: Uuid,
        /// 0 answers at once; -1 waits the server's default; N waits up to N seconds.
        #[arg(long, allow_negative_numbers = true)]
        timeout: Option<i64>,
    },
}

pub(crate) async fn run(action: ApplicationAction) -> anyhow::Result<ExitCode> {
    match action {
        ApplicationAction::Uninstall {
            target,
            id,
            timeout,
        } => {
            let body = timeout.map(|timeout| json!({ "timeout": timeout }));
            let path = format!("/api/v1/applications/{id}");
            let answer = target
                .client()?
                .send(Method::DELETE, &path, body.as_ref())
                .await?;
            if answer.status == 204 {
                println!("Application instance {id} uninstalled");
                return Ok(ExitCode::SUCCESS);
            }
            crate::commands::print_answer(&answer)
        }
        ApplicationAction::Upgrade {
            target,
            id,
            package,
            timeout,
        } => {
            let body = json!({"package": package, "timeout": timeout.unwrap_or(-1)});
            let path = format!("/api/v1/applications/{id}/upgrade");
            let answer = target
                .client()?
                .send(Method::POST, &path, Some(&body))
                .await?;
            crate::commands::print_answer(&answer)
        }
    }
}
