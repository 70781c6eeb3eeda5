//! A domain name, served by at most one website.

use aps::{Link, Provisionable, Resource};
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
    #[serde(flatten)]
    resource: Resource,
}

aps::register!(Domain, service = "domains", type = "domains/1.0");

impl Provisionable for Domain {}
