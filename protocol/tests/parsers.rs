//! Property tests: the protocol's readers take arbitrary input without panicking. Each gets
//! plain random text and input shaped like what it reads (XML made of APP-META.xml elements,
//! JSON made of schema members), so the cases reach past the first syntax check.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use aps_protocol::headers::{header_text, text_of};
use aps_protocol::{AppMeta, ErrorBody, Phase, TypeSchema};
use aps_test_support::json::any_json;
use proptest::prelude::*;
use serde_json::Value;

/// JSON objects made of the members a schema has, with values of any type.
fn schema_like() -> impl Strategy<Value = Value> {
    let member = prop_oneof![
        Just("apsVersion"),
        Just("id"),
        Just("name"),
        Just("implements"),
        Just("properties"),
        Just("relations"),
        Just("operations"),
        Just("structures"),
        Just("type"),
        Just("default"),
    ];
    prop::collection::vec((member, any_json()), 0..8).prop_map(|members| {
        Value::Object(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    })
}

/// Text made of APP-META.xml pieces in any order: tags that open and close wrongly,
/// attributes, entities, CDATA, and random text.
fn meta_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(r#"<application version="2.0" xmlns="http://aps-standard.org/ns/2">"#.to_owned()),
        Just("</application>".to_owned()),
        Just("<id>".to_owned()),
        Just("</id>".to_owned()),
        Just("<name>".to_owned()),
        Just("</name>".to_owned()),
        Just("<version>1.0</version>".to_owned()),
        Just("<release>1</release>".to_owned()),
        Just(r#"<service id="app">"#.to_owned()),
        Just(r#"<service id=" x ">"#.to_owned()),
        Just("</service>".to_owned()),
        Just(r#"<schema path="schemas/app.schema"/>"#.to_owned()),
        Just(r#"<code engine="x" path="y"/>"#.to_owned()),
        Just("<presentation><summary>s</summary></presentation>".to_owned()),
        Just("&amp;&bogus;&#0;&#xFFFFFF;".to_owned()),
        Just("<![CDATA[x]]>".to_owned()),
        Just("<?xml version=\"1.0\"?>".to_owned()),
        Just("<!DOCTYPE a [<!ENTITY e \"e\">]>".to_owned()),
        Just("<a b='".to_owned()),
        ".{0,16}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn app_meta_takes_any_text(text in ".{0,400}") {
        let _ = AppMeta::parse(&text);
    }

    #[test]
    fn app_meta_takes_any_arrangement_of_its_elements(xml in meta_like()) {
        if let Ok(meta) = AppMeta::parse(&xml) {
            // What was read can be written and read again.
            let _ = AppMeta::parse(&meta.to_xml());
        }
    }

    #[test]
    fn type_schema_takes_any_text(text in ".{0,400}") {
        let _ = TypeSchema::parse(&text);
        let _ = TypeSchema::parse(&format!("// generated\n{text}"));
    }

    #[test]
    fn type_schema_takes_any_json(value in prop_oneof![any_json(), schema_like()]) {
        let _ = TypeSchema::parse(&value.to_string());
    }

    #[test]
    fn error_bodies_and_phases_take_anything(value in any_json(), text in ".{0,40}") {
        let _ = serde_json::from_value::<ErrorBody>(value);
        let _ = Phase::parse(Some(&text));
    }

    #[test]
    fn header_text_is_always_a_valid_header(text in "(.|[\r\n\0])*") {
        let value = header_text(&text);
        prop_assert!(value.len() <= 4 * 1024 + 4);
        let back = text_of(&value);
        prop_assert!(!back.contains(['\r', '\n', '\0']));
    }
}
