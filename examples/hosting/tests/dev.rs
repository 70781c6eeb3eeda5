//! Hosting's `dev` command, run as a user runs it: the walkthrough (a website, a domain linked
//! to it, a restart as a task, a week of statistics, a configure whose notification the domain
//! notes in `lastSerial`, a usage refresh), each task shown live, then a clean stop.
//! It needs hosting built with its `dev` feature (`cargo test --workspace --all-features`).

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn dev_walks_through_websites_domains_and_operations() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hosting"))
        .args(["dev", "--time-scale", "1000", "--data-dir"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
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
        .args(["-INT", &child.id().to_string()])
        .status();
    let stopped = child.wait().unwrap();
    let shown = shown.join("\n");
    for expected in [
        "Provisioning \"websites\" for APS application hosting",
        "Provisioning \"domains\" for APS application hosting",
        "as `domains` of",
        "Calling restart on \"websites\"",
        "Restarting",
        "Calling stats on \"websites\"",
        r#"result: {"days":7,"requests":7000}"#,
        "Configuring \"websites\"",
        "✔ lastSerial of ",
        "Synchronizing resource usage of \"websites\"",
        "✔ diskUsage of ",
        r#""limit":10240"#,
        "Controller API: http://127.0.0.1:",
    ] {
        assert!(shown.contains(expected), "{expected} in:\n{shown}");
    }
    assert!(!shown.contains('✘'), "every task succeeds:\n{shown}");
    assert!(stopped.success(), "Ctrl-C ends dev cleanly: {stopped:?}");
}
