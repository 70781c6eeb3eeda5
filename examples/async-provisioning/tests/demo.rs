//! The demo as the controller sees it: over real HTTP, and as the packaging tools see it.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::process::Command;

use aps::protocol::{AppMeta, TypeSchema};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Serves the demo with a seeded coin on a free loopback port.
async fn endpoint(seed: u64) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = async_provisioning::app(Some(seed));
    tokio::spawn(async move { app.serve(listener, "/").await });
    url
}

async fn provision(url: &str, phase: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{url}/provisionable/"))
        .header("APS-Instance-ID", "5bb7e1a0-7f8c-4e0a-9d3f-2a9c0b1d4e55")
        .header("APS-Controller-URI", "http://127.0.0.1:6308")
        .header("APS-Transaction-ID", "demo-1")
        .header("APS-Request-Phase", phase)
        .json(body)
        .send()
        .await
        .unwrap()
}

fn dummy() -> Value {
    json!({"aps": {"id": "0f0c7b7e-1c5e-4f0e-9a55-3a3b6c1f2d10",
                   "type": "http://aps-standard.org/samples/async-prov/provisionable/1.0",
                   "status": "aps:provisioning"},
           "addedLater": {"by": "a newer controller"}})
}

/// The async-phase answers of 64 rechecks.
async fn coin_flips(seed: u64) -> Vec<StatusCode> {
    let url = endpoint(seed).await;
    let mut statuses = Vec::new();
    for _ in 0..64 {
        statuses.push(provision(&url, "async", &dummy()).await.status());
    }
    statuses
}

#[tokio::test]
async fn provision_answers_202_and_asks_for_a_recheck_in_30_seconds() {
    let url = endpoint(1).await;
    let response = provision(&url, "sync", &dummy()).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(response.headers()["aps-info"], "Provisioning the resource");
    assert_eq!(response.headers()["aps-retry-timeout"], "30");
    assert_eq!(response.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn rechecks_flip_a_coin_between_still_provisioning_and_done() {
    let flips = coin_flips(7).await;
    assert!(
        flips
            .iter()
            .all(|s| [StatusCode::ACCEPTED, StatusCode::CREATED].contains(s))
    );
    assert!(
        flips.contains(&StatusCode::ACCEPTED) && flips.contains(&StatusCode::CREATED),
        "{flips:?}"
    );

    let url = endpoint(7).await;
    let still = loop {
        let response = provision(&url, "async", &dummy()).await;
        if response.status() == StatusCode::ACCEPTED {
            break response;
        }
    };
    assert_eq!(still.headers()["aps-info"], "Still provisioning");
    assert_eq!(still.headers()["aps-retry-timeout"], "30");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_coin_flips() {
    assert_eq!(coin_flips(42).await, coin_flips(42).await);
    assert_ne!(coin_flips(42).await, coin_flips(43).await);
}

#[tokio::test]
async fn unknown_properties_survive_every_answer() {
    let url = endpoint(3).await;
    let accepted: Value = provision(&url, "sync", &dummy())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted, dummy());
    for _ in 0..8 {
        let answer: Value = provision(&url, "async", &dummy())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer, dummy());
    }
}

#[test]
fn meta_writes_app_meta_and_schemas_naming_both_services() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(DEMO)
        .args(["meta", "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());

    let meta =
        AppMeta::parse(&std::fs::read_to_string(out.path().join("APP-META.xml")).unwrap()).unwrap();
    assert_eq!(
        (
            meta.name.as_str(),
            meta.version.as_str(),
            meta.release.as_str()
        ),
        ("async-provisioning", "0.1", "1")
    );
    assert_eq!(meta.vendor.as_deref(), Some("APS samples"));
    let services: Vec<&str> = meta.services.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(services, ["globals", "provisionable"]);

    for service in &meta.services {
        let code = service.code.as_ref().unwrap();
        assert_eq!(
            (code.engine.as_str(), code.path.as_str()),
            ("rust", "bin/async-provisioning")
        );
        let path = out.path().join(service.schema.as_deref().unwrap());
        let schema = TypeSchema::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(schema.name, service.id);
        assert_eq!(schema.is_application(), service.id == "globals");
        assert_eq!(
            schema.id,
            format!(
                "http://aps-standard.org/samples/async-prov/{}/1.0",
                service.id
            )
        );
    }
}

/// The demo binary serving on a free port with `args`; killed when dropped.
struct Demo {
    child: std::process::Child,
    port: u16,
}

const DEMO: &str = env!("CARGO_BIN_EXE_async-provisioning");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Demo {
    /// `serve` under `/async-prov` on a free port, with `args`.
    fn start(args: &[&str]) -> Self {
        let port = free_port();
        let mut command = Command::new(DEMO);
        command
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--base-path",
                "/async-prov",
            ])
            .args(args);
        Self::spawn(command, port)
    }

    /// `command`, which serves on `port`.
    fn spawn(mut command: Command, port: u16) -> Self {
        let child = command.spawn().unwrap();
        Self { child, port }
    }

    async fn ready(&self) {
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the demo did not listen on port {}", self.port);
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_binary_serves_under_a_base_path() {
    let demo = Demo::start(&["--insecure-http", "--seed", "1"]);
    demo.ready().await;
    let url = format!("http://127.0.0.1:{}/async-prov", demo.port);
    assert_eq!(
        provision(&url, "sync", &dummy()).await.status(),
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn the_binary_serves_https_with_a_self_signed_certificate_kept_in_the_data_dir() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let demo = Demo::start(&["--self-signed", "--data-dir", data_dir]);
    demo.ready().await;
    let cert = std::fs::read(data.path().join("tls/self-signed.crt")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
        .build()
        .unwrap();
    let response = client
        .post(format!(
            "https://localhost:{}/async-prov/provisionable/",
            demo.port
        ))
        .header("APS-Instance-ID", "5bb7e1a0-7f8c-4e0a-9d3f-2a9c0b1d4e55")
        .header("APS-Controller-URI", "https://127.0.0.1:6308")
        .json(&dummy())
        .send()
        .await
        .unwrap();
    // Over TLS an instance exists only once its controller installed it with credentials
    // (framework/tests/mtls.rs drives that); this one never was.
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("not installed"),
        "{body}"
    );
}

#[tokio::test]
async fn with_no_command_the_binary_serves_with_its_settings_from_the_environment() {
    let port = free_port();
    let mut command = Command::new(DEMO);
    command
        .env("APS_LISTEN", format!("127.0.0.1:{port}"))
        .env("APS_BASE_PATH", "/from-env")
        .env("APS_INSECURE_HTTP", "true")
        .env("APS_DEMO_SEED", "1");
    let demo = Demo::spawn(command, port);
    demo.ready().await;
    let url = format!("http://127.0.0.1:{}/from-env", demo.port);
    assert_eq!(
        provision(&url, "sync", &dummy()).await.status(),
        StatusCode::ACCEPTED
    );
}

#[test]
fn serve_listens_on_loopback_port_8080_unless_told_otherwise() {
    let output = Command::new(DEMO)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("[env: APS_LISTEN=] [default: 127.0.0.1:8080]"),
        "{help}"
    );
}

#[test]
fn serve_settings_in_the_environment_do_not_disturb_other_commands() {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(DEMO)
        .env("APS_LISTEN", "not an address")
        .env("APS_INSECURE_HTTP", "maybe")
        .args(["meta", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(out.path().join("APP-META.xml").is_file());
}

#[test]
fn a_base_path_that_is_not_plain_segments_stops_the_binary_with_a_clear_error() {
    let output = Command::new(DEMO)
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

#[test]
fn plain_http_must_be_asked_for() {
    let output = Command::new(DEMO)
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

#[test]
fn unusable_tls_files_stop_the_binary_with_a_clear_error() {
    let output = Command::new(DEMO)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
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

#[test]
fn dev_installs_provisions_and_shows_the_task_until_it_succeeds() {
    dev_until("-INT");
}

#[test]
fn dev_stops_cleanly_on_sigterm() {
    dev_until("-TERM");
}

/// Runs `dev` until it shows the API URL, then sends it `signal`.
fn dev_until(signal: &str) {
    use std::io::{BufRead, BufReader};
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(DEMO)
        .args(["dev", "--time-scale", "1000", "--seed", "5", "--data-dir"])
        .arg(data.path())
        .stdout(std::process::Stdio::piped())
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut shown = Vec::new();
    while let Ok(line) = lines.recv_timeout(std::time::Duration::from_secs(60)) {
        let done = line.starts_with("Controller API: http://127.0.0.1:");
        shown.push(line);
        if done {
            break;
        }
    }
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let stopped = child.wait().unwrap();
    let shown = shown.join("\n");
    assert!(
        shown.contains("Provisioning \"provisionable\" for APS application async-provisioning"),
        "{shown}"
    );
    assert!(shown.contains("Provisioning the resource"), "{shown}");
    assert!(shown.contains("success"), "{shown}");
    assert!(
        shown.contains("Controller API: http://127.0.0.1:"),
        "{shown}"
    );
    assert!(stopped.success(), "{signal} ends dev cleanly: {stopped:?}");
    assert!(data.path().join("controller.db").exists());
}
