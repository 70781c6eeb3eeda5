//! `aps-package build`: the package matches the app, and two builds are identical.

mod common;

use std::io::Cursor;
use std::process::Command;

use common::{aps_package, entries, meta, stand_in};

#[test]
fn two_builds_give_identical_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = stand_in(dir.path(), &meta("0.1", "1"));
    let first = aps_package::build(&app, &dir.path().join("one")).expect("first build");
    let second = aps_package::build(&app, &dir.path().join("two")).expect("second build");
    assert_eq!(first.file_name(), second.file_name());
    let (first, second) = (
        std::fs::read(first).expect("one"),
        std::fs::read(second).expect("two"),
    );
    assert!(first == second, "the two builds differ");
}

#[test]
fn the_package_holds_meta_list_schemas_binary_and_deployment_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = stand_in(dir.path(), &meta("0.1", "1"));
    let out = dir.path().join("out");
    let output = Command::new(aps_package())
        .arg("build")
        .arg(&app)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let path = out.join("stand_in_app-0.1-1.app.zip");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        path.display().to_string()
    );

    let zip = std::fs::read(&path).expect("package");
    let names: Vec<String> = entries(&zip).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "APP-LIST.xml",
            "APP-META.xml",
            "bin/stand-in-app",
            "deploy/aps-endpoint.service",
            "deploy/endpoint.env",
            "schemas/globals.schema",
            "schemas/thing.schema",
        ]
    );
    let mut archive = zip::ZipArchive::new(Cursor::new(&zip)).expect("zip");
    for i in 0..archive.len() {
        let file = archive.by_index(i).expect("entry");
        let mode = if file.name() == "bin/stand-in-app" {
            0o100755
        } else {
            0o100644
        };
        assert_eq!(file.unix_mode(), Some(mode), "{}", file.name());
        assert_eq!(file.last_modified().map(|t| t.year()), Some(1980));
    }
    let files = entries(&zip);
    let text = |name: &str| {
        String::from_utf8(files.iter().find(|(n, _)| n == name).expect(name).1.clone())
            .expect("utf-8")
    };
    let list = text("APP-LIST.xml");
    assert!(
        list.contains("<files xmlns=\"http://apstandard.com/ns/1\">"),
        "{list}"
    );
    assert!(
        list.contains("<file name=\"APP-META.xml\" size=\""),
        "{list}"
    );
    assert!(!list.contains("name=\"APP-LIST.xml\""), "{list}");
    assert_eq!(list.matches("<file ").count(), 6, "{list}");
    assert!(text("deploy/endpoint.env").contains("APS_BINARY=bin/stand-in-app\n"));
    assert!(
        text("deploy/aps-endpoint.service")
            .contains("ExecStart=@ROOT@/@NAME@/current/bin/stand-in-app serve $APS_SERVE_ARGS")
    );
    assert!(aps_package::verify(&zip).is_empty());
}

#[test]
fn a_failing_meta_command_or_bad_metadata_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let error =
        aps_package::build(&dir.path().join("missing-app"), dir.path()).expect_err("no app");
    assert!(error.to_string().starts_with("cannot run"), "{error}");

    let failing = dir.path().join("failing");
    std::fs::write(
        &failing,
        "#!/bin/sh\necho 'no such subcommand: meta' >&2\nexit 3\n",
    )
    .expect("script");
    std::fs::set_permissions(
        &failing,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let error = aps_package::build(&failing, dir.path())
        .expect_err("meta fails")
        .to_string();
    assert!(
        error.contains("meta --out DIR` failed") && error.contains("no such subcommand: meta"),
        "{error}"
    );

    let mut no_root = meta("1", "1");
    no_root.services.truncate(1);
    let app = stand_in(&dir.path().join("no-root"), &no_root);
    std::fs::write(
        dir.path().join("no-root/template/schemas/globals.schema"),
        r#"{"apsVersion":"2.0","id":"i","name":"n"}"#,
    )
    .expect("schema");
    let error = aps_package::build(&app, dir.path())
        .expect_err("no root")
        .to_string();
    assert!(error.contains("no service's schema implements"), "{error}");
}
