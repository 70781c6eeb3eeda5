//! Resource usage: the core structures `Counter`, `Limit` and `Usage` of
//! `http://aps-standard.org/types/core/resource/1.0`, as property values.
//!
//! A type schema declares such a property with the structure's id as its `type`
//! (`{"type": "http://aps-standard.org/types/core/resource/1.0#Counter"}`); on the wire the
//! value is an object. The controller refreshes usage by calling the endpoint's `retrieve`
//! (`GET /{service}/{id}`) and stores what it answers.
//!
//! ```
//! use aps_protocol::usage::Counter;
//!
//! let disk = Counter::new(120).with_limit(1024).with_unit("MB");
//! assert_eq!(
//!     serde_json::to_value(&disk).unwrap(),
//!     serde_json::json!({"usage": 120, "limit": 1024, "unit": "MB"})
//! );
//! assert!(!disk.exceeded());
//! ```

use serde::{Deserialize, Serialize};

/// The id of the `Counter` structure: what a counter property's `type` is.
pub const COUNTER_TYPE: &str = "http://aps-standard.org/types/core/resource/1.0#Counter";
/// The id of the `Limit` structure.
pub const LIMIT_TYPE: &str = "http://aps-standard.org/types/core/resource/1.0#Limit";
/// The id of the `Usage` structure.
pub const USAGE_TYPE: &str = "http://aps-standard.org/types/core/resource/1.0#Usage";

/// How much of something a resource uses, and how much it may: `{"usage", "limit"?, "unit"?}`.
/// Without a limit it is unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    /// How much is used.
    #[serde(default)]
    pub usage: i64,
    /// How much may be used; absent when unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// The unit both are counted in, e.g. `MB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl Counter {
    /// A counter at `usage`, unlimited, without a unit.
    pub fn new(usage: i64) -> Self {
        Self {
            usage,
            ..Self::default()
        }
    }

    /// The same counter, limited to `limit`.
    #[must_use]
    pub fn with_limit(mut self, limit: i64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The same counter, counted in `unit`.
    #[must_use]
    pub fn with_unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = Some(unit.into());
        self
    }

    /// Whether the usage is above the limit (never, when unlimited).
    pub fn exceeded(&self) -> bool {
        self.limit.is_some_and(|limit| self.usage > limit)
    }
}

/// How much of something a resource may use: `{"limit", "unit"?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    /// How much may be used.
    #[serde(default)]
    pub limit: i64,
    /// The unit it is counted in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl Limit {
    /// A limit of `limit`, without a unit.
    pub fn new(limit: i64) -> Self {
        Self { limit, unit: None }
    }

    /// The same limit, counted in `unit`.
    #[must_use]
    pub fn with_unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = Some(unit.into());
        self
    }
}

/// How much of something a resource uses, without a limit: `{"usage", "unit"?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// How much is used.
    #[serde(default)]
    pub usage: i64,
    /// The unit it is counted in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl Usage {
    /// A usage of `usage`, without a unit.
    pub fn new(usage: i64) -> Self {
        Self { usage, unit: None }
    }

    /// The same usage, counted in `unit`.
    #[must_use]
    pub fn with_unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = Some(unit.into());
        self
    }
}

/// The schema of a core structure is its id as the `type`, which is what a type schema
/// declares for the property.
#[cfg(feature = "schemars")]
macro_rules! core_structure_schema {
    ($ty:ty, $name:literal, $id:expr) => {
        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": $id })
            }
        }
    };
}

#[cfg(feature = "schemars")]
core_structure_schema!(Counter, "Counter", COUNTER_TYPE);
#[cfg(feature = "schemars")]
core_structure_schema!(Limit, "Limit", LIMIT_TYPE);
#[cfg(feature = "schemars")]
core_structure_schema!(Usage, "Usage", USAGE_TYPE);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usage_values_read_and_write_as_objects_with_optional_members() {
        let counter: Counter = serde_json::from_value(json!({"usage": 5})).unwrap();
        assert_eq!(counter, Counter::new(5));
        assert!(!Counter::new(5).exceeded());
        assert!(Counter::new(5).with_limit(4).exceeded());
        assert_eq!(
            serde_json::to_value(Limit::new(10).with_unit("GB")).unwrap(),
            json!({"limit": 10, "unit": "GB"})
        );
        assert_eq!(
            serde_json::to_value(Usage::new(3)).unwrap(),
            json!({"usage": 3})
        );
    }
}
