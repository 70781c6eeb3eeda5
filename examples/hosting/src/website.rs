//! A website: its plan, its domains, its disk usage, a restart in the background and request
//! statistics.

use aps::{Context, Counter, Error, Link, Links, Phase, Provisionable, Reply, Resource, Result};
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
    /// The disk space it uses, in MB, refreshed when the controller retrieves it.
    #[serde(default, rename = "diskUsage")]
    #[schemars(extend("readOnly" = true))]
    pub disk_usage: Counter,
    /// The service tier (from version 0.2 of the application).
    #[cfg(feature = "v2")]
    #[serde(default = "standard")]
    pub tier: String,
    #[serde(flatten)]
    resource: Resource,
}

fn basic() -> String {
    "basic".into()
}

#[cfg(feature = "v2")]
fn standard() -> String {
    "standard".into()
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

/// The disk space (MB) a website of this plan may use, and how much it grows by between two
/// refreshes (its logs, say).
fn disk(plan: &str) -> (i64, i64) {
    if plan == "basic" {
        (1_024, 10)
    } else {
        (10_240, 100)
    }
}

aps::register!(Website, service = "websites", type = "websites/1.0");

#[aps::operations]
impl Provisionable for Website {
    /// Refreshes the disk usage: it grows with every refresh, up to the plan's limit.
    async fn retrieve(&mut self, _ctx: &Context) -> Result<()> {
        let (limit, growth) = disk(&self.plan);
        let usage = self.disk_usage.usage.saturating_add(growth).min(limit);
        self.disk_usage = Counter::new(usage).with_limit(limit).with_unit("MB");
        Ok(())
    }

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
