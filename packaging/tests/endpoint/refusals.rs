//! What the script refuses, and how it checks a package without `aps-package`; the script's own
//! lint.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{endpoint_sh, stand_in_package, with_entry};
use crate::harness::{NAME, free_port, refused, stderr};

#[test]
fn bad_requests_are_refused_with_clear_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let package = stand_in_package(dir.path(), "1.0", "1")
        .to_string_lossy()
        .into_owned();
    let root_path = dir.path().join("root");
    let root = root_path.to_string_lossy().into_owned();
    let busy = TcpListener::bind("127.0.0.1:0").expect("bind");
    let listen = busy.local_addr().expect("addr").to_string();
    refused(
        &[
            NAME,
            &package,
            "--root",
            &root,
            "--listen",
            &listen,
            "--no-service",
        ],
        "is already in use",
    );
    assert!(
        !root_path.join(NAME).exists(),
        "a failed first deployment leaves nothing behind"
    );

    refused(
        &["../etc", &package, "--root", &root],
        "is not a plain word",
    );
    refused(&["a b", &package, "--root", &root], "is not a plain word");
    refused(
        &[NAME, &package, "--root", &format!("{package}/below-a-file")],
        "cannot write to",
    );
    // Roots it may not write. Under /sys nobody may create a directory, root included; a
    // read-only directory stops anyone but root, so that case runs only when it holds (tests
    // often run as root in CI). Each is tried first: a root that can be made is no case.
    let read_only = dir.path().join("read-only");
    std::fs::create_dir(&read_only).unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555)).unwrap();
    let sys = Path::new("/sys")
        .is_dir()
        .then(|| PathBuf::from("/sys/aps-endpoint-test"));
    for unwritable in sys.into_iter().chain([read_only.join("root")]) {
        if std::fs::create_dir(&unwritable).is_ok() {
            eprintln!("{} can be written here: not tried", unwritable.display());
            let _ = std::fs::remove_dir(&unwritable);
            continue;
        }
        let at = unwritable.to_string_lossy();
        refused(
            &[NAME, &package, "--root", &at, "--no-service"],
            &format!("cannot write to {at}: "),
        );
        assert!(!unwritable.exists());
    }
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o755)).unwrap();
    refused(
        &[NAME, "/nonexistent.app.zip", "--root", &root],
        "not found",
    );
    let not_zip = dir.path().join("not.app.zip");
    std::fs::write(&not_zip, "plain text").expect("write");
    refused(
        &[NAME, &not_zip.to_string_lossy(), "--root", &root],
        "not a zip archive",
    );
    refused(
        &[NAME, &package, "--root", &root, "--listen", "nowhere"],
        "is not ADDR:PORT",
    );
    refused(&["--status", NAME, "--root", &root], "no endpoint named");
    refused(&["--remove", NAME, "--root", &root], "no endpoint named");

    // A release that cannot start fails the first deployment, and leaves nothing behind.
    let port = free_port().to_string();
    refused(
        &[
            NAME,
            &package,
            "--root",
            &root,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--no-service",
        ],
        "failed",
    );
    assert!(!root_path.join(NAME).exists());
}

#[test]
fn without_aps_package_the_script_checks_hashes_itself() {
    let dir = tempfile::tempdir().expect("temp dir");
    let package = stand_in_package(dir.path(), "1.0", "1");
    let good = std::fs::read(&package).expect("package");
    let corrupt = dir.path().join("corrupt.app.zip");
    std::fs::write(&corrupt, with_entry(&good, "schemas/thing.schema", b"{}")).expect("corrupt");
    let root = dir.path().join("root");
    let output = Command::new("bash")
        .arg(endpoint_sh())
        .args([
            NAME,
            &corrupt.to_string_lossy(),
            "--root",
            &root.to_string_lossy(),
            "--no-service",
        ])
        .env_remove("APS_PACKAGE")
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .output()
        .expect("run endpoint.sh");
    assert!(!output.status.success());
    let stderr = stderr(&output);
    assert!(
        stderr.contains("'schemas/thing.schema' does not have the size APP-LIST.xml says"),
        "{stderr}"
    );
    assert!(!root.join(NAME).exists());
}

#[test]
fn the_script_is_clean_under_shellcheck_when_it_is_installed() {
    let Ok(output) = Command::new("shellcheck").arg(endpoint_sh()).output() else {
        eprintln!("shellcheck is not installed; .ci/run installs it");
        return;
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
