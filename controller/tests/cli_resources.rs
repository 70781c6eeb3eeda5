//! The `aps-controller` client commands about one resource: `call`, `link`, `unlink`, `links`
//! and `refresh`, and `application upgrade`, against a running controller with the scripted endpoint's linked package.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::process::Output;

use common::{linked, made};
use serde_json::{Value, json};

async fn cli(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_aps-controller"))
            .args(args)
            .env_remove("APS_CONTROLLER_URL")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_link_unlink_and_links_talk_to_the_controller() {
    let (c, _) = linked().await;
    let url = c.controller().url();
    let args = |a: &[&str]| -> Vec<String> {
        a.iter()
            .map(|s| s.to_string())
            .chain(["--url".into(), url.clone()])
            .collect()
    };
    let thing = made(&c, "thing", json!({})).await;
    let part = made(&c, "part", json!({"serial": "a1"})).await;

    let out = cli(args(&["call", &thing, "stats", "--query", "days=3"])).await;
    let stats: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(stats, json!({"days": 3, "requests": 42}));
    let out = cli(args(&[
        "call",
        &thing,
        "note",
        "--body",
        r#"{"text": "hi"}"#,
    ]))
    .await;
    assert_eq!(stdout(&out), "");
    let out = cli(args(&["call", &thing, "restart", "--wait", "0"])).await;
    let task: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(task["operation"], "call");
    let out = cli(args(&["task", "wait", task["id"].as_str().unwrap()])).await;
    assert!(stdout(&out).contains("Restarting"));
    // A refusal fails the command and shows the error.
    let out = cli(args(&["call", &thing, "stats"])).await;
    assert!(!out.status.success());
    let error: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error["details"]["parameter"], "days");
    let out = cli(args(&["call", &thing, "explode"])).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("explode"));

    let out = cli(args(&["link", &thing, "parts", &part])).await;
    let link: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(link["aps"]["id"], part.as_str());
    let out = cli(args(&["links", &thing, "parts"])).await;
    let listed = stdout(&out);
    assert!(
        listed.starts_with(&format!(
            "{part}  http://example.com/scripted/part/1.0  aps:ready"
        )),
        "{listed}"
    );
    let out = cli(args(&["link", &part, "thing", &thing])).await;
    stdout(&out);
    let other = made(&c, "thing", json!({})).await;
    let out = cli(args(&["link", &part, "thing", &other])).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds one link"));
    let out = cli(args(&["unlink", &thing, "parts", &part])).await;
    assert_eq!(stdout(&out), "");
    let out = cli(args(&["links", &thing, "parts"])).await;
    assert_eq!(stdout(&out), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_and_application_upgrade_reach_the_controller() {
    let (c, _) = linked().await;
    let url = c.controller().url();
    let args = |a: &[&str]| -> Vec<String> {
        a.iter()
            .map(|s| s.to_string())
            .chain(["--url".into(), url.clone()])
            .collect()
    };
    let thing = made(&c, "thing", json!({})).await;
    // A thing has no usage counters: the controller's 400 comes back, and the exit fails.
    let out = cli(args(&["refresh", &thing])).await;
    assert!(!out.status.success());
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["code"], 400, "{answer}");
    // The instance's own package is not newer than itself.
    let app = c.application().to_string();
    let (_, _, shown) = common::get(&c, &format!("/api/v1/applications/{app}")).await;
    let package = shown["package"].as_str().unwrap();
    let out = cli(args(&[
        "application",
        "upgrade",
        &app,
        "--package",
        package,
    ]))
    .await;
    assert!(!out.status.success());
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["code"], 400, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("not newer"),
        "{answer}"
    );
}
