//! Running `endpoint.sh` and looking at what it leaves: the demo package, the script's output,
//! the endpoint's directory, a provision over HTTP.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::common::http::http;
use crate::common::{aps_package, endpoint_sh};

/// The name every test deploys its endpoint under.
pub(crate) const NAME: &str = "async-prov";

/// Builds the demo's production binary with cargo (honouring `CARGO` and `CARGO_TARGET_DIR`)
/// and returns it; once for all the tests of this binary.
///
/// It is built in a target folder of its own: the workspace's tests build the same binary with
/// the demo's `dev` feature and run it (the demo's tests/dev.rs), and building the production one
/// in the shared folder would replace that binary under them.
fn demo_binary() -> PathBuf {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(build_demo).clone()
}

fn build_demo() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from)
        .join("packaging-tests");
    let output = Command::new(cargo)
        .args([
            "build",
            "-p",
            "async-provisioning",
            "--message-format=json-render-diagnostics",
        ])
        .arg("--target-dir")
        .arg(target)
        .current_dir(workspace)
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

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Runs `endpoint.sh` with `args`, finding `aps-package` through `APS_PACKAGE`.
pub(crate) fn endpoint(args: &[&str]) -> Output {
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

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Removes the endpoint (and kills its process) however the test ends.
pub(crate) struct Deployed {
    pub(crate) root: PathBuf,
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
pub(crate) fn provision(url: &str, n: u32) {
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
pub(crate) fn refused(args: &[&str], message: &str) {
    let output = endpoint(args);
    assert!(!output.status.success(), "{args:?} succeeded");
    let stderr = stderr(&output);
    assert!(
        stderr.contains(message),
        "{args:?}: no {message:?} in {stderr}"
    );
}

/// The URL `endpoint.sh` printed, after checking its success lines.
pub(crate) fn printed_url(output: &Output) -> String {
    printed(output, "http")
}

/// The `scheme` URL `endpoint.sh` printed, after checking its success lines.
pub(crate) fn printed(output: &Output, scheme: &str) -> String {
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
pub(crate) fn demo_package(dir: &Path) -> PathBuf {
    let package = aps_package::build(&demo_binary(), &dir.join("out")).expect("build the demo");
    assert_eq!(
        package.file_name().and_then(|n| n.to_str()),
        Some("async_provisioning-0.1-1.app.zip")
    );
    package
}

/// Where `current` points, relative to the endpoint's directory.
pub(crate) fn current_release(base: &Path) -> String {
    std::fs::read_link(base.join("current"))
        .expect("current is a link")
        .to_string_lossy()
        .into_owned()
}

/// The releases unpacked under the endpoint's directory, sorted.
pub(crate) fn releases(base: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(base.join("releases"))
        .expect("releases")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Checks the `--status` lines of the endpoint.
pub(crate) fn status_says(root: &str, lines: &[&str]) {
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
