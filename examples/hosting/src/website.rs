//! A website: its plan, its domains, a restart in the background and request statistics.

use aps::{Context, Error, Link, Links, Phase, Provisionable, Reply, Resource, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Domain, Globals};

/// A hosted website.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Website {
    /// The website's name.
    pub name: String,
    /// The hosting plan.
    #[serde(default = "basic")]
    pub plan: String,
    /// The application instance it belongs to.
    pub globals: Link<Globals>,
    /// The domains it serves.
    pub domains: Links<Domain>,
    #[serde(flatten)]
    resource: Resource,
}

fn basic() -> String {
    "basic".into()
}

/// What `stats` answers.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Stats {
    /// The days counted.
    pub days: u32,
    /// The requests served in those days.
    pub requests: u64,
}

/// Requests a website of this plan serves in a day (the example has no real web server).
fn daily_requests(plan: &str) -> u64 {
    if plan == "basic" { 1_000 } else { 10_000 }
}

aps::register!(Website, service = "websites", type = "websites/1.0");

#[aps::operations]
impl Provisionable for Website {
    /// Restarts the web server: it takes a while, so the first call answers 202 and the
    /// controller's recheck, 5 s later, finds it done.
    #[operation(POST, "/restart")]
    async fn restart(&self, ctx: &Context) -> Result<Reply> {
        match ctx.phase() {
            Phase::Sync => Ok(Reply::accepted("Restarting", 5)),
            Phase::Async => Ok(Reply::done()),
        }
    }

    /// The requests served over the last `days` days.
    #[operation(GET, "/stats")]
    async fn stats(&self, _ctx: &Context, #[query] days: u32) -> Result<Reply<Stats>> {
        let requests = u64::from(days) * daily_requests(&self.plan);
        Ok(Reply::json(Stats { days, requests }))
    }

    /// Only test and example domains may be served.
    #[link(domains)]
    async fn link_domain(&self, _ctx: &Context, domain: Domain) -> Result<()> {
        if domain.fqdn.ends_with(".test") || domain.fqdn.ends_with(".example") {
            return Ok(());
        }
        Err(Error::bad_request(format!(
            "{} cannot serve {}: only .test and .example domains are hosted",
            self.name, domain.fqdn
        )))
    }
}
