//! `Package::read`: what a controller imports.

mod common;

use aps_package::{Package, PackageError};
use common::{entries, fixture, stand_in_package, with_entry, without_entry, zip_of};

#[test]
fn the_official_package_is_read_with_its_root_and_generated_schemas() {
    let package = Package::read(&fixture()).expect("the fixture is a sound package");
    assert_eq!(package.meta.name, "CloudBlue Connect Extension");
    assert_eq!(package.meta.version, "26.0");
    assert_eq!(package.meta.release, "2");
    let services: Vec<_> = package.schemas.keys().map(String::as_str).collect();
    assert_eq!(services, ["globals", "productInitTask", "tierConfig"]);
    assert_eq!(package.root(), "globals");
    let globals = package.schema("globals").expect("globals schema");
    assert_eq!(globals.id, "http://odin.com/servicesSelector/globals/2.4");
    // Its declared operations and relations read into the typed declarations.
    assert_eq!(globals.operations.len(), 10);
    let handler = &globals.operations["accountDataChange"];
    assert_eq!(handler.verb, http::Method::POST);
    let (name, notification) = handler.body().expect("a body parameter");
    assert_eq!(name, "notification");
    assert!(notification.required);
    assert!(globals.relations["accounts"].collection);
}

#[test]
fn a_built_package_reads_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = stand_in_package(dir.path(), "1.2", "3");
    let package = Package::read(&std::fs::read(path).expect("package")).expect("sound");
    assert_eq!(package.meta, common::meta("1.2", "3"));
    assert_eq!(package.root(), "globals");
    assert_eq!(package.schemas.len(), 2);
}

#[test]
fn generated_schemas_with_comments_and_prefixed_lists_are_accepted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let zip = std::fs::read(stand_in_package(dir.path(), "1", "1")).expect("package");
    let mut files = entries(&zip);
    let meta = String::from_utf8(
        files
            .iter()
            .find(|(n, _)| n == "APP-META.xml")
            .expect("meta")
            .1
            .clone(),
    )
    .expect("utf-8")
    .replace("schemas/thing.schema", "schemas/thing.schema.gen")
    .replace("id=\"thing\"", "id=\"thing \"");
    for (name, bytes) in &mut files {
        if name == "schemas/thing.schema" {
            *name = "schemas/thing.schema.gen".into();
            let mut commented = b"// generated, do not edit\n".to_vec();
            commented.extend_from_slice(bytes);
            *bytes = commented;
        } else if name == "APP-META.xml" {
            *bytes = meta.clone().into_bytes();
        }
    }
    files.retain(|(n, _)| n != "APP-LIST.xml");
    let list: String = files
        .iter()
        .map(|(name, bytes)| {
            use sha2::Digest;
            format!(
                "<ns2:file name=\" {name}\" size=\"{}\" sha256=\"{}\"/>",
                bytes.len(),
                hex::encode(sha2::Sha256::digest(bytes))
            )
        })
        .collect();
    files.push((
        "APP-LIST.xml".into(),
        format!("<ns2:files xmlns:ns2=\"http://apstandard.com/ns/1\">{list}</ns2:files>")
            .into_bytes(),
    ));
    let package = Package::read(&zip_of(&files)).expect("accepted");
    assert!(package.schema("thing").is_some());
    assert!(aps_package::verify(&zip_of(&files)).is_empty());
}

#[test]
fn a_source_tree_naming_php_code_is_refused_naming_the_missing_schema() {
    let meta = r#"<application xmlns="http://aps-standard.org/ns/2" version="2.0">
        <id>http://x/app</id><name>app</name><version>1.0</version><release>1</release>
        <service id="globals"><code engine="php" path="scripts/globals.php"/></service>
    </application>"#;
    let zip = zip_of(&[
        ("APP-META.xml".into(), meta.as_bytes().to_vec()),
        ("scripts/globals.php".into(), b"<?php".to_vec()),
    ]);
    let error = Package::read(&zip)
        .expect_err("a source tree is no package")
        .to_string();
    assert!(
        error.contains("service `globals` has no <schema>"),
        "{error}"
    );
    assert!(
        error.contains("php code at `scripts/globals.php`"),
        "{error}"
    );
    assert!(error.contains("source tree"), "{error}");
}

#[test]
fn missing_pieces_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let zip = std::fs::read(stand_in_package(dir.path(), "1", "1")).expect("package");
    let error = Package::read(&without_entry(&zip, "schemas/thing.schema")).expect_err("no schema");
    assert_eq!(
        error.to_string(),
        "`schemas/thing.schema` is missing from the package"
    );
    let error = Package::read(&without_entry(&zip, "APP-META.xml")).expect_err("no meta");
    assert!(
        matches!(error, PackageError::Missing(ref p) if p == "APP-META.xml"),
        "{error}"
    );
    let error = Package::read(&with_entry(&zip, "schemas/thing.schema", b"{not json"))
        .expect_err("bad schema");
    assert!(
        error
            .to_string()
            .contains("schema `schemas/thing.schema` of service `thing`"),
        "{error}"
    );
    let error = Package::read(b"PK\x03\x04 not really").expect_err("not a zip");
    assert!(matches!(error, PackageError::NotAZip(_)), "{error}");
}

#[test]
fn no_input_makes_it_panic() {
    let zip = fixture();
    for cut in (0..zip.len()).step_by(zip.len() / 97 + 1) {
        let _ = Package::read(&zip[..cut]);
        let _ = aps_package::verify(&zip[..cut]);
    }
    for at in (0..zip.len()).step_by(zip.len() / 89 + 1) {
        let mut flipped = zip.clone();
        flipped[at] ^= 0x5a;
        let _ = Package::read(&flipped);
        let _ = aps_package::verify(&flipped);
    }
}
