//! Durations people write ("5 minutes", "7d") and instants on the wire
//! (RFC 3339, UTC, milliseconds).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written the way people write them: `"5 minutes"`, `"5m"`,
/// `"7d"`, `"1h 30m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HumanDuration(Duration);

impl HumanDuration {
    /// Wraps a [`Duration`].
    pub const fn new(duration: Duration) -> Self {
        Self(duration)
    }

    /// The duration itself.
    pub const fn get(self) -> Duration {
        self.0
    }
}

impl From<Duration> for HumanDuration {
    fn from(duration: Duration) -> Self {
        Self(duration)
    }
}

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{input}`: {problem} (examples: \"5 minutes\", \"5m\", \"7d\")")]
pub struct DurationError {
    input: String,
    problem: String,
}

impl FromStr for HumanDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        humantime::parse_duration(s.trim())
            .map(Self)
            .map_err(|e| DurationError {
                input: s.chars().take(40).collect(),
                problem: e.to_string(),
            })
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        humantime::format_duration(self.0).fmt(f)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for HumanDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HumanDuration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration such as \"5 minutes\", \"5m\", \"7d\" or \"1h 30m\".",
            "examples": ["5m", "7d"]
        })
    }
}

/// An instant, on the wire as RFC 3339 in UTC with milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(SystemTime);

impl Timestamp {
    /// Wraps a [`SystemTime`].
    pub const fn new(at: SystemTime) -> Self {
        Self(at)
    }

    /// The instant from milliseconds since the Unix epoch.
    pub fn from_unix_millis(millis: i64) -> Self {
        let magnitude = Duration::from_millis(millis.unsigned_abs());
        if millis >= 0 {
            Self(UNIX_EPOCH + magnitude)
        } else {
            Self(UNIX_EPOCH - magnitude)
        }
    }

    /// Milliseconds since the Unix epoch, saturating far outside any
    /// plausible range.
    pub fn unix_millis(self) -> i64 {
        match self.0.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_millis())
                .map(|m| -m)
                .unwrap_or(i64::MIN),
        }
    }

    /// The instant itself.
    pub const fn get(self) -> SystemTime {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        humantime::format_rfc3339_millis(self.0).fmt(f)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_rfc3339_weak(&text)
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "date-time" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_forms_people_write() {
        for (text, secs) in [
            ("5 minutes", 300),
            ("5m", 300),
            ("7d", 604_800),
            ("1h 30m", 5400),
        ] {
            let parsed: HumanDuration = text.parse().unwrap();
            assert_eq!(parsed.get(), Duration::from_secs(secs), "{text}");
        }
    }

    #[test]
    fn rejects_durations_without_unit_or_sign() {
        for bad in ["5", "-5m", "", "soon", "99999999999999999999d"] {
            assert!(bad.parse::<HumanDuration>().is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_round_trip_through_millis_and_json() {
        let at = Timestamp::from_unix_millis(1_764_780_000_123);
        assert_eq!(at.unix_millis(), 1_764_780_000_123);
        let json = serde_json::to_string(&at).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), at);
    }
}
