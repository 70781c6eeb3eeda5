//! `endpoint.sh` run for real: the demo package deployed on loopback, provisioned over HTTP,
//! upgraded, refused when corrupt, rolled back when broken, inspected and removed.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::http::http;
use common::{aps_package, endpoint_sh, stand_in_package, with_entry};

const NAME: &str = "async-prov";

/// Builds the demo with cargo (honouring `CARGO` and `CARGO_TARGET_DIR`) and returns its binary.
fn demo_binary() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "-p",
            "async-provisioning",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("run cargo build");
    assert!(
        output.status.success(),
        "cargo build -p async-provisioning failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["target"]["name"] == "async-provisioning")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the async-provisioning executable")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Runs `endpoint.sh` with `args`, finding `aps-package` through `APS_PACKAGE`.
fn endpoint(args: &[&str]) -> Output {
    let output = Command::new("bash")
        .arg(endpoint_sh())
        .args(args)
        .env("APS_PACKAGE", aps_package())
        .env("APS_ENDPOINT_WAIT", "60")
        .output()
        .expect("run endpoint.sh");
    eprintln!(
        "endpoint.sh {args:?} -> {}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Removes the endpoint (and kills its process) however the test ends.
struct Deployed {
    root: PathBuf,
}

impl Drop for Deployed {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(self.root.join(NAME).join("endpoint.pid")).ok();
        let root = self.root.to_string_lossy().into_owned();
        let _ = endpoint(&["--remove", NAME, "--root", &root, "--purge"]);
        if let Some(pid) = pid
            .map(|p| p.trim().to_owned())
            .filter(|p| Path::new("/proc").join(p).exists())
        {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
        }
    }
}

/// Provisions a `provisionable` through `url` and checks the asynchronous answer.
fn provision(url: &str, n: u32) {
    let instance = uuid::Uuid::new_v4().to_string();
    let id = uuid::Uuid::new_v4().to_string();
    let body = format!(
        r#"{{"aps":{{"id":"{id}","type":"http://aps-standard.org/samples/async-prov/provisionable/1.0"}}}}"#
    );
    let (status, headers, answer) = http(
        "POST",
        &format!("{url}/provisionable/"),
        &[
            ("APS-Instance-ID", &instance),
            ("APS-Controller-URI", "http://127.0.0.1:1"),
            ("APS-Transaction-ID", &format!("t{n}")),
        ],
        &body,
    );
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        headers.get("aps-info").map(String::as_str),
        Some("Provisioning the resource")
    );
    assert_eq!(
        headers.get("aps-retry-timeout").map(String::as_str),
        Some("30")
    );
}

/// Runs `endpoint.sh` and checks that it fails saying `message`.
fn refused(args: &[&str], message: &str) {
    let output = endpoint(args);
    assert!(!output.status.success(), "{args:?} succeeded");
    let stderr = stderr(&output);
    assert!(
        stderr.contains(message),
        "{args:?}: no {message:?} in {stderr}"
    );
}

/// The URL `endpoint.sh` printed, after checking its success lines.
fn printed_url(output: &Output) -> String {
    assert!(output.status.success(), "{}", stderr(output));
    let out = stdout(output);
    assert!(
        out.contains("CONGRATULATIONS! Endpoint configured SUCCESSFULLY\n"),
        "{out}"
    );
    out.lines()
        .find_map(|l| l.strip_prefix("http endpoint url: "))
        .expect("an http endpoint url line")
        .to_owned()
}

#[test]
fn the_demo_deploys_provisions_upgrades_survives_bad_packages_and_is_removed() {
    let demo = demo_binary();
    let dir = tempfile::tempdir().expect("temp dir");
    let package =
        aps_package::build(&demo, &dir.path().join("out")).expect("build the demo package");
    assert_eq!(
        package.file_name().and_then(|n| n.to_str()),
        Some("async_provisioning-0.1-1.app.zip")
    );
    let package = package.to_string_lossy().into_owned();
    let root_path = dir.path().join("root");
    let root = root_path.to_string_lossy().into_owned();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _deployed = Deployed {
        root: root_path.clone(),
    };

    // First deployment, then a provision through the printed URL.
    let url = printed_url(&endpoint(&[
        NAME,
        &package,
        "--root",
        &root,
        "--listen",
        &listen,
        "--no-service",
    ]));
    assert_eq!(url, format!("http://127.0.0.1:{port}/{NAME}"));
    provision(&url, 1);
    let data = root_path.join(NAME).join("data");
    std::fs::write(data.join("marker"), "kept").expect("marker");

    // Again (an upgrade in place): same URL, data kept.
    assert_eq!(
        printed_url(&endpoint(&[
            NAME,
            &package,
            "--root",
            &root,
            "--no-service"
        ])),
        url
    );
    assert_eq!(
        std::fs::read_to_string(data.join("marker")).expect("marker kept"),
        "kept"
    );
    provision(&url, 2);

    // A corrupt package is refused and the running release keeps serving.
    let good = std::fs::read(&package).expect("package");
    let meta = common::entries(&good)
        .into_iter()
        .find(|(n, _)| n == "APP-META.xml")
        .expect("meta")
        .1;
    let corrupt = dir.path().join("corrupt.app.zip");
    std::fs::write(
        &corrupt,
        with_entry(&good, "APP-META.xml", &meta.to_ascii_uppercase()),
    )
    .expect("corrupt");
    refused(
        &[
            NAME,
            &corrupt.to_string_lossy(),
            "--root",
            &root,
            "--no-service",
        ],
        "APP-META.xml` has SHA-256",
    );
    provision(&url, 3);

    // A release that cannot start is rolled back: the previous one serves again.
    let broken = stand_in_package(&dir.path().join("broken"), "0.2", "1");
    refused(
        &[
            NAME,
            &broken.to_string_lossy(),
            "--root",
            &root,
            "--no-service",
        ],
        "the previous release 0.1-1 runs again",
    );
    provision(&url, 4);

    let status = endpoint(&["--status", NAME, "--root", &root]);
    assert!(status.status.success());
    for line in ["release: 0.1-1", &format!("url: {url}"), "state: running"] {
        assert!(
            stdout(&status).lines().any(|l| l == line),
            "no {line:?} in {}",
            stdout(&status)
        );
    }

    // Removed: the port closes, the data stays (no --purge), and status says so.
    assert!(
        endpoint(&["--remove", NAME, "--root", &root])
            .status
            .success()
    );
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the port is still open"
    );
    assert!(data.join("marker").exists());
    assert!(
        !endpoint(&["--status", NAME, "--root", &root])
            .status
            .success()
    );

    // Deployed again with a self-signed certificate: HTTPS, made and kept in the data directory.
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let tls = endpoint(&[
        NAME,
        &package,
        "--root",
        &root,
        "--listen",
        &listen,
        "--self-signed",
        "--no-service",
    ]);
    assert!(tls.status.success(), "{}", stderr(&tls));
    let https = format!("https endpoint url: https://127.0.0.1:{port}/{NAME}");
    assert!(stdout(&tls).lines().any(|l| l == https), "{}", stdout(&tls));
    assert!(data.join("marker").exists());
    let status = endpoint(&["--status", NAME, "--root", &root]);
    assert!(
        stdout(&status).lines().any(|l| l == "state: running"),
        "{}",
        stdout(&status)
    );
}

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
