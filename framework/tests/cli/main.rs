//! The command line every application gets (`serve`, `meta`, TLS, settings from the
//! environment), run as a real process.
//!
//! An integration test cannot build a binary of its own, so this test is its own application:
//! started with `APS_CLI_TEST_APP` set, it runs `aps::run` on the small app of the framework's
//! tests; otherwise it runs the checks below, each starting it as a child (`harness = false`
//! in Cargo.toml, so nothing but `main` decides what the process is).
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

#[path = "../support/mod.rs"]
mod support;

use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

/// Set in the environment of the children that are the application.
const AS_APP: &str = "APS_CLI_TEST_APP";

type Check = (&'static str, fn());

const CHECKS: [Check; 9] = [
    (
        "the_binary_serves_under_a_base_path",
        the_binary_serves_under_a_base_path,
    ),
    (
        "the_binary_serves_https_with_a_self_signed_certificate_kept_in_the_data_dir",
        the_binary_serves_https_with_a_self_signed_certificate_kept_in_the_data_dir,
    ),
    (
        "with_no_command_the_binary_serves_with_its_settings_from_the_environment",
        with_no_command_the_binary_serves_with_its_settings_from_the_environment,
    ),
    (
        "serve_listens_on_loopback_port_8080_unless_told_otherwise",
        serve_listens_on_loopback_port_8080_unless_told_otherwise,
    ),
    (
        "serve_settings_in_the_environment_do_not_disturb_other_commands",
        serve_settings_in_the_environment_do_not_disturb_other_commands,
    ),
    (
        "a_base_path_that_is_not_plain_segments_stops_the_binary_with_a_clear_error",
        a_base_path_that_is_not_plain_segments_stops_the_binary_with_a_clear_error,
    ),
    ("plain_http_must_be_asked_for", plain_http_must_be_asked_for),
    (
        "unusable_tls_files_stop_the_binary_with_a_clear_error",
        unusable_tls_files_stop_the_binary_with_a_clear_error,
    ),
    (
        "meta_writes_the_package_files",
        meta_writes_the_package_files,
    ),
];

fn main() -> ExitCode {
    if std::env::var_os(AS_APP).is_some() {
        return aps::run(support::app());
    }
    // Like libtest: arguments that are not options (nor an option's value) filter the checks
    // by name.
    let mut filters = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if [
            "--test-threads",
            "--skip",
            "--format",
            "--color",
            "--logfile",
        ]
        .contains(&&*arg)
        {
            args.next();
        } else if !arg.starts_with('-') {
            filters.push(arg);
        }
    }
    let chosen: Vec<&Check> = CHECKS
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f)))
        .collect();
    println!("\nrunning {} tests", chosen.len());
    for (name, check) in &chosen {
        check();
        println!("test {name} ... ok");
    }
    println!("\ntest result: ok. {} passed; 0 failed\n", chosen.len());
    ExitCode::SUCCESS
}

/// This test's executable as the application.
fn app() -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.env(AS_APP, "1");
    command
}

/// The application serving on a free port; killed when dropped.
struct Serving {
    child: std::process::Child,
    port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Serving {
    /// `serve` under `/mail` on a free port, with `args`.
    fn start(args: &[&str]) -> Self {
        let port = free_port();
        let mut command = app();
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--base-path", "/mail"])
            .args(args);
        Self::spawn(command, port)
    }

    /// `command`, which serves on `port`, once it accepts connections.
    fn spawn(mut command: Command, port: u16) -> Self {
        // Its request lines would fill the test's output: only the answers matter here.
        let child = command.stderr(Stdio::null()).spawn().unwrap();
        let serving = Self { child, port };
        runtime().block_on(aps_test_support::wait::until(
            "the application listens",
            Duration::from_secs(5),
            || async move {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
            },
        ));
        serving
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A mailbox provisioned at `url` (sync phase) by `client`.
fn provision(client: &reqwest::Client, url: &str) -> (StatusCode, Value) {
    runtime().block_on(async {
        let response = client
            .post(format!("{url}/mailbox/"))
            .header("APS-Instance-ID", "5bb7e1a0-7f8c-4e0a-9d3f-2a9c0b1d4e55")
            .header("APS-Controller-URI", "http://127.0.0.1:6308")
            .json(&json!({"quota": 3}))
            .send()
            .await
            .unwrap();
        (
            response.status(),
            response.json().await.unwrap_or(Value::Null),
        )
    })
}

fn the_binary_serves_under_a_base_path() {
    let serving = Serving::start(&["--insecure-http"]);
    let url = format!("http://127.0.0.1:{}/mail", serving.port);
    let (status, _) = provision(&reqwest::Client::new(), &url);
    assert_eq!(status, StatusCode::ACCEPTED);
}

fn the_binary_serves_https_with_a_self_signed_certificate_kept_in_the_data_dir() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let serving = Serving::start(&["--self-signed", "--data-dir", data_dir]);
    let cert = std::fs::read(data.path().join("tls/self-signed.crt")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
        .build()
        .unwrap();
    let url = format!("https://localhost:{}/mail", serving.port);
    let (status, body) = provision(&client, &url);
    // Over TLS an instance exists only once its controller installed it with credentials
    // (tests/mtls/ and tests/secure.rs drive that); this one never was.
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["message"].as_str().unwrap().contains("not installed"),
        "{body}"
    );
}

fn with_no_command_the_binary_serves_with_its_settings_from_the_environment() {
    let port = free_port();
    let mut command = app();
    command
        .env("APS_LISTEN", format!("127.0.0.1:{port}"))
        .env("APS_BASE_PATH", "/from-env")
        .env("APS_INSECURE_HTTP", "true");
    let serving = Serving::spawn(command, port);
    let url = format!("http://127.0.0.1:{}/from-env", serving.port);
    let (status, _) = provision(&reqwest::Client::new(), &url);
    assert_eq!(status, StatusCode::ACCEPTED);
}

fn serve_listens_on_loopback_port_8080_unless_told_otherwise() {
    let output = app().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("[env: APS_LISTEN=] [default: 127.0.0.1:8080]"),
        "{help}"
    );
}

fn serve_settings_in_the_environment_do_not_disturb_other_commands() {
    let out = tempfile::tempdir().unwrap();
    let output = app()
        .env("APS_LISTEN", "not an address")
        .env("APS_INSECURE_HTTP", "maybe")
        .args(["meta", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(out.path().join("APP-META.xml").is_file());
}

fn a_base_path_that_is_not_plain_segments_stops_the_binary_with_a_clear_error() {
    let output = app()
        .args(["serve", "--insecure-http", "--listen", "127.0.0.1:0"])
        .args(["--base-path", "/{id}"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the base path `/{id}` must be plain path segments"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn plain_http_must_be_asked_for() {
    let output = app()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--insecure-http") && stderr.contains("--self-signed"),
        "{stderr}"
    );
}

fn unusable_tls_files_stop_the_binary_with_a_clear_error() {
    let output = app()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args([
            "--tls-cert",
            "/nonexistent.crt",
            "--tls-key",
            "/nonexistent.key",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot set up TLS") && stderr.contains("/nonexistent.crt"),
        "{stderr}"
    );
}

fn meta_writes_the_package_files() {
    let out = tempfile::tempdir().unwrap();
    let status = app()
        .args(["meta", "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let meta = std::fs::read_to_string(out.path().join("APP-META.xml")).unwrap();
    let meta = aps::protocol::AppMeta::parse(&meta).unwrap();
    let services: Vec<&str> = meta.services.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(services, ["globals", "forgetful", "mailbox"]);
    for service in &meta.services {
        assert!(
            out.path()
                .join(service.schema.as_deref().unwrap())
                .is_file()
        );
    }
}
