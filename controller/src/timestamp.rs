//! Timestamps as tasks show them: UTC, RFC 3339, always with microseconds.
//!
//! Long polling compares the `lastModified` a client sends back with the stored one, so a
//! timestamp must survive a round trip through its text exactly: [`Timestamp::now`] drops
//! everything below a microsecond and the text always carries six fraction digits.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// A point in time, UTC, with microsecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "engine", schema(value_type = String, format = DateTime))]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The current time, cut to the microsecond.
    pub fn now() -> Self {
        Self::from(OffsetDateTime::now_utc())
    }

    /// The later of now and one microsecond after `previous`, so successive changes of a task
    /// always carry growing timestamps even when the clock is coarse or steps back.
    pub fn after(previous: Timestamp) -> Self {
        let next = Self(previous.0 + Duration::from_micros(1));
        Self::now().max(next)
    }

    /// Reads RFC 3339 text with any offset and precision.
    pub fn parse(text: &str) -> Option<Self> {
        OffsetDateTime::parse(text.trim(), &Rfc3339)
            .ok()
            .map(Self::from)
    }

    /// This time plus a duration.
    pub fn plus(self, duration: Duration) -> Self {
        Self(
            self.0
                .saturating_add(duration.try_into().unwrap_or(time::Duration::MAX)),
        )
    }

    /// How long from now until this time (zero when it has passed).
    pub fn from_now(self) -> Duration {
        (self.0 - OffsetDateTime::now_utc())
            .try_into()
            .unwrap_or(Duration::ZERO)
    }

    /// How long ago this time was (zero when it is still to come).
    pub fn elapsed(self) -> Duration {
        (OffsetDateTime::now_utc() - self.0)
            .try_into()
            .unwrap_or(Duration::ZERO)
    }

    /// Whole seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0.unix_timestamp()
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(t: OffsetDateTime) -> Self {
        let t = t.to_offset(UtcOffset::UTC);
        Self(t.replace_nanosecond(t.microsecond() * 1000).unwrap_or(t))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_exactly() {
        let t = Timestamp::now();
        let text = t.to_string();
        assert_eq!(text.len(), "2026-11-23T10:00:00.123456Z".len());
        assert_eq!(Timestamp::parse(&text), Some(t));
    }

    #[test]
    fn after_always_grows() {
        let t = Timestamp::now().plus(Duration::from_secs(60));
        assert!(Timestamp::after(t) > t);
    }

    #[test]
    fn other_offsets_are_read_as_utc() {
        let a = Timestamp::parse("2026-11-23T12:00:00+02:00").unwrap();
        assert_eq!(a.to_string(), "2026-11-23T10:00:00.000000Z");
    }
}
