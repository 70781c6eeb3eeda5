//! `endpoint.sh` run for real: the demo package deployed on loopback, provisioned over HTTP,
//! upgraded, refused when corrupt, rolled back when broken, inspected and removed; served over
//! HTTPS with given certificate files or a self-signed one.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::http::http;
use common::{aps_package, endpoint_sh, stand_in_package, with_entry, with_version};

const NAME: &str = "async-prov";

/// Builds the demo with cargo (honouring `CARGO` and `CARGO_TARGET_DIR`) and returns its binary;
/// once for all the tests of this file.
fn demo_binary() -> PathBuf {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(build_demo).clone()
}

fn build_demo() -> PathBuf {
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
    printed(output, "http")
}

/// The `scheme` URL `endpoint.sh` printed, after checking its success lines.
fn printed(output: &Output, scheme: &str) -> String {
    assert!(output.status.success(), "{}", stderr(output));
    let out = stdout(output);
    assert!(
        out.contains("CONGRATULATIONS! Endpoint configured SUCCESSFULLY\n"),
        "{out}"
    );
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{scheme} endpoint url: ")))
        .unwrap_or_else(|| panic!("no {scheme} endpoint url line in {out}"))
        .to_owned()
}

/// The demo package 0.1-1, built into `dir`.
fn demo_package(dir: &Path) -> PathBuf {
    let package = aps_package::build(&demo_binary(), &dir.join("out")).expect("build the demo");
    assert_eq!(
        package.file_name().and_then(|n| n.to_str()),
        Some("async_provisioning-0.1-1.app.zip")
    );
    package
}

/// Where `current` points, relative to the endpoint's directory.
fn current_release(base: &Path) -> String {
    std::fs::read_link(base.join("current"))
        .expect("current is a link")
        .to_string_lossy()
        .into_owned()
}

/// The releases unpacked under the endpoint's directory, sorted.
fn releases(base: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(base.join("releases"))
        .expect("releases")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Checks the `--status` lines of the endpoint.
fn status_says(root: &str, lines: &[&str]) {
    let status = endpoint(&["--status", NAME, "--root", root]);
    for line in lines {
        assert!(
            stdout(&status).lines().any(|l| l == *line),
            "no {line:?} in {}",
            stdout(&status)
        );
    }
    assert!(status.status.success());
}

/// Asks `url` for a provisioning over HTTPS, trusting only the certificate `ca` (PEM) and
/// reaching `url`'s host name at `addr` (so no resolver needs to know it). The answer must come:
/// the certificate was verified for the host of the URL. Over TLS an instance its controller
/// never installed is unknown: 404.
fn provision_over_tls(url: &str, ca: &[u8], addr: SocketAddr) {
    let authority = url
        .strip_prefix("https://")
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let host = authority
        .rsplit_once(':')
        .unwrap()
        .0
        .trim_matches(['[', ']']);
    let mut client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca).unwrap());
    if host.parse::<IpAddr>().is_err() {
        client = client.resolve(host, addr);
    }
    let client = client.build().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let response = runtime
        .block_on(
            client
                .post(format!("{url}/provisionable/"))
                .header("APS-Instance-ID", uuid::Uuid::new_v4().to_string())
                .header("APS-Controller-URI", "https://127.0.0.1:1")
                .header("Content-Type", "application/json")
                .body(r#"{"aps":{"type":"http://aps-standard.org/samples/async-prov/provisionable/1.0"}}"#)
                .send(),
        )
        .unwrap_or_else(|e| panic!("no answer over TLS from {url}: {e:?}"));
    assert_eq!(response.status(), 404, "{url}");
}

#[test]
fn the_demo_deploys_provisions_upgrades_survives_bad_packages_and_is_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let package = demo_package(dir.path()).to_string_lossy().into_owned();
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
fn a_newer_release_upgrades_in_place_and_remove_keeps_the_data_unless_purged() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = demo_package(dir.path());
    let zip = std::fs::read(&v1).unwrap();
    let newer = |version: &str| {
        let path = dir
            .path()
            .join(format!("async_provisioning-{version}-1.app.zip"));
        std::fs::write(&path, with_version(&zip, version, "1")).unwrap();
        path.to_string_lossy().into_owned()
    };
    let (v2, v3) = (newer("0.2"), newer("0.3"));
    let root_path = dir.path().join("root");
    let root = root_path.to_string_lossy().into_owned();
    let base = root_path.join(NAME);
    let data = base.join("data");
    let port = free_port();
    let _deployed = Deployed {
        root: root_path.clone(),
    };

    let url = printed_url(&endpoint(&[
        NAME,
        &v1.to_string_lossy(),
        "--root",
        &root,
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--no-service",
    ]));
    provision(&url, 1);
    std::fs::write(data.join("marker"), "kept").unwrap();

    // 0.2-1: same URL (the settings of the last deployment), data kept, `current` switched,
    // the release before kept for a rollback, and the process the new release's program.
    let upgraded = endpoint(&[NAME, &v2, "--root", &root, "--no-service"]);
    assert_eq!(printed_url(&upgraded), url);
    assert!(
        stdout(&upgraded).contains("upgraded to 0.2-1"),
        "{}",
        stdout(&upgraded)
    );
    assert_eq!(current_release(&base), "releases/0.2-1");
    assert_eq!(releases(&base), ["0.1-1", "0.2-1"]);
    assert_eq!(
        std::fs::read_to_string(data.join("marker")).unwrap(),
        "kept"
    );
    let pid = std::fs::read_to_string(base.join("endpoint.pid")).unwrap();
    let exe = std::fs::read_link(format!("/proc/{}/exe", pid.trim())).unwrap();
    assert!(
        exe.starts_with(base.canonicalize().unwrap().join("releases/0.2-1")),
        "the endpoint runs {}",
        exe.display()
    );
    provision(&url, 2);
    status_says(
        &root,
        &["release: 0.2-1", &format!("url: {url}"), "state: running"],
    );

    // 0.3-1: the script keeps the current release and the one before; 0.1-1 goes.
    assert_eq!(
        printed_url(&endpoint(&[NAME, &v3, "--root", &root, "--no-service"])),
        url
    );
    assert_eq!(current_release(&base), "releases/0.3-1");
    assert_eq!(releases(&base), ["0.2-1", "0.3-1"]);
    assert_eq!(
        std::fs::read_to_string(data.join("marker")).unwrap(),
        "kept"
    );
    provision(&url, 3);

    // --remove: stopped, the releases gone, the data kept.
    let removed = endpoint(&["--remove", NAME, "--root", &root]);
    assert!(removed.status.success());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    assert!(!base.join("releases").exists() && !base.join("current").exists());
    assert_eq!(
        std::fs::read_to_string(data.join("marker")).unwrap(),
        "kept"
    );
    // --purge then: the data too, and the endpoint's directory.
    let purged = endpoint(&["--remove", NAME, "--purge", "--root", &root]);
    assert!(purged.status.success());
    assert!(!data.exists() && !base.exists(), "{}", stdout(&purged));
}

#[test]
fn certificate_files_given_serve_https_at_the_printed_url_and_purge_removes_all() {
    let dir = tempfile::tempdir().unwrap();
    let package = demo_package(dir.path()).to_string_lossy().into_owned();
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let root_path = dir.path().join("root");
    let root = root_path.to_string_lossy().into_owned();
    let port = free_port();
    let _deployed = Deployed {
        root: root_path.clone(),
    };

    let deployed = endpoint(&[
        NAME,
        &package,
        "--root",
        &root,
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--tls-cert",
        &cert.to_string_lossy(),
        "--tls-key",
        &key.to_string_lossy(),
        "--no-service",
    ]);
    let url = printed(&deployed, "https");
    assert_eq!(url, format!("https://127.0.0.1:{port}/{NAME}"));
    assert!(!stdout(&deployed).contains("http endpoint url:"));
    provision_over_tls(
        &url,
        made.cert.pem().as_bytes(),
        ([127, 0, 0, 1], port).into(),
    );
    status_says(&root, &[&format!("url: {url}"), "state: running"]);

    // --remove --purge on the running endpoint: stopped, and nothing of it is left.
    let base = root_path.join(NAME);
    std::fs::write(base.join("data/marker"), "to go").unwrap();
    let purged = endpoint(&["--remove", NAME, "--purge", "--root", &root]);
    assert!(purged.status.success());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    assert!(!base.exists(), "{}", stdout(&purged));
}

#[test]
fn a_self_signed_certificate_names_the_host_of_the_printed_url() {
    let dir = tempfile::tempdir().unwrap();
    let package = demo_package(dir.path()).to_string_lossy().into_owned();
    let root_path = dir.path().join("root");
    let root = root_path.to_string_lossy().into_owned();
    let tls = root_path.join(NAME).join("data/tls");
    let port = free_port();
    let _deployed = Deployed {
        root: root_path.clone(),
    };
    // A pair kept from before, for localhost alone (as made before endpoints named the host of
    // the printed URL): the endpoint replaces it, since it does not cover that host.
    let old = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::create_dir_all(&tls).unwrap();
    std::fs::write(tls.join("self-signed.crt"), old.cert.pem()).unwrap();
    std::fs::write(tls.join("self-signed.key"), old.signing_key.serialize_pem()).unwrap();

    // On every address, the URL names this machine (`hostname -f`): reached by that name on
    // loopback, the certificate must verify for it.
    let deploy = || {
        printed(
            &endpoint(&[
                NAME,
                &package,
                "--root",
                &root,
                "--listen",
                &format!("0.0.0.0:{port}"),
                "--self-signed",
                "--no-service",
            ]),
            "https",
        )
    };
    let url = deploy();
    assert!(
        !url.starts_with("https://0.0.0.0") && url.ends_with(&format!(":{port}/{NAME}")),
        "{url}"
    );
    let loopback = ([127, 0, 0, 1], port).into();
    let cert = std::fs::read(tls.join("self-signed.crt")).unwrap();
    provision_over_tls(&url, &cert, loopback);

    // Deployed again: the same URL, and the same certificate, which still covers it.
    assert_eq!(deploy(), url);
    assert_eq!(std::fs::read(tls.join("self-signed.crt")).unwrap(), cert);
    provision_over_tls(&url, &cert, loopback);
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
