//! `aps-package verify` on good and hand-broken packages, through the real binary.

mod common;

use std::io::{Cursor, Write};
use std::path::Path;
use std::process::Command;

use common::{aps_package, entries, fixture, stand_in_package, with_entry, without_entry, zip_of};
use zip::write::SimpleFileOptions;

/// Runs `aps-package verify` on `bytes`: (success, stdout lines).
fn verify(dir: &Path, bytes: &[u8]) -> (bool, Vec<String>) {
    let path = dir.join("checked.app.zip");
    std::fs::write(&path, bytes).expect("write package");
    let output = Command::new(aps_package())
        .arg("verify")
        .arg(&path)
        .output()
        .expect("run aps-package");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    (
        output.status.success(),
        stdout.lines().map(str::to_owned).collect(),
    )
}

fn good(dir: &Path) -> Vec<u8> {
    std::fs::read(stand_in_package(dir, "1.0", "1")).expect("package")
}

/// Asserts that verify fails and that one problem line contains every one of `words`.
fn refused(dir: &Path, bytes: &[u8], words: &[&str]) -> Vec<String> {
    let (ok, lines) = verify(dir, bytes);
    assert!(!ok, "accepted: {lines:?}");
    assert!(
        lines
            .iter()
            .any(|line| words.iter().all(|w| line.contains(w))),
        "no line with {words:?} in {lines:?}"
    );
    lines
}

#[test]
fn the_official_package_and_a_built_one_pass() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, lines) = verify(dir.path(), &fixture());
    assert!(ok, "{lines:?}");
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("OK: "), "{lines:?}");
    let (ok, lines) = verify(dir.path(), &good(dir.path()));
    assert!(ok, "{lines:?}");
}

#[test]
fn a_bad_hash_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let zip = good(dir.path());
    let schema = b"{\"apsVersion\":\"2.0\",\"id\":\"http://example.com/stand-in/thing/1.1\",\"name\":\"thing\"}";
    let original_len = entries(&zip)
        .iter()
        .find(|(n, _)| n == "schemas/thing.schema")
        .expect("schema")
        .1
        .len();
    let mut same_size = schema.to_vec();
    same_size.resize(original_len, b' ');
    let lines = refused(
        dir.path(),
        &with_entry(&zip, "schemas/thing.schema", &same_size),
        &["schemas/thing.schema", "SHA-256", "APP-LIST.xml says"],
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    refused(
        dir.path(),
        &with_entry(&zip, "schemas/thing.schema", schema),
        &["thing.schema", "bytes but APP-LIST.xml says"],
    );
}

#[test]
fn a_missing_schema_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let zip = without_entry(&good(dir.path()), "schemas/thing.schema");
    refused(dir.path(), &zip, &["`schemas/thing.schema` is missing"]);
}

#[test]
fn an_invalid_schema_and_broken_xml_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let zip = good(dir.path());
    refused(
        dir.path(),
        &with_entry(&zip, "schemas/thing.schema", b"[1,"),
        &["schema `schemas/thing.schema`", "not a valid type schema"],
    );
    refused(
        dir.path(),
        &with_entry(&zip, "APP-META.xml", b"<application><id>x</name>"),
        &["APP-META.xml is not well-formed"],
    );
    refused(
        dir.path(),
        &with_entry(&zip, "APP-LIST.xml", b"<files"),
        &["APP-LIST.xml: not well-formed"],
    );
    refused(
        dir.path(),
        &without_entry(&zip, "APP-LIST.xml"),
        &["`APP-LIST.xml` is missing"],
    );
}

#[test]
fn paths_that_escape_and_links_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let zip = good(dir.path());
    for evil in [
        "../evil.sh",
        "/etc/cron.d/evil",
        "bin/../../evil",
        "C:/evil",
    ] {
        refused(
            dir.path(),
            &with_entry(&zip, evil, b"boom"),
            &[evil, "escapes the package"],
        );
    }
    let mut linked = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries(&zip) {
        linked
            .start_file(name, SimpleFileOptions::default())
            .expect("start");
        linked.write_all(&bytes).expect("write");
    }
    linked
        .add_symlink("bin/link", "/etc/passwd", SimpleFileOptions::default())
        .expect("symlink");
    let linked = linked.finish().expect("finish").into_inner();
    refused(dir.path(), &linked, &["bin/link", "symbolic link"]);
}

#[test]
fn unlisted_files_and_non_zips_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    refused(
        dir.path(),
        &with_entry(&good(dir.path()), "extra.txt", b"hi"),
        &["`extra.txt` is in the archive but not listed"],
    );
    refused(dir.path(), b"this is not a zip", &["not a zip archive"]);
    refused(dir.path(), &[], &["not a zip archive"]);
    refused(dir.path(), &zip_of(&[]), &["`APP-META.xml` is missing"]);
}

#[test]
fn a_missing_file_is_an_error_not_a_problem_list() {
    let output = Command::new(aps_package())
        .args(["verify", "/nonexistent/x.app.zip"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot read /nonexistent/x.app.zip"),
        "{stderr}"
    );
}
