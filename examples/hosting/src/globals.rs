//! The application resource: created when an instance is installed; it holds the websites.

use aps::{Links, Provisionable, Resource};
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

impl Provisionable for Globals {}
