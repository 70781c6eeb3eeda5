//! The application resource: created when an instance is installed; nothing to do.

use aps::{Provisionable, Resource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The application instance's own resource.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Globals {
    #[serde(flatten)]
    resource: Resource,
}

aps::register!(Globals, service = "globals", type = "globals/1.0", root);

impl Provisionable for Globals {}
