//! Package import (`POST /api/v1/packages`) as controller-api.md fixes it: uploads well past the
//! 1 MiB of other bodies are accepted, and a package without `APP-META.xml` or without a schema
//! it names is a 400 in the APS error shape that says what is missing.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::io::Write;

use common::{Scripted, scripted};
use serde_json::Value;
use zip::write::SimpleFileOptions;

/// A zip of `files`, stored without compression (so its size is what the files weigh).
fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (path, bytes) in files {
            zip.start_file(*path, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
    }
    cursor.into_inner()
}

/// The scripted package's files: `APP-META.xml` and `schemas/{service}.schema`.
fn package_files() -> Vec<(String, Vec<u8>)> {
    let model = Scripted::model();
    let mut files = vec![("APP-META.xml".to_owned(), model.meta.to_xml().into_bytes())];
    for (service, schema) in &model.schemas {
        files.push((
            format!("schemas/{service}.schema"),
            serde_json::to_vec(schema).unwrap(),
        ));
    }
    files
}

/// `package_files` without the file at `left_out`, plus `extra`, zipped.
fn package_zip(left_out: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let files = package_files();
    let mut all: Vec<(&str, &[u8])> = files
        .iter()
        .filter(|(path, _)| path != left_out)
        .map(|(path, bytes)| (path.as_str(), bytes.as_slice()))
        .collect();
    all.extend_from_slice(extra);
    zip(&all)
}

async fn upload(url: &str, body: Vec<u8>) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{url}/api/v1/packages"))
        .header("content-type", "application/zip")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let text = answer.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, body)
}

#[tokio::test]
async fn a_package_larger_than_other_bodies_is_imported() {
    let (c, _) = scripted().await;
    let url = c.controller().url();
    // 5 MiB of binaries, stored: the upload is five times the 1 MiB limit of other bodies.
    let binary: Vec<u8> = (0..5 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let body = package_zip("", &[("scripts/app.bin", &binary)]);
    assert!(body.len() > 5 * 1024 * 1024);
    let (status, package) = upload(&url, body).await;
    assert_eq!(status, 201, "{package}");
    assert_eq!(package["name"], "scripted");
    assert_eq!(package["root"], "app");
    assert_eq!(package["services"].as_array().unwrap().len(), 2);
    // The same bytes as JSON elsewhere are over that limit.
    let big = format!("\"{}\"", "x".repeat(2 * 1024 * 1024));
    let answer = reqwest::Client::new()
        .post(format!("{url}/api/v1/resources"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
}

#[tokio::test]
async fn a_package_without_app_meta_is_a_400_naming_it() {
    let (c, _) = scripted().await;
    let (status, error) = upload(&c.controller().url(), package_zip("APP-META.xml", &[])).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["code"], 400);
    assert!(error["error"].is_string(), "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("APP-META.xml"), "{message}");
    assert!(message.contains("missing"), "{message}");
}

#[tokio::test]
async fn a_package_without_a_schema_its_meta_names_is_a_400_naming_the_schema() {
    let (c, _) = scripted().await;
    let url = c.controller().url();
    let (status, error) = upload(&url, package_zip("schemas/thing.schema", &[])).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["code"], 400);
    assert!(error["error"].is_string(), "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("schemas/thing.schema"), "{message}");
    assert!(message.contains("missing"), "{message}");
    // The same files with the schema put back import.
    let (status, package) = upload(&url, package_zip("", &[])).await;
    assert_eq!(status, 201, "{package}");
}
