//! Helpers shared by the integration tests: stand-in applications, zip surgery, the fixture.
// Each test binary uses some of these helpers, and they are `pub` for the test modules.
#![allow(dead_code, unreachable_pub)]

use std::io::{Cursor, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use aps_protocol::meta::{AppMeta, ServiceMeta};
use aps_protocol::schema::{APPLICATION_TYPE, RESOURCE_TYPE};
use zip::write::SimpleFileOptions;

pub mod http;

/// The real package built by the official APS tool (`testdata/README.md` says where it is from).
pub fn fixture() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/CloudBlue-Connect-Extension-26.0-2.app.zip");
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The `aps-package` binary under test.
pub fn aps_package() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_aps-package"))
}

/// `endpoint.sh` at the repository root.
pub fn endpoint_sh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../endpoint.sh")
}

/// The metadata of a small two-service application, `version`-`release`.
pub fn meta(version: &str, release: &str) -> AppMeta {
    let service = |id: &str| ServiceMeta {
        id: id.into(),
        schema: Some(format!("schemas/{id}.schema")),
        code: None,
    };
    AppMeta {
        id: "http://example.com/stand-in".into(),
        name: "stand-in-app".into(),
        version: version.into(),
        release: release.into(),
        summary: Some("stand-in-app".into()),
        services: vec![service("globals"), service("thing")],
        ..AppMeta::default()
    }
}

fn schema(id: &str, implements: &str) -> String {
    format!(
        r#"{{"apsVersion":"2.0","id":"http://example.com/stand-in/{id}/1.0","name":"{id}","implements":["{implements}"],"properties":{{"note":{{"type":"string"}}}}}}"#
    )
}

/// Writes an executable stand-in application into `dir`: `meta --out DIR` writes the files of
/// `meta` (and its schemas); anything else fails, as a release that cannot start.
pub fn stand_in(dir: &Path, meta: &AppMeta) -> PathBuf {
    let template = dir.join("template");
    std::fs::create_dir_all(template.join("schemas")).expect("template dir");
    std::fs::write(template.join("APP-META.xml"), meta.to_xml()).expect("APP-META.xml");
    for (i, service) in meta.services.iter().enumerate() {
        let implements = if i == 0 {
            APPLICATION_TYPE
        } else {
            RESOURCE_TYPE
        };
        let path = template.join(service.schema.as_deref().expect("schema path"));
        std::fs::write(path, schema(&service.id, implements)).expect("schema");
    }
    let app = dir.join("stand-in-app");
    let script = format!(
        "#!/bin/sh\nset -e\n\
         if [ \"$1\" = meta ] && [ \"$2\" = --out ]; then\n  \
           mkdir -p \"$3\"\n  cp -R '{}'/. \"$3\"\n  exit 0\nfi\n\
         echo 'stand-in: this release cannot serve' >&2\nexit 1\n",
        template.display()
    );
    std::fs::write(&app, script).expect("stand-in script");
    std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    app
}

/// Builds a stand-in package `version`-`release` under `dir` and returns its path.
pub fn stand_in_package(dir: &Path, version: &str, release: &str) -> PathBuf {
    let app = stand_in(dir, &meta(version, release));
    aps_package::build(&app, &dir.join("out")).expect("build of the stand-in package")
}

/// The entries of a zip, in order: (name, contents).
pub fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).expect("a zip");
    (0..archive.len())
        .filter_map(|i| {
            let mut file = archive.by_index(i).expect("entry");
            if file.is_dir() {
                return None;
            }
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).expect("entry contents");
            Some((file.name().to_owned(), bytes))
        })
        .collect()
}

/// A zip of these entries, as given (no checks: this is how broken packages are made).
pub fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        zip.start_file(name.as_str(), SimpleFileOptions::default())
            .expect("start_file");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

/// A copy of `zip` whose entry `name` holds `contents` instead (APP-LIST.xml left as it was).
pub fn with_entry(zip: &[u8], name: &str, contents: &[u8]) -> Vec<u8> {
    let mut all = entries(zip);
    match all.iter_mut().find(|(n, _)| n == name) {
        Some(entry) => entry.1 = contents.to_vec(),
        None => all.push((name.to_owned(), contents.to_vec())),
    }
    zip_of(&all)
}

/// A copy of `zip` without the entry `name`.
pub fn without_entry(zip: &[u8], name: &str) -> Vec<u8> {
    let all: Vec<_> = entries(zip)
        .into_iter()
        .filter(|(n, _)| n != name)
        .collect();
    zip_of(&all)
}

/// A zip of `entries` with `APP-LIST.xml` made again from them, so that it verifies.
pub fn relisted(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut list = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <files xmlns=\"http://apstandard.com/ns/1\">\n",
    );
    let mut all: Vec<_> = entries
        .iter()
        .filter(|(name, _)| name != "APP-LIST.xml")
        .cloned()
        .collect();
    for (name, bytes) in &all {
        list.push_str(&format!(
            "    <file name=\"{name}\" size=\"{}\" sha256=\"{}\"/>\n",
            bytes.len(),
            hex::encode(Sha256::digest(bytes))
        ));
    }
    list.push_str("</files>\n");
    all.push(("APP-LIST.xml".to_owned(), list.into_bytes()));
    zip_of(&all)
}

/// A copy of the package `zip` as version `version`-`release`: the same program and files,
/// APP-META.xml saying the new version, APP-LIST.xml made again. This is how a newer release of
/// a real application is made without building it again.
pub fn with_version(zip: &[u8], version: &str, release: &str) -> Vec<u8> {
    let mut all = entries(zip);
    let meta = all
        .iter_mut()
        .find(|(name, _)| name == "APP-META.xml")
        .expect("APP-META.xml");
    let mut text = String::from_utf8(meta.1.clone()).expect("UTF-8 APP-META.xml");
    for (element, value) in [("version", version), ("release", release)] {
        let (open, close) = (format!("<{element}>"), format!("</{element}>"));
        let start = text.find(&open).expect("the element") + open.len();
        let end = start + text[start..].find(&close).expect("its end");
        text.replace_range(start..end, value);
    }
    meta.1 = text.into_bytes();
    relisted(&all)
}
