//! The `aps-controller` binary: `serve`'s choice between TLS and plain HTTP, its options from
//! the environment, the webhook secret it makes, and the client subcommands against a running
//! controller.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::process::Output;

use common::{Binary, THING, scripted};
use serde_json::Value;

async fn cli(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_aps-controller"))
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provision_tasks_show_and_wait_talk_to_the_controller() {
    let (c, _) = scripted().await;
    let url = c.controller().url();
    let app = c.application().to_string();
    let args = |a: &[&str]| -> Vec<String> {
        a.iter()
            .map(|s| s.to_string())
            .chain(["--url".into(), url.clone()])
            .collect()
    };

    let out = cli(args(&[
        "provision",
        "--app",
        &app,
        "--type",
        THING,
        "--set",
        "size=4",
        "--set",
        "plan=[\"accept\",\"done\"]",
        "--timeout",
        "0",
    ]))
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let task: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = task["id"].as_str().unwrap().to_owned();

    let out = cli(args(&["task", "wait", &id])).await;
    assert!(out.status.success());
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("Provisioning \"thing\" for APS application scripted"),
        "{shown}"
    );
    assert!(
        shown.contains("step 1"),
        "the description is shown: {shown}"
    );
    assert!(shown.contains("success"), "{shown}");

    let out = cli(args(&["task", "show", &id])).await;
    let task: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(task["state"], "success");
    let (_, _, resource) = common::http(
        &c,
        reqwest::Method::GET,
        task["resource"]["href"].as_str().unwrap(),
        None,
        &[],
    )
    .await;
    assert_eq!(resource["size"], 4);

    let out = cli(args(&["tasks", "--state", "success"])).await;
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains(&id) && listed.contains("Installing"),
        "{listed}"
    );

    let out = cli(args(&["provision", "--app", &app, "--type", "nothing"])).await;
    assert!(!out.status.success());
    let error: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error["code"], 400);
}

#[tokio::test]
async fn serve_wants_tls_or_insecure_http_said_out_loud() {
    let dir = tempfile::tempdir().unwrap();
    let mut neither = Binary::start(dir.path(), &["serve", "--listen", "127.0.0.1:0"], &[]);
    assert!(!neither.exit().await.success());
    let said = neither.stderr();
    assert!(
        said.contains("--tls") && said.contains("--insecure-http"),
        "{said}"
    );
    let flags = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--tls",
        "--insecure-http",
    ];
    let mut both = Binary::start(dir.path(), &flags, &[]);
    assert!(!both.exit().await.success());
    assert!(
        both.stderr().contains("exclude each other"),
        "{}",
        both.stderr()
    );
    // A flag turned off in the environment is no choice either.
    let off = [
        ("APS_CONTROLLER_TLS", "false"),
        ("APS_CONTROLLER_INSECURE_HTTP", "0"),
    ];
    let mut off = Binary::start(dir.path(), &["serve"], &off);
    assert!(!off.exit().await.success());
    assert!(off.stderr().contains("--insecure-http"), "{}", off.stderr());
    let made: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(made.is_empty(), "nothing was opened or made: {made:?}");
}

#[tokio::test]
async fn insecure_http_from_the_environment_serves_plain_http_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("APS_CONTROLLER_INSECURE_HTTP", "1"),
        ("APS_CONTROLLER_LISTEN", "127.0.0.1:0"),
    ];
    let mut serving = Binary::start(dir.path(), &["serve"], &env);
    let url = serving.listening().await;
    assert!(url.starts_with("http://"), "{url}");
    let tasks = reqwest::get(format!("{url}/api/v1/tasks")).await.unwrap();
    assert_eq!(tasks.status(), 200);
    let said = serving.kill().await;
    assert!(said.contains("serving plain HTTP"), "{said}");
    assert!(said.contains("APS-Instance-ID"), "{said}");
}

#[tokio::test]
async fn tls_names_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("APS_CONTROLLER_TLS", "true"),
        ("APS_CONTROLLER_TLS_NAME", "ctl.example,other.example"),
    ];
    let mut serving = Binary::start(dir.path(), &["serve", "--listen", "127.0.0.1:0"], &env);
    let url = serving.listening().await;
    let addr: std::net::SocketAddr = url.trim_start_matches("https://").parse().unwrap();
    let ca = std::fs::read(dir.path().join("tls/ca.crt")).unwrap();
    // The certificate is checked against the name asked for, which resolves to the controller.
    let get = |name: &'static str| {
        let ca = ca.clone();
        async move {
            let client = reqwest::Client::builder()
                .tls_built_in_root_certs(false)
                .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
                .resolve(name, addr)
                .build()
                .unwrap();
            let url = format!("https://{name}:{}/api/v1/tasks", addr.port());
            client.get(url).send().await.map(|r| r.status().as_u16())
        }
    };
    assert_eq!(get("ctl.example").await.unwrap(), 200);
    assert_eq!(get("other.example").await.unwrap(), 200);
    assert!(get("elsewhere.example").await.is_err(), "a name not given");
}

#[tokio::test]
async fn a_webhook_secret_made_on_first_start_goes_to_a_private_file_not_to_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["serve", "--insecure-http", "--listen", "127.0.0.1:0"];
    let mut first = Binary::start(dir.path(), &args, &[]);
    first.listening().await;
    let file = dir.path().join("webhook-secret");
    let secret = std::fs::read_to_string(&file).unwrap();
    let secret = secret.trim();
    assert!(secret.starts_with("whsec_"), "{secret}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    }
    let said = first.kill().await;
    assert!(said.contains(&file.display().to_string()), "{said}");
    let key = secret.trim_start_matches("whsec_");
    assert!(
        !said.contains(key),
        "the secret itself is not shown: {said}"
    );

    // Later starts keep the stored secret and say nothing about it.
    std::fs::remove_file(&file).unwrap();
    let mut again = Binary::start(dir.path(), &args, &[]);
    again.listening().await;
    let said = again.kill().await;
    assert!(!said.to_lowercase().contains("webhook secret"), "{said}");
    assert!(!said.contains(key));
    assert!(
        !file.exists(),
        "a secret is copied out only when it is made"
    );
}
