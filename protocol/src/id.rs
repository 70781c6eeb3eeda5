//! Resource ids: UUIDs, in URL paths and in a resource's `aps.id`.
//!
//! Both sides take an id only when it is a UUID, so that no id (`..`, `a/b`, a megabyte of
//! text) can name another path once it is put into a URL, or reach a log whole. Ids are shown
//! in their hyphenated lower-case form.

use serde::Deserialize;
use uuid::Uuid;

/// An id that is not a UUID. Its message never quotes the id, which came from a peer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} must be a resource id (a UUID)")]
pub struct InvalidId(pub &'static str);

/// Reads a resource id from a URL path segment (already percent-decoded): a UUID, or
/// [`InvalidId`].
pub fn parse(text: &str) -> Result<Uuid, InvalidId> {
    // `Uuid::parse_str` also takes braced and URN forms; an id in a path is the plain form.
    match Uuid::try_parse(text) {
        Ok(id) if text.len() == 36 || text.len() == 32 => Ok(id),
        _ => Err(InvalidId("the id in the path")),
    }
}

/// The `aps.id` of a resource's JSON, when it has one: a UUID, or [`InvalidId`]. JSON that is
/// not a resource (not an object, `aps` not an object) has no id here: whoever reads the body
/// refuses it for that.
pub fn in_body(json: &[u8]) -> Result<Option<Uuid>, InvalidId> {
    #[derive(Deserialize)]
    struct Body {
        aps: Option<Meta>,
    }
    #[derive(Deserialize)]
    struct Meta {
        id: Option<serde_json::Value>,
    }
    let Ok(Body { aps: Some(meta) }) = serde_json::from_slice::<Body>(json) else {
        return Ok(None);
    };
    meta_id(meta.id.as_ref())
}

/// The `aps.id` of a parsed resource, when it has one: a UUID, or [`InvalidId`].
pub fn in_resource(resource: &serde_json::Value) -> Result<Option<Uuid>, InvalidId> {
    meta_id(resource.get("aps").and_then(|aps| aps.get("id")))
}

fn meta_id(id: Option<&serde_json::Value>) -> Result<Option<Uuid>, InvalidId> {
    match id {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => {
            parse(text).map(Some).map_err(|_| InvalidId("aps.id"))
        }
        Some(_) => Err(InvalidId("aps.id")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuids_are_ids() {
        let id = "6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e";
        assert_eq!(parse(id).expect("uuid").to_string(), id);
        for bad in [
            "",
            ".",
            "..",
            "../../etc/passwd",
            "a/b",
            "{6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e}",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn aps_id_in_a_body_must_be_a_uuid_when_present() {
        let good =
            br#"{"aps": {"id": "6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e", "type": "t"}, "p": 1}"#;
        assert!(in_body(good).expect("uuid").is_some());
        assert_eq!(in_body(br#"{"aps": {"type": "t"}}"#), Ok(None));
        assert_eq!(in_body(br#"{"p": 1}"#), Ok(None));
        assert_eq!(in_body(b"[1]"), Ok(None));
        for bad in [
            &br#"{"aps": {"id": "../../etc/passwd"}}"#[..],
            br#"{"aps": {"id": 7}}"#,
            br#"{"aps": {"id": ""}}"#,
        ] {
            assert_eq!(in_body(bad), Err(InvalidId("aps.id")));
            let parsed: serde_json::Value = serde_json::from_slice(bad).expect("json");
            assert_eq!(in_resource(&parsed), Err(InvalidId("aps.id")));
        }
    }
}
