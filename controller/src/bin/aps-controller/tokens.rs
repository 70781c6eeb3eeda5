//! `aps-controller token create|list|revoke`: the API tokens of a controller's database, used
//! beside the running controller (SQLite lets both at it) or before its first start.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use aps_controller::Timestamp;
use aps_controller::auth::{Scope, TokenInfo, Tokens};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub(crate) enum TokenAction {
    /// Makes a token and prints it, this once (only its hash is kept).
    Create {
        #[command(flatten)]
        db: Database,
        /// What it may do: read, operate (implies read) or admin (implies operate).
        #[arg(long)]
        scope: Scope,
        /// A name for people: who or what uses it.
        #[arg(long, default_value = "")]
        name: String,
        /// How long it works: a duration such as `90d` or `12h` (default: until revoked).
        #[arg(long, value_parser = super::commands::duration)]
        expires: Option<Duration>,
    },
    /// Lists the tokens (never their secrets).
    List {
        #[command(flatten)]
        db: Database,
    },
    /// Revokes a token by its id; it stops working at once, panel sessions included.
    Revoke {
        #[command(flatten)]
        db: Database,
        /// The id `token list` shows.
        id: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct Database {
    /// The controller's database.
    #[arg(
        long,
        env = "APS_CONTROLLER_DB",
        default_value = "sqlite://aps-controller.db"
    )]
    db: String,
}

fn line(token: &TokenInfo) -> String {
    let state = match (&token.revoked, &token.expires) {
        (Some(at), _) => format!("revoked {at}"),
        (None, Some(at)) if *at <= Timestamp::now() => format!("expired {at}"),
        (None, Some(at)) => format!("expires {at}"),
        (None, None) => "no expiry".to_owned(),
    };
    format!(
        "{}  {:<8} {}  created {}  {state}",
        token.id, token.scope, token.name, token.created
    )
}

pub(crate) async fn run(action: TokenAction) -> anyhow::Result<ExitCode> {
    match action {
        TokenAction::Create {
            db,
            scope,
            name,
            expires,
        } => {
            let tokens = Tokens::open(&db.db).await?;
            let expires = expires.map(|d| Timestamp::now().plus(d));
            let made = tokens.create(&name, scope, expires).await?;
            eprintln!("{}", line(&made.info));
            eprintln!("The token (shown this once; send it as Authorization: Bearer …):");
            println!("{}", made.token);
        }
        TokenAction::List { db } => {
            for token in Tokens::open(&db.db).await?.list().await? {
                println!("{}", line(&token));
            }
        }
        TokenAction::Revoke { db, id } => {
            if !Tokens::open(&db.db).await?.revoke(&id).await? {
                bail!("there is no token {id} that is not already revoked");
            }
            eprintln!("token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
