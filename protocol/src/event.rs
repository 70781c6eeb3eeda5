//! Events: subscriptions to changes of resources, and the notifications a controller delivers.
//!
//! An endpoint subscribes a resource of its own (the *subscriber*) to an event of other
//! resources (a *source*: every resource of a type, or one resource), naming the custom
//! operation (`handler`) that receives the notifications. Subscriptions come from the type
//! schema's `subscriptions` member (made when a resource of the type is provisioned) or are
//! made at run time under `/aps/2/resources/{subscriber}/aps/subscriptions`. The controller
//! delivers each notification at least once, in order per subscription; a duplicate carries
//! the same `serial`.

use serde::{Deserialize, Serialize};

/// The namespace of the core event types: `changed` stands for `{EVENTS}changed`.
pub const EVENTS: &str = "http://aps-standard.org/core/events/";

/// A core event type.
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
    /// Every event type.
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

    /// The event type id, e.g. `http://aps-standard.org/core/events/changed`.
    pub fn id(self) -> String {
        format!("{EVENTS}{}", self.short())
    }

    /// Reads a short name or a full event type id.
    pub fn parse(text: &str) -> Option<Self> {
        let short = text.strip_prefix(EVENTS).unwrap_or(text);
        Self::ALL.into_iter().find(|k| k.short() == short)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id())
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.id())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not an event type (changed, removed, linked, unlinked, available)"
            ))
        })
    }
}

/// What a subscription listens to: every resource of a type, or one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The type id the source resources are of.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<String>,
    /// The one source resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A subscription as asked for (declared in a schema, or `POST`ed by an endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRequest {
    /// The event listened to.
    pub event: EventKind,
    /// Whose events.
    pub source: Source,
    /// For `linked`/`unlinked`: only links of this relation of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// The subscriber's custom operation that receives the notifications.
    pub handler: String,
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Set by the controller.
    pub id: String,
    /// What it listens to.
    #[serde(flatten)]
    pub request: SubscriptionRequest,
}

/// The resource an event happened to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSource {
    /// Its type id.
    #[serde(rename = "type")]
    pub type_id: String,
    /// Its id.
    pub id: String,
}

/// The body of a notification, sent to the subscriber's handler operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The event type id.
    pub event: EventKind,
    /// When the event happened (RFC 3339).
    pub time: String,
    /// Grows by one per subscription; a duplicate delivery carries the same serial.
    pub serial: u64,
    /// The subscription's id.
    pub subscription: String,
    /// The resource the event happened to.
    pub source: EventSource,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_spellings_are_read_and_the_full_id_is_written() {
        let request: SubscriptionRequest = serde_json::from_value(json!({
            "event": "changed", "source": {"type": "http://x/t/1.0"}, "handler": "onChange"
        }))
        .unwrap();
        assert_eq!(request.event, EventKind::Changed);
        assert_eq!(
            serde_json::to_value(&request).unwrap()["event"],
            "http://aps-standard.org/core/events/changed"
        );
        assert_eq!(
            EventKind::parse("http://aps-standard.org/core/events/unlinked"),
            Some(EventKind::Unlinked)
        );
        assert_eq!(EventKind::parse("moved"), None);
        assert!(
            serde_json::from_value::<SubscriptionRequest>(json!({
                "event": "moved", "source": {"id": "x"}, "handler": "h"
            }))
            .is_err()
        );
    }
}
