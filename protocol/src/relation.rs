//! Relations between resources: as a type schema declares them (`relations`), and as a link
//! appears in a resource's JSON.
//!
//! ```
//! use aps_protocol::relation::{Link, LinkKind};
//!
//! let link = Link::new(LinkKind::Collection, "6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e");
//! assert_eq!(
//!     serde_json::to_value(&link).unwrap(),
//!     serde_json::json!({"aps": {
//!         "link": "collection",
//!         "id": "6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e",
//!         "href": "/aps/2/resources/6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e"
//!     }})
//! );
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One declared relation of a type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationDecl {
    /// The type id of the linked resources.
    #[serde(rename = "type")]
    pub type_id: String,
    /// Whether a resource must hold a link before it is provisioned.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Whether the relation holds many links (else at most one).
    #[serde(default, skip_serializing_if = "is_false")]
    pub collection: bool,
    /// Every other member, kept as it came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl RelationDecl {
    /// How links of this relation are written in a resource's JSON.
    pub fn link_kind(&self) -> LinkKind {
        match (self.collection, self.required) {
            (true, _) => LinkKind::Collection,
            (false, true) => LinkKind::Strong,
            (false, false) => LinkKind::Weak,
        }
    }
}

/// A link as it appears in a resource's JSON: `{"aps": {"link", "id", "href"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The link's meta object.
    pub aps: LinkMeta,
}

impl Link {
    /// A link to the resource `id`.
    pub fn new(kind: LinkKind, id: &str) -> Self {
        Self {
            aps: LinkMeta {
                link: kind,
                id: id.to_owned(),
                href: format!("{RESOURCES_PATH}{id}"),
            },
        }
    }

    /// The linked resource's id.
    pub fn id(&self) -> &str {
        &self.aps.id
    }
}

/// Where the controller serves resources to endpoints: a link's `href` is this and the id.
pub const RESOURCES_PATH: &str = "/aps/2/resources/";

/// The meta object of a [`Link`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkMeta {
    /// The kind of link.
    pub link: LinkKind,
    /// The linked resource's id.
    pub id: String,
    /// Where the linked resource is read (`/aps/2/resources/{id}`).
    pub href: String,
}

/// The kind of a link, as `aps.link` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// A required single relation.
    Strong,
    /// An optional single relation.
    Weak,
    /// One link of a collection.
    Collection,
}

fn is_false(b: &bool) -> bool {
    !b
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn declared_relations_default_to_optional_single() {
        let r: RelationDecl = serde_json::from_value(json!({"type": "http://x/t/1.0"})).unwrap();
        assert!(!r.required && !r.collection);
        assert_eq!(r.link_kind(), LinkKind::Weak);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"type": "http://x/t/1.0"})
        );
    }
}
