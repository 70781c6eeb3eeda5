//! A dummy resource that does nothing except provision itself asynchronously.

use aps::{Context, Outcome, Provisionable, Resource, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Coin;

/// Provisions itself asynchronously: the first call starts, every recheck flips a coin.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Dummy {
    #[serde(flatten)]
    resource: Resource,
}

aps::register!(Dummy, service = "provisionable", type = "provisionable/1.0");

#[aps::async_trait]
impl Provisionable for Dummy {
    async fn provision(&mut self, _ctx: &Context) -> Result<Outcome> {
        // 202 Accepted: tell the controller to check back in 30 seconds.
        Ok(Outcome::accepted("Provisioning the resource", 30))
    }

    async fn provision_async(&mut self, ctx: &Context) -> Result<Outcome> {
        // Flip a coin: heads, provisioning is not finished yet; tails, it is.
        if ctx.state::<Coin>()?.flip() {
            return Ok(Outcome::accepted("Still provisioning", 30));
        }
        Ok(Outcome::done())
    }
}
