//! The client subcommands of the `aps-controller` binary against a running controller.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::process::Output;

use common::{THING, scripted};
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
