//! Relations as typed fields: [`Link<T>`] (one linked resource) and [`Links<T>`] (a
//! collection), with the target type's id from [`ResourceType`].
//!
//! A field of one of these types is a *relation*, not a property: the generated schema lists it
//! under `relations` (single or collection, required unless `Option`), and in the resource's JSON
//! it is the APS link object, `{"aps": {"link", "id", "href"}}`, read and written back as it came.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use aps_protocol::relation::{self, LinkKind};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::json;

use crate::{ControllerClient, Result};

/// A resource type with a type id, so other types can link to it.
///
/// [`register!`](crate::register) implements it for every type it registers. Implement it by
/// hand for a type the application does not serve, to link to resources of another application
/// or of the platform:
///
/// ```
/// /// An account of the platform (only linked to, never served here).
/// #[derive(serde::Deserialize)]
/// struct Account {}
///
/// impl aps_core::ResourceType for Account {
///     const TYPE_ID: &'static str = "http://aps-standard.org/types/core/account/1.0";
/// }
/// ```
pub trait ResourceType {
    /// The type id: absolute, or relative to the application id like the ids `register!` takes.
    const TYPE_ID: &'static str;
}

/// Where a relation field's JSON schema names its target: the framework's schema generator
/// turns such a field into a relation instead of a property.
pub const RELATION_MARK: &str = "x-aps-relation";

/// A single relation: the link to one resource of type `T`.
///
/// A required relation is a `Link<T>` field; an optional one is `Option<Link<T>>` (absent from
/// the JSON when nothing is linked; add `#[serde(default, skip_serializing_if =
/// "Option::is_none")]` so an unlinked relation is written back absent, not as `null`). Read the
/// linked resource with [`Link::fetch`].
///
/// ```
/// use aps_core::{Link, Resource, ResourceType};
/// # #[derive(serde::Deserialize)] struct Globals {}
/// # impl ResourceType for Globals { const TYPE_ID: &'static str = "globals/1.0"; }
///
/// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
/// struct Website {
///     /// The application instance the website belongs to (required).
///     globals: Link<Globals>,
///     #[serde(flatten)]
///     resource: Resource,
/// }
///
/// let site: Website = serde_json::from_value(serde_json::json!({
///     "globals": {"aps": {"link": "strong", "id": "g1", "href": "/aps/2/resources/g1"}}
/// })).unwrap();
/// assert_eq!(site.globals.id(), "g1");
/// ```
pub struct Link<T> {
    link: relation::Link,
    to: PhantomData<fn() -> T>,
}

impl<T> Link<T> {
    /// A link to the resource `id`, of the given kind.
    pub fn new(kind: LinkKind, id: &str) -> Self {
        relation::Link::new(kind, id).into()
    }

    /// The linked resource's id.
    pub fn id(&self) -> &str {
        self.link.id()
    }

    /// Where the controller serves the linked resource (`/aps/2/resources/{id}`).
    pub fn href(&self) -> &str {
        &self.link.aps.href
    }

    /// The kind of link (`strong`, `weak` or `collection`).
    pub fn kind(&self) -> LinkKind {
        self.link.aps.link
    }

    /// The link as it is on the wire.
    pub fn as_link(&self) -> &relation::Link {
        &self.link
    }
}

impl<T: serde::de::DeserializeOwned> Link<T> {
    /// Reads the linked resource from the controller, as `T`.
    pub async fn fetch(&self, controller: &ControllerClient) -> Result<T> {
        controller.resource_as(self.id()).await
    }
}

impl<T> From<relation::Link> for Link<T> {
    fn from(link: relation::Link) -> Self {
        Self {
            link,
            to: PhantomData,
        }
    }
}

impl<T> Clone for Link<T> {
    fn clone(&self) -> Self {
        self.link.clone().into()
    }
}

impl<T> PartialEq for Link<T> {
    fn eq(&self, other: &Self) -> bool {
        self.link == other.link
    }
}

impl<T> fmt::Debug for Link<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.link.fmt(f)
    }
}

impl<T> Serialize for Link<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.link.serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for Link<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        relation::Link::deserialize(deserializer).map(Self::from)
    }
}

impl<T: ResourceType> JsonSchema for Link<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Link".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        relation_schema(T::TYPE_ID, false)
    }
}

/// A collection relation: the links to any number of resources of type `T`.
///
/// Absent or `null` in the JSON reads as no links; written back as an array (`[]` when empty).
///
/// ```
/// use aps_core::{Links, ResourceType};
/// # struct Domain;
/// # impl ResourceType for Domain { const TYPE_ID: &'static str = "domains/1.0"; }
///
/// let links: Links<Domain> = serde_json::from_value(serde_json::json!([
///     {"aps": {"link": "collection", "id": "d1", "href": "/aps/2/resources/d1"}}
/// ])).unwrap();
/// assert_eq!(links.ids().collect::<Vec<_>>(), ["d1"]);
/// assert!(links.contains("d1"));
/// ```
pub struct Links<T>(Vec<Link<T>>);

impl<T> Links<T> {
    /// The linked resources' ids.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(Link::id)
    }

    /// Whether the resource `id` is linked.
    pub fn contains(&self, id: &str) -> bool {
        self.ids().any(|linked| linked == id)
    }
}

impl<T> Default for Links<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> std::ops::Deref for Links<T> {
    type Target = [Link<T>];

    fn deref(&self) -> &[Link<T>] {
        &self.0
    }
}

impl<'a, T> IntoIterator for &'a Links<T> {
    type Item = &'a Link<T>;
    type IntoIter = std::slice::Iter<'a, Link<T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T> FromIterator<Link<T>> for Links<T> {
    fn from_iter<I: IntoIterator<Item = Link<T>>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<T> Clone for Links<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> PartialEq for Links<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T> fmt::Debug for Links<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

impl<T> Serialize for Links<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for Links<T> {
    /// Read as an optional array, so a missing member (serde asks for an option then) or
    /// `null` is an empty collection without `#[serde(default)]` on the field.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let links = Option::<Vec<Link<T>>>::deserialize(deserializer)?;
        Ok(Self(links.unwrap_or_default()))
    }
}

impl<T: ResourceType> JsonSchema for Links<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Links".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        relation_schema(T::TYPE_ID, true)
    }

    // Never required: an empty collection is a valid one.
    fn _schemars_private_is_option() -> bool {
        true
    }
}

fn relation_schema(type_id: &str, collection: bool) -> Schema {
    let kind = if collection { "array" } else { "object" };
    let schema = json!({"type": kind, RELATION_MARK: {"type": type_id, "collection": collection}});
    Schema::try_from(schema).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    struct Domain {
        website: Option<Link<Site>>,
        owner: Link<Site>,
        siblings: Links<Site>,
    }

    struct Site;

    impl ResourceType for Site {
        const TYPE_ID: &'static str = "websites/1.0";
    }

    #[test]
    fn links_read_and_write_back_the_link_json_unchanged() {
        let wire = json!({
            "website": {"aps": {"link": "weak", "id": "w1", "href": "/aps/2/resources/w1"}},
            "owner": {"aps": {"link": "strong", "id": "w2", "href": "/aps/2/resources/w2"}},
            "siblings": [{"aps": {"link": "collection", "id": "w3", "href": "/aps/2/resources/w3"}}]
        });
        let domain: Domain = serde_json::from_value(wire.clone()).expect("links");
        assert_eq!(domain.website.as_ref().map(Link::id), Some("w1"));
        assert_eq!(domain.owner.kind(), LinkKind::Strong);
        assert_eq!(domain.siblings[0].href(), "/aps/2/resources/w3");
        assert_eq!(serde_json::to_value(&domain).expect("json"), wire);
    }

    #[test]
    fn a_missing_collection_is_empty_and_a_missing_required_link_is_an_error() {
        let owner = json!({"aps": {"link": "strong", "id": "w2", "href": "/aps/2/resources/w2"}});
        let domain: Domain = serde_json::from_value(json!({"owner": owner})).expect("read");
        assert!(domain.siblings.is_empty() && domain.website.is_none());
        let e = serde_json::from_value::<Domain>(json!({})).expect_err("no owner");
        assert!(e.to_string().contains("owner"), "{e}");
    }

    #[test]
    fn relation_fields_are_marked_in_the_json_schema() {
        let schema = schemars::schema_for!(Domain);
        let props = &schema.as_value()["properties"];
        assert_eq!(props["owner"][RELATION_MARK]["type"], "websites/1.0");
        assert_eq!(props["siblings"][RELATION_MARK]["collection"], true);
        let required = &schema.as_value()["required"];
        assert_eq!(required, &json!(["owner"]));
    }
}
