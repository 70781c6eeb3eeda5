//! The demo's `dev` command, run as a user runs it: the endpoint with an embedded controller,
//! the task shown live, and a clean stop on Ctrl-C or SIGTERM. It needs the demo built with its
//! `dev` feature (`cargo test --workspace --all-features`).

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::process::Command;

const DEMO: &str = env!("CARGO_BIN_EXE_async-provisioning");

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
