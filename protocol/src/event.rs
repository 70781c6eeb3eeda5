//! Events: subscriptions (declared in a type schema, or made at run time through the
//! controller) and the notifications the controller delivers for them.
//!
//! An event type is named by its id, `http://aps-standard.org/core/events/{name}`; the short
//! names of the standard ones (`changed`, `removed`, `linked`, `unlinked`, `available`) stand
//! for their ids wherever an event is named, and [`event_type_id`] makes either spelling the id.
//!
//! A notification is delivered as a call of the subscriber's custom operation that the
//! subscription names as its `handler`, with a [`Notification`] as the body. Delivery is **at
//! least once**: a notification may come again, with the same `serial`, so a handler remembers
//! the last serial it handled and ignores one it has already seen.
//!
//! ```
//! use aps_protocol::event::{Notification, event_type_id, CHANGED};
//!
//! assert_eq!(event_type_id("changed"), CHANGED);
//! assert_eq!(event_type_id(CHANGED), CHANGED);
//! let n: Notification = serde_json::from_value(serde_json::json!({
//!     "event": CHANGED, "time": "2026-01-02T03:04:05Z", "serial": 7,
//!     "subscription": "5f0c…", "source": {"type": "http://example.com/hosting/websites/1.0", "id": "w1"}
//! })).unwrap();
//! assert_eq!((n.serial, n.source.id.as_str()), (7, "w1"));
//! ```

use serde::{Deserialize, Serialize};

/// What an event type id starts with; the short name follows.
pub const EVENT_PREFIX: &str = "http://aps-standard.org/core/events/";
/// A resource's properties changed.
pub const CHANGED: &str = "http://aps-standard.org/core/events/changed";
/// A resource was removed.
pub const REMOVED: &str = "http://aps-standard.org/core/events/removed";
/// A resource was linked to another.
pub const LINKED: &str = "http://aps-standard.org/core/events/linked";
/// A link of a resource was removed.
pub const UNLINKED: &str = "http://aps-standard.org/core/events/unlinked";
/// A resource became ready (provisioned).
pub const AVAILABLE: &str = "http://aps-standard.org/core/events/available";

/// The short names of the standard event types.
pub const SHORT_NAMES: [&str; 5] = ["changed", "removed", "linked", "unlinked", "available"];

/// The event type id of `name`: a short name of a standard event becomes its id; anything else
/// (an id already) is kept as it is.
pub fn event_type_id(name: &str) -> String {
    if SHORT_NAMES.contains(&name) {
        format!("{EVENT_PREFIX}{name}")
    } else {
        name.to_owned()
    }
}

/// A standard event type, for those who match on it (the wire carries its id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A resource's properties changed (a configure succeeded, or its endpoint changed it).
    Changed,
    /// A resource was unprovisioned.
    Removed,
    /// A link of a resource was made.
    Linked,
    /// A link of a resource was removed.
    Unlinked,
    /// A resource was provisioned.
    Available,
}

impl EventKind {
    /// Every standard event type.
    pub const ALL: [Self; 5] = [
        Self::Changed,
        Self::Removed,
        Self::Linked,
        Self::Unlinked,
        Self::Available,
    ];

    /// The short name, e.g. `changed`.
    pub fn short(self) -> &'static str {
        match self {
            Self::Changed => "changed",
            Self::Removed => "removed",
            Self::Linked => "linked",
            Self::Unlinked => "unlinked",
            Self::Available => "available",
        }
    }

    /// The event type id, e.g. [`CHANGED`].
    pub fn id(self) -> String {
        format!("{EVENT_PREFIX}{}", self.short())
    }

    /// Reads a short name or a standard event type id; `None` for any other text.
    pub fn parse(text: &str) -> Option<Self> {
        let short = text.strip_prefix(EVENT_PREFIX).unwrap_or(text);
        Self::ALL.into_iter().find(|k| k.short() == short)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id())
    }
}

/// What a subscription listens to: every resource of a type, or one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Source {
    /// Resources of this type id.
    Type {
        /// The type id.
        #[serde(rename = "type")]
        type_id: String,
    },
    /// The resource with this id.
    Resource {
        /// The resource id.
        id: String,
    },
}

/// A subscription: which event of which source is delivered to which operation of the
/// subscriber.
///
/// The same shape is declared in a type schema (its `subscriptions` member, without `id`, the
/// source by type), sent to create one at run time (without `id`), and answered by the
/// controller (with the `id` it gave).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Subscription {
    /// Set by the controller; absent in a declaration or a request to subscribe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The event type id (or a standard event's short name).
    pub event: String,
    /// Where events come from.
    pub source: Source,
    /// Only events of resources linked to the subscriber through this relation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// The name of the subscriber's custom operation the notifications are delivered to.
    pub handler: String,
}

impl Subscription {
    /// A subscription to `event` (id or short name, kept as its id) of resources of the type
    /// `type_id`, delivered to the operation `handler`.
    pub fn to_type(event: &str, type_id: impl Into<String>, handler: impl Into<String>) -> Self {
        Self::new(
            event,
            Source::Type {
                type_id: type_id.into(),
            },
            handler,
        )
    }

    /// A subscription to `event` of the one resource `id`, delivered to the operation
    /// `handler`.
    pub fn to_resource(event: &str, id: impl Into<String>, handler: impl Into<String>) -> Self {
        Self::new(event, Source::Resource { id: id.into() }, handler)
    }

    fn new(event: &str, source: Source, handler: impl Into<String>) -> Self {
        Self {
            id: None,
            event: event_type_id(event),
            source,
            relation: None,
            handler: handler.into(),
        }
    }

    /// Limits the subscription to resources linked to the subscriber through `relation`.
    #[must_use]
    pub fn relation(mut self, relation: impl Into<String>) -> Self {
        self.relation = Some(relation.into());
        self
    }
}

/// The resource an event happened to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct NotificationSource {
    /// Its type id.
    #[serde(rename = "type")]
    pub type_id: String,
    /// Its id.
    pub id: String,
}

/// A notification: the body of the call of a subscription's handler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Notification {
    /// The event type id.
    pub event: String,
    /// When the event happened (RFC 3339).
    pub time: String,
    /// Grows by one per notification of the subscription; a notification delivered again
    /// carries the same serial.
    pub serial: u64,
    /// The subscription's id.
    pub subscription: String,
    /// The resource the event happened to.
    pub source: NotificationSource,
}

impl Notification {
    /// Whether this is the event `name`; either spelling (id or a standard event's short
    /// name) matches either spelling in the notification.
    pub fn is(&self, name: &str) -> bool {
        event_type_id(&self.event) == event_type_id(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_kinds_read_either_spelling() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.short()), Some(kind));
            assert_eq!(EventKind::parse(&kind.id()), Some(kind));
            assert_eq!(event_type_id(kind.short()), kind.id());
        }
        assert_eq!(EventKind::parse("http://example.com/events/custom"), None);
    }

    #[test]
    fn subscriptions_read_and_write_the_contract_shape() {
        let declared = Subscription::to_type("changed", "http://x/websites/1.0", "onChange");
        assert_eq!(
            serde_json::to_value(&declared).unwrap(),
            json!({"event": CHANGED, "source": {"type": "http://x/websites/1.0"}, "handler": "onChange"})
        );
        let answered: Subscription = serde_json::from_value(json!({
            "id": "s1", "event": REMOVED, "source": {"id": "r1"}, "relation": "website", "handler": "h"
        }))
        .unwrap();
        assert_eq!(answered.id.as_deref(), Some("s1"));
        assert_eq!(answered.source, Source::Resource { id: "r1".into() });
        assert_eq!(
            answered,
            Subscription {
                id: Some("s1".into()),
                ..Subscription::to_resource(REMOVED, "r1", "h").relation("website")
            }
        );
    }

    #[test]
    fn short_names_stand_for_standard_event_ids_and_other_ids_are_kept() {
        for name in SHORT_NAMES {
            assert_eq!(event_type_id(name), format!("{EVENT_PREFIX}{name}"));
        }
        assert_eq!(
            event_type_id("http://x/events/mine"),
            "http://x/events/mine"
        );
        let n = Notification {
            event: LINKED.into(),
            time: "2026-01-01T00:00:00Z".into(),
            serial: 1,
            subscription: "s".into(),
            source: NotificationSource {
                type_id: "t".into(),
                id: "r".into(),
            },
        };
        assert!(n.is("linked") && n.is(LINKED) && !n.is("unlinked"));
        let short = Notification {
            event: "linked".into(),
            ..n
        };
        assert!(short.is(LINKED) && short.is("linked"));
    }
}
