//! The application resource: created when an instance is installed; it holds the websites.

use aps::{Context, Links, Outcome, Provisionable, Resource, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Website;

/// The application instance.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Globals {
    /// The websites the instance hosts.
    pub websites: Links<Website>,
    #[serde(flatten)]
    resource: Resource,
}

aps::register!(Globals, service = "globals", type = "globals/1.0", root);

#[aps::async_trait]
impl Provisionable for Globals {
    /// An instance moves to this version of the package. Nothing to migrate: the websites of
    /// an older version get the new properties' defaults.
    async fn upgrade(&mut self, _ctx: &Context, from_version: &str) -> Result<Outcome> {
        tracing::info!(from_version, "upgrading the hosting instance");
        Ok(Outcome::done())
    }
}
