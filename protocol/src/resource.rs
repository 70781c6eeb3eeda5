//! Resource JSON: the `aps` meta object and the properties around it.
//!
//! A resource on the wire is one JSON object: an `aps` member with the controller's meta data
//! (id, type, status, revision, …) and the type's properties beside it. [`Resource`] holds the
//! meta data *and every property that a Rust type does not declare*, so that flattening it into
//! a typed struct keeps unknown properties and echoes them back unchanged:
//!
//! ```
//! use aps_protocol::Resource;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Mailbox {
//!     quota: u64,
//!     #[serde(flatten)]
//!     resource: Resource,
//! }
//!
//! let wire = serde_json::json!({
//!     "aps": {"id": "6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e", "type": "http://x/mail/1.0"},
//!     "quota": 10,
//!     "addedByANewerController": true
//! });
//! let mailbox: Mailbox = serde_json::from_value(wire.clone()).unwrap();
//! assert_eq!(mailbox.resource.aps.id.as_deref(), Some("6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e"));
//! assert_eq!(serde_json::to_value(&mailbox).unwrap(), wire);
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `aps` meta object of a resource.
///
/// Members this struct does not name (`x509`, `link`, members of future controllers) are kept
/// in [`Aps::other`] and written back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Aps {
    /// The resource id (a UUID), set by the controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The type id, e.g. `http://aps-standard.org/types/core/application/1.0`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<String>,
    /// The resource status, e.g. `aps:provisioning`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Grows with every change the controller stores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    /// When the controller last changed the resource (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// The subscription the resource belongs to, when it belongs to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    /// Every other member of the meta object, kept as it came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The status of a resource, as the controller reports it in `aps.status`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Provisioning is running.
    #[serde(rename = "aps:provisioning")]
    Provisioning,
    /// The resource is provisioned and idle.
    #[serde(rename = "aps:ready")]
    Ready,
    /// A configure operation is running.
    #[serde(rename = "aps:configuring")]
    Configuring,
    /// Unprovisioning is running.
    #[serde(rename = "aps:unprovisioning")]
    Unprovisioning,
    /// Any status this crate does not know, kept as it came.
    #[serde(untagged)]
    Other(String),
}

impl Status {
    /// The wire spelling, e.g. `aps:ready`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Provisioning => "aps:provisioning",
            Self::Ready => "aps:ready",
            Self::Configuring => "aps:configuring",
            Self::Unprovisioning => "aps:unprovisioning",
            Self::Other(s) => s,
        }
    }
}

/// The part of every resource that a typed struct does not declare: the `aps` meta object and
/// any unknown properties. Flatten it into resource types with `#[serde(flatten)]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The meta object.
    #[serde(default, deserialize_with = "meta_object")]
    pub aps: Aps,
    /// Properties that the resource type does not declare, kept so they are echoed back.
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// Reads `aps`, naming it in errors: inside a flattened struct serde loses the path.
fn meta_object<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Aps, D::Error> {
    Aps::deserialize(deserializer).map_err(|e| serde::de::Error::custom(format!("`aps`: {e}")))
}

impl Resource {
    /// The resource id, when the controller has given one.
    pub fn id(&self) -> Option<&str> {
        self.aps.id.as_deref()
    }
}

/// A flattened `Resource` adds no declared properties to a type's schema: the `aps` object and
/// unknown properties are the controller's, not the type's.
#[cfg(feature = "schemars")]
impl schemars::JsonSchema for Resource {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Resource".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "object" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn meta_members_it_does_not_know_are_kept() {
        let wire = json!({"aps": {"id": "a", "x509": {"self": "pem"}, "link": "strong"}, "p": 1});
        let r: Resource = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(r.aps.other["x509"]["self"], "pem");
        assert_eq!(serde_json::to_value(&r).unwrap(), wire);
    }

    #[test]
    fn unknown_statuses_round_trip() {
        let s: Status = serde_json::from_value(json!("aps:disabled")).unwrap();
        assert_eq!(s, Status::Other("aps:disabled".into()));
        assert_eq!(serde_json::to_value(&s).unwrap(), json!("aps:disabled"));
        let s: Status = serde_json::from_value(json!("aps:ready")).unwrap();
        assert_eq!(s.as_str(), "aps:ready");
    }
}
