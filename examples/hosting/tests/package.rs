//! The hosting application as packaging sees it: its schemas declare operations and relations
//! in the shape of a real package made by the official tools, and `aps-package build` packages it.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::collections::BTreeSet;
use std::path::Path;

use aps::protocol::TypeSchema;
use aps_package::Package;
use serde_json::Value;

/// The real package in the repository's test data.
fn real_package() -> Package {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/CloudBlue-Connect-Extension-26.0-2.app.zip");
    Package::read(&std::fs::read(path).unwrap()).unwrap()
}

/// Every member path in `value` with the kind of its value; the names of operations,
/// parameters and relations (the members of `by_name` maps) become `*`.
fn shape(value: &Value, at: &str, by_name: bool, into: &mut BTreeSet<(String, &'static str)>) {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    into.insert((at.to_owned(), kind));
    if let Value::Object(members) = value {
        for (name, member) in members {
            let name = if by_name { "*" } else { name.as_str() };
            let path = format!("{at}.{name}");
            shape(member, &path, !by_name && name == "parameters", into);
        }
    }
}

/// The shapes of the `operations` and `relations` of every schema.
fn shapes<'a>(schemas: impl Iterator<Item = &'a TypeSchema>) -> BTreeSet<(String, &'static str)> {
    let mut found = BTreeSet::new();
    for schema in schemas {
        let json = serde_json::to_value(schema).unwrap();
        for member in ["operations", "relations"] {
            if let Some(declared) = json.get(member) {
                shape(declared, member, true, &mut found);
            }
        }
    }
    found
}

#[test]
fn operations_and_relations_have_the_members_and_value_kinds_of_a_real_package() {
    let real = real_package();
    let real = shapes(real.schemas.values());
    let hosting = hosting::app().schemas();
    let ours = shapes(hosting.iter().map(|(_, s)| s));
    for expected in [
        ("operations.*.verb", "string"),
        ("operations.*.path", "string"),
        ("operations.*.parameters.*.kind", "string"),
        ("operations.*.parameters.*.type", "string"),
        ("operations.*.parameters.*.required", "boolean"),
        ("operations.*.response.contentType", "string"),
        ("operations.*.response.type", "string"),
        ("relations.*.type", "string"),
        ("relations.*.collection", "boolean"),
        ("relations.*.required", "boolean"),
    ] {
        let expected = (expected.0.to_owned(), expected.1);
        assert!(ours.contains(&expected), "hosting lacks {expected:?}");
        assert!(
            real.contains(&expected),
            "the real package lacks {expected:?}"
        );
    }
    let unknown: Vec<_> = ours.difference(&real).collect();
    assert!(unknown.is_empty(), "not in the real package: {unknown:?}");
}

#[test]
fn relation_fields_are_relations_not_properties_with_type_ids_resolved_like_the_types() {
    let schemas: std::collections::BTreeMap<_, _> = hosting::app().schemas().into_iter().collect();
    let websites = &schemas["websites"];
    assert_eq!(
        websites.properties.keys().collect::<Vec<_>>(),
        ["name", "plan"]
    );
    assert_eq!(websites.properties["plan"].default, Some("basic".into()));
    let globals = &websites.relations["globals"];
    assert_eq!(globals.type_id, schemas["globals"].id);
    assert!(globals.required && !globals.collection);
    let domains = &websites.relations["domains"];
    assert_eq!(domains.type_id, "http://example.com/hosting/domains/1.0");
    assert!(domains.collection && !domains.required);
    let website = &schemas["domains"].relations["website"];
    assert_eq!(website.type_id, websites.id);
    assert!(!website.required && !website.collection);
    assert!(schemas["domains"].operations.is_empty());
    let stats = &websites.operations["stats"];
    assert_eq!(
        (stats.verb.as_str(), stats.path.as_str()),
        ("GET", "/stats")
    );
    assert_eq!(stats.parameters["days"].kind_of_value, "integer");
    assert!(stats.parameters["days"].required);
    assert!(websites.operations["restart"].response.is_none());
}

#[test]
fn aps_package_builds_it_and_its_schemas_read_back_as_type_schemas() {
    let out = tempfile::tempdir().unwrap();
    let built = aps_package::build(Path::new(env!("CARGO_BIN_EXE_hosting")), out.path()).unwrap();
    let bytes = std::fs::read(&built).unwrap();
    let package = Package::read(&bytes).unwrap();
    assert_eq!(package.meta.id, "http://example.com/hosting");
    assert_eq!(package.root(), "globals");
    let generated: Vec<(String, TypeSchema)> = hosting::app().schemas();
    for (service, schema) in &generated {
        assert_eq!(package.schema(service), Some(schema), "{service}");
        assert_eq!(
            &TypeSchema::parse(&schema.to_pretty_json()).unwrap(),
            schema
        );
    }
    assert_eq!(package.schemas.len(), 3);
}
