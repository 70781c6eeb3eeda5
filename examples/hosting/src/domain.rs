//! A domain name, served by at most one website; it follows the changes of websites.

use aps::{Context, Error, Link, Notification, Provisionable, Reply, Resource, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Website;

/// A domain name.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Domain {
    /// The fully qualified domain name, e.g. `shop.example`.
    pub fqdn: String,
    /// The website that serves it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<Link<Website>>,
    /// The serial of the last notification of a changed website it handled.
    #[serde(default, rename = "lastSerial")]
    #[schemars(extend("readOnly" = true))]
    pub last_serial: u64,
    #[serde(flatten)]
    resource: Resource,
}

aps::register!(Domain, service = "domains", type = "domains/1.0");

#[aps::operations]
impl Provisionable for Domain {
    /// A website changed. Notifications come at least once, so one whose serial is not above
    /// the last one handled is a repeat: it is acknowledged and ignored. A new one is noted
    /// in `lastSerial`, through the controller (an operation's `self` is read-only).
    #[operation(POST, "/website-changed")]
    #[subscribe(changed, Website)]
    async fn website_changed(&self, ctx: &Context, #[body] event: Notification) -> Result<Reply> {
        if event.serial <= self.last_serial {
            tracing::debug!(serial = event.serial, "a notification handled already");
            return Ok(Reply::done());
        }
        let Some(id) = self.resource.id() else {
            return Err(Error::new("the controller sent the domain without its id"));
        };
        tracing::info!(
            website = event.source.id,
            serial = event.serial,
            "website changed"
        );
        let noted = serde_json::json!({"lastSerial": event.serial});
        ctx.controller().update(id, &noted).await?;
        Ok(Reply::done())
    }
}
