//! Resource types with custom operations and relations, and the application serving them.

use aps::{Context, Link, Links, Phase, Provisionable, Reply, Resource, ResourceType, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The application root, as a link target.
#[derive(Serialize, Deserialize, JsonSchema)]
pub(crate) struct Root {
    #[serde(flatten)]
    resource: Resource,
}

impl Provisionable for Root {}

impl ResourceType for Root {
    const TYPE_ID: &'static str = "root/1.0";
}

/// A website: operations of every kind, a required link, a collection with link handlers and
/// an optional link.
#[derive(Serialize, Deserialize, JsonSchema)]
pub(crate) struct Site {
    pub(crate) name: String,
    pub(crate) root: Link<Root>,
    pub(crate) domains: Links<Domain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) primary: Option<Link<Domain>>,
    #[serde(flatten)]
    resource: Resource,
}

impl ResourceType for Site {
    const TYPE_ID: &'static str = "http://example.com/sites/site/2.0";
}

/// What `stats` answers.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Stats {
    site: String,
    days: u32,
    tag: Option<String>,
}

/// The body of `configure`.
#[derive(Serialize, Deserialize, JsonSchema)]
pub(crate) struct Settings {
    workers: u8,
}

#[aps::operations]
impl Provisionable for Site {
    #[operation(GET, "/stats")]
    async fn stats(
        &self,
        _ctx: &Context,
        #[query] days: u32,
        #[query] tag: Option<String>,
    ) -> Result<Reply<Stats>> {
        let site = self.name.clone();
        Ok(Reply::json(Stats { site, days, tag }))
    }

    #[operation(POST, "/touch")]
    async fn touch(&self, _ctx: &Context) -> Result<Reply> {
        Ok(Reply::done())
    }

    #[operation(POST, "/restart")]
    async fn restart(&self, ctx: &Context) -> Result<Reply<Value>> {
        match ctx.phase() {
            Phase::Sync => Ok(Reply::accepted("Restarting", 5)),
            Phase::Async => Ok(Reply::json(json!({"restarted": self.name}))),
        }
    }

    #[operation(GET, "/settings/current", name = "currentSettings")]
    async fn current(&self, _ctx: &Context) -> Result<Reply<Settings>> {
        Ok(Reply::json(Settings { workers: 2 }))
    }

    #[operation(PUT, "/settings/current", name = "changeSettings")]
    async fn change(&self, _ctx: &Context, #[body] settings: Settings) -> Result<Reply<Settings>> {
        Ok(Reply::json(settings))
    }

    /// Shows the typed link fields as the endpoint read them.
    #[operation(GET, "/links")]
    async fn links(&self, _ctx: &Context) -> Result<Reply<Value>> {
        Ok(Reply::json(json!({
            "root": self.root.id(),
            "domains": self.domains.ids().collect::<Vec<_>>(),
            "primary": self.primary.as_ref().map(Link::id),
        })))
    }

    #[link(domains)]
    async fn link_domain(&self, _ctx: &Context, domain: Domain) -> Result<()> {
        if !domain.fqdn.ends_with(".test") {
            return Err(aps::Error::bad_request(format!(
                "{} is not a .test domain of {}",
                domain.fqdn, self.name
            )));
        }
        Ok(())
    }

    #[unlink(domains)]
    async fn unlink_domain(&self, _ctx: &Context, domain_id: &str) -> Result<()> {
        if self.primary.as_ref().is_some_and(|p| p.id() == domain_id) {
            return Err(aps::Error::conflict("the primary domain stays linked"));
        }
        Ok(())
    }
}

/// A domain, linked to at most one site.
#[derive(Serialize, Deserialize, JsonSchema)]
pub(crate) struct Domain {
    pub(crate) fqdn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) site: Option<Link<Site>>,
    #[serde(flatten)]
    resource: Resource,
}

impl ResourceType for Domain {
    const TYPE_ID: &'static str = "domain/1.0";
}

impl Provisionable for Domain {}

pub(crate) fn app() -> aps::App {
    aps::App::new("sites")
        .id("http://example.com/sites")
        .root_service::<Root>("root", Root::TYPE_ID)
        .service::<Site>("site", Site::TYPE_ID)
        .service::<Domain>("domain", Domain::TYPE_ID)
}

/// A site as the controller stores it, linked to the root, two domains and a primary one.
pub(crate) fn site(id: &str) -> Value {
    let link = |kind: &str, id: &str| json!({"aps": {"link": kind, "id": id, "href": format!("/aps/2/resources/{id}")}});
    json!({
        "aps": {"id": id, "type": "http://example.com/sites/site/2.0", "status": "aps:ready"},
        "name": "shop",
        "root": link("strong", "00000000-0000-4000-8000-0000000000f1"),
        "domains": [link("collection", "00000000-0000-4000-8000-0000000000d1"), link("collection", "00000000-0000-4000-8000-0000000000d2")],
        "primary": link("weak", "00000000-0000-4000-8000-0000000000d1"),
        "addedLater": true
    })
}

/// Mistakes an application can only be told about when it starts: a handler of a relation the
/// type does not have, and two operations at one verb and path.
#[derive(Serialize, Deserialize, JsonSchema)]
pub(crate) struct Broken {
    #[serde(flatten)]
    resource: Resource,
}

#[aps::operations]
impl Provisionable for Broken {
    #[operation(GET, "/state")]
    async fn state(&self, _ctx: &Context) -> Result<Reply> {
        Ok(Reply::done())
    }

    #[operation(GET, "/state", name = "sameState")]
    async fn same_state(&self, _ctx: &Context) -> Result<Reply> {
        Ok(Reply::done())
    }

    #[unlink(owners)]
    async fn unlink_owner(&self, _ctx: &Context, _owner: &str) -> Result<()> {
        Ok(())
    }
}
